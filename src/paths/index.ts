/**
 * The registry of I/O paths. Each path file wires actors into a pipeline for the
 * workloads it supports and returns a RunResult; this file only lists them.
 */
import type { TraceOptions } from '../metrics/trace-collector.js';
import type { TimelineInput } from '../timeline/schema.js';
import type { ParamValues } from '../calibration/param.js';
import type { RunResult } from '../metrics/run-result.js';
import { BLK_WORKLOADS } from '../workloads/blk.js';
import type { WorkloadInput } from '../workloads/index.js';
import { bareMetalBlockPath } from './block/bare-metal.js';
import { emulatedBlockPath } from './block/emulated.js';
import { emulatedVmmBlockPath } from './block/emulated-vmm.js';
import { passthroughBlockPath } from './block/passthrough.js';
import { sriovBlockPath } from './block/sriov.js';
import { blockPath, type BlockPathDef } from './block/support/block-run.js';
import { vhostKernelBlockPath } from './block/vhost-kernel.js';
import { vhostUserBlockPath } from './block/vhost-user.js';
import { virtioQemuBlockPath } from './block/virtio-qemu.js';
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
  /** Block runs: also hand over the run in fio's terms (RunResult.fio), for fio.json. */
  fio?: boolean;
  /** Stage rows carry their attribution (iovsim explain): same simulation, same figures. */
  isExplained?: boolean;
  /** Follow a sample of requests into a Chrome trace (RunResult.trace); does not change the run. */
  trace?: TraceOptions;
  /** Events during the run (scenario timeline and faults); absent: none. */
  timeline?: TimelineInput;
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
  /**
   * Plan-time set-up of one (sweep point, path): builds the run as run() does (actors,
   * threads, first events) without simulating, so that every error of set-up is found by
   * planning (scenario/setup-check.ts). Absent: nothing to build.
   */
  setUp?(input: PathRunInput): void;
  run(input: PathRunInput): RunResult;
}

/**
 * A path name with its network model and its block model: the registry lists (path,
 * device class) pairs under one name, and a run goes to the class of its workload.
 */
function withBlock(net: PathModel, blockDef: BlockPathDef): PathModel {
  if (net.name !== blockDef.name) throw new Error(`path ${net.name} paired with block path ${blockDef.name}`);
  const block = blockPath(blockDef);
  const isBlock = (w: WorkloadInput): boolean => (BLK_WORKLOADS as readonly string[]).includes(w.kind);
  return {
    name: net.name,
    description: `${net.description}; block: ${blockDef.description}`,
    workloads: [...net.workloads, ...BLK_WORKLOADS],
    check: (params, workload) => (isBlock(workload) ? block.check!(params, workload) : net.check?.(params, workload)),
    setUp: (input) => (isBlock(input.workload) ? block.setUp!(input) : net.setUp?.(input)),
    run: (input) => (isBlock(input.workload) ? block.run(input) : net.run(input)),
  };
}

export const PATHS: readonly PathModel[] = [
  withBlock(bareMetalPath, bareMetalBlockPath),
  withBlock(passthroughPath, passthroughBlockPath),
  withBlock(sriovPath, sriovBlockPath),
  withBlock(vhostUserPath, vhostUserBlockPath),
  withBlock(vhostKernelPath, vhostKernelBlockPath),
  withBlock(virtioQemuPath, virtioQemuBlockPath),
  withBlock(emulatedPath, emulatedBlockPath),
  withBlock(emulatedVmmPath, emulatedVmmBlockPath),
];

export function findPath(name: string): PathModel | undefined {
  return PATHS.find((p) => p.name === name);
}
