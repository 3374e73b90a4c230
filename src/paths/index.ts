/**
 * The registry of I/O paths. Each path file wires actors into a pipeline for the
 * workloads it supports and returns a RunResult; this file only lists them.
 */
import type { ParamValues } from '../calibration/param.js';
import type { RunResult } from '../metrics/run-result.js';
import type { WorkloadInput } from '../workloads/index.js';
import { bareMetalPath } from './net/bare-metal.js';
import { emulatedPath } from './net/emulated.js';
import { emulatedVmmPath } from './net/emulated-vmm.js';
import { passthroughPath } from './net/passthrough.js';
import { sriovPath } from './net/sriov.js';
import { vhostKernelPath } from './net/vhost-kernel.js';
import { vhostUserPath } from './net/vhost-user.js';
import { virtioQemuPath } from './net/virtio-qemu.js';

export interface PathRunInput {
  workload: WorkloadInput;
  params: ParamValues;
  seed: number;
  replication: number;
}

export interface PathModel {
  name: string;
  description: string;
  /** Workload kinds this path can run. */
  workloads: readonly string[];
  /**
   * Plan-time check of one (sweep point, path): throws the InputError run() would throw at
   * set-up for these parameters and workload (impossible combinations such as a packed ring
   * on vhost-kernel), so a sweep fails before any task runs. Absent: nothing to check.
   */
  check?(params: ParamValues, workload: WorkloadInput): void;
  run(input: PathRunInput): RunResult;
}

export const PATHS: readonly PathModel[] = [bareMetalPath, passthroughPath, sriovPath, vhostUserPath, vhostKernelPath, virtioQemuPath, emulatedPath, emulatedVmmPath];

export function findPath(name: string): PathModel | undefined {
  return PATHS.find((p) => p.name === name);
}
