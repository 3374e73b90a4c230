/**
 * Replication statistics for the closed-form checks. Each check runs R independent
 * replications (same seed, replication numbers 0..R-1, so independent named streams),
 * takes the grand mean of a per-replication estimate, and its standard error
 * SE = s / sqrt(R) with s the standard deviation of the R estimates. With R = 10 the
 * statistic (mean - exact) / SE follows Student's t with 9 degrees of freedom, and
 * P(|t_9| > 5) = 7e-4, so a 5-SE tolerance fails a correct simulator about once in 1,400
 * checks (and the runs are deterministic: a check that passes keeps passing). To make
 * sure the tolerance is not vacuous, each check also requires SE below a stated fraction
 * of the exact value, i.e. the run length must actually pin the quantity down.
 */
import { expect } from 'vitest';

export interface Estimate {
  mean: number;
  se: number;
  replications: number;
}

export function estimate(values: readonly number[]): Estimate {
  const r = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / r;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (r - 1);
  return { mean, se: Math.sqrt(variance / r), replications: r };
}

/** Runs fn for replications 0..r-1 and estimates each named quantity it returns. */
export function replicate<K extends string>(r: number, fn: (replication: number) => Record<K, number>): Record<K, Estimate> {
  const samples = new Map<K, number[]>();
  for (let i = 0; i < r; i++) {
    for (const [k, v] of Object.entries(fn(i)) as [K, number][]) {
      if (!samples.has(k)) samples.set(k, []);
      samples.get(k)!.push(v);
    }
  }
  const out = {} as Record<K, Estimate>;
  for (const [k, v] of samples) out[k] = estimate(v);
  return out;
}

export const T_TOLERANCE = 5;

/** |mean - exact| <= 5 SE, and SE <= maxRelSe * exact (the run is long enough to mean something). */
export function expectAgrees(what: string, e: Estimate, exact: number, maxRelSe: number): void {
  const detail = `${what}: simulated ${e.mean.toPrecision(6)} +- ${e.se.toPrecision(3)} (SE, ${e.replications} reps), exact ${exact.toPrecision(6)}`;
  // ANALYTIC_VERBOSE=1 prints every comparison with its z-score and relative SE.
  if (process.env['ANALYTIC_VERBOSE']) {
    const z = (e.mean - exact) / e.se;
    process.stdout.write(`${detail}; z = ${z.toFixed(2)}, SE/exact = ${((100 * e.se) / Math.abs(exact)).toFixed(2)}%\n`);
  }
  expect(e.se, `${detail}: SE too large for the check to mean anything`).toBeLessThanOrEqual(maxRelSe * Math.abs(exact));
  expect(Math.abs(e.mean - exact), detail).toBeLessThanOrEqual(T_TOLERANCE * e.se);
}

/** A residual that must vanish: |mean| <= 5 SE, and SE <= maxRelSe * scale. */
export function expectZero(what: string, e: Estimate, scale: number, maxRelSe: number): void {
  const detail = `${what}: ${e.mean.toPrecision(4)} +- ${e.se.toPrecision(3)} (SE, ${e.replications} reps), expected 0 on a scale of ${scale.toPrecision(4)}`;
  if (process.env['ANALYTIC_VERBOSE']) {
    process.stdout.write(`${detail}; z = ${(e.mean / e.se).toFixed(2)}, SE/scale = ${((100 * e.se) / Math.abs(scale)).toFixed(2)}%\n`);
  }
  expect(e.se, `${detail}: SE too large for the check to mean anything`).toBeLessThanOrEqual(maxRelSe * Math.abs(scale));
  expect(Math.abs(e.mean), detail).toBeLessThanOrEqual(T_TOLERANCE * e.se);
}
