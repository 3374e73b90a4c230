/**
 * Worker-thread entry: receives the plan once (a message), then task after task, and
 * answers each with the task's rendered output. Runs from the compiled JS in dist/.
 */
import { parentPort } from 'node:worker_threads';
import { awaitBackgroundCompiles } from '../util/jit-quiesce.js';
import { setRunProgress } from '../util/run-progress.js';
import type { Plan } from './load.js';
import { runTaskOutput, type Task } from './run.js';

/** First the plan, then tasks; before it is terminated, a request to let its JIT finish. */
export type WorkerRequest = { plan: Plan } | { task: Task } | { quiesce: true };

/** The answer to `quiesce`: no compile job is running for this worker any more. */
export interface WorkerQuiet {
  quiet: true;
}

/** A worker's answer to one task: its output, or its error. */
export type WorkerReply =
  | { ok: true; output: Awaited<ReturnType<typeof runTaskOutput>> }
  | { ok: false; task: number; name: string; message: string; stack: string };

/** Sent while a task runs (util/run-progress.ts): ops it has finished (warm-up included) and events run. */
export interface WorkerProgress {
  progress: { task: number; opsFinished: number; events: number };
}

let plan: Plan | undefined;
const port = parentPort;
if (!port) throw new Error('scenario/worker.js must run in a worker thread');

port.on('message', (msg: WorkerRequest) => {
  if ('quiesce' in msg) {
    awaitBackgroundCompiles(); // see util/jit-quiesce.ts
    port.postMessage({ quiet: true } satisfies WorkerQuiet);
    return;
  }
  if ('plan' in msg) {
    plan = msg.plan;
    return;
  }
  if (!plan) throw new Error('a task arrived before the plan');
  const task = msg.task.index;
  setRunProgress((opsFinished, events) => port.postMessage({ progress: { task, opsFinished, events } } satisfies WorkerProgress));
  runTaskOutput(plan, msg.task).then(
    (output) => port.postMessage({ ok: true, output } satisfies WorkerReply),
    (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      port.postMessage({
        ok: false,
        task: msg.task.index,
        name: err.name,
        message: err.message,
        stack: err.stack ?? err.message,
      } satisfies WorkerReply);
    },
  );
});
