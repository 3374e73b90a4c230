/**
 * Sharding a plan over machines (`--shard I/N`) and merging the shards (`iovsim merge`).
 *
 * Shard I of N runs the tasks whose index modulo N is I-1 (round-robin, so the slow
 * high-load points of a sweep spread over every shard). Its folder holds the usual files
 * for its own tasks plus what merge needs: `shard.json` (the plan, its fingerprint and the
 * shard's place) and `tasks.jsonl` (one rendered task output per line). Merge checks the
 * shards belong to the same plan and cover every task exactly once, then renders the
 * files from the outputs in task order: byte-identical to a run on one machine.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Manifest, TaskOutput } from '../output/results.js';
import { renderManifest, renderResultFiles } from '../output/results.js';
import { SUMMARY_COLUMNS } from '../output/rows.js';
import { InputError } from '../util/input-error.js';
import { TOOL } from '../version.js';
import { formatZodError } from './errors.js';
import type { Plan } from './load.js';
import { planTasks, type Task } from './run.js';

/** Shard I of N. */
export interface ShardSpec {
  /** 1-based. */
  index: number;
  count: number;
}

/** The format tag of shard.json. */
export const SHARD_FORMAT = 'iovsim-shard/1';

/** Parses "I/N" (1 <= I <= N <= 100000). */
export function parseShardSpec(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || index < 1 || count < 1 || index > count || count > 100_000) {
    throw new InputError(`--shard: must be I/N with 1 <= I <= N <= 100000 (e.g. 2/4), got "${text}"`);
  }
  return { index, count };
}

/** The tasks shard I of N runs: those whose index mod N is I-1. */
export function shardTasks(tasks: readonly Task[], spec: ShardSpec): Task[] {
  return tasks.filter((t) => t.index % spec.count === spec.index - 1);
}

/** Identifies a plan across machines: tool version and everything that decides the rows. */
export function planFingerprint(plan: Plan): string {
  // --trace is what one shard's command writes beside its result, not part of the plan
  const { source: _source, trace: _trace, ...rest } = plan;
  return createHash('sha256')
    .update(JSON.stringify({ version: TOOL.version, plan: rest }))
    .digest('hex')
    .slice(0, 32);
}

/** shard.json: what merge needs besides the task outputs. */
export interface ShardHeader {
  format: typeof SHARD_FORMAT;
  fingerprint: string;
  shard: ShardSpec;
  /** Tasks in the whole plan. */
  plan_tasks: number;
  /** Task indices in this shard, in order. */
  tasks: number[];
  /** The shard's manifest: the merged one keeps its tool, git revision, Node and params. */
  manifest: Manifest;
  plan: Plan;
}

/** shard.json's text: the plan, its fingerprint, the shard's place and tasks, its manifest. */
export function shardHeaderText(plan: Plan, spec: ShardSpec, planTasks: number, indices: readonly number[], manifest: Manifest): string {
  const header: ShardHeader = {
    format: SHARD_FORMAT,
    fingerprint: planFingerprint(plan),
    shard: spec,
    plan_tasks: planTasks,
    tasks: [...indices],
    manifest,
    plan: (({ trace: _trace, ...p }) => p)(plan),
  };
  return `${JSON.stringify(header)}\n`;
}

/** One line of tasks.jsonl: a task's output (its cpu rows and fio figures left out: the CSV text has the rows, fio.json is not written for shards). */
export function shardTaskLine(output: TaskOutput): string {
  const { cpu: _cpu, fio: _fio, trace: _trace, ...o } = output;
  return `${JSON.stringify(o)}\n`;
}

interface LoadedShard {
  dir: string;
  header: ShardHeader;
  outputs: TaskOutput[];
}

