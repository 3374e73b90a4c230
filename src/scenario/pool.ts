/**
 * Runs a plan's tasks on worker threads (`--jobs N`). Tasks are handed out in task order
 * to whichever worker is free; their outputs are handed on in task order, so the result
 * does not depend on the number of workers or on which one finished first.
 *
 * The workers run the compiled worker entry next to this code: `dist/bundle/worker.js`
 * from the bundled command, `dist/src/scenario/worker.js` from the unbundled build. When
 * this module is itself loaded from TypeScript source (vitest), it points at the latter.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TaskOutput } from '../output/results.js';
import { InputError } from '../util/input-error.js';
import type { Plan } from './load.js';
import type { Task } from './run.js';
import type { WorkerProgress, WorkerQuiet, WorkerReply } from './worker.js';

const live = new Set<Worker>();
/** Workers being stopped (waiting for their JIT to go quiet, then terminated). */
const stopping = new Set<Promise<void>>();
/** How long a worker asked to quiesce may take to answer before it is terminated anyway [ms]. */
const QUIESCE_TIMEOUT_MS = 2000;
/** Workers started ahead of time (see prewarm.ts), loading their modules while the main thread plans. */
const idle: Worker[] = [];

/** The compiled worker script. */
export function workerScriptPath(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = fromSource ? new URL('../../dist/src/scenario/worker.js', import.meta.url) : new URL('./worker.js', import.meta.url);
  const path = fileURLToPath(url);
  if (!existsSync(path)) throw new Error(`worker script ${path} is missing; build first (npx tsc -p .)`);
  return path;
}

function startWorker(script: string): Worker {
  const w = new Worker(script);
  live.add(w);
  w.on('exit', () => live.delete(w));
  return w;
}

/**
 * Starts `count` workers now, before there is a plan, so their module loading overlaps
 * the main thread's. They do not keep the process alive until a run adopts them.
 */
export function prewarmWorkers(count: number): void {
  let script: string;
  try {
    script = workerScriptPath();
  } catch {
    return; // not built: runTasksInWorkers will say so
  }
  for (let i = 0; i < count; i++) {
    const w = startWorker(script);
    w.unref();
    // An idle worker that fails to start is simply not used.
    w.on('error', () => undefined);
    idle.push(w);
  }
}

/**
 * Terminates a worker once no optimizing compile is running for it (util/jit-quiesce.ts:
 * Node 20 can abort the process when a worker's isolate goes away under a running
 * TurboFan job). The worker is asked to wait for its compiles and is terminated when it
 * answers, when it exits, or after QUIESCE_TIMEOUT_MS. Only for an idle worker: a busy
 * one answers after its task.
 */
function stopWorker(w: Worker): Promise<void> {
  live.delete(w);
  const stopped = new Promise<void>((resolve) => {
    let isDone = false;
    const finish = (): void => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      w.terminate().then(
        () => resolve(),
        () => resolve(),
      );
    };
    const timer = setTimeout(finish, QUIESCE_TIMEOUT_MS);
    w.removeAllListeners('message');
    w.on('message', (m: Partial<WorkerQuiet> | null) => {
      if (m?.quiet === true) finish();
    });
    w.once('exit', finish);
    try {
      w.postMessage({ quiesce: true });
    } catch {
      finish();
    }
  });
  stopping.add(stopped);
  void stopped.then(() => stopping.delete(stopped));
  return stopped;
}

/**
 * Stops every worker this process started and waits until they are gone: idle ones once
 * their JIT is quiet (stopWorker), or all at once with `now` (a signal handler).
 */
export async function terminateWorkers(now = false): Promise<void> {
  const all = [...live];
  live.clear();
  idle.length = 0;
  if (now) {
    await Promise.all(all.map((w) => w.terminate()));
    return;
  }
  await Promise.all([...all.map(stopWorker), ...stopping]);
}

/** Options of runTasksInWorkers. */
export interface PoolOptions {
  jobs: number;
  /** Called in the main thread as each task finishes (in completion order). */
  onTaskDone?: (output: TaskOutput) => void;
  /** Called while a task runs with the ops it has finished (warm-up included) and the events it has run. */
  onTaskProgress?: (task: number, opsFinished: number, events: number) => void;
  /**
   * Called with each output in the order of `tasks` (after onTaskDone). An exception
   * thrown here fails the run (a write error, say) and stops every worker.
   */
  onOutput: (output: TaskOutput) => void;
}

