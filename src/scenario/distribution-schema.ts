/**
 * Distributions as written in scenario files. The field that holds one names the unit
 * (`service_ns`, `think_ns`, `size_bytes`); the distribution's own keys are unit-free.
 * A bare number means a constant.
 */
import { z } from 'zod';
import {
  Constant, Empirical, Exponential, Gamma, Lognormal, TruncatedNormal, Uniform,
  type Distribution,
} from '../core/distributions.js';

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();

/** A distribution in a scenario file: a bare number (constant) or `{ kind, ... }`. */
export const distributionSchema = z.union([
  nonNegative,
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('constant'), value: nonNegative }),
    z
      .strictObject({ kind: z.literal('uniform'), min: nonNegative, max: nonNegative })
      .refine((d) => d.max >= d.min, { message: 'max must be at least min', path: ['max'] }),
    z.strictObject({ kind: z.literal('exponential'), mean: positive }),
    z.strictObject({ kind: z.literal('normal'), mean: nonNegative, stdev: nonNegative }),
    z.strictObject({
      kind: z.literal('lognormal'),
      mean: positive,
      cv: z.number().gt(0).lte(10, 'must be at most 10 (coefficient of variation)'),
    }),
    z.strictObject({ kind: z.literal('gamma'), mean: positive, shape: z.number().gte(0.01).lte(1000) }),
    z.strictObject({ kind: z.literal('erlang'), mean: positive, k: z.number().int().gte(1).lte(1000) }),
    z
      .strictObject({
        kind: z.literal('empirical'),
        values: z.array(nonNegative).min(1),
        weights: z.array(nonNegative).min(1),
      })
      .refine((d) => d.values.length === d.weights.length, {
        message: 'weights must have as many entries as values',
        path: ['weights'],
      })
      .refine((d) => d.weights.some((w) => w > 0), { message: 'at least one weight must be positive', path: ['weights'] }),
  ]),
]);

/** A validated distribution as written in a file. */
export type DistributionSpec = z.infer<typeof distributionSchema>;

/** Builds a distribution; `scale` converts the file's unit to the model's (1000 for ns to ps). */
export function buildDistribution(spec: DistributionSpec, scale = 1): Distribution {
  if (typeof spec === 'number') return new Constant(spec * scale);
  switch (spec.kind) {
    case 'constant':
      return new Constant(spec.value * scale);
    case 'uniform':
      return new Uniform(spec.min * scale, spec.max * scale);
    case 'exponential':
      return new Exponential(spec.mean * scale);
    case 'normal':
      return new TruncatedNormal(spec.mean * scale, spec.stdev * scale);
    case 'lognormal':
      return new Lognormal(spec.mean * scale, spec.cv);
    case 'gamma':
      return new Gamma(spec.mean * scale, spec.shape);
    case 'erlang':
      return new Gamma(spec.mean * scale, spec.k);
    case 'empirical':
      return new Empirical(spec.values.map((v) => v * scale), spec.weights);
  }
}
