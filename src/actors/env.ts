/**
 * What every actor of one run shares: the simulator, the run's counters and stage
 * tracker, and cost helpers derived from the calibrated parameters. Paths build one
 * ActorEnv per run and hand it to the actors they wire; actors never reach each other
 * through it.
 */
import type { Simulator } from '../core/simulator.js';
import type { Counters } from '../metrics/counters.js';
import type { StageTracker } from '../primitives/stage-tracker.js';

export interface ActorEnv {
  sim: Simulator;
  counters: Counters;
  tracker: StageTracker;
  /** CPU time of copying `bytes` bytes once [ps] (fixed part + bytes / bandwidth). */
  copyPs(bytes: number): number;
  /** Counts one payload copy of `bytes` bytes. */
  countCopy(bytes: number): void;
  /** Host syscall entry/exit [ps]. */
  syscallPs: number;
}

/** Copy-cost helper from host.copy_fixed_ns and host.memcpy_gbps. */
export function copyCostFn(fixedNs: number, gbPerS: number): (bytes: number) => number {
  const fixedPs = Math.round(fixedNs * 1000);
  const psPerByte = 1000 / gbPerS; // 1 GB/s = 1 byte/ns
  return (bytes) => fixedPs + Math.round(bytes * psPerByte);
}