/**
 * How many tasks may be handed out beyond the first one not yet delivered: outputs that
 * finished early wait in memory for it, so this bounds the memory a run holds whatever
 * the plan's size (a slow task makes the free workers wait instead).
 */
export function reorderWindow(jobs: number): number {
  return Math.max(16, 4 * jobs);
}

/**
 * Runs the tasks on min(jobs, tasks) workers; each output goes to onOutput in the order
 * of `tasks`, none is kept here.
 */
export function runTasksInWorkers(plan: Plan, tasks: readonly Task[], options: PoolOptions): Promise<void> {
  if (tasks.length === 0) return Promise.resolve();
  const script = workerScriptPath();
  const count = Math.max(1, Math.min(options.jobs, tasks.length));
  const window = reorderWindow(count);
  return new Promise<void>((resolvePromise, reject) => {
    const workers: Worker[] = [];
    let next = 0;
    /** Outputs delivered so far: the tasks before this position are done and handed on. */
    let delivered = 0;
    let failed = false;
    const waiting = new Map<number, TaskOutput>(); // position in `tasks` -> output not yet delivered
    const slotOf = new Map<number, number>(); // task index -> position in `tasks`
    tasks.forEach((t, i) => slotOf.set(t.index, i));
    const idleWorkers: Worker[] = [];

    // After the last task every worker is idle, so each is stopped once its JIT is quiet;
    // after a failure others may be mid-task, so all are terminated at once.
    let isStopped = false;
    const stopAll = (isFailure: boolean): void => {
      if (isStopped) return;
      isStopped = true;
      for (const w of [...workers, ...idle.splice(0)]) {
        if (isFailure) {
          live.delete(w);
          void w.terminate();
        } else {
          void stopWorker(w);
        }
      }
    };
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      stopAll(true);
      reject(e);
    };
    const running = new Map<Worker, Task>();
    /** Gives `w` the next task, unless there is none or the window is full (then it waits idle). */
    const feed = (w: Worker): void => {
      running.delete(w);
      if (next >= tasks.length) return;
      if (next - delivered >= window) {
        idleWorkers.push(w);
        return;
      }
      const task = tasks[next++]!;
      running.set(w, task);
      w.postMessage({ task });
    };
    const describe = (w: Worker): string => {
      const t = running.get(w);
      return t ? `task ${t.index} (point ${t.point}, path ${t.path}, replication ${t.replication})` : 'a worker thread';
    };
    /** Hands on every output now at the front, in order; then wakes workers the window held. */
    const deliver = (): void => {
      for (let o = waiting.get(delivered); o !== undefined; o = waiting.get(delivered)) {
        waiting.delete(delivered);
        delivered++;
        options.onOutput(o);
      }
      while (idleWorkers.length > 0 && next < tasks.length && next - delivered < window) feed(idleWorkers.shift()!);
    };

    for (let i = 0; i < count; i++) {
      const w = idle.shift() ?? startWorker(script);
      w.ref();
      w.postMessage({ plan });
      workers.push(w);
      w.on('message', (reply: WorkerReply | WorkerProgress) => {
        if (failed) return;
        if ('progress' in reply) {
          options.onTaskProgress?.(reply.progress.task, reply.progress.opsFinished, reply.progress.events);
          return;
        }
        if (!reply.ok) {
          const err = reply.name === 'InputError' ? new InputError(reply.message) : new Error(`${describe(w)}: ${reply.stack}`);
          fail(err);
          return;
        }
        waiting.set(slotOf.get(reply.output.index)!, reply.output);
        try {
          options.onTaskDone?.(reply.output);
          feed(w);
          deliver();
        } catch (e) {
          fail(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        if (delivered === tasks.length) {
          stopAll(false);
          resolvePromise();
        }
      });
      w.on('error', (e) => {
        const err = new Error(`${describe(w)} failed: ${e.message}`);
        err.stack = `${err.message}\n${e.stack ?? ''}`;
        fail(err);
      });
      w.on('exit', (code) => {
        if (!failed && delivered < tasks.length && code !== 0) fail(new Error(`${describe(w)}: its worker thread exited with code ${code}`));
      });
      feed(w);
    }
  });
}
