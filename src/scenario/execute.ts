/**
 * Executes a plan's tasks and renders the output files: the code path shared by
 * `iovsim run`, `iovsim compare`, shards and the benchmarks.
 */
import { params as paramRegistry } from '../calibration/index.js';
import { renderResultFiles, type Manifest, type TaskOutput } from '../output/results.js';
import { TOOL, gitRevision } from '../version.js';
import type { Plan } from './load.js';
import { runTasksInWorkers } from './pool.js';
import { planTasks, runTaskOutput, type Task } from './run.js';

/** How to execute a plan. */
export interface ExecuteOptions {
  /** The --set overrides as typed, recorded in the manifest. */
  overrides?: string[];
  /** Worker threads; undefined runs every task in this thread (library use, tests). */
  jobs?: number;
  /** Called after each task, in completion order. */
  onTaskDone?: (output: TaskOutput) => void;
  /** Runs only these tasks (a shard); all by default. */
  tasks?: Task[];
  /**
   * A wall clock [ms] for the manifest's wall_time_s (the command passes one); without
   * it wall_time_s is 0. Kept out of this module so that nothing on the simulation's
   * code path reads the wall clock.
   */
  clockMs?: () => number;
}

/** What an execution produced: task outputs, rendered files, totals. */
export interface Execution {
  /** One output per task run, in task order. */
  rows: TaskOutput[];
  files: Record<string, string>;
  eventsProcessed: number;
  wallTimeS: number;
}

/** Runs the tasks (in this thread or on workers) and returns their outputs in task order. */
export async function runTasks(plan: Plan, tasks: readonly Task[], options: ExecuteOptions = {}): Promise<TaskOutput[]> {
  if (options.jobs !== undefined) {
    return runTasksInWorkers(plan, tasks, {
      jobs: options.jobs,
      ...(options.onTaskDone ? { onTaskDone: options.onTaskDone } : {}),
    });
  }
  const outputs: TaskOutput[] = [];
  for (const task of tasks) {
    const out = await runTaskOutput(plan, task);
    outputs.push(out);
    options.onTaskDone?.(out);
  }
  return outputs;
}

/** Runs a plan (or some of its tasks) and renders the CSV files and the manifest. */
export async function executePlan(plan: Plan, options: ExecuteOptions = {}): Promise<Execution> {
  const startMs = options.clockMs?.() ?? 0;
  const tasks = options.tasks ?? planTasks(plan);
  const rows = await runTasks(plan, tasks, options);
  const events = rows.reduce((n, r) => n + r.eventsProcessed, 0);
  const files = await renderResultFiles(plan, rows);
  const wallTimeS = options.clockMs ? Math.round(options.clockMs() - startMs) / 1000 : 0;
  files['manifest.json'] = renderManifest(manifestOf(plan, tasks.length, events, wallTimeS, options.overrides ?? []));
  return { rows, files, eventsProcessed: events, wallTimeS };
}

/** manifest.json text: two-space JSON and a final newline. */
export function renderManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
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
