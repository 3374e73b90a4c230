/**
 * The progress bar on stderr: runs and sweep points done, events per second, time left.
 * Shown only when stderr is a terminal and --quiet is not given; otherwise every call
 * is a no-op, so logs and pipes stay clean. Wall-clock time is read here, outside the
 * model, only to display rates.
 */
import { SingleBar } from 'cli-progress';

/** What a run reports progress to. */
export interface Progress {
  /** One task of `point` finished, having processed `events` events. */
  taskDone(point: number, events: number): void;
  stop(): void;
}

const SILENT: Progress = { taskDone: () => undefined, stop: () => undefined };

function formatRate(perS: number): string {
  if (perS >= 1e6) return `${(perS / 1e6).toFixed(1)}M`;
  if (perS >= 1e3) return `${(perS / 1e3).toFixed(1)}k`;
  return perS.toFixed(0);
}

/** What a run reports progress to. */
export interface ProgressOptions {
  /** Runs (tasks) to do. */
  tasks: number;
  /** Tasks of each sweep point (index = point), to count points done. */
  tasksPerPoint: ReadonlyMap<number, number>;
  quiet: boolean;
  stream?: NodeJS.WriteStream;
}

/** A progress bar on stderr, or a silent one (not a terminal, or --quiet). */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet || !stream.isTTY || options.tasks === 0) return SILENT;
  const bar = new SingleBar({
    stream,
    format: 'iovsim [{bar}] {value}/{total} runs | {points}/{pointsTotal} points | {rate} events/s | {eta_formatted} left',
    barsize: 24,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 20,
    fps: 5,
  });
  const startMs = performance.now();
  const left = new Map(options.tasksPerPoint);
  let pointsDone = 0;
  let events = 0;
  let done = 0;
  let isStopped = false;
  bar.start(options.tasks, 0, { points: 0, pointsTotal: left.size, rate: '-' });
  return {
    taskDone(point, taskEvents) {
      done++;
      events += taskEvents;
      const n = (left.get(point) ?? 1) - 1;
      left.set(point, n);
      if (n === 0) pointsDone++;
      const s = (performance.now() - startMs) / 1000;
      bar.update(done, { points: pointsDone, rate: s > 0 ? formatRate(events / s) : '-' });
    },
    stop() {
      if (isStopped) return;
      isStopped = true;
      bar.stop();
    },
  };
}
