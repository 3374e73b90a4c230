/**
 * Runs a plan: one task per (sweep point, path, replication), each an independent
 * simulation whose random streams derive from (seed, replication, name). Tasks are
 * pure functions of the plan, so any subset can run anywhere in any order and the
 * merged rows are identical.
 */
import { findPath } from '../paths/index.js';
import { toRows, type TaskRows } from '../output/rows.js';
import { renderTaskOutput, type TaskOutput } from '../output/results.js';
import { toCustomSpec } from '../workloads/custom-schema.js';
import { runCustom } from '../workloads/custom.js';
import type { RunResult } from '../metrics/run-result.js';
import { ClockEndError } from '../core/simulator.js';
import { InputError } from '../util/input-error.js';
import type { Plan } from './load.js';

/** One simulation run: a sweep point on a path, one replication. */
export interface Task {
  /** Position in the plan's task list: the order rows are written in. */
  index: number;
  point: number;
  path: string;
  replication: number;
}

/** Every task of a plan, in output order: point, then path, then replication. */
export function planTasks(plan: Plan): Task[] {
  const tasks: Task[] = [];
  for (const p of plan.points) {
    for (const path of plan.paths) {
      for (let r = 0; r < plan.scenario.replications; r++) {
        tasks.push({ index: tasks.length, point: p.index, path, replication: r });
      }
    }
  }
  return tasks;
}

/** Runs one task; a pure function of the plan and the task. */
export function runTask(plan: Plan, task: Task): TaskRows {
  const point = plan.points[task.point]!;
  const seed = plan.scenario.seed;
  let result: RunResult;
  try {
    if (point.workload.kind === 'custom') {
      result = runCustom(toCustomSpec(point.workload), seed, task.replication);
    } else {
      const path = findPath(task.path);
      if (!path) throw new Error(`path ${task.path} vanished between planning and running`);
      result = path.run({ workload: point.workload, params: point.params, seed, replication: task.replication, ...(plan.fioFigures ? { fio: true } : {}), ...(plan.trace?.task === task.index ? { trace: { sample: plan.trace.sample } } : {}), ...(point.timeline ? { timeline: point.timeline } : {}) });
    }
  } catch (e) {
    // which run: the clock's end is known only while running
    if (e instanceof ClockEndError) throw new InputError(`${plan.source}: point ${task.point}, path ${task.path}, replication ${task.replication}: ${e.message}`);
    throw e;
  }
  return toRows(
    {
      scenario: plan.scenario.name,
      point: point.index,
      path: task.path,
      workload: point.workload.kind,
      replication: task.replication,
      seed,
      sweep: point.values,
    },
    result,
  );
}

/** Runs one task and renders its rows: what a worker thread sends back. */
export async function runTaskOutput(plan: Plan, task: Task): Promise<TaskOutput> {
  return renderTaskOutput(plan, task.index, runTask(plan, task));
}
