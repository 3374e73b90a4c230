/**
 * The scenario file: what to run (workload, paths, parameter overrides), how to vary it
 * (sweep) and how often (seed, replications). Validated with zod; errors become one line
 * naming the file, the field path, the bad value and what is allowed.
 */
import { z } from 'zod';
import { workloadSchema } from '../workloads/index.js';
import { validationTargetSchema } from './validation.js';
import { faultsSchema, timelineSchema } from '../timeline/schema.js';

const scalar = z.union([z.number(), z.boolean(), z.string()]);
const sweepList = z.array(scalar).min(1, 'a sweep list needs at least one value');

/** The sweep section: lists per key, and `zip` for paired lists. */
export const sweepSchema = z
  .record(
    z.string(),
    z.union([sweepList, z.record(z.string(), sweepList)], {
      error: 'must be a list of values (or, under zip, a mapping of equal-length lists)',
    }),
  )
  .superRefine((sweep, ctx) => {
    for (const [key, value] of Object.entries(sweep)) {
      const isZip = key === 'zip';
      if (isZip !== !Array.isArray(value)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: isZip ? 'zip takes an object of equal-length lists' : 'must be a list of values',
        });
        continue;
      }
      if (isZip) {
        const lists = Object.values(value as Record<string, unknown[]>);
        if (lists.length === 0 || lists.some((l) => l.length !== lists[0]!.length)) {
          ctx.addIssue({ code: 'custom', path: [key], message: 'zip lists must be non-empty and of equal length' });
        }
      }
    }
  });

/** A scenario file (design.md section 6). */
export const scenarioSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(100, 'at most 100 characters (it names the results folder)')
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only (it names the results folder)')
    .refine((n) => !n.startsWith('.'), 'must not start with a dot (it names the results folder: "." and ".." are not names)'),
  description: z.string().optional(),
  workload: workloadSchema,
  paths: z.array(z.string()).min(1, 'list at least one path').optional(),
  params: z.record(z.string(), scalar).default({}),
  sweep: sweepSchema.optional(),
  seed: z.number().int().nonnegative().max(2 ** 32 - 1).default(1),
  replications: z.number().int().gte(1).lte(10_000).default(1),
  /** Published figures this scenario reproduces (iovsim calibrate-check). */
  validation: z.array(validationTargetSchema).min(1).optional(),
  /** Actions at a simulated time or op count: migrate, backend-restart, link-down, loss, ... */
  timeline: timelineSchema.optional(),
  /** Random faults: an action repeated as a Poisson process. */
  faults: faultsSchema.optional(),
  /** Length of a timeline.csv bucket [ms] (runs with a timeline or faults). */
  timeline_bucket_ms: z.number().positive().lte(3_600_000).default(100),
});

/** A validated scenario, defaults filled in. */
export type Scenario = z.infer<typeof scenarioSchema>;
/** A value a sweep or --set can give: number, boolean or string. */
export type ScalarValue = z.infer<typeof scalar>;
