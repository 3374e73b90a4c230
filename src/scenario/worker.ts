/**
 * Worker-thread entry: receives the plan once (workerData), then task after task, and
 * answers each with the task's rendered output. Runs from the compiled JS in dist/.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Plan } from './load.js';
import { runTaskOutput, type Task } from './run.js';

export interface WorkerRequest {
  task: Task;
}

export type WorkerReply =
  | { ok: true; output: Awaited<ReturnType<typeof runTaskOutput>> }
  | { ok: false; task: number; name: string; message: string; stack: string };

const plan = (workerData as { plan: Plan }).plan;
const port = parentPort;
if (!port) throw new Error('scenario/worker.js must run in a worker thread');

port.on('message', (msg: WorkerRequest) => {
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
