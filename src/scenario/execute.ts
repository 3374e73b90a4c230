/**
 * Executes a plan's tasks and renders the output files: the code path shared by
 * `iovsim run`, `iovsim compare`, shards and the benchmarks.
 */
import { params as paramRegistry } from '../calibration/index.js';
import { MemoryFiles, ResultStream, renderManifest, type FileSink, type Manifest, type TaskOutput } from '../output/results.js';

export { renderManifest };
import type { Row } from '../output/rows.js';
import { TOOL, gitRevision } from '../version.js';
import type { Plan } from './load.js';
import { runTasksInWorkers } from './pool.js';
import { planTasks, runTaskOutput, type Task } from './run.js';
import { shardHeaderText, shardTaskLine, type ShardSpec } from './shard.js';

/** How to execute a plan. */
export interface ExecuteOptions {
  /** The --set overrides as typed, recorded in the manifest. */
  overrides?: string[];
  /** Worker threads; undefined runs every task in this thread (library use, tests). */
  jobs?: number;
  /** Called after each task, in completion order. */
  onTaskDone?: (output: TaskOutput) => void;
  /** Called with each task's output in task order (after it is written to the sink). */
  onOutput?: (output: TaskOutput) => void;
  /** Called while a task runs on a worker, with the ops it has finished (warm-up included) and the events it has run. */
  onTaskProgress?: (task: number, opsFinished: number, events: number) => void;
  /** Runs only these tasks (a shard); all by default. */
  tasks?: Task[];
  /**
   * A wall clock [ms] for the manifest's wall_time_s (the command passes one); without
   * it wall_time_s is 0. Kept out of this module so that nothing on the simulation's
   * code path reads the wall clock.
   */
  clockMs?: () => number;
}

/** What an execution produced: summaries, totals, and the files when kept in memory. */
export interface Execution {
  /** Each task's summary row, in task order (without the confidence columns). */
  summaries: Row[];
  /** The rendered files, when no sink was given (in memory). */
  files: Record<string, string>;
  eventsProcessed: number;
  /** Measured ops, completed or dropped (warm-up excluded). */
  opsMeasured: number;
  wallTimeS: number;
}

/**
 * Runs the tasks (in this thread or on workers), handing each output to `onOutput` in
 * task order; nothing is kept.
 */
export async function forEachOutput(plan: Plan, tasks: readonly Task[], onOutput: (o: TaskOutput) => void, options: ExecuteOptions = {}): Promise<void> {
  if (options.jobs !== undefined) {
    await runTasksInWorkers(plan, tasks, {
      jobs: options.jobs,
      onOutput,
      ...(options.onTaskDone ? { onTaskDone: options.onTaskDone } : {}),
      ...(options.onTaskProgress ? { onTaskProgress: options.onTaskProgress } : {}),
    });
    return;
  }
  for (const task of tasks) {
    const out = await runTaskOutput(plan, task);
    options.onTaskDone?.(out);
    onOutput(out);
  }
}

/** Runs the tasks and returns their outputs in task order (for small plans: all are kept). */
export async function runTasks(plan: Plan, tasks: readonly Task[], options: ExecuteOptions = {}): Promise<TaskOutput[]> {
  const outputs: TaskOutput[] = [];
  await forEachOutput(plan, tasks, (o) => outputs.push(o), options);
  return outputs;
}

/** A shard's place, for the files merge needs. */
export interface ShardPlace {
  spec: ShardSpec;
  /** Tasks in the whole plan. */
  planTasks: number;
}

/**
 * Runs a plan (or some of its tasks) and writes the CSV files, the manifest and, for a
 * shard, the shard files to `sink` as the tasks finish (in memory when none is given).
 */
export async function executePlan(plan: Plan, options: ExecuteOptions & { sink?: FileSink; shard?: ShardPlace } = {}): Promise<Execution> {
  const startMs = options.clockMs?.() ?? 0;
  const tasks = options.tasks ?? planTasks(plan);
  const memory = options.sink ? undefined : new MemoryFiles();
  const sink = options.sink ?? memory!;
  const stream = new ResultStream(plan, sink);
  const summaries: Row[] = [];
  const indices: number[] = [];
  let events = 0;
  let ops = 0;
  if (options.shard) sink.append('tasks.jsonl', '');
  await forEachOutput(
    plan,
    tasks,
    (o) => {
      stream.add(o);
      if (options.shard) sink.append('tasks.jsonl', shardTaskLine(o));
      summaries.push(o.summary);
      indices.push(o.index);
      events += o.eventsProcessed;
      ops += Number(o.summary['ops_completed'] ?? 0) + Number(o.summary['ops_dropped'] ?? 0);
      options.onOutput?.(o);
    },
    options,
  );
  stream.end();
  const wallTimeS = options.clockMs ? Math.round(options.clockMs() - startMs) / 1000 : 0;
  const manifest = manifestOf(plan, tasks.length, events, wallTimeS, options.overrides ?? []);
  if (options.shard) {
    const shardManifest: Manifest = { ...manifest, shard: { index: options.shard.spec.index, count: options.shard.spec.count, tasks: options.shard.planTasks } };
    sink.append('manifest.json', renderManifest(shardManifest));
    sink.append('shard.json', shardHeaderText(plan, options.shard.spec, options.shard.planTasks, indices, shardManifest));
  } else {
    sink.append('manifest.json', renderManifest(manifest));
  }
  return { summaries, files: memory?.files ?? {}, eventsProcessed: events, opsMeasured: ops, wallTimeS };
}


/** The manifest of a run of `plan` (design.md section 5). */
export function manifestOf(plan: Plan, tasks: number, events: number, wallTimeS: number, overrides: readonly string[]): Manifest {
  return {
    tool: TOOL.name,
    version: TOOL.version,
    git_revision: gitRevision(),
    node: process.version,
    scenario_file: plan.source,
    scenario: plan.scenario,
    overrides: [...overrides],
    params: paramRegistry.resolve(plan.scenario.params),
    seed: plan.scenario.seed,
    replications: plan.scenario.replications,
    points: plan.points.length,
    paths: plan.paths,
    tasks,
    events_processed: events,
    wall_time_s: wallTimeS,
  };
}
