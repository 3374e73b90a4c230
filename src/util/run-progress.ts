/**
 * Progress from inside a run, for the progress bar: a worker thread of the command
 * installs a reporter, and the run harnesses run their simulator through runToEnd, which
 * then runs it in slices of events and reports the ops finished and events run after each. Without a
 * reporter (tests, benchmarks, library use) runToEnd is one plain run. Slicing does not
 * change the order of events, so results are the same either way.
 */
import type { Simulator } from '../core/simulator.js';

/** Events per slice: a report every few tenths of a second of wall time. */
const SLICE_EVENTS = 1 << 20;

let reporter: ((opsFinished: number, events: number) => void) | undefined;

/** Installs (or, with undefined, removes) the reporter of this thread. */
export function setRunProgress(report: ((opsFinished: number, events: number) => void) | undefined): void {
  reporter = report;
}

/** Runs `sim` until it has no events or is stopped; `opsFinished` counts ops done (warm-up included). */
export function runToEnd(sim: Simulator, opsFinished: () => number): void {
  const report = reporter;
  if (report === undefined) {
    sim.run();
    return;
  }
  while (sim.run({ maxEvents: SLICE_EVENTS }) === SLICE_EVENTS && !sim.stopRequested) report(opsFinished(), sim.eventsProcessed);
}
