/**
 * Every workload kind a scenario can name, with its file schema. Network and block
 * workloads add their schemas here; `custom` runs without a path.
 */
import { z } from 'zod';
import { blkReadWorkloadSchema, blkWorkloadSchema, blkWriteWorkloadSchema, toBlkSpec, type BlkWorkloadSpec } from './blk.js';
import { customWorkloadSchema } from './custom-schema.js';
import type { NetWorkloadSpec } from './net-common.js';
import { netRrWorkloadSchema, toNetRrSpec } from './net-rr.js';
import { netPvpWorkloadSchema, toNetPvpSpec } from './net-pvp.js';
import { netRxWorkloadSchema, toNetRxSpec } from './net-rx.js';
import { netTxWorkloadSchema, toNetTxSpec } from './net-tx.js';

export interface WorkloadKindInfo {
  kind: string;
  description: string;
}

export const WORKLOAD_KINDS: readonly WorkloadKindInfo[] = [
  { kind: 'custom', description: 'a user-declared chain of service stations (validation, sketches of new paths)' },
  { kind: 'net-rr', description: 'request/response transactions guest <-> remote peer (netperf TCP_RR-like), closed or open loop' },
  { kind: 'net-tx', description: 'packet stream guest -> peer: Poisson, constant, bursty or saturating' },
  { kind: 'net-rx', description: 'packet stream peer -> guest: Poisson, constant, bursty or saturating (line rate)' },
  { kind: 'blk', description: 'block I/O from fio-like jobs in the guest: rw (read, write, randread, randwrite, randrw), bs, iodepth, numjobs, ioengine, rate_iops' },
  { kind: 'blk-read', description: 'the blk workload with rw randread (or read)' },
  { kind: 'blk-write', description: 'the blk workload with rw randwrite (or write)' },
  { kind: 'net-pvp', description: 'physical-virtual-physical forwarding (CSIT/DPDK PVP): generator -> NIC -> back end -> VM forwarder -> back end -> NIC -> generator, one way' },
];

export const workloadSchema = z.discriminatedUnion('kind', [
  customWorkloadSchema,
  netRrWorkloadSchema,
  netTxWorkloadSchema,
  netRxWorkloadSchema,
  netPvpWorkloadSchema,
  blkWorkloadSchema,
  blkReadWorkloadSchema,
  blkWriteWorkloadSchema,
]);

export type WorkloadInput = z.infer<typeof workloadSchema>;

export type NetWorkloadInput = Extract<WorkloadInput, { kind: 'net-rr' | 'net-tx' | 'net-rx' | 'net-pvp' }>;

/** The normalized form of a network workload; undefined for other kinds. */
export function toNetSpec(w: WorkloadInput): NetWorkloadSpec | undefined {
  switch (w.kind) {
    case 'net-rr':
      return toNetRrSpec(w);
    case 'net-tx':
      return toNetTxSpec(w);
    case 'net-rx':
      return toNetRxSpec(w);
    case 'net-pvp':
      return toNetPvpSpec(w);
    default:
      return undefined;
  }
}

/** The normalized form of a block workload; undefined for other kinds. */
export function toBlockSpec(w: WorkloadInput): BlkWorkloadSpec | undefined {
  return w.kind === 'blk' || w.kind === 'blk-read' || w.kind === 'blk-write' ? toBlkSpec(w) : undefined;
}
