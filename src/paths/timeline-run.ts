/**
 * What every run harness does with a timeline: checks that the path registered each
 * action the scenario uses, feeds every op's end to the recorder (and to op-count
 * actions), starts the timed actions, and hands the recorder's buckets and figures to
 * the result.
 */
import type { RunResult } from '../metrics/run-result.js';
import type { HostRun } from './host-run.js';

/** A ledger the harness can watch: told of every counted op end. */
export interface WatchedLedger {
  /** isLost: the op failed because of a timeline fault (a block I/O error, a stream frame lost); such ends count as ops_lost, not dropped. */
  observer: ((atPs: number, latencyPs: number, isCompleted: boolean, finished: number, isLost: boolean) => void) | null;
}

/** How long a run with a timeline may go without an op ending before it is called stuck [s]: outages last minutes (NVMe's 30 s abort then 30 s reset, iSCSI's retries). */
export const TIMELINE_STALL_S = 600;

/**
 * Wires the timeline after the path has been built (every handler registered). Returns
 * the function that starts it (call after the threads and the workload have started),
 * or null for a run without one.
 */
export function wireTimeline(host: HostRun, ledger: WatchedLedger, pathName: string, workloadKind: string): (() => void) | null {
  const timeline = host.timeline;
  const recorder = host.recorder;
  if (timeline === null || recorder === null) return null;
  timeline.check(pathName, workloadKind);
  let nextOp = timeline.nextOpCount;
  const hooks = host.opEndHooks;
  ledger.observer = (atPs, latencyPs, isCompleted, finished, isLost) => {
    if (isCompleted) recorder.opCompleted(atPs, latencyPs);
    else if (isLost) recorder.opLost(atPs);
    else recorder.opDropped(atPs);
    for (let i = 0; i < hooks.length; i++) hooks[i]!(isCompleted);
    if (finished >= nextOp) {
      timeline.opsFinished(finished);
      nextOp = timeline.nextOpCount;
    }
  };
  return () => timeline.start();
}

/** The timeline part of a result (undefined for a run without one). */
export function timelineResult(host: HostRun): Pick<RunResult, 'timeline'> {
  const recorder = host.recorder;
  if (recorder === null) return {};
  for (const f of host.timelineFinish) f();
  recorder.finish(host.sim.nowPs);
  return { timeline: { rows: recorder.rows, summary: recorder.summary() } };
}
