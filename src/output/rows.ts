/**
 * Turns one run's RunResult into the rows of the output files (design.md section 5).
 * Rows are plain data so worker threads can send them back; numbers are rounded here
 * once, so every writer prints the same bytes.
 */
import { PS_PER_S, psToNs } from '../core/time.js';
import type { FioFigures } from '../metrics/fio-figures.js';
import type { RunResult } from '../metrics/run-result.js';
import type { ScalarValue } from '../scenario/schema.js';

/** A CSV cell. */
export type Cell = string | number;
/** A CSV row by column name. */
export type Row = Record<string, Cell>;

/** summary.csv columns fixed by design.md section 5, in order. */
export const SUMMARY_COLUMNS = [
  'scenario', 'point', 'path', 'workload', 'replication', 'seed', 'ops_completed', 'ops_dropped',
  'throughput_ops_per_s', 'throughput_gbps', 'latency_mean_ns', 'latency_p50_ns', 'latency_p90_ns',
  'latency_p99_ns', 'latency_p999_ns', 'latency_max_ns', 'exits_per_op', 'interrupts_per_op',
  'kicks_per_op', 'copies_per_op', 'copy_bytes_per_op', 'syscalls_per_op', 'context_switches_per_op',
  'host_cpu_cores', 'tcp_segments_per_op',
] as const;
/**
 * 95% confidence half-widths across the replications of one (point, path), repeated on
 * each of its rows (empty with a single replication). They come right after the
 * design.md columns and before the param.* columns.
 */
export const SUMMARY_CI_COLUMNS = ['latency_mean_ci95_ns', 'latency_p99_ci95_ns', 'throughput_ci95_ops_per_s'] as const;
/** latency.csv columns (before param.*). */
export const LATENCY_COLUMNS = ['point', 'path', 'replication', 'latency_ns', 'count', 'cumulative_fraction'] as const;
/** stages.csv columns (before param.*). */
export const STAGE_COLUMNS = ['point', 'path', 'replication', 'stage', 'actor', 'visits_per_op', 'wait_mean_ns', 'service_mean_ns', 'p99_ns', 'tail_mean_ns'] as const;
/** cpu.csv columns (before param.*). */
export const CPU_COLUMNS = ['point', 'path', 'replication', 'thread', 'core', 'busy_fraction', 'poll_fraction'] as const;
/**
 * summary.csv columns of a plan with a timeline or faults (after the confidence columns;
 * empty where the run had no such event). A plan without one has none of them, so its
 * summary.csv is as before.
 */
export const TIMELINE_SUMMARY_COLUMNS = [
  'migration_total_ms', 'migration_downtime_ms', 'pages_transferred', 'migration_iterations', 'migration_completed', 'migration_throughput_mibps',
  'ops_lost', 'ops_retried', 'recovery_ms',
] as const;
/** timeline.csv columns (before param.*): one row per time bucket of a run with a timeline. */
export const TIMELINE_COLUMNS = [
  'point', 'path', 'replication', 'time_ms', 'ops_completed', 'ops_dropped', 'ops_lost', 'ops_retried',
  'latency_p50_ns', 'latency_p99_ns', 'migration_phase', 'migration_iteration', 'migration_dirty_pages', 'migration_pages_sent',
] as const;
/** exits.csv columns (before param.*). */
export const EXIT_COLUMNS = ['point', 'path', 'replication', 'reason', 'exits_per_op'] as const;

/** Rounds to a fixed number of decimals and drops float noise ("0.30000000000000004"). */
export function round(value: number, decimals: number): number {
  if (!Number.isFinite(value)) return 0;
  const f = 10 ** decimals;
  const r = Math.round(value * f) / f;
  return Object.is(r, -0) ? 0 : r;
}

/**
 * latency.csv rows of one run, by column: a run has some 10^4 of them, so no object per
 * row. Each row is the id cells, then latency_ns, count and cumulative_fraction at one
 * index, then the param cells.
 */
export interface LatencyRows {
  /** point, path, replication. */
  id: Row;
  /** param.* cells by column name. */
  params: Row;
  latencyNs: Float64Array;
  count: Float64Array;
  cumulativeFraction: Float64Array;
}

/** One run's rows for every output file. */
export interface TaskRows {
  summary: Row;
  latency: LatencyRows;
  stages: Row[];
  cpu: Row[];
  exits: Row[];
  eventsProcessed: number;
  /** Block runs: the run in fio's terms (fio.json). */
  fio?: FioFigures;
  /** A traced run's Chrome trace text (not a CSV row). */
  trace?: string;
  /** Runs with a timeline: timeline.csv rows (the summary row then has the timeline columns too). */
  timeline?: Row[];
}

/** What identifies a run in its rows. */
export interface TaskKey {
  scenario: string;
  point: number;
  path: string;
  workload: string;
  replication: number;
  seed: number;
  /** Swept values at this point, written as param.<key> columns. */
  sweep: Readonly<Record<string, ScalarValue>>;
}

function paramCells(sweep: Readonly<Record<string, ScalarValue>>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(sweep)) out[`param.${k}`] = typeof v === 'boolean' ? String(v) : v;
  return out;
}

