/**
 * What happens over time in a run with a timeline: per time bucket (scenario
 * `timeline_bucket_ms`), ops completed, dropped, lost and retried, the p50 and p99 of the
 * ops that completed in the bucket, and the migration's progress; and per run the figures
 * of summary.csv's timeline columns (migration_total_ms, migration_downtime_ms,
 * pages_transferred, ops_lost, ops_retried, recovery_ms).
 *
 * Ops finish in time order (at the simulator's clock), so only the open bucket's
 * histogram is kept: memory does not grow with the run's length.
 */
import { PS_PER_MS, PS_PER_S, type TimePs } from '../core/time.js';

/** Sub-buckets per power of two of the per-bucket histogram (quantiles within about 2%). */
const SUB_BITS = 5;
const SUB = 1 << SUB_BITS;
const SLOTS = (54 - SUB_BITS + 1) * SUB;

/** Index of a latency [ps] in the per-bucket log histogram (HDR-like: SUB slots per power of two). */
function slotOf(value: number): number {
  const v = Math.max(0, Math.floor(value));
  if (v < SUB) return v;
  let shift = Math.floor(Math.log2(v)) - SUB_BITS;
  let m = Math.floor(v / 2 ** shift);
  if (m < SUB) m = Math.floor(v / 2 ** --shift); // log2 rounded up just below a power of two
  else if (m >= 2 * SUB) m = Math.floor(v / 2 ** ++shift);
  return Math.min(SLOTS - 1, (shift + 1) * SUB + m - SUB);
}
/** Highest value of a slot [ps]. */
function slotHigh(i: number): number {
  if (i < SUB) return i;
  const shift = Math.floor(i / SUB) - 1;
  const m = i - shift * SUB;
  return (m + 1) * 2 ** shift - 1;
}

/** Migration progress at a moment (the last sample of a bucket is its row's). */
export interface MigrationSample {
  /** Dirty-bitmap syncs so far (1 = the first pass over all memory). */
  iteration: number;
  /** Pages dirty and not yet sent. */
  dirtyPages: number;
  /** Pages sent so far (all passes). */
  pagesSent: number;
  /** setup, precopy, stop-copy, postcopy, done, cancelled. */
  phase: string;
}

/** One bucket of timeline.csv. */
export interface TimelineBucketRow {
  startMs: number;
  opsCompleted: number;
  opsDropped: number;
  opsLost: number;
  opsRetried: number;
  /** Quantiles of the bucket's completed ops [ns]; NaN when none completed. */
  p50Ns: number;
  p99Ns: number;
  migration: MigrationSample | null;
}

/** Per-run figures of summary.csv's timeline columns (NaN: no such event). */
export interface TimelineSummary {
  migrationTotalMs: number;
  migrationDowntimeMs: number;
  pagesTransferred: number;
  /** Dirty-bitmap syncs of the migration (its last progress sample). */
  migrationIterations: number;
  /** Migration stream bytes over its total time [MiB/s] (QEMU's "throughput"). */
  migrationThroughputMibps: number;
  opsLost: number;
  opsRetried: number;
  recoveryMs: number;
}

export class TimelineRecorder {
  readonly rows: TimelineBucketRow[] = [];
  private bucket = 0;
  private readonly hist = new Uint32Array(SLOTS);
  private completed = 0;
  private dropped = 0;
  private lost = 0;
  private retried = 0;
  private sample: MigrationSample | null = null;
  private lastSample: MigrationSample | null = null;
  private totalLost = 0;
  private totalRetried = 0;
  private migrationTotalPs = NaN;
  private migrationDowntimePs = NaN;
  private pagesTransferred = NaN;
  private migrationBytes = NaN;
  /** Faults that are over, waiting for the first op completion after them (their starts). */
  private pendingRecoveries: TimePs[] = [];
  private longestRecoveryPs = NaN;

  constructor(private readonly bucketPs: TimePs) {
    if (!(bucketPs > 0)) throw new RangeError(`bucket must be positive, got ${bucketPs}`);
  }

