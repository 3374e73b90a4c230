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
import type { Manifest, TaskOutput } from '../output/results.js';
import { renderManifest, renderResultFiles } from '../output/results.js';
import { InputError } from '../util/input-error.js';
import { TOOL } from '../version.js';
import type { Plan } from './load.js';
import type { Task } from './run.js';

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
  const { source: _source, ...rest } = plan;
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
    plan,
  };
  return `${JSON.stringify(header)}\n`;
}

/** One line of tasks.jsonl: a task's output (its cpu rows and fio figures left out: the CSV text has the rows, fio.json is not written for shards). */
export function shardTaskLine(output: TaskOutput): string {
  const { cpu: _cpu, fio: _fio, ...o } = output;
  return `${JSON.stringify(o)}\n`;
}

interface LoadedShard {
  dir: string;
  header: ShardHeader;
  outputs: TaskOutput[];
}

function readShard(dir: string): LoadedShard {
  let headerText: string;
  try {
    headerText = readFileSync(join(dir, 'shard.json'), 'utf8');
  } catch {
    throw new InputError(`merge: ${dir}: no shard.json here; give folders written by iovsim run --shard I/N`);
  }
  let header: ShardHeader;
  try {
    header = JSON.parse(headerText) as ShardHeader;
  } catch {
    throw new InputError(`merge: ${dir}/shard.json: not valid JSON`);
  }
  if (header.format !== SHARD_FORMAT) {
    throw new InputError(`merge: ${dir}/shard.json: format must be ${SHARD_FORMAT}, got ${JSON.stringify(header.format)}`);
  }
  let lines: string[];
  try {
    lines = readFileSync(join(dir, 'tasks.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
  } catch {
    throw new InputError(`merge: ${dir}: tasks.jsonl is missing`);
  }
  const outputs = lines.map((line, i) => {
    try {
      return JSON.parse(line) as TaskOutput;
    } catch {
      throw new InputError(`merge: ${dir}/tasks.jsonl: line ${i + 1} is not valid JSON`);
    }
  });
  const indices = outputs.map((o) => o.index);
  if (indices.length !== header.tasks.length || indices.some((x, i) => x !== header.tasks[i])) {
    throw new InputError(`merge: ${dir}/tasks.jsonl: holds tasks [${indices.join(',')}] but shard.json lists [${header.tasks.join(',')}]`);
  }
  return { dir, header, outputs };
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
