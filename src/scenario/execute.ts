/**
 * Executes a plan's tasks and renders the output files: the code path shared by
 * `iovsim run`, `iovsim compare` and the benchmark.
 */
import { renderResultFiles, type Manifest } from '../output/results.js';
import type { TaskRows } from '../output/rows.js';
import { TOOL, gitRevision } from '../version.js';
import type { Plan } from './load.js';
import { planTasks, runTask, type Task } from './run.js';

export interface ExecuteOptions {
  overrides?: string[];
  /** Called after each task, for progress reporting. */
  onTaskDone?: (done: number, total: number, events: number) => void;
  /** Runs only these tasks (a shard); all by default. */
  tasks?: Task[];
}

export interface Execution {
  rows: TaskRows[];
  files: Record<string, string>;
  eventsProcessed: number;
}

export async function executePlan(plan: Plan, options: ExecuteOptions = {}): Promise<Execution> {
  const startMs = performance.now();
  const tasks = options.tasks ?? planTasks(plan);
  const rows: TaskRows[] = [];
  let events = 0;
  for (const task of tasks) {
    const r = runTask(plan, task);
    rows.push(r);
    events += r.eventsProcessed;
    options.onTaskDone?.(rows.length, tasks.length, events);
  }
  const files = await renderResultFiles(plan, rows);
  files['manifest.json'] = `${JSON.stringify(manifestOf(plan, tasks.length, events, performance.now() - startMs, options.overrides ?? []), null, 2)}\n`;
  return { rows, files, eventsProcessed: events };
}

export function manifestOf(plan: Plan, tasks: number, events: number, wallMs: number, overrides: string[]): Manifest {
  return {
    tool: TOOL.name,
    version: TOOL.version,
    git_revision: gitRevision(),
    node: process.version,
    scenario_file: plan.source,
    scenario: plan.scenario,
    overrides,
    seed: plan.scenario.seed,
    replications: plan.scenario.replications,
    points: plan.points.length,
    paths: plan.paths,
    tasks,
    events_processed: events,
    wall_time_s: Math.round(wallMs) / 1000,
  };
}
