/**
 * Each distribution against its exact mean and variance (computed here independently of
 * the class), and against its exact CDF by a Kolmogorov-Smirnov test.
 *
 * Tolerances: with n draws, the sample mean has standard error sigma/sqrt(n) and the
 * sample variance sqrt((mu4 - sigma^4)/n), mu4 the fourth central moment (estimated from
 * the sample). Both must be within 5 standard errors (false alarm about 6e-7 per check
 * for a normal statistic). The KS statistic must stay below 2.23/sqrt(n), the asymptotic
 * critical value at alpha = 1e-4.
 */
import { describe, expect, it } from 'vitest';
import {
  Constant, Empirical, Exponential, Gamma, Lognormal, TruncatedNormal, Uniform, erf,
  roundHalfUp, standardExponential, standardNormal, type Distribution,
} from '../../src/core/distributions.js';
import { deriveStream } from '../../src/core/random.js';

const N = 400_000;
const KS_C = 2.23;

interface Moments {
  mean: number;
  variance: number;
  /** Standard errors of the sample mean and the sample variance. */
  seMean: number;
  seVariance: number;
}

function sampleOf(d: Distribution, name: string, n = N): Float64Array {
  const rng = deriveStream(2024, 0, `test/dist/${name}`);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = d.sample(rng);
  return x;
}

