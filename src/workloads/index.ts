/**
 * Every workload kind a scenario can name, with its file schema. Network and block
 * workloads add their schemas here; `custom` runs without a path.
 */
import { z } from 'zod';
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
  { kind: 'net-pvp', description: 'physical-virtual-physical forwarding (CSIT/DPDK PVP): generator -> NIC -> back end -> VM forwarder -> back end -> NIC -> generator, one way' },
];

export const workloadSchema = z.discriminatedUnion('kind', [
  customWorkloadSchema,
  netRrWorkloadSchema,
  netTxWorkloadSchema,
  netRxWorkloadSchema,
  netPvpWorkloadSchema,
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
