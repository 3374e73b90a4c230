/**
 * A stage tracker that also says, per stage, what happened while requests were in it
 * (for `iovsim explain`): the run's event counters (exits, interrupts, kicks, copies,
 * syscalls) attributed to stages, the host thread that hands requests on from each
 * stage, and the order of stages in a request's life.
 *
 * Attribution rule: the counter increments between two consecutive marks (of any
 * request) belong to the stage the second mark closes. With one request in flight (the
 * default closed loops: net-rr outstanding 1, blk iodepth 1) that is exactly the stage
 * the request was in when they happened; with more in flight, events of overlapping
 * requests mix.
 *
 * It only reads: the simulation, its draws and every figure StageTracker reports are
 * the same as with the plain tracker, so the stage rows equal those of stages.csv. Runs
 * that do not explain keep the plain class (no extra work on their hot path); this one
 * allocates nothing per mark either (fixed typed arrays, grown by doubling).
 */
import { psToNs } from '../core/time.js';
import type { StageRow } from './run-result.js';
import { StageTracker, type TrackedOp } from '../primitives/stage-tracker.js';

/** The counters attributed to stages, in this order. */
export const ATTRIBUTED_COUNTERS = ['exits', 'interrupts', 'kicks', 'copies', 'syscalls'] as const;
export type AttributedCounter = (typeof ATTRIBUTED_COUNTERS)[number];
const N = ATTRIBUTED_COUNTERS.length;

/** What a run exposes live for attribution. */
export interface AttributionSources {
  /** Writes the current totals of ATTRIBUTED_COUNTERS, in order, into `into` (they may restart from 0 once, when the measurement window opens). */
  read(into: Float64Array): void;
  /** The host threads (fixed once the run starts) and the one whose code runs now (null: a link's or a device's event). */
  cpu: { readonly threads: readonly { readonly name: string }[]; readonly running: { readonly name: string } | null };
}

/** What explain adds to a stage row. */
export interface StageAttribution {
  /** Counter increments attributed to the stage in the measurement window, by counter. */
  counts: Record<AttributedCounter, number>;
  /** The host thread running when requests leave the stage most often; null: no thread (a device, a link or the wire). */
  thread: string | null;
  /** Mean time from a request's start to its leaving the stage [ns]: the stage's place in a request's life. */
  leaveOffsetNs: number;
}

export type AttributedStageRow = StageRow & { attribution: StageAttribution };

/** Most stages a run defines that get a thread histogram (more are left without thread). */
const MAX_THREADS = 256;

export class AttributingStageTracker extends StageTracker {
  private sources: AttributionSources | null = null;
  private readonly current = new Float64Array(N);
  private readonly last = new Float64Array(N);
  /** Per stage: N counts. */
  private counts = new Float64Array(0);
  /** Per stage: marks while each thread ran (MAX_THREADS + 1 each, the last: no thread). */
  private threadMarks = new Float64Array(0);
  /** Per stage: sum of leave offsets [ps] and their number. */
  private offsetSum = new Float64Array(0);
  private offsetCount = new Float64Array(0);
  /** Start time of the request holding each record offset [ps]. */
  private beginPs = new Float64Array(0);
  private stageSlots = 0;

  constructor(private readonly clockRef: { readonly nowPs: number }) {
    super(clockRef);
  }

  /** Connects the live counters and threads (before the run starts). */
  attach(sources: AttributionSources): void {
    this.sources = sources;
  }

  private ensureStage(stage: number): void {
    if (stage < this.stageSlots) return;
    const slots = Math.max(16, 2 * (stage + 1));
    const grow = (a: Float64Array<ArrayBuffer>, per: number): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(slots * per);
      b.set(a);
      return b;
    };
    this.counts = grow(this.counts, N);
    this.threadMarks = grow(this.threadMarks, MAX_THREADS + 1);
    this.offsetSum = grow(this.offsetSum, 1);
    this.offsetCount = grow(this.offsetCount, 1);
    this.stageSlots = slots;
  }

  override begin(op: TrackedOp): void {
    super.begin(op);
    if (op.slot >= this.beginPs.length) {
      const b = new Float64Array(Math.max(1024, 2 * (op.slot + 1)));
      b.set(this.beginPs);
      this.beginPs = b;
    }
    this.beginPs[op.slot] = this.clockRef.nowPs;
  }

  override markAt(op: TrackedOp, stage: number, servicePs: number, now: number): void {
    this.ensureStage(stage);
    const src = this.sources;
    if (src !== null) {
      const cur = this.current;
      const last = this.last;
      src.read(cur);
      let isRestart = false;
      for (let j = 0; j < N; j++) if (cur[j]! < last[j]!) isRestart = true;
      if (isRestart) {
        // the measurement window opened (the counters restarted): only its events count
        this.counts.fill(0);
        last.fill(0);
      }
      for (let j = 0; j < N; j++) {
        this.counts[stage * N + j]! += cur[j]! - last[j]!;
        last[j] = cur[j]!;
      }
      // a hand-over computed ahead (a polling thread time-stamping later steps) says nothing of who runs them
      const running = now > this.clockRef.nowPs ? null : src.cpu.running;
      const at = running === null ? -1 : src.cpu.threads.indexOf(running);
      this.threadMarks[stage * (MAX_THREADS + 1) + (at >= 0 && at < MAX_THREADS ? at : MAX_THREADS)]! += 1;
    }
    if (op.slot >= 0 && op.slot < this.beginPs.length) {
      this.offsetSum[stage]! += Math.max(now, op.stampPs) - this.beginPs[op.slot]!;
      this.offsetCount[stage]! += 1;
    }
    super.markAt(op, stage, servicePs, now);
  }

  /** The stage rows (as StageTracker.rows) with each stage's attribution. */
  override rows(ops: number): AttributedStageRow[] {
    return super.rows(ops).map((row) => {
      const k = this.define(row.stage, row.actor); // same name and actor: the stage's id
      const has = k < this.stageSlots;
      const counts = Object.fromEntries(ATTRIBUTED_COUNTERS.map((c, j) => [c, has ? this.counts[k * N + j]! : 0])) as Record<AttributedCounter, number>;
      let thread: string | null = null;
      if (has && this.sources !== null) {
        let best = MAX_THREADS;
        for (let t = 0; t < MAX_THREADS; t++) {
          if (this.threadMarks[k * (MAX_THREADS + 1) + t]! > this.threadMarks[k * (MAX_THREADS + 1) + best]!) best = t;
        }
        thread = best < MAX_THREADS ? (this.sources.cpu.threads[best]?.name ?? null) : null;
      }
      const n = has ? this.offsetCount[k]! : 0;
      return { ...row, attribution: { counts, thread, leaveOffsetNs: n > 0 ? psToNs(this.offsetSum[k]! / n) : 0 } };
    });
  }
}
