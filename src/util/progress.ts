/**
 * The progress bar on stderr: runs, sweep points and ops done, events per second, time left.
 * Shown only when stderr is a terminal and --quiet is not given; otherwise every call
 * is a no-op, so logs and pipes stay clean. Wall-clock time is read here, outside the
 * model, only to display rates.
 */
import { SingleBar } from 'cli-progress';

/** What a run reports progress to. */
export interface Progress {
  /** Task `task` finished, having processed `events` events. */
  taskDone(task: number, events: number): void;
  /** Task `task` is running: it has finished `opsFinished` ops (warm-up included) and run `events` events. */
  taskProgress(task: number, opsFinished: number, events: number): void;
  stop(): void;
}

const SILENT: Progress = { taskDone: () => undefined, taskProgress: () => undefined, stop: () => undefined };

function formatRate(perS: number): string {
  if (perS >= 1e6) return `${(perS / 1e6).toFixed(1)}M`;
  if (perS >= 1e3) return `${(perS / 1e3).toFixed(1)}k`;
  return perS.toFixed(0);
}

/** "42s", "3m05s", "2h10m". */
function formatSeconds(s: number): string {
  const whole = Math.round(s);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

/** What a run reports progress to. */
export interface ProgressOptions {
  /** Each task's index, point and ops (warm-up included). */
  tasks: readonly { index: number; point: number; ops: number }[];
  quiet: boolean;
  stream?: NodeJS.WriteStream;
}

/**
 * A progress bar on stderr, or a silent one (not a terminal, or --quiet). The bar fills
 * with ops (the finished tasks' and the running ones' so far), so it moves inside a long
 * run, and its time left is the ops left over the ops per second so far.
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet || !stream.isTTY || options.tasks.length === 0) return SILENT;
  const bar = new SingleBar({
    stream,
    format: 'iovsim [{bar}] {runs}/{runsTotal} runs | {points}/{pointsTotal} points | {opsDone} ops | {rate} events/s | {left} left',
    barsize: 24,
    hideCursor: true,
    clearOnComplete: true,
    fps: 5,
  });
  const startMs = performance.now();
  const opsOf = new Map<number, number>();
  const pointOf = new Map<number, number>();
  const left = new Map<number, number>(); // tasks left per point
  let opsTotal = 0;
  for (const t of options.tasks) {
    opsOf.set(t.index, t.ops);
    pointOf.set(t.index, t.point);
    left.set(t.point, (left.get(t.point) ?? 0) + 1);
    opsTotal += t.ops;
  }
  const pointsTotal = left.size;
  const running = new Map<number, number>(); // task -> ops finished so far
  const runningEvents = new Map<number, number>(); // task -> events run so far
  let opsOfDone = 0;
  let opsRunning = 0;
  let eventsRunning = 0;
  let pointsDone = 0;
  let events = 0;
  let done = 0;
  let isStopped = false;
  const payload = (): Record<string, string | number> => {
    const s = (performance.now() - startMs) / 1000;
    const opsDone = opsOfDone + opsRunning;
    const allEvents = events + eventsRunning;
    return {
      runs: done,
      runsTotal: options.tasks.length,
      points: pointsDone,
      pointsTotal,
      opsDone: formatRate(opsDone),
      rate: s > 0 && allEvents > 0 ? formatRate(allEvents / s) : '-',
      // the ops left at the rate of ops so far
      left: opsDone > 0 && s > 0 ? formatSeconds(((opsTotal - opsDone) * s) / opsDone) : '?',
    };
  };
  bar.start(opsTotal, 0, payload());
  return {
    taskDone(task, taskEvents) {
      const point = pointOf.get(task) ?? 0;
      done++;
      events += taskEvents;
      opsRunning -= running.get(task) ?? 0;
      running.delete(task);
      eventsRunning -= runningEvents.get(task) ?? 0;
      runningEvents.delete(task);
      opsOfDone += opsOf.get(task) ?? 0;
      const n = (left.get(point) ?? 1) - 1;
      left.set(point, n);
      if (n === 0) pointsDone++;
      bar.update(opsOfDone + opsRunning, payload());
    },
    taskProgress(task, opsFinished, taskEvents) {
      const ops = Math.min(opsFinished, opsOf.get(task) ?? opsFinished);
      opsRunning += ops - (running.get(task) ?? 0);
      running.set(task, ops);
      eventsRunning += taskEvents - (runningEvents.get(task) ?? 0);
      runningEvents.set(task, taskEvents);
      bar.update(opsOfDone + opsRunning, payload());
    },
    stop() {
      if (isStopped) return;
      isStopped = true;
      bar.stop();
    },
  };
}
