/**
 * Every workload kind a scenario can name, with its file schema. Network and block
 * workloads add their schemas here; `custom` runs without a path.
 */
import { z } from 'zod';
import { customWorkloadSchema } from './custom-schema.js';

export interface WorkloadKindInfo {
  kind: string;
  description: string;
}

export const WORKLOAD_KINDS: readonly WorkloadKindInfo[] = [
  { kind: 'custom', description: 'a user-declared chain of service stations (validation, sketches of new paths)' },
];

export const workloadSchema = z.discriminatedUnion('kind', [customWorkloadSchema]);

export type WorkloadInput = z.infer<typeof workloadSchema>;
