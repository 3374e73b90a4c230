/**
 * Gathers the outputs of every task of a plan into the files of design.md section 5.
 *
 * Each task's rows are rendered to CSV text where the task ran (a worker thread, another
 * machine's shard), without the header; the files are then the header followed by the
 * tasks' text in task order, written as the tasks finish (ResultStream). Only summary.csv
 * is rendered here, because its confidence columns need every replication of a
 * (point, path). Since every task is a pure function of the plan and every number is
 * rounded before rendering, the bytes do not depend on where or in which order the tasks
 * ran.
 */
import type { FioFigures } from '../metrics/fio-figures.js';
import type { Plan } from '../scenario/load.js';
import { ci95HalfWidth } from '../util/student-t.js';
import {
  CPU_COLUMNS, EXIT_COLUMNS, LATENCY_COLUMNS, STAGE_COLUMNS, SUMMARY_CI_COLUMNS, SUMMARY_COLUMNS, TIMELINE_COLUMNS, TIMELINE_SUMMARY_COLUMNS,
  round, type LatencyRows, type Row, type TaskRows,
} from './rows.js';
import { formatCsvCells, renderCsvBody, renderCsvHeader } from './write.js';

/** manifest.json (design.md section 5). */
export interface Manifest {
  tool: string;
  version: string;
  git_revision: string | null;
  node: string;
  scenario_file: string;
  /** The scenario after --set and --seed, with every default filled in. */
  scenario: unknown;
  /** The --set overrides as given on the command line. */
  overrides: string[];
  /** Every calibrated parameter: defaults overlaid with the scenario's params (swept ones vary by point). */
  params: Record<string, unknown>;
  seed: number;
  replications: number;
  points: number;
  paths: string[];
  tasks: number;
  events_processed: number;
  wall_time_s: number;
  /** Present on a shard's partial result and on a merged result. */
  shard?: { index: number; count: number; tasks: number };
  merged_from?: string[];
}

/** manifest.json text: two-space JSON and a final newline. */
export function renderManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

/** The per-row CSV files, in the order they are written. */
export const DETAIL_FILES = [
  ['latency', 'latency.csv', LATENCY_COLUMNS],
  ['stages', 'stages.csv', STAGE_COLUMNS],
  ['cpu', 'cpu.csv', CPU_COLUMNS],
  ['exits', 'exits.csv', EXIT_COLUMNS],
] as const;

/** The per-row CSV files: latency, stages, cpu, exits. */
export type DetailKind = (typeof DETAIL_FILES)[number][0];

/** One task's output, ready to travel between threads or machines (plain data). */
export interface TaskOutput {
  /** The task's index in the plan: the order outputs are written in. */
  index: number;
  summary: Row;
  /** CSV text of the task's rows in each detail file, without the header. */
  csv: Record<DetailKind, string>;
  /** A plan with a timeline: the task's timeline.csv text, without the header. */
  timelineCsv?: string;
  /** The task's cpu.csv rows as objects, for readers in this process (calibrate-check); not kept in shard files. */
  cpu?: Row[];
  eventsProcessed: number;
  /** Block runs: the run in fio's terms, for fio.json; not kept in shard files. */
  fio?: FioFigures;
  /** The traced task (--trace): its Chrome trace text; not kept in shard files. */
  trace?: string;
}

function paramColumns(plan: Plan): string[] {
  return plan.sweepKeys.map((k) => `param.${k}`);
}

/** Whether a plan's runs have a timeline or faults: its result then has timeline.csv and the timeline summary columns. */
export function hasTimeline(plan: Pick<Plan, 'points'>): boolean {
  return plan.points.some((p) => p.timeline !== undefined);
}

/** summary.csv columns before the param.* ones. */
export function summaryColumns(plan: Pick<Plan, 'points'>): string[] {
  return hasTimeline(plan) ? [...SUMMARY_COLUMNS, ...SUMMARY_CI_COLUMNS, ...TIMELINE_SUMMARY_COLUMNS] : [...SUMMARY_COLUMNS, ...SUMMARY_CI_COLUMNS];
}

/** Renders one task's rows (in the thread that ran it). */
export async function renderTaskOutput(plan: Plan, index: number, rows: TaskRows): Promise<TaskOutput> {
  const extra = paramColumns(plan);
  const csv = {} as Record<DetailKind, string>;
  for (const [kind, , columns] of DETAIL_FILES) {
    csv[kind] = kind === 'latency' ? renderLatencyBody(extra, rows.latency) : renderCsvBody(columns, extra, rows[kind]);
  }
  const timelineCsv = hasTimeline(plan) ? renderCsvBody(TIMELINE_COLUMNS, extra, rows.timeline ?? []) : undefined;
  return {
    index, summary: rows.summary, csv, cpu: rows.cpu, eventsProcessed: rows.eventsProcessed,
    ...(timelineCsv !== undefined ? { timelineCsv } : {}),
    ...(rows.fio ? { fio: rows.fio } : {}), ...(rows.trace !== undefined ? { trace: rows.trace } : {}),
  };
}

