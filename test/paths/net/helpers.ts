/** Runs one path on a workload given as scenario-file fields, with parameter overrides. */
import { params } from '../../../src/calibration/index.js';
import { findPath } from '../../../src/paths/index.js';
import type { NetRunResult } from '../../../src/paths/net/support/net-run.js';
import { workloadSchema } from '../../../src/workloads/index.js';

export const ALL_PATHS = [
  'bare-metal', 'passthrough', 'sriov', 'vhost-user', 'vhost-kernel', 'virtio-qemu', 'emulated', 'emulated-vmm',
] as const;

export function runPath(
  path: string,
  workload: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
  seed = 1,
  replication = 0,
): NetRunResult {
  const model = findPath(path);
  if (!model) throw new Error(`no path ${path}`);
  const w = workloadSchema.parse(workload);
  return model.run({ workload: w, params: params.resolve(overrides), seed, replication }) as NetRunResult;
}

export const p50Us = (r: NetRunResult): number => r.latency.quantile(0.5) / 1e6;
export const perOp = (r: NetRunResult, n: number): number => n / r.opsCompleted;
export const mops = (r: NetRunResult): number => r.opsCompleted / (r.windowPs / 1e12) / 1e6;
export const gbps = (r: NetRunResult): number => (r.bytesCompleted * 8) / (r.windowPs / 1e12) / 1e9;
export const exitsOf = (r: NetRunResult, reason: string): number => (r.counters.exitsByReason.get(reason) ?? 0) / r.opsCompleted;
export const cpuOf = (r: NetRunResult, thread: string) => {
  const row = r.cpu.find((c) => c.thread === thread);
  if (!row) throw new Error(`no thread ${thread} in ${r.cpu.map((c) => c.thread).join(', ')}`);
  return row;
};

/** Jain's fairness index of a list of allocations. */
export function jain(x: number[]): number {
  const s = x.reduce((a, b) => a + b, 0);
  const s2 = x.reduce((a, b) => a + b * b, 0);
  return (s * s) / (x.length * s2);
}
