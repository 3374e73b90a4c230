/**
 * `iovsim explain PATH`: the steps of one request through a path, as the model runs them.
 * It runs a short simulation of the path and workload (compare's plan and validation,
 * the same run code) and prints the run's stage rows in the order a request meets them,
 * with the thread each runs on and the exits, interrupts, kicks, copies and syscalls that
 * happened while requests were in it (metrics/stage-attribution.ts). The stage figures
 * are those stages.csv has for the same run; nothing is described apart from the model.
 */
import { ATTRIBUTED_COUNTERS, type AttributedStageRow } from '../metrics/stage-attribution.js';
import { findPath } from '../paths/index.js';
import { toRows, type Row } from '../output/rows.js';
import { formatNumber, formatTable } from '../output/table.js';
import { InputError, showValue } from '../util/input-error.js';
import { comparePlan, DEFAULT_COMPARE_WORKLOAD } from './compare.js';

/** Ops explain measures when --ops is not given: enough for means within a percent, a second or two of wall time. */
export const DEFAULT_EXPLAIN_OPS = 5000;

export interface ExplainOptions {
  path: string;
  workload?: string;
  sets?: readonly string[];
  ops?: number;
  seed?: number;
}

/** One step of the request: a stage row, its attribution, and its counters per op. */
export interface ExplainStep {
  row: AttributedStageRow;
  /** Mean time per op in the step: visits * (wait + service) [ns]. */
  timeNs: number;
  /** Counter increments attributed to the step, per measured op. */
  perOp: Record<(typeof ATTRIBUTED_COUNTERS)[number], number>;
}

export interface Explanation {
  path: string;
  workload: string;
  ops: number;
  seed: number;
  /** In the order a request meets them (mean time from its start to its leaving the step). */
  steps: ExplainStep[];
  /** The run's summary.csv row (the same rounding). */
  summary: Row;
}

/** Runs the short simulation and gathers the steps; bad input throws InputError. */
export function explain(options: ExplainOptions): Explanation {
  if (options.path.includes(',')) throw new InputError(`explain: one path, got ${showValue(options.path)}; to see several side by side use iovsim compare`);
  const kind = options.workload ?? DEFAULT_COMPARE_WORKLOAD;
  if (kind === 'custom') throw new InputError('--workload: custom runs a chain of stations without a path; explain needs a path workload');
  let plan;
  try {
    plan = comparePlan({
      workload: kind,
      paths: options.path,
      sets: options.sets ?? [],
      ops: options.ops ?? DEFAULT_EXPLAIN_OPS,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    });
  } catch (e) {
    // compare's plan names its one path paths[0]; here it is the PATH argument
    if (e instanceof InputError && e.message.startsWith('compare: paths[0]: ')) throw new InputError(`explain: ${e.message.slice('compare: paths[0]: '.length)}`);
    throw e;
  }
  if (plan.paths.length !== 1 || plan.paths[0] !== options.path) throw new InputError('--set paths: explain runs the path named as its argument; leave paths out');
  if (plan.points.length !== 1) throw new InputError(`explain: one point only, got a sweep of ${plan.points.length}; set one value per parameter`);
  const point = plan.points[0]!;
  const path = findPath(plan.paths[0]!);
  if (!path) throw new Error(`path ${plan.paths[0]!} vanished after planning`);
  const seed = plan.scenario.seed;
  // replication 0, as the first row of compare --out (its stages.csv rows are these)
  const result = path.run({ workload: point.workload, params: point.params, seed, replication: 0, isExplained: true });
  const rows = toRows({ scenario: plan.scenario.name, point: 0, path: path.name, workload: point.workload.kind, replication: 0, seed, sweep: point.values }, result);
  const ops = result.opsCompleted;
  const steps = (result.stages as AttributedStageRow[])
    .map((row): ExplainStep => {
      const perOp = Object.fromEntries(ATTRIBUTED_COUNTERS.map((c) => [c, ops > 0 ? row.attribution.counts[c] / ops : 0])) as ExplainStep['perOp'];
      return { row, timeNs: row.visitsPerOp * (row.waitMeanNs + row.serviceMeanNs), perOp };
    })
    .sort((a, b) => a.row.attribution.leaveOffsetNs - b.row.attribution.leaveOffsetNs);
  return { path: path.name, workload: point.workload.kind, ops, seed, steps, summary: rows.summary };
}

const us = (ns: number): string => formatNumber(ns / 1000, 3);
/** A count per op, '-' when none (under half a hundredth: a stray event of another request). */
const perOpCell = (n: number): string => (n < 0.005 ? '-' : formatNumber(n, 2));

/** The text explain prints: header line, step table, total line, per-op counters. */
export function explainText(e: Explanation): string {
  const lines = e.steps.map((s) => [
    s.row.stage,
    s.row.actor,
    s.row.attribution.thread ?? '-',
    formatNumber(s.row.visitsPerOp, 2),
    us(s.row.waitMeanNs),
    us(s.row.serviceMeanNs),
    us(s.timeNs),
    ...ATTRIBUTED_COUNTERS.map((c) => perOpCell(s.perOp[c])),
  ]);
  const table = formatTable(
    [
      { header: 'step', align: 'left' },
      { header: 'actor', align: 'left' },
      { header: 'thread', align: 'left' },
      { header: 'visits', align: 'right' },
      { header: 'wait (us)', align: 'right' },
      { header: 'service (us)', align: 'right' },
      { header: 'time/op (us)', align: 'right' },
      { header: 'exits', align: 'right' },
      { header: 'irqs', align: 'right' },
      { header: 'kicks', align: 'right' },
      { header: 'copies', align: 'right' },
      { header: 'syscalls', align: 'right' },
    ],
    lines,
  );
  const total = e.steps.reduce((s, x) => s + x.timeNs, 0);
  const mean = e.summary['latency_mean_ns'];
  const c = (col: string): string => formatNumber(Number(e.summary[col]), 3);
  return (
    `${e.path}, workload ${e.workload}, ${e.ops} ops measured, seed ${e.seed}: one request's steps in order (means per op)\n` +
    table +
    `total: ${us(total)} us (sum of steps) = mean latency ${mean === '' ? '-' : us(Number(mean))} us\n` +
    `per op: exits ${c('exits_per_op')}, interrupts ${c('interrupts_per_op')}, kicks ${c('kicks_per_op')}, copies ${c('copies_per_op')}, syscalls ${c('syscalls_per_op')}\n` +
    "thread: the host thread whose code ends the step ('-': a link, a device, or a polling thread that computes the step ahead)\n" +
    'exits, irqs, kicks, copies, syscalls of a step: per op, the events between the previous hand-over of any request and the one that ends the step (exactly the step\'s own with one request in flight)\n'
  );
}
