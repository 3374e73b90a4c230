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
 *
 * Tails: each measured request's time in each stage it visited (wait + service over its
 * visits) goes into that stage's histogram (log-linear, 32 buckets per power of two of
 * nanoseconds: within 3%), which gives the stage's p99; and the slowest 1% of measured
 * requests keep their per-stage times (a min-heap on latency), so for each stage the mean
 * time the tail requests spent in it shows which stage made the p99. (Stage p99s do not
 * add up to the end-to-end p99; the tail means add up to the tail's mean latency.)
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

/** Histogram buckets per stage: 32 per power of two of ns up to 2^31 ns. */
const SUB = 32;
const BUCKETS = SUB * 28;

/** Largest time a bucket holds exactly [ns]: 2^31 - 1 (2.1 s); longer ones share the last bucket. */
const MAX_NS = 0x7fffffff;

/** Bucket of a time in ps: integer ns, exact below 64, then 32 per octave (shifts only: no pow). */
function bucketOf(ps: number): number {
  const v = ps * 0.001;
  const ns = v < MAX_NS ? v | 0 : MAX_NS;
  if (ns < 64) return ns;
  const e = 26 - Math.clz32(ns); // (31 - clz) - 5
  return e * SUB + (ns >>> e);
}

/** The middle of a bucket [ns]. */
function bucketMiddle(idx: number): number {
  if (idx < 64) return idx;
  const e = Math.floor(idx / SUB) - 1;
  const low = (idx - e * SUB) * 2 ** e;
  return low + 2 ** e / 2;
}

/**
 * Watches the journeys of requests (a trace): told of each request's begin, of each stage
 * it leaves (with the boundaries) and of its end. It must not change the run: it draws no
 * random numbers and schedules nothing.
 */
export interface StageObserver {
  begin(op: TrackedOp, nowPs: number): void;
  mark(op: TrackedOp, stage: number, startPs: number, endPs: number, servicePs: number): void;
  end(op: TrackedOp, isMeasured: boolean, latencyPs: number, nowPs: number): void;
}

/** A level a trace samples (a ring's occupancy): read only, never in the hot path. */
export interface Gauge {
  name: string;
  read(): number;
}

export class StageTracker {
  /** Set by a traced run before it starts; null otherwise (the hot path checks only this). */
  observer: StageObserver | null = null;
  /** Levels a trace samples at the stage boundaries of its requests (registered at set-up). */
  readonly gauges: Gauge[] = [];
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
  /** Per stage, counts of measured requests by time in the stage (BUCKETS each). */
  private histograms = new Float64Array(0);
  /** The slowest measured requests: latency and per-stage times, a min-heap on latency. */
  private tailCapacity = 0;
  private tailCount = 0;
  private tailLatency = new Float64Array(0);
  private tailTimes = new Float64Array(0);
  /** Row of tailTimes holding the stage times of the request at each heap position (the heap moves rows' numbers, not their times). */
  private tailRow = new Int32Array(0);
  private stageCount = 0;

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
    this.stageCount = this.stages.length;
    this.stride = FIELDS * this.stages.length;
    this.histograms = new Float64Array(this.stageCount * BUCKETS);
    this.tailTimes = new Float64Array(this.tailCapacity * this.stageCount);

    this.grow(64);
  }

  /** Keeps the per-stage times of the slowest `n` measured requests (call before the run). */
  keepTail(n: number): void {
    if (this.isFrozen) throw new Error('keepTail after the run started (the tail store is sized when it starts)');
    this.tailCapacity = Math.max(1, Math.floor(n));
    this.tailLatency = new Float64Array(this.tailCapacity);
    this.tailRow = new Int32Array(this.tailCapacity);
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
    if (this.observer !== null) this.observer.begin(op, op.stampPs);
  }

  /** The stages declared so far (name and actor), by id. */
  stageList(): readonly { stage: string; actor: string }[] {
    return this.stages;
  }

  /** Registers a level for traces to sample (set-up only; costs nothing when not traced). */
  addGauge(name: string, read: () => number): void {
    this.gauges.push({ name, read });
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
    if (this.observer !== null) this.observer.mark(op, stage, stampPs, now, service);
  }

  /**
   * The request is done: its sums join the totals if it is measured (with its latency for
   * the tail, when known); its record is freed.
   */
  end(op: TrackedOp, isMeasured: boolean, latencyPs = -1): void {
    const base = op.slot;
    if (this.observer !== null && base >= 0) this.observer.end(op, isMeasured, latencyPs, this.clock.nowPs);
    const r = this.records;
    const stride = this.stride;
    if (isMeasured) {
      // among the slowest so far: keep its stage times (read before they are summed away)
      if (latencyPs >= 0 && (this.tailCount < this.tailCapacity || latencyPs > this.tailLatency[0]!)) this.offerTail(base, latencyPs);
      const h = this.histograms;
      // a stage (wait, service, visits) per iteration: a third of the loop's own checks
      for (let k = 0, s = 0; k < stride; k += FIELDS, s += BUCKETS) {
        const i = base + k;
        const visits = r[i + 2]!;
        if (visits === 0) continue;
        const w = r[i]!;
        const sv = r[i + 1]!;
        r[k]! += w;
        r[k + 1]! += sv;
        r[k + 2]! += visits;
        h[s + bucketOf(w + sv)]! += 1;
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

  /** Keeps the request (its record at base, not yet summed) among the slowest. */
  private offerTail(base: number, latencyPs: number): void {
    const lat = this.tailLatency;
    const rowAt = this.tailRow;
    let i: number;
    let row: number;
    if (this.tailCount < this.tailCapacity) {
      // a new row; sift up from the end
      row = this.tailCount;
      i = this.tailCount++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (lat[parent]! <= latencyPs) break;
        lat[i] = lat[parent]!;
        rowAt[i] = rowAt[parent]!;
        i = parent;
      }
    } else {
      if (latencyPs <= lat[0]!) return;
      // the minimum leaves: its row takes the new times; sift down from the root
      row = rowAt[0]!;
      i = 0;
      const n = this.tailCount;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && lat[l + 1]! < lat[l]! ? l + 1 : l;
        if (lat[c]! >= latencyPs) break;
        lat[i] = lat[c]!;
        rowAt[i] = rowAt[c]!;
        i = c;
      }
    }
    lat[i] = latencyPs;
    rowAt[i] = row;
    const t = this.tailTimes;
    const o = row * this.stageCount;
    const r = this.records;
    for (let k = 0; k < this.stageCount; k++) t[o + k] = r[base + FIELDS * k]! + r[base + FIELDS * k + 1]!;
  }

  /**
   * Keeps only the slowest `n` of the tail (a run that ended before the op count the
   * tail store was sized for: its slowest 1% are fewer). The kept rows move to the front,
   * in increasing latency (a valid min-heap).
   */
  limitTail(n: number): void {
    const keep = Math.max(0, Math.floor(n));
    if (this.tailCount <= keep) return;
    const order = Array.from({ length: this.tailCount }, (_, i) => i).sort((a, b) => this.tailLatency[a]! - this.tailLatency[b]!);
    const kept = order.slice(order.length - keep);
    const times = new Float64Array(this.tailTimes.length);
    const sc = this.stageCount;
    kept.forEach((i, j) => {
      const row = this.tailRow[i]!;
      times.set(this.tailTimes.subarray(row * sc, row * sc + sc), j * sc);
    });
    const lat = kept.map((i) => this.tailLatency[i]!);
    this.tailTimes = times;
    for (let j = 0; j < keep; j++) {
      this.tailLatency[j] = lat[j]!;
      this.tailRow[j] = j;
    }
    this.tailCount = keep;
  }

  /** stages.csv rows for `ops` measured requests (stages never visited are left out). */
  rows(ops: number): StageRow[] {
    const out: StageRow[] = [];
    const t = this.records;
    const tailN = this.tailCount;
    for (let k = 0; k < this.stages.length && FIELDS * k < this.stride; k++) {
      const visits = t[FIELDS * k + 2]!;
      if (visits === 0) continue;
      let tailSum = 0;
      for (let r = 0; r < tailN; r++) tailSum += this.tailTimes[r * this.stageCount + k]!;
      out.push({
        stage: this.stages[k]!.stage,
        actor: this.stages[k]!.actor,
        visitsPerOp: ops > 0 ? visits / ops : 0,
        waitMeanNs: psToNs(t[FIELDS * k]! / visits),
        serviceMeanNs: psToNs(t[FIELDS * k + 1]! / visits),
        p99Ns: this.quantileNs(k, 0.99),
        tailMeanNs: this.tailCapacity === 0 ? undefined : tailN > 0 ? psToNs(tailSum / tailN) : 0,
      });
    }
    return out;
  }

  /** A quantile of the per-request time in stage k (requests that visited it) [ns]. */
  quantileNs(k: number, q: number): number {
    const h = this.histograms;
    const off = k * BUCKETS;
    let n = 0;
    for (let b = 0; b < BUCKETS; b++) n += h[off + b]!;
    if (n === 0) return 0;
    const want = Math.ceil(q * n);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += h[off + b]!;
      if (seen >= want) return bucketMiddle(b);
    }
    return bucketMiddle(BUCKETS - 1);
  }
}
