/**
 * What a block run hands over for fio's JSON output (src/output/fio-json.ts): per
 * direction, the I/O count, the bytes and fio's three latencies (slat, clat, lat), with
 * fio's default percentiles; the share of I/Os in fio's completion-latency ranges; the
 * CPU use of the jobs' threads. Plain data in nanoseconds (it travels from worker
 * threads); rounding is left to the renderer.
 */
import { psToNs } from '../core/time.js';
import type { LatencyRecorder } from './latency-recorder.js';

/** fio's default percentile_list. */
export const FIO_PERCENTILES = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99] as const;

/** One latency's statistics [ns], as fio's *_ns objects. */
export interface LatencyFigures {
  n: number;
  minNs: number;
  maxNs: number;
  meanNs: number;
  /** Sample standard deviation (n - 1), as fio's. */
  stddevNs: number;
  /** The value at each of FIO_PERCENTILES [ns]. */
  percentilesNs: number[];
}

/** One direction (read or write) of a run. */
export interface DirectionFigures {
  ios: number;
  bytes: number;
  /** Null where fio measures no submission latency (a synchronous engine: psync). */
  slat: LatencyFigures | null;
  clat: LatencyFigures;
  lat: LatencyFigures;
}

/** fio's completion-latency ranges: upper bounds of latency_ns, latency_us and latency_ms (the last range of ms is open). */
export const FIO_LAT_RANGES = {
  ns: [2, 4, 10, 20, 50, 100, 250, 500, 750, 1000],
  us: [2, 4, 10, 20, 50, 100, 250, 500, 750, 1000],
  ms: [2, 4, 10, 20, 50, 100, 250, 500, 750, 1000, 2000],
} as const;

export interface FioFigures {
  read: DirectionFigures;
  write: DirectionFigures;
  /** The measurement window [ns] (fio's runtime). */
  windowNs: number;
  /** Simulated time at the run's end, warm-up included [ns] (fio's elapsed). */
  endNs: number;
  /** fio jobs of the run (all VMs, numjobs each) and their I/O depth. */
  jobs: number;
  iodepth: number;
  /**
   * Per job, the share of the window its thread spent in fio's own code (usr) and in the
   * rest of its busy time (sys), 0..1; see docs/model.md s5.
   */
  usr: number;
  sys: number;
  /** Context switches in the window (every thread of the run). */
  contextSwitches: number;
  /**
   * Percent of the I/Os (both directions) whose clat falls in each of fio's ranges
   * (FIO_LAT_RANGES: [previous bound, bound); ms has one more, >= 2000 ms).
   */
  clatPercent: { ns: number[]; us: number[]; ms: number[] };
}

/** A recorder's statistics in fio's terms. */
export function latencyFigures(r: LatencyRecorder): LatencyFigures {
  const n = r.count;
  const minNs = psToNs(r.min);
  const maxNs = psToNs(r.max);
  return {
    n,
    minNs,
    maxNs,
    meanNs: psToNs(r.mean),
    stddevNs: psToNs(Math.sqrt(r.variance)),
    // (a bucket's highest equivalent value can pass the largest value recorded: clamped)
    percentilesNs: FIO_PERCENTILES.map((p) => (n > 0 ? Math.min(maxNs, Math.max(minNs, psToNs(r.quantile(p / 100)))) : 0)),
  };
}

/**
 * Percent of the recorded values (over several recorders) in each of fio's latency
 * ranges, by bucket (each bucket of the HDR histogram counted at its highest value: within 0.1%).
 */
export function latencyRangePercent(recorders: readonly LatencyRecorder[]): FioFigures['clatPercent'] {
  const ns = new Array<number>(FIO_LAT_RANGES.ns.length).fill(0);
  const us = new Array<number>(FIO_LAT_RANGES.us.length).fill(0);
  const ms = new Array<number>(FIO_LAT_RANGES.ms.length + 1).fill(0);
  let total = 0;
  for (const r of recorders) {
    const t = r.bucketTable();
    for (let i = 0; i < t.count.length; i++) {
      const count = t.count[i]!;
      if (count === 0) continue;
      total += count;
      const v = psToNs(t.valuePs[i]!);
      if (v < 1000) ns[rangeIndex(FIO_LAT_RANGES.ns, v)]! += count;
      else if (v < 1e6) us[rangeIndex(FIO_LAT_RANGES.us, v / 1000)]! += count;
      else ms[rangeIndex(FIO_LAT_RANGES.ms, v / 1e6)]! += count;
    }
  }
  const pct = (a: number[]): number[] => a.map((c) => (total > 0 ? (100 * c) / total : 0));
  return { ns: pct(ns), us: pct(us), ms: pct(ms) };
}

/** The first range whose bound exceeds v (the open last range past the bounds). */
function rangeIndex(bounds: readonly number[], v: number): number {
  for (let i = 0; i < bounds.length; i++) if (v < bounds[i]!) return i;
  return bounds.length;
}
