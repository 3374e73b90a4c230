/**
 * Calibration targets as a command: a scenario file may carry a `validation` list, each
 * item a published figure (value or range, tolerance, source) and how to read the same
 * quantity from the run's summary rows (a summary column, which path, which sweep point,
 * optionally relative to another selection). `iovsim calibrate-check` runs every such file
 * and prints target, measured, ratio, pass or fail. A target the model is known not to meet
 * says so in `known_gap` (with where docs/model.md explains it): it is reported as a gap,
 * and the command fails if it unexpectedly passes (the note would be stale) or if any other
 * target fails.
 */
import { z } from 'zod';
import type { Row } from '../output/rows.js';
import type { Plan } from './load.js';

const selection = {
  /** Path of the rows (may be omitted when the scenario runs one path). */
  path: z.string().optional(),
  /** Swept values the rows must have (param.<key> columns), e.g. { kvm.halt_poll_ns: 0 }. */
  where: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
};

export const validationTargetSchema = z.strictObject({
  /** What the figure is, in a few words. */
  target: z.string().min(1),
  /** A numeric summary.csv column (latency_mean_ns, throughput_gbps, ...), or cpu.busy_fraction of `thread`. */
  metric: z.string().min(1),
  /** For metric cpu.busy_fraction: the thread (a cpu.csv name, e.g. vm0/qemu-main). */
  thread: z.string().optional(),
  ...selection,
  /** Compare with another selection of the same run: measured = this (op) that. */
  relative_to: z.strictObject({ ...selection, op: z.enum(['ratio', 'difference']) }).optional(),
  /** The published figure, or a published range [low, high], in the metric's unit. */
  published: z.union([z.number(), z.tuple([z.number(), z.number()])]),
  /** Accepted relative deviation from the figure (or beyond the range's ends). */
  tolerance: z.number().nonnegative().lte(10).default(0.15),
  /** Where the figure comes from. */
  source: z.string().min(1),
  /** Set when the model is known to miss the figure: why, and where docs/model.md explains it. */
  known_gap: z.string().min(1).optional(),
});

export type ValidationTarget = z.infer<typeof validationTargetSchema>;

export interface TargetResult {
  file: string;
  target: ValidationTarget;
  measured: number;
  /** measured / published (the middle of a published range). */
  ratio: number;
  isWithin: boolean;
  status: 'pass' | 'FAIL' | 'gap' | 'UNEXPECTED PASS';
}

/** A run's summary row and its cpu.csv rows. */
export interface RunRows {
  summary: Row;
  cpu: Row[];
}

/** The cpu.csv rows of a task from its rendered body (no header): columns CPU_COLUMNS then param.*. */
export function cpuRowsOf(plan: Plan, csvBody: string): Row[] {
  const cols = ['point', 'path', 'replication', 'thread', 'core', 'busy_fraction', 'poll_fraction', ...plan.sweepKeys.map((k) => `param.${k}`)];
  return csvBody
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i] ?? `c${i}`, v])) as Row);
}

function pick(plan: Plan, runs: readonly RunRows[], sel: { path?: string | undefined; where?: Record<string, unknown> | undefined }, metric: string, thread: string | undefined, at: string): number {
  const path = sel.path ?? (plan.paths.length === 1 ? plan.paths[0] : undefined);
  if (path === undefined) throw new Error(`${at}: the scenario runs several paths; say which (path:)`);
  let rows: Row[] = runs.map((r) => r.summary);
  if (metric === 'cpu.busy_fraction') {
    rows = runs.flatMap((r) => r.cpu).filter((r) => r['thread'] === thread);
    metric = 'busy_fraction';
  }
  const chosen = rows.filter((r) => {
    if (r['path'] !== path) return false;
    for (const [k, v] of Object.entries(sel.where ?? {})) if (String(r[`param.${k}`]) !== String(v)) return false;
    return true;
  });
  if (chosen.length === 0) throw new Error(`${at}: no summary rows for path ${path}${sel.where ? ` where ${JSON.stringify(sel.where)}` : ''}`);
  const values = chosen.map((r) => Number(r[metric]));
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`${at}: ${metric} is not a numeric summary column`);
  return values.reduce((s, v) => s + v, 0) / values.length; // mean over replications
}

/** Evaluates a file's targets against its summary rows. */
export function evaluateTargets(plan: Plan, runs: readonly RunRows[]): TargetResult[] {
  const targets = plan.scenario.validation ?? [];
  return targets.map((t, i) => {
    const at = `${plan.source}: validation[${i}]`;
    let measured = pick(plan, runs, t, t.metric, t.thread, at);
    if (t.relative_to) {
      const other = pick(plan, runs, t.relative_to, t.metric, t.thread, `${at}.relative_to`);
      measured = t.relative_to.op === 'ratio' ? measured / other : measured - other;
    }
    const [low, high] = typeof t.published === 'number' ? [t.published, t.published] : t.published;
    const middle = (low + high) / 2;
    const lo = Math.min(low * (1 - t.tolerance), low * (1 + t.tolerance));
    const hi = Math.max(high * (1 + t.tolerance), high * (1 - t.tolerance));
    const isWithin = measured >= lo && measured <= hi;
    const status = t.known_gap === undefined ? (isWithin ? 'pass' : 'FAIL') : isWithin ? 'UNEXPECTED PASS' : 'gap';
    return { file: plan.source, target: t, measured, ratio: middle !== 0 ? measured / middle : NaN, isWithin, status };
  });
}

/** A value in the metric's unit, shown in a readable unit. */
export function formatValue(metric: string, v: number, isDifferenceOrRatio: 'ratio' | 'difference' | undefined): string {
  if (isDifferenceOrRatio === 'ratio') return v.toFixed(3);
  if (metric === 'cpu.busy_fraction') return `${(v * 100).toFixed(1)}% core`;
  if (metric.endsWith('_ns')) return `${(v / 1000).toFixed(2)} us`;
  if (metric.endsWith('_gbps')) return `${v.toFixed(2)} Gb/s`;
  if (metric.endsWith('_per_s')) return v >= 1e6 ? `${(v / 1e6).toFixed(3)} M/s` : `${(v / 1e3).toFixed(1)} k/s`;
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

function publishedText(t: ValidationTarget): string {
  const op = t.relative_to?.op;
  if (typeof t.published === 'number') return formatValue(t.metric, t.published, op);
  return `${formatValue(t.metric, t.published[0], op)} to ${formatValue(t.metric, t.published[1], op)}`;
}

/** The results as a Markdown table (the README shows it). */
export function targetTable(results: readonly TargetResult[]): string {
  const lines = ['| target | published | tolerance | measured | ratio | result |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of results) {
    const t = r.target;
    lines.push(
      `| ${t.target} | ${publishedText(t)} | ${Math.round(t.tolerance * 100)}% | ${formatValue(t.metric, r.measured, t.relative_to?.op)} | ${r.ratio.toFixed(2)} | ${r.status} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
