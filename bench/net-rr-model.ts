/**
 * The network model of the path benchmarks (`bench:paths`, `bench:alloc`,
 * `bench:instructions`): 64-byte net-rr, one outstanding transaction, default
 * calibration, seed 1, on one path. Returns a function that runs it once more each call.
 */
import { params } from '../src/calibration/index.js';
import type { RunResult } from '../src/metrics/run-result.js';
import { findPath } from '../src/paths/index.js';
import { workloadSchema } from '../src/workloads/index.js';

/**
 * The block model of the same benchmarks: 4 KiB random reads at I/O depth 1 (one fio
 * job, libaio), default calibration, seed 1, on one path.
 */
export function blkRunner(path: string, ops: number, warmupOps: number, overrides: Readonly<Record<string, unknown>> = {}): () => RunResult {
  const model = findPath(path);
  if (!model) throw new Error(`unknown path ${path}`);
  const workload = workloadSchema.parse({ kind: 'blk', rw: 'randread', bs: 4096, iodepth: 1, ops, warmup_ops: warmupOps });
  const p = params.resolve(overrides);
  return () => model.run({ workload, params: p, seed: 1, replication: 0 });
}

export function netRrRunner(path: string, ops: number, warmupOps: number, overrides: Readonly<Record<string, unknown>> = {}): () => RunResult {
  const model = findPath(path);
  if (!model) throw new Error(`unknown path ${path}`);
  const workload = workloadSchema.parse({ kind: 'net-rr', size_bytes: 64, outstanding: 1, ops, warmup_ops: warmupOps });
  const p = params.resolve(overrides);
  return () => model.run({ workload, params: p, seed: 1, replication: 0 });
}
