/** Scenario-file shape of the `custom` workload (snake_case, units in field names). */
import { z } from 'zod';
import { PS_PER_NS } from '../core/time.js';
import { buildDistribution, distributionSchema } from '../scenario/distribution-schema.js';
import type { CustomWorkloadSpec } from './custom.js';

const stageSchema = z.strictObject({
  name: z.string().min(1).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
  servers: z.number().int().gte(1).lte(100_000).default(1),
  service_ns: distributionSchema,
  capacity: z.number().int().nonnegative().optional(),
  when_full: z.enum(['drop', 'block']).default('drop'),
});

const arrivalSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('poisson'), rate_per_s: z.number().positive() }),
  z.strictObject({ kind: z.literal('constant'), rate_per_s: z.number().positive() }),
  z.strictObject({
    kind: z.literal('closed'),
    clients: z.number().int().gte(1).lte(1_000_000),
    think_ns: distributionSchema.default(0),
  }),
]);

export const customWorkloadSchema = z.strictObject({
  kind: z.literal('custom'),
  arrival: arrivalSchema,
  stages: z
    .array(stageSchema)
    .min(1, 'needs at least one stage')
    .refine((s) => new Set(s.map((x) => x.name)).size === s.length, 'stage names must be unique'),
  ops: z.number().int().positive(),
  warmup_ops: z.number().int().nonnegative().default(0),
  size_bytes: z.number().nonnegative().default(0),
});

export type CustomWorkloadInput = z.infer<typeof customWorkloadSchema>;

export function toCustomSpec(w: CustomWorkloadInput): CustomWorkloadSpec {
  const a = w.arrival;
  return {
    arrival:
      a.kind === 'closed'
        ? { kind: 'closed', clients: a.clients, think: buildDistribution(a.think_ns, PS_PER_NS) }
        : { kind: a.kind, ratePerS: a.rate_per_s },
    stages: w.stages.map((s) => ({
      name: s.name,
      servers: s.servers,
      service: buildDistribution(s.service_ns, PS_PER_NS),
      queueCapacity: s.capacity ?? Infinity,
      whenFull: s.when_full,
    })),
    ops: w.ops,
    warmupOps: w.warmup_ops,
    sizeBytes: w.size_bytes,
  };
}
