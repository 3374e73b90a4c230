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
import { InputError } from '../util/input-error.js';
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

/** A run's summary row (with its param.* cells) and its cpu.csv rows. */
export interface RunRows {
  summary: Row;
  cpu: Row[];
}

/** Whether a row (or a sweep point) has a selection's swept values; `cell` gives its value of a swept key. */
export function hasSweptValues(where: Readonly<Record<string, unknown>> | undefined, cell: (key: string) => unknown): boolean {
  for (const [k, v] of Object.entries(where ?? {})) if (String(cell(k)) !== String(v)) return false;
  return true;
}

/**
 * The mean over replications of a metric at one selection. The plan-time checks
 * (load.ts checkValidationTargets) make the selection name a path of the run and match
 * exactly one sweep point, with its where values canonical (as the param.* cells are).
 */
function pick(plan: Plan, runs: readonly RunRows[], sel: { path?: string | undefined; where?: Record<string, unknown> | undefined }, metric: string, thread: string | undefined, at: string): number {
  const path = sel.path ?? plan.paths[0];
  const chosen = runs.filter((r) => r.summary['path'] === path && hasSweptValues(sel.where, (k) => r.summary[`param.${k}`]));
  // an empty cell (no such event, a migration that did not finish) is no figure: NaN fails the target
  if (metric !== 'cpu.busy_fraction') return mean(chosen.map((r) => (r.summary[metric] === '' ? NaN : Number(r.summary[metric]))));
  // the thread's row in each chosen run's cpu.csv rows
  const values = chosen.flatMap((r) => r.cpu.filter((c) => c['thread'] === thread).map((c) => Number(c['busy_fraction'])));
  if (values.length === 0) {
    // Thread names come from the run, so this one is known only now.
    const threads = [...new Set(chosen.flatMap((r) => r.cpu.map((c) => String(c['thread']))))];
    throw new InputError(`${at}.thread: path ${path} has no thread "${thread}" in cpu.csv (threads: ${threads.join(', ') || 'none'})`);
  }
  return mean(values);
}

/** Mean over replications. */
function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
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
  if (metric.endsWith('_ms')) return v >= 10_000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`;
  if (metric.endsWith('_gbps')) return `${v.toFixed(2)} Gb/s`;
  if (metric.endsWith('_per_s')) return v >= 1e6 ? `${(v / 1e6).toFixed(3)} M/s` : `${(v / 1e3).toFixed(1)} k/s`;
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

function publishedText(t: ValidationTarget): string {
  const op = t.relative_to?.op;
  if (typeof t.published === 'number') return formatValue(t.metric, t.published, op);
  return `${formatValue(t.metric, t.published[0], op)} to ${formatValue(t.metric, t.published[1], op)}`;
}

/** The cells of the results table, one row per target: target, published, tolerance, measured, ratio, result. */
export function targetCells(results: readonly TargetResult[]): string[][] {
  return results.map((r) => {
    const t = r.target;
    const op = t.relative_to?.op;
    return [t.target, publishedText(t), `${Math.round(t.tolerance * 100)}%`, formatValue(t.metric, r.measured, op), r.ratio.toFixed(2), r.status];
  });
}

/** The results as a Markdown table (the README shows it). */
export function targetTable(results: readonly TargetResult[]): string {
  const lines = ['| target | published | tolerance | measured | ratio | result |', '| --- | --- | --- | --- | --- | --- |'];
  for (const cells of targetCells(results)) lines.push(`| ${cells.join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}
