/** Runs one path on a block workload given as scenario-file fields, with parameter overrides. */
import { params } from '../../../src/calibration/index.js';
import { findPath } from '../../../src/paths/index.js';
import type { BlockRunResult } from '../../../src/paths/block/support/block-run.js';
import { workloadSchema } from '../../../src/workloads/index.js';

export const ALL_PATHS = [
  'bare-metal', 'passthrough', 'sriov', 'vhost-user', 'vhost-kernel', 'virtio-qemu', 'emulated', 'emulated-vmm',
] as const;

/** 4 KiB random reads at depth 1 unless the fields say otherwise. */
export function runBlk(path: string, workload: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}, seed = 1, fio = false): BlockRunResult {
  const model = findPath(path);
  if (!model) throw new Error(`no path ${path}`);
  const w = workloadSchema.parse({ kind: 'blk', rw: 'randread', bs: 4096, iodepth: 1, ops: 4000, warmup_ops: 400, ...workload });
  return model.run({ workload: w, params: params.resolve(overrides), seed, replication: 0, fio }) as BlockRunResult;
}

export const iops = (r: BlockRunResult): number => r.opsCompleted / (r.windowPs / 1e12);
export const meanUs = (r: BlockRunResult): number => r.latency.mean / 1e6;
export const perIo = (r: BlockRunResult, n: number): number => n / r.opsCompleted;
export const exitsOf = (r: BlockRunResult, reason: string): number => (r.counters.exitsByReason.get(reason) ?? 0) / r.opsCompleted;
export const cpuOf = (r: BlockRunResult, thread: string) => {
  const row = r.cpu.find((c) => c.thread === thread);
  if (!row) throw new Error(`no thread ${thread} in ${r.cpu.map((c) => c.thread).join(', ')}`);
  return row;
};

/** The SSD of calibration.md s7's 2022 vhost-blk figures: one controller core, 96k IOPS. */
export const SLOW_SSD = { 'ssd.controller_cores': 1, 'ssd.controller_ns': 10400 };
