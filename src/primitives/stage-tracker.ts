/**
 * Per-request stage breakdown. A request carries the time of its last stage boundary;
 * each actor that hands it on calls mark(op, stage, servicePs): the time since the last
 * boundary is split into service (the CPU or transfer time the actor spent on this
 * request) and wait (everything else: queueing, wake-ups, batching). The stages of a
 * request therefore tile its life exactly, so for the measured requests
 * sum over stages of visits_per_op * (wait_mean + service_mean) = mean latency.
 *
 * Sums are kept per request in a slot of a pooled typed array and added to the totals
 * only when a measured request completes, so warm-up requests never leak in.
 */
import { psToNs } from '../core/time.js';
import type { StageRow } from '../metrics/run-result.js';

export interface TrackedOp {
  /** Time of the last stage boundary [ps]. */
  stampPs: number;
  /** Pool slot of the per-request sums; -1 when not tracked. */
  slot: number;
}

export class StageTracker {
  private readonly stages: { stage: string; actor: string }[] = [];
  private n = 0;
  private capacity = 0;
  private opWait = new Float64Array(0);
  private opService = new Float64Array(0);
  private opVisits = new Float64Array(0);
  private readonly freeSlots: number[] = [];
  private totalWait = new Float64Array(0);
  private totalService = new Float64Array(0);
  private totalVisits = new Float64Array(0);
  private isFrozen = false;
  /** Marks that would have gone back in time (a modelling bug if non-zero). */
  backwardMarks = 0;

  constructor(private readonly clock: { readonly nowPs: number }) {}

  /** Declares a stage (before the run starts); returns its id. Same name and actor: same id. */
  define(stage: string, actor: string): number {
    const found = this.stages.findIndex((s) => s.stage === stage && s.actor === actor);
    if (found >= 0) return found;
    if (this.isFrozen) throw new Error(`stage ${stage}/${actor} defined after the run started`);
    this.stages.push({ stage, actor });
    return this.stages.length - 1;
  }

  private freeze(): void {
    this.isFrozen = true;
    this.n = this.stages.length;
    this.totalWait = new Float64Array(this.n);
    this.totalService = new Float64Array(this.n);
    this.totalVisits = new Float64Array(this.n);
    this.grow(64);
  }

  private grow(capacity: number): void {
    const n = this.n;
    const w = new Float64Array(capacity * n);
    const s = new Float64Array(capacity * n);
    const v = new Float64Array(capacity * n);
    w.set(this.opWait);
    s.set(this.opService);
    v.set(this.opVisits);
    this.opWait = w;
    this.opService = s;
    this.opVisits = v;
    for (let i = capacity - 1; i >= this.capacity; i--) this.freeSlots.push(i);
    this.capacity = capacity;
  }

  /** Starts tracking a request created now. */
  begin(op: TrackedOp): void {
    if (!this.isFrozen) this.freeze();
    if (this.freeSlots.length === 0) this.grow(this.capacity * 2);
    op.slot = this.freeSlots.pop()!;
    op.stampPs = this.clock.nowPs;
  }

  /** The request leaves a stage now, having received servicePs of service in it. */
  mark(op: TrackedOp, stage: number, servicePs: number): void {
    this.markAt(op, stage, servicePs, this.clock.nowPs);
  }

  /**
   * The request leaves a stage at `now` (which may be ahead of the clock when an actor
   * hands a request on with a known future time); marks of one request must not go back.
   */
  markAt(op: TrackedOp, stage: number, servicePs: number, now: number): void {
    let delta = now - op.stampPs;
    if (delta < 0) {
      this.backwardMarks++;
      delta = 0;
      now = op.stampPs;
    }
    const service = servicePs < delta ? (servicePs > 0 ? servicePs : 0) : delta;
    const i = op.slot * this.n + stage;
    this.opWait[i]! += delta - service;
    this.opService[i]! += service;
    this.opVisits[i]! += 1;
    op.stampPs = now;
  }

  /** The request is done: its sums join the totals if it is measured; its slot is freed. */
  end(op: TrackedOp, isMeasured: boolean): void {
    const n = this.n;
    const base = op.slot * n;
    for (let k = 0; k < n; k++) {
      const i = base + k;
      if (isMeasured) {
        this.totalWait[k]! += this.opWait[i]!;
        this.totalService[k]! += this.opService[i]!;
        this.totalVisits[k]! += this.opVisits[i]!;
      }
      this.opWait[i] = 0;
      this.opService[i] = 0;
      this.opVisits[i] = 0;
    }
    this.freeSlots.push(op.slot);
    op.slot = -1;
  }

  /** stages.csv rows for `ops` measured requests (stages never visited are left out). */
  rows(ops: number): StageRow[] {
    const out: StageRow[] = [];
    for (let k = 0; k < this.n; k++) {
      const visits = this.totalVisits[k]!;
      if (visits === 0) continue;
      out.push({
        stage: this.stages[k]!.stage,
        actor: this.stages[k]!.actor,
        visitsPerOp: ops > 0 ? visits / ops : 0,
        waitMeanNs: psToNs(this.totalWait[k]! / visits),
        serviceMeanNs: psToNs(this.totalService[k]! / visits),
      });
    }
    return out;
  }
}