/** Turns one run's result into rows, rounding every number once. */
export function toRows(key: TaskKey, r: RunResult): TaskRows {
  const ops = r.opsCompleted;
  const perOp = (n: number): number => (ops > 0 ? round(n / ops, 4) : 0);
  const windowS = r.windowPs / PS_PER_S;
  const lat = r.latency;
  // a run whose every op was dropped has no latency: its cells stay empty, not 0
  const hasLatency = ops > 0;
  const q = (p: number): Cell => (hasLatency ? round(psToNs(lat.quantile(p)), 3) : '');
  const params = paramCells(key.sweep);
  const id = { point: key.point, path: key.path, replication: key.replication };
  const c = r.counters;
  const summary: Row = {
    scenario: key.scenario,
    point: key.point,
    path: key.path,
    workload: key.workload,
    replication: key.replication,
    seed: key.seed,
    ops_completed: ops,
    ops_dropped: r.opsDropped,
    throughput_ops_per_s: windowS > 0 ? round(ops / windowS, 3) : 0,
    throughput_gbps: windowS > 0 ? round((r.bytesCompleted * 8) / windowS / 1e9, 6) : 0,
    latency_mean_ns: hasLatency ? round(psToNs(lat.mean), 3) : '',
    latency_p50_ns: q(0.5),
    latency_p90_ns: q(0.9),
    latency_p99_ns: q(0.99),
    latency_p999_ns: q(0.999),
    latency_max_ns: hasLatency ? round(psToNs(lat.max), 3) : '',
    exits_per_op: perOp(c.exits),
    interrupts_per_op: perOp(c.interrupts),
    kicks_per_op: perOp(c.kicks),
    copies_per_op: perOp(c.copies),
    copy_bytes_per_op: perOp(c.copyBytes),
    syscalls_per_op: perOp(c.syscalls),
    context_switches_per_op: perOp(c.contextSwitches),
    host_cpu_cores: round(r.hostCpuCores, 4),
    tcp_segments_per_op: perOp(c.tcpSegments),
    ...params,
  };
  const table = lat.bucketTable();
  const latency: LatencyRows = {
    id,
    params,
    latencyNs: table.valuePs.map((v) => round(psToNs(v), 3)),
    count: table.count,
    cumulativeFraction: table.cumulativeFraction.map((f) => round(f, 8)),
  };
  const stages = r.stages.map((s) => ({
    ...id,
    stage: s.stage,
    actor: s.actor,
    visits_per_op: round(s.visitsPerOp, 6),
    wait_mean_ns: round(s.waitMeanNs, 3),
    service_mean_ns: round(s.serviceMeanNs, 3),
    p99_ns: s.p99Ns === undefined ? '' : round(s.p99Ns, 3),
    tail_mean_ns: s.tailMeanNs === undefined ? '' : round(s.tailMeanNs, 3),
    ...params,
  }));
  const cpu = r.cpu.map((t) => ({
    ...id,
    thread: t.thread,
    core: t.core,
    busy_fraction: round(t.busyFraction, 6),
    poll_fraction: round(t.pollFraction, 6),
    ...params,
  }));
  const exits = [...c.exitsByReason.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([reason, n]) => ({ ...id, reason, exits_per_op: perOp(n), ...params }));
  const timeline = r.timeline ? timelineRows(r.timeline, summary, id, params) : undefined;
  return { summary, latency, stages, cpu, exits, eventsProcessed: r.eventsProcessed, ...(r.fio ? { fio: r.fio } : {}), ...(r.trace !== undefined ? { trace: r.trace } : {}), ...(timeline ? { timeline } : {}) };
}

/** A figure, or an empty cell when it is NaN (no such event). */
function cellOf(v: number, decimals: number): Cell {
  return Number.isNaN(v) ? '' : round(v, decimals);
}

/** Adds the timeline columns to the summary row; returns the timeline.csv rows. */
function timelineRows(t: NonNullable<RunResult['timeline']>, summary: Row, id: Row, params: Row): Row[] {
  const s = t.summary;
  summary['migration_total_ms'] = cellOf(s.migrationTotalMs, 3);
  summary['migration_downtime_ms'] = cellOf(s.migrationDowntimeMs, 3);
  summary['pages_transferred'] = cellOf(s.pagesTransferred, 0);
  summary['migration_iterations'] = cellOf(s.migrationIterations, 0);
  // 1: done by the run's end; 0: still going (pre-copy that does not converge); empty: no migration
  summary['migration_completed'] = Number.isNaN(s.pagesTransferred) ? '' : Number.isNaN(s.migrationTotalMs) ? 0 : 1;
  summary['migration_throughput_mibps'] = cellOf(s.migrationThroughputMibps, 3);
  summary['ops_lost'] = s.opsLost;
  summary['ops_retried'] = s.opsRetried;
  summary['recovery_ms'] = cellOf(s.recoveryMs, 3);
  return t.rows.map((b) => ({
    ...id,
    time_ms: round(b.startMs, 3),
    ops_completed: b.opsCompleted,
    ops_dropped: b.opsDropped,
    ops_lost: b.opsLost,
    ops_retried: b.opsRetried,
    latency_p50_ns: cellOf(b.p50Ns, 3),
    latency_p99_ns: cellOf(b.p99Ns, 3),
    migration_phase: b.migration?.phase ?? '',
    migration_iteration: b.migration ? b.migration.iteration : '',
    migration_dirty_pages: b.migration ? round(b.migration.dirtyPages, 0) : '',
    migration_pages_sent: b.migration ? round(b.migration.pagesSent, 0) : '',
    ...params,
  }));
}