// What merge reads from a shard folder, checked like a scenario: a folder edited by hand
// or damaged is bad input, named with its file and field, not a crash.
const count = z.number().int().nonnegative();
const shardSpecSchema = z.strictObject({ index: z.number().int().gte(1).lte(100_000), count: z.number().int().gte(1).lte(100_000) });
const manifestSchema = z.looseObject({
  tool: z.string(),
  version: z.string(),
  git_revision: z.string().nullable(),
  node: z.string(),
  scenario_file: z.string(),
  overrides: z.array(z.string()),
  params: z.record(z.string(), z.unknown()),
  seed: count,
  replications: count,
  points: count,
  paths: z.array(z.string()),
  tasks: count,
  events_processed: count,
  wall_time_s: z.number().nonnegative(),
  shard: shardSpecSchema.extend({ tasks: count }).optional(),
});
const headerSchema = z.strictObject({
  format: z.literal(SHARD_FORMAT),
  fingerprint: z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 hexadecimal digits'),
  shard: shardSpecSchema,
  plan_tasks: count,
  tasks: z.array(count),
  manifest: manifestSchema,
  // checked against the fingerprint, which hashes it
  plan: z.looseObject({}),
});
const taskLineSchema = z.strictObject({
  index: count,
  summary: z.record(z.string(), z.union([z.string(), z.number()])).refine((r) => SUMMARY_COLUMNS.every((c) => c in r), {
    message: `must have every summary column (${SUMMARY_COLUMNS.join(', ')})`,
  }),
  csv: z.strictObject({ latency: z.string(), stages: z.string(), cpu: z.string(), exits: z.string() }),
  timelineCsv: z.string().optional(),
  eventsProcessed: count,
});