/**
 * latency.csv body of one run: the same bytes as renderCsvBody over one row object per
 * bucket (test/output checks it), with the id and param cells formatted once. The
 * numbers need no formatting: a number's text never needs quoting.
 */
export function renderLatencyBody(extra: readonly string[], t: LatencyRows): string {
  const head = formatCsvCells([t.id['point'] ?? '', t.id['path'] ?? '', t.id['replication'] ?? '']);
  const tail = extra.length > 0 ? `,${formatCsvCells(extra.map((h) => t.params[h] ?? ''))}` : '';
  const parts: string[] = new Array(t.latencyNs.length);
  for (let k = 0; k < t.latencyNs.length; k++) {
    parts[k] = `${head},${t.latencyNs[k]},${t.count[k]},${t.cumulativeFraction[k]}${tail}\n`;
  }
  return parts.join('');
}

/**
 * Adds the confidence columns to summary rows: for each (point, path), the 95% half-width
 * across its replications of the values as written (so a user can recompute them from
 * the CSV). Returns new rows; the input is not changed.
 */
export function withConfidence(summaries: readonly Row[]): Row[] {
  const groups = new Map<string, Row[]>();
  for (const r of summaries) {
    const key = `${r['point']}\u0000${r['path']}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const ci = new Map<string, Row>();
  for (const [key, g] of groups) {
    const half = (column: string): string | number => {
      // (a replication without latency, every op dropped, has an empty cell: left out)
      const h = ci95HalfWidth(g.filter((r) => r[column] !== '').map((r) => Number(r[column])));
      return h === undefined ? '' : round(h, 3);
    };
    ci.set(key, {
      latency_mean_ci95_ns: half('latency_mean_ns'),
      latency_p99_ci95_ns: half('latency_p99_ns'),
      throughput_ci95_ops_per_s: half('throughput_ops_per_s'),
    });
  }
  return summaries.map((r) => ({ ...r, ...ci.get(`${r['point']}\u0000${r['path']}`)! }));
}

/** Where a result's files go: appended piece by piece, in order. */
export interface FileSink {
  append(name: string, text: string): void;
}

/** A sink that keeps the files in memory (library use, tests, merge). */
export class MemoryFiles implements FileSink {
  readonly files: Record<string, string> = {};
  append(name: string, text: string): void {
    this.files[name] = (this.files[name] ?? '') + text;
  }
}

/** A sink that keeps nothing (compare without --out: only the summaries are wanted). */
export const DISCARD: FileSink = { append: () => undefined };

/**
 * Writes a result's CSV files to a sink as task outputs arrive in task order: each
 * detail file gets the task's rows at once; summary.csv gets a (point, path)'s rows when
 * its last replication has arrived (its confidence columns need all of them; a plan lists
 * a pair's replications one after another, and so does any subset of it). Only one
 * pair's summaries are held, so memory does not grow with the plan.
 */
export class ResultStream {
  private readonly extra: string[];
  private readonly summaryColumns: string[];
  private readonly hasTimeline: boolean;
  private group: Row[] = [];
  private groupKey: string | undefined;

  constructor(
    plan: Plan,
    private readonly sink: FileSink,
  ) {
    this.extra = paramColumns(plan);
    this.summaryColumns = summaryColumns(plan);
    this.hasTimeline = hasTimeline(plan);
    sink.append('summary.csv', renderCsvHeader([...this.summaryColumns, ...this.extra]));
    for (const [, name, columns] of DETAIL_FILES) sink.append(name, renderCsvHeader([...columns, ...this.extra]));
    if (this.hasTimeline) sink.append('timeline.csv', renderCsvHeader([...TIMELINE_COLUMNS, ...this.extra]));
  }

  /** One task's output; outputs must come in task order. */
  add(output: TaskOutput): void {
    for (const [kind, name] of DETAIL_FILES) this.sink.append(name, output.csv[kind]);
    if (this.hasTimeline) this.sink.append('timeline.csv', output.timelineCsv ?? '');
    const key = `${output.summary['point']}\u0000${output.summary['path']}`;
    if (key !== this.groupKey) this.flushGroup();
    this.groupKey = key;
    this.group.push(output.summary);
  }

  /** Writes the last pair's summaries; call once, after the last output. */
  end(): void {
    this.flushGroup();
  }

  private flushGroup(): void {
    if (this.group.length === 0) return;
    this.sink.append('summary.csv', renderCsvBody(this.summaryColumns, this.extra, withConfidence(this.group)));
    this.group = [];
  }
}

/** Renders the CSV files from task outputs, which must be in task order. */
export function renderResultFiles(plan: Plan, outputs: readonly TaskOutput[]): Record<string, string> {
  const memory = new MemoryFiles();
  const stream = new ResultStream(plan, memory);
  for (const o of outputs) stream.add(o);
  stream.end();
  return memory.files;
}
