/**
 * Per-request stage breakdown. A request carries the time of its last stage boundary;
 * each actor that hands it on calls mark(op, stage, servicePs): the time since the last
 * boundary is split into service (the CPU or transfer time the actor spent on this
 * request) and wait (everything else: queueing, wake-ups, batching). The stages of a
 * request therefore tile its life exactly, so for the measured requests
 * sum over stages of visits_per_op * (wait_mean + service_mean) = mean latency.
 *
 * Sums are kept per request in a record of a pooled typed array (one contiguous record
 * per request: wait, service and visits per stage) and added to the totals only when a
 * measured request completes, so warm-up requests never leak in.
 */
import { psToNs } from '../core/time.js';
import type { StageRow } from '../metrics/run-result.js';

export interface TrackedOp {
  /** Time of the last stage boundary [ps]. */
  stampPs: number;
  /** Offset of the request's record in the tracker's pool; -1 when not tracked. */
  slot: number;
}

/** Numbers kept per stage in a request's record: wait, service, visits. */
const FIELDS = 3;

export class StageTracker {
  private readonly stages: { stage: string; actor: string }[] = [];
  /** Numbers per request record: FIELDS per stage. */
  private stride = 0;
  private capacity = 0;
  /**
   * Records, contiguous: record r holds, for stage k at r * stride + FIELDS * k, a wait,
   * a service and a visit count in that stage. Record 0 holds the totals over measured
   * requests; the others are per-request. (One array, not two: end() then checks one
   * array's map and length per element, not two; about 140 instructions less per
   * vhost-user request.)
   */
  private records = new Float64Array(0);
  /** Offsets of free request records (a stack). */
  private freeOffsets = new Int32Array(0);
  private freeCount = 0;
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
    this.stride = FIELDS * this.stages.length;
    this.grow(64);
  }

  private grow(capacity: number): void {
    const records = new Float64Array(capacity * this.stride);
    records.set(this.records);
    this.records = records;
    const free = new Int32Array(capacity);
    free.set(this.freeOffsets.subarray(0, this.freeCount));
    // new records are handed out lowest first; record 0 is the totals
    for (let r = capacity - 1; r >= Math.max(this.capacity, 1); r--) free[this.freeCount++] = r * this.stride;
    this.freeOffsets = free;
    this.capacity = capacity;
  }

  /** Starts tracking a request created now. */
  begin(op: TrackedOp): void {
    if (!this.isFrozen) this.freeze();
    if (this.freeCount === 0) this.grow(this.capacity * 2);
    op.slot = this.freeOffsets[--this.freeCount]!;
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
    const stampPs = op.stampPs;
    let delta = now - stampPs;
    if (delta < 0) {
      this.backwardMarks++;
      delta = 0;
      now = stampPs;
    }
    const service = servicePs < delta ? (servicePs > 0 ? servicePs : 0) : delta;
    const base = op.slot;
    op.stampPs = now;
    if (base < 0) return; // not tracked (or already ended)
    const i = base + FIELDS * stage;
    const r = this.records;
    r[i]! += delta - service;
    r[i + 1]! += service;
    r[i + 2]! += 1;
  }

  /** The request is done: its sums join the totals if it is measured; its record is freed. */
  end(op: TrackedOp, isMeasured: boolean): void {
    const base = op.slot;
    const r = this.records;
    const stride = this.stride;
    if (isMeasured) {
      // a stage (wait, service, visits) per iteration: a third of the loop's own checks
      for (let k = 0; k < stride; k += FIELDS) {
        const i = base + k;
        r[k]! += r[i]!;
        r[k + 1]! += r[i + 1]!;
        r[k + 2]! += r[i + 2]!;
        r[i] = 0;
        r[i + 1] = 0;
        r[i + 2] = 0;
      }
    } else {
      r.fill(0, base, base + stride);
    }
    this.freeOffsets[this.freeCount++] = base;
    op.slot = -1;
  }

  /** stages.csv rows for `ops` measured requests (stages never visited are left out). */
  rows(ops: number): StageRow[] {
    const out: StageRow[] = [];
    const t = this.records;
    for (let k = 0; k < this.stages.length && FIELDS * k < this.stride; k++) {
      const visits = t[FIELDS * k + 2]!;
      if (visits === 0) continue;
      out.push({
        stage: this.stages[k]!.stage,
        actor: this.stages[k]!.actor,
        visitsPerOp: ops > 0 ? visits / ops : 0,
        waitMeanNs: psToNs(t[FIELDS * k]! / visits),
        serviceMeanNs: psToNs(t[FIELDS * k + 1]! / visits),
      });
    }
    return out;
  }
}