  /** An op completed at atPs with this latency. */
  opCompleted(atPs: TimePs, latencyPs: number): void {
    this.advance(atPs);
    this.completed++;
    this.hist[slotOf(latencyPs)]!++;
    if (this.pendingRecoveries.length > 0) {
      for (const start of this.pendingRecoveries) this.longestRecoveryPs = Math.max(Number.isNaN(this.longestRecoveryPs) ? 0 : this.longestRecoveryPs, atPs - start);
      this.pendingRecoveries = [];
    }
  }

  /** An op was dropped (the path's usual drop points: full rings, queues). */
  opDropped(atPs: TimePs): void {
    this.advance(atPs);
    this.dropped++;
  }

  /** An op failed for good because of a timeline event (an I/O error, a stream's frame lost in an outage). */
  opLost(atPs: TimePs): void {
    this.advance(atPs);
    this.lost++;
    this.totalLost++;
  }

  /** An op was resubmitted or retransmitted because of a timeline event. */
  opRetried(atPs: TimePs): void {
    this.advance(atPs);
    this.retried++;
    this.totalRetried++;
  }

  /**
   * A fault that began at startPs is over at nowPs (the part is back): its recovery ends at
   * the first op completion from now on. recovery_ms is the longest such span.
   */
  faultCleared(startPs: TimePs, nowPs: TimePs): void {
    this.advance(nowPs);
    this.pendingRecoveries.push(startPs);
  }

  /** Migration progress now. */
  migrationProgress(atPs: TimePs, s: MigrationSample): void {
    this.advance(atPs);
    this.sample = s;
  }

  /** A migration ended (completed; its figures go to summary.csv): bytes, the stream's (pages, headers, device state). */
  migrationDone(totalPs: TimePs, downtimePs: TimePs, pagesTransferred: number, bytes: number): void {
    this.migrationTotalPs = totalPs;
    this.migrationDowntimePs = downtimePs;
    this.pagesTransferred = pagesTransferred;
    this.migrationBytes = bytes;
  }

  /** A migration still running when the run ends: pages so far, no total or downtime. */
  migrationUnfinished(pagesTransferred: number): void {
    this.pagesTransferred = pagesTransferred;
  }

  /** Closes the buckets up to the run's end. */
  finish(endPs: TimePs): void {
    this.advance(endPs);
    this.closeBucket();
  }

  summary(): TimelineSummary {
    return {
      migrationTotalMs: this.migrationTotalPs / PS_PER_MS,
      migrationDowntimeMs: this.migrationDowntimePs / PS_PER_MS,
      pagesTransferred: this.pagesTransferred,
      migrationIterations: Number.isNaN(this.pagesTransferred) ? NaN : (this.sample ?? this.lastSample)?.iteration ?? NaN,
      migrationThroughputMibps: this.migrationBytes / 1048576 / (this.migrationTotalPs / PS_PER_S),
      opsLost: this.totalLost,
      opsRetried: this.totalRetried,
      recoveryMs: this.longestRecoveryPs / PS_PER_MS,
    };
  }

  private advance(atPs: TimePs): void {
    const b = Math.floor(atPs / this.bucketPs);
    while (this.bucket < b) {
      this.closeBucket();
      this.bucket++;
    }
  }

  private closeBucket(): void {
    const n = this.completed;
    const migration = this.sample ?? this.lastSample;
    this.rows.push({
      startMs: (this.bucket * this.bucketPs) / PS_PER_MS,
      opsCompleted: n,
      opsDropped: this.dropped,
      opsLost: this.lost,
      opsRetried: this.retried,
      p50Ns: n > 0 ? this.quantile(0.5) / 1000 : NaN,
      p99Ns: n > 0 ? this.quantile(0.99) / 1000 : NaN,
      migration,
    });
    if (this.sample !== null) this.lastSample = this.sample;
    this.sample = null;
    if (n > 0) this.hist.fill(0);
    this.completed = this.dropped = this.lost = this.retried = 0;
  }

  /** The q-quantile of the open bucket [ps]: the high end of the slot holding the ceil(q n)-th op. */
  private quantile(q: number): number {
    const rank = Math.max(1, Math.ceil(q * this.completed));
    let seen = 0;
    for (let i = 0; i < SLOTS; i++) {
      seen += this.hist[i]!;
      if (seen >= rank) return slotHigh(i);
    }
    return NaN;
  }
}