function moments(x: Float64Array): Moments {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  let m2 = 0, m4 = 0;
  for (const v of x) {
    const d = v - mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  const variance = m2 / (n - 1);
  m4 /= n;
  return {
    mean,
    variance,
    seMean: Math.sqrt(variance / n),
    seVariance: Math.sqrt(Math.max(m4 - variance * variance, 0) / n),
  };
}

function expectMoments(x: Float64Array, mean: number, variance: number): void {
  const m = moments(x);
  expect(Math.abs(m.mean - mean)).toBeLessThanOrEqual(5 * m.seMean);
  expect(Math.abs(m.variance - variance)).toBeLessThanOrEqual(5 * m.seVariance);
}

/** Kolmogorov-Smirnov distance between the sample and a continuous CDF. */
function ksDistance(x: Float64Array, cdf: (v: number) => number): number {
  const s = Float64Array.from(x).sort();
  const n = s.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(s[i]!);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

const normalCdf = (z: number): number => 0.5 * (1 + erf(z / Math.SQRT2));

/** Simpson's rule on [a, b] with an even number of intervals. */
function integrate(f: (x: number) => number, a: number, b: number, intervals = 20_000): number {
  const h = (b - a) / intervals;
  let s = f(a) + f(b);
  for (let i = 1; i < intervals; i++) s += f(a + i * h) * (i % 2 === 1 ? 4 : 2);
  return (s * h) / 3;
}

describe('erf', () => {
  it('matches tabulated values within its stated 1.5e-7', () => {
    // Abramowitz and Stegun, Table 7.1.
    const table: [number, number][] = [
      [0, 0], [0.1, 0.1124629160], [0.5, 0.5204998778], [1, 0.8427007929],
      [1.5, 0.9661051465], [2, 0.9953222650], [3, 0.9999779095],
    ];
    for (const [x, v] of table) {
      expect(Math.abs(erf(x) - v)).toBeLessThan(1.5e-7);
      expect(Math.abs(erf(-x) + v)).toBeLessThan(1.5e-7);
    }
  });
});

describe('distributions', () => {
  it('constant always returns its value', () => {
    const d = new Constant(12.5);
    const x = sampleOf(d, 'constant', 1000);
    expect(x.every((v) => v === 12.5)).toBe(true);
    expect([d.mean, d.variance, d.scv]).toEqual([12.5, 0, 0]);
  });

  it('uniform: mean (a+b)/2, variance (b-a)^2/12, uniform CDF', () => {
    const a = 2, b = 10;
    const d = new Uniform(a, b);
    expect(d.mean).toBe((a + b) / 2);
    expect(d.variance).toBeCloseTo(((b - a) ** 2) / 12, 12);
    const x = sampleOf(d, 'uniform');
    expectMoments(x, (a + b) / 2, ((b - a) ** 2) / 12);
    expect(ksDistance(x, (v) => (v - a) / (b - a))).toBeLessThan(KS_C / Math.sqrt(N));
  });

  it('exponential: mean m, variance m^2, exponential CDF (ziggurat sampler)', () => {
    const m = 3;
    const d = new Exponential(m);
    expect([d.mean, d.variance, d.scv]).toEqual([m, m * m, 1]);
    const x = sampleOf(d, 'exponential');
    expectMoments(x, m, m * m);
    expect(ksDistance(x, (v) => 1 - Math.exp(-v / m))).toBeLessThan(KS_C / Math.sqrt(N));
  });

  it('exponential: the ziggurat tail beyond its last layer has the right mass', () => {
    // P(X > 8) = e^-8 for Exponential(1); the tail layer starts at 7.697. With n draws the
    // count is binomial: mean n e^-8, sd sqrt(n e^-8 (1 - e^-8)); allow 5 sd.
    const n = 2_000_000;
    const rng = deriveStream(5, 0, 'test/dist/exp-tail');
    let beyond8 = 0, beyond12 = 0;
    for (let i = 0; i < n; i++) {
      const v = standardExponential(rng);
      if (v > 8) beyond8++;
      if (v > 12) beyond12++;
    }
    const p = Math.exp(-8);
    expect(Math.abs(beyond8 - n * p)).toBeLessThan(5 * Math.sqrt(n * p * (1 - p)));
    const p12 = Math.exp(-12); // expected about 12 draws
    expect(Math.abs(beyond12 - n * p12)).toBeLessThan(5 * Math.sqrt(n * p12) + 1);
  });

  it('standard normal (ziggurat): mean 0, variance 1, normal CDF, and tail mass beyond its last layer', () => {
    const rng = deriveStream(6, 0, 'test/dist/normal');
    const n = 2_000_000;
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = standardNormal(rng);
    expectMoments(x, 0, 1);
    expect(ksDistance(x, normalCdf)).toBeLessThan(KS_C / Math.sqrt(n));
    // The tail layer starts at 3.4426: P(|Z| > 3.5) = 4.6525e-4, P(Z > 4) = 3.1671e-5
    // (Abramowitz and Stegun 26.2); binomial counts within 5 sd.
    const count = (f: (v: number) => boolean): number => x.reduce((c, v) => c + (f(v) ? 1 : 0), 0);
    for (const [p, c] of [[4.6525e-4, count((v) => Math.abs(v) > 3.5)], [3.1671e-5, count((v) => v > 4)]] as const) {
      expect(Math.abs(c - n * p)).toBeLessThan(5 * Math.sqrt(n * p * (1 - p)));
    }
    // Symmetry: as many draws below 0 as above (binomial, sd sqrt(n)/2).
    expect(Math.abs(count((v) => v < 0) - n / 2)).toBeLessThan(5 * (Math.sqrt(n) / 2));
  });

  for (const [mu, sigma] of [[1, 2], [5, 1], [0, 3]] as const) {
    it(`normal(${mu}, ${sigma}) truncated at zero: moments by numerical integration, truncated CDF`, () => {
      const pdf = (v: number): number => Math.exp(-0.5 * ((v - mu) / sigma) ** 2);
      const hi = mu + 14 * sigma;
      const z = integrate(pdf, 0, hi);
      const mean = integrate((v) => v * pdf(v), 0, hi) / z;
      const variance = integrate((v) => (v - mean) ** 2 * pdf(v), 0, hi) / z;
      const d = new TruncatedNormal(mu, sigma);
      expect(d.mean).toBeCloseTo(mean, 5);
      expect(d.variance).toBeCloseTo(variance, 4);
      const x = sampleOf(d, `normal-${mu}-${sigma}`);
      expect(x.every((v) => v >= 0)).toBe(true);
      expectMoments(x, mean, variance);
      const f0 = normalCdf(-mu / sigma);
      expect(ksDistance(x, (v) => (normalCdf((v - mu) / sigma) - f0) / (1 - f0))).toBeLessThan(KS_C / Math.sqrt(N));
    });
  }

  for (const cv of [0.5, 2]) {
    it(`lognormal given mean 10 and cv ${cv}: mean 10, variance (10 cv)^2, lognormal CDF`, () => {
      const mean = 10;
      const d = new Lognormal(mean, cv);
      const x = sampleOf(d, `lognormal-${cv}`);
      expectMoments(x, mean, (cv * mean) ** 2);
      const s2 = Math.log(1 + cv * cv);
      const muLog = Math.log(mean) - s2 / 2;
      expect(ksDistance(x, (v) => normalCdf((Math.log(v) - muLog) / Math.sqrt(s2)))).toBeLessThan(KS_C / Math.sqrt(N));
    });
  }

  // k <= 16 is drawn as a sum of exponentials, k = 20 by Marsaglia-Tsang.
  for (const k of [1, 3, 10, 20]) {
    it(`Erlang-${k} (gamma with integer shape): mean m, variance m^2/k, Erlang CDF`, () => {
      const m = 4;
      const d = new Gamma(m, k);
      expect(d.scv).toBeCloseTo(1 / k, 12);
      const x = sampleOf(d, `erlang-${k}`);
      expectMoments(x, m, (m * m) / k);
      const rate = k / m;
      const cdf = (v: number): number => {
        let term = 1, sum = 1;
        for (let i = 1; i < k; i++) {
          term *= (rate * v) / i;
          sum += term;
        }
        return 1 - Math.exp(-rate * v) * sum;
      };
      expect(ksDistance(x, cdf)).toBeLessThan(KS_C / Math.sqrt(N));
    });
  }

  it('gamma with shape 2.5 (Marsaglia-Tsang): moments and CDF by numerical integration', () => {
    const m = 5, shape = 2.5;
    const scale = m / shape;
    const x = sampleOf(new Gamma(m, shape), 'gamma-2.5');
    expectMoments(x, m, shape * scale * scale);
    // CDF on a grid by Simpson's rule on the density x^(k-1) e^(-x/scale), normalised.
    const pdf = (v: number): number => (v <= 0 ? 0 : Math.pow(v, shape - 1) * Math.exp(-v / scale));
    const z = integrate(pdf, 0, 40 * scale);
    const grid = Array.from({ length: 60 }, (_, i) => (i + 1) * 0.5);
    const cdfAt = grid.map((g) => integrate(pdf, 0, g, 2000) / z);
    const sorted = Float64Array.from(x).sort();
    let d = 0;
    grid.forEach((g, i) => {
      // Empirical CDF at g by binary search.
      let lo = 0, hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid]! <= g) lo = mid + 1;
        else hi = mid;
      }
      d = Math.max(d, Math.abs(lo / sorted.length - cdfAt[i]!));
    });
    expect(d).toBeLessThan(KS_C / Math.sqrt(N));
  });

  it('gamma with shape 0.5 (the boosted branch): moments and CDF erf(sqrt(x/scale))', () => {
    const m = 2, shape = 0.5;
    const scale = m / shape;
    const x = sampleOf(new Gamma(m, shape), 'gamma-0.5');
    expectMoments(x, m, shape * scale * scale);
    expect(ksDistance(x, (v) => erf(Math.sqrt(v / scale)))).toBeLessThan(KS_C / Math.sqrt(N));
  });

  it('empirical: exact mean and variance of the weighted values, and category frequencies', () => {
    const values = [1, 2, 5, 10];
    const weights = [4, 3, 2, 1];
    const total = 10;
    const mean = values.reduce((s, v, i) => s + (v * weights[i]!) / total, 0);
    const variance = values.reduce((s, v, i) => s + ((v - mean) ** 2 * weights[i]!) / total, 0);
    const d = new Empirical(values, weights);
    expect(d.mean).toBeCloseTo(mean, 12);
    expect(d.variance).toBeCloseTo(variance, 12);
    const x = sampleOf(d, 'empirical');
    expectMoments(x, mean, variance);
    // Chi-square with 3 degrees of freedom: P(chi2 > 21.1) = 1e-4.
    const counts = values.map((v) => x.filter((s) => s === v).length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(N);
    const chi2 = counts.reduce((s, o, i) => s + (o - (N * weights[i]!) / total) ** 2 / ((N * weights[i]!) / total), 0);
    expect(chi2).toBeLessThan(21.1);
  });

  it('empirical: a zero weight is never drawn', () => {
    const d = new Empirical([1, 2, 3], [1, 0, 1]);
    const x = sampleOf(d, 'empirical-zero', 50_000);
    expect(x.some((v) => v === 2)).toBe(false);
  });

  it('sampleRounded() is Math.round(sample()) on the same draws, for every distribution', () => {
    const dists: Distribution[] = [
      new Constant(2.5), new Uniform(-3, 1e6), new Exponential(1234.5), new Exponential(3e9),
      new TruncatedNormal(500, 300), new Lognormal(2000, 1.5), new Gamma(1000, 2), new Gamma(1000, 2.5),
      new Empirical([0.5, 1.5, 9], [1, 2, 3]),
    ];
    dists.forEach((d, k) => {
      const a = deriveStream(11, 0, `test/dist/rounded/${k}`);
      const b = deriveStream(11, 0, `test/dist/rounded/${k}`);
      let bad = 0;
      for (let i = 0; i < 20_000; i++) if (!Object.is(d.sampleRounded(a), Math.round(d.sample(b)))) bad++;
      expect(bad).toBe(0);
    });
  });

  it('roundHalfUp() equals Math.round, at the edges of its fast range too', () => {
    const edges = [
      0, -0, 0.49999999999999994, 0.5, 1.5, 2.5, 1e-300, 2147483646.4999995, 2147483646.5, 2147483647,
      2147483647.5, 4503599627370495.5, 2 ** 53, -0.5, -1.5, -2147483648.5, NaN, Infinity, -Infinity,
    ];
    for (const v of edges) expect(Object.is(roundHalfUp(v), Math.round(v))).toBe(true);
    const rng = deriveStream(12, 0, 'test/dist/round');
    let bad = 0;
    for (let i = 0; i < 200_000; i++) {
      const v = (rng() - 0.1) * 10 ** (rng() * 12);
      if (!Object.is(roundHalfUp(v), Math.round(v))) bad++;
    }
    expect(bad).toBe(0);
  });

  it('rejects parameters outside their domain', () => {
    expect(() => new Uniform(3, 2)).toThrow(RangeError);
    expect(() => new Exponential(0)).toThrow(RangeError);
    expect(() => new Exponential(NaN)).toThrow(RangeError);
    expect(() => new TruncatedNormal(1, -1)).toThrow(RangeError);
    expect(() => new Lognormal(1, 0)).toThrow(RangeError);
    expect(() => new Lognormal(-1, 1)).toThrow(RangeError);
    expect(() => new Gamma(1, 0)).toThrow(RangeError);
    expect(() => new Empirical([], [])).toThrow(RangeError);
    expect(() => new Empirical([1, 2], [1])).toThrow(RangeError);
    expect(() => new Empirical([1, 2], [0, 0])).toThrow(RangeError);
    expect(() => new Empirical([1, 2], [1, -1])).toThrow(RangeError);
  });
});