function readShard(dir: string): LoadedShard {
  let headerText: string;
  try {
    headerText = readFileSync(join(dir, 'shard.json'), 'utf8');
  } catch {
    throw new InputError(`merge: ${dir}: no shard.json here; give folders written by iovsim run --shard I/N`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(headerText);
  } catch {
    throw new InputError(`merge: ${dir}/shard.json: not valid JSON`);
  }
  // the format first: another format's fields would be reported one by one
  const format = raw !== null && typeof raw === 'object' ? (raw as { format?: unknown }).format : undefined;
  if (format !== SHARD_FORMAT && raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    throw new InputError(`merge: ${dir}/shard.json: format must be ${SHARD_FORMAT}, got ${JSON.stringify(format) ?? 'nothing'}`);
  }
  const parsed = headerSchema.safeParse(raw);
  if (!parsed.success) throw new InputError(`merge: ${dir}/shard.json: ${formatZodError(parsed.error, raw)}`);
  // the values as written (zod's copy would reorder the manifest's keys, which merge keeps)
  const header = raw as ShardHeader;
  checkHeaderCounts(dir, header);
  let lines: string[];
  try {
    lines = readFileSync(join(dir, 'tasks.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
  } catch {
    throw new InputError(`merge: ${dir}: tasks.jsonl is missing`);
  }
  const outputs = lines.map((line, i) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new InputError(`merge: ${dir}/tasks.jsonl: line ${i + 1} is not valid JSON`);
    }
    const task = taskLineSchema.safeParse(value);
    if (!task.success) throw new InputError(`merge: ${dir}/tasks.jsonl: line ${i + 1}: ${formatZodError(task.error, value)}`);
    return value as TaskOutput;
  });
  const indices = outputs.map((o) => o.index);
  if (indices.length !== header.tasks.length || indices.some((x, i) => x !== header.tasks[i])) {
    throw new InputError(`merge: ${dir}/tasks.jsonl: holds tasks ${showIndices(indices)} but shard.json lists ${showIndices(header.tasks)}`);
  }
  return { dir, header, outputs };
}

/** Task indices for a message, the first 20 of a long list. */
function showIndices(xs: readonly number[]): string {
  return xs.length > 20 ? `[${xs.slice(0, 20).join(',')},...] (${xs.length} tasks)` : `[${xs.join(',')}]`;
}

/**
 * The header's plan is the one its fingerprint was made from, and its counts are that
 * plan's: every task of the plan, and the shard's share of them (index mod count).
 */
function checkHeaderCounts(dir: string, h: ShardHeader): void {
  const at = `merge: ${dir}/shard.json`;
  if (h.shard.index > h.shard.count) throw new InputError(`${at}: shard.index: must be at most shard.count (${h.shard.count}), got ${h.shard.index}`);
  if (planFingerprint(h.plan) !== h.fingerprint) {
    throw new InputError(`${at}: plan: does not match the fingerprint (the file was edited, or written by another iovsim version than ${TOOL.version})`);
  }
  let all: Task[];
  try {
    all = planTasks(h.plan);
  } catch {
    throw new InputError(`${at}: plan: not a plan this iovsim version writes`);
  }
  if (h.plan_tasks !== all.length) throw new InputError(`${at}: plan_tasks: the plan has ${all.length} tasks, got ${h.plan_tasks}`);
  const mine = shardTasks(all, h.shard).map((t) => t.index);
  if (h.tasks.length !== mine.length || h.tasks.some((t, i) => t !== mine[i])) {
    throw new InputError(`${at}: tasks: shard ${h.shard.index}/${h.shard.count} of ${all.length} tasks runs ${showIndices(mine)}, got ${showIndices(h.tasks)}`);
  }
  if (h.manifest.shard !== undefined && (h.manifest.shard.index !== h.shard.index || h.manifest.shard.count !== h.shard.count)) {
    throw new InputError(`${at}: manifest.shard: says ${h.manifest.shard.index}/${h.manifest.shard.count}, but shard is ${h.shard.index}/${h.shard.count}`);
  }
}

/** The result of merging shards. */
export interface Merged {
  plan: Plan;
  files: Record<string, string>;
  tasks: number;
}

/** Joins shard folders into the files of the whole plan. */
export async function mergeShards(dirs: readonly string[]): Promise<Merged> {
  if (dirs.length === 0) throw new InputError('merge: give at least one shard folder');
  const shards = dirs.map(readShard);
  const first = shards[0]!;
  const count = first.header.shard.count;
  const byIndex = new Map<number, LoadedShard>();
  for (const s of shards) {
    const h = s.header;
    if (h.fingerprint !== first.header.fingerprint) {
      throw new InputError(
        `merge: ${s.dir}: shard of a different scenario, overrides or tool version than ${first.dir} (fingerprint ${h.fingerprint} vs ${first.header.fingerprint})`,
      );
    }
    if (h.shard.count !== count) {
      throw new InputError(`merge: ${s.dir}: shard ${h.shard.index}/${h.shard.count}, but ${first.dir} is one of ${count}`);
    }
    const dup = byIndex.get(h.shard.index);
    if (dup) throw new InputError(`merge: shard ${h.shard.index}/${count} given twice: ${dup.dir} and ${s.dir}`);
    byIndex.set(h.shard.index, s);
  }
  const missing: number[] = [];
  for (let i = 1; i <= count; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) {
    throw new InputError(`merge: missing shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')}`);
  }

  const total = first.header.plan_tasks;
  const outputs = new Array<TaskOutput | undefined>(total);
  for (const s of shards) for (const o of s.outputs) outputs[o.index] = o;
  const hole = outputs.findIndex((o) => o === undefined);
  if (hole >= 0 || outputs.length !== total) throw new InputError(`merge: task ${hole} is in no shard`);

  const plan = first.header.plan;
  const ordered = outputs as TaskOutput[];
  const files = renderResultFiles(plan, ordered);
  const events = ordered.reduce((n, o) => n + o.eventsProcessed, 0);
  const wall = shards.reduce((t, s) => t + s.header.manifest.wall_time_s, 0);
  // The shard's manifest as a single run would have written it: same keys, same order.
  const { shard: _shard, ...base } = first.header.manifest;
  const manifest: Manifest = {
    ...base,
    tasks: total,
    events_processed: events,
    wall_time_s: Math.round(wall * 1000) / 1000,
    merged_from: [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([i, s]) => `${i}/${count} ${s.dir}`),
  };
  files['manifest.json'] = renderManifest(manifest);
  return { plan, files, tasks: total };
}
