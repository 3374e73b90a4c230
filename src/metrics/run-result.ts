/**
 * What one simulation run (one sweep point, one path, one replication) hands to the
 * output writers. Every path and workload produces this shape.
 */
import type { Counters } from './counters.js';
import type { FioFigures } from './fio-figures.js';
import type { LatencyRecorder } from './latency-recorder.js';
import type { TimelineBucketRow, TimelineSummary } from './timeline-recorder.js';

/** One stage of a path: visits per op times (wait + service) add up to the mean latency. */
export interface StageRow {
  stage: string;
  actor: string;
  visitsPerOp: number;
  waitMeanNs: number;
  serviceMeanNs: number;
  /** 99th percentile of a request's time in the stage (requests that visited it); undefined when not kept. */
  p99Ns?: number;
  /** Mean time in the stage of the slowest 1% of requests (their p99 makers); undefined when not kept. */
  tailMeanNs?: number;
}

/** One host thread: where it ran and how it spent the measurement window. */
export interface CpuRow {
  thread: string;
  core: number;
  busyFraction: number;
  pollFraction: number;
}

export interface RunResult {
  opsCompleted: number;
  opsDropped: number;
  /** Length of the measurement window (warm-up excluded) [ps]. */
  windowPs: number;
  /** Payload bytes of the completed ops, for throughput in Gb/s. */
  bytesCompleted: number;
  latency: LatencyRecorder;
  counters: Counters;
  /** Host cores' worth of busy and polling time over the window. */
  hostCpuCores: number;
  stages: StageRow[];
  cpu: CpuRow[];
  eventsProcessed: number;
  /** Block runs: the run in fio's terms, for fio.json (--output-format fio-json). */
  fio?: FioFigures;
  /** A traced run (PathRunInput.trace): the Chrome trace event file's text. */
  trace?: string;
  /** A run with a timeline or faults: its buckets (timeline.csv) and summary figures. */
  timeline?: { rows: TimelineBucketRow[]; summary: TimelineSummary };
}
