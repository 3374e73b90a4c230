/**
 * LatencyRecorder: quantiles within 0.1% of exact sample quantiles, memory that does not
 * grow with the number of values, an exact Welford mean and a stable variance, and the
 * fast index mapping identical to hdr-histogram-js's.
 */
import { Float64Histogram } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { Exponential, Lognormal, Uniform, type Distribution } from '../../src/core/distributions.js';
import { deriveStream } from '../../src/core/random.js';
import { LatencyRecorder, hdrIndex, hdrValueAt } from '../../src/metrics/latency-recorder.js';

const QUANTILES = [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999];

/**
 * Nearest-rank sample quantile: the smallest value with at least q of the sample at or
 * below it, rank ceil(q n). The 1e-6 guards against q n landing one ulp above an integer
 * (0.999 * 200000 = 199800.00000000003 in floating point).
 */
function exactQuantile(sorted: Float64Array, q: number): number {
  const rank = Math.max(Math.ceil(q * sorted.length - 1e-6), 1);
  return sorted[rank - 1]!;
}

/** Integer-picosecond samples (the unit the recorder keeps). */
function integerSample(d: Distribution, name: string, n: number): Float64Array {
  const rng = deriveStream(11, 0, `test/latency/${name}`);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.max(1, Math.round(d.sample(rng)));
  return x;
}

/** A mixture: a fast mode near 2 us and a slow mode near 80 us, as a cache hit/miss path. */
const bimodal: Distribution = {
  mean: 0,
  variance: 0,
  scv: 0,
  sample(rng) {
    return rng() < 0.9 ? 2e6 + 2e5 * rng() : 8e7 * (1 + rng());
  },
  sampleRounded(rng) {
    return Math.round(this.sample(rng));
  },
};

describe('LatencyRecorder', () => {
  const cases: [string, Distribution][] = [
    ['exponential 1 us', new Exponential(1e6)],
    ['lognormal 5 us cv 2', new Lognormal(5e6, 2)],
    ['uniform 100 ns..300 ns', new Uniform(1e5, 3e5)],
    ['exponential 50 ps (small values)', new Exponential(50)],
    ['bimodal 2 us / 80 us', bimodal],
    ['lognormal 1 ms cv 0.3 (large values)', new Lognormal(1e9, 0.3)],
  ];
  for (const [name, d] of cases) {
    it(`quantiles within 0.1% of the exact sample quantiles: ${name}`, () => {
      const x = integerSample(d, name, 200_000);
      const rec = new LatencyRecorder();
      for (const v of x) rec.record(v);
      const sorted = Float64Array.from(x).sort();
      for (const q of QUANTILES) {
        const exact = exactQuantile(sorted, q);
        const got = rec.quantile(q);
        expect(Math.abs(got - exact) / exact, `q=${q} exact=${exact} got=${got}`).toBeLessThanOrEqual(0.001);
      }
      expect(rec.quantile(1)).toBe(sorted[sorted.length - 1]);
      expect(rec.max).toBe(sorted[sorted.length - 1]);
      expect(rec.min).toBe(sorted[0]);
    });
  }

  it('keeps the same number of counters for 1,000 and 2,000,000 values of one distribution', () => {
    const d = new Lognormal(1e7, 1);
    const small = new LatencyRecorder();
    const large = new LatencyRecorder();
    const rng = deriveStream(11, 0, 'test/latency/memory');
    for (let i = 0; i < 2_000_000; i++) {
      const v = d.sample(rng);
      if (i < 1000) small.record(v);
      large.record(v);
    }
    expect(large.count).toBe(2_000_000);
    // Counters depend on the largest value only: at most one doubling more here.
    expect(large.bucketCapacity).toBeLessThanOrEqual(2 * small.bucketCapacity);
    // The full range up to 2^53 ps needs fewer than 65,536 counters (512 KiB).
    const huge = new LatencyRecorder();
    huge.record(2 ** 53 - 1);
    expect(huge.bucketCapacity).toBeLessThanOrEqual(65_536);
    expect(large.buckets().length).toBeLessThan(large.bucketCapacity);
  });

  it('computes the mean exactly (Welford) and a stable variance', () => {
    const rec = new LatencyRecorder();
    const values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
    for (const v of values) rec.record(v);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
    expect(rec.mean).toBeCloseTo(mean, 12);
    expect(rec.variance).toBeCloseTo(variance, 12);
    expect(rec.count).toBe(values.length);

    // Large offset, tiny spread: the naive sum of squares loses every digit here.
    const big = new LatencyRecorder();
    for (let i = 0; i < 30_000; i++) big.record(1e12 + (i % 3)); // values 1e12 + {0, 1, 2}
    // Welford's running mean carries rounding of order 1 ulp per step, not a bucket error.
    expect(Math.abs(big.mean - (1e12 + 1))).toBeLessThan(1e-3);
    expect(Math.abs(big.variance - (2 / 3) * (30_000 / 29_999))).toBeLessThan(1e-6);
  });

  it('rejects negative, NaN and infinite values (a model bug), keeping its state', () => {
    const rec = new LatencyRecorder();
    rec.record(5);
    for (const bad of [-1, NaN, Infinity]) expect(() => rec.record(bad)).toThrow(RangeError);
    expect(rec.count).toBe(1);
    expect(rec.mean).toBe(5);
    rec.record(0); // zero is a valid latency (recorded in the lowest bucket)
    expect(rec.min).toBe(0);
  });

  it('mean of non-integer values is exact (not rounded to the bucket grid)', () => {
    const rec = new LatencyRecorder();
    rec.record(1000.25);
    rec.record(1000.75);
    expect(rec.mean).toBe(1000.5);
  });

  it('reports zeros when empty, and buckets whose counts add up to the total', () => {
    const rec = new LatencyRecorder();
    expect([rec.mean, rec.variance, rec.max, rec.min, rec.quantile(0.5)]).toEqual([0, 0, 0, 0, 0]);
    expect(rec.buckets()).toEqual([]);
    const rng = deriveStream(11, 0, 'test/latency/buckets');
    const d = new Exponential(1e6);
    for (let i = 0; i < 50_000; i++) rec.record(d.sample(rng));
    const b = rec.buckets();
    expect(b.reduce((s, x) => s + x.count, 0)).toBe(50_000);
    expect(b[b.length - 1]!.cumulativeFraction).toBe(1);
    for (let i = 1; i < b.length; i++) {
      expect(b[i]!.valuePs).toBeGreaterThan(b[i - 1]!.valuePs);
      expect(b[i]!.cumulativeFraction).toBeGreaterThan(b[i - 1]!.cumulativeFraction);
    }
    // Quantiles asked between records see every value recorded so far.
    const before = rec.quantile(0.5);
    for (let i = 0; i < 50_000; i++) rec.record(1e9);
    expect(rec.quantile(0.5)).toBeGreaterThan(before);
    expect(rec.quantile(0.75)).toBeGreaterThanOrEqual(1e9);
  });

  it('maps values to the same counts-array index as hdr-histogram-js', () => {
    const h = new Float64Histogram(1, 2, 3);
    h.autoResize = true;
    const values: number[] = [];
    for (let k = 0; k <= 53; k++) {
      const p = 2 ** k;
      for (const v of [p - 1, p, p + 1, p * 1.5]) if (v >= 0 && v < 2 ** 53) values.push(Math.floor(v));
    }
    const rng = deriveStream(11, 0, 'test/latency/index');
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(2 ** (53 * rng())));
    for (const v of values) {
      h.recordValue(v); // grows the library's range so its index is defined
      expect(hdrIndex(v), `value ${v}`).toBe(h.countsArrayIndex(v));
      const i = hdrIndex(v);
      expect(hdrIndex(hdrValueAt(i))).toBe(i);
      expect(hdrValueAt(i)).toBe(h.valueFromIndex(i));
      // The library's own lowestEquivalentValue() goes through Math.log2, which rounds up
      // just below powers of two from 2^49 on; below that it agrees with the index.
      if (v < 2 ** 48) expect(hdrValueAt(i)).toBe(h.lowestEquivalentValue(v));
    }
  });

  it('gives the same buckets as hdr-histogram-js iterated with highestEquivalentValue', () => {
    const rec = new LatencyRecorder();
    const h = new Float64Histogram(1, 2, 3);
    h.autoResize = true;
    const rng = deriveStream(11, 0, 'test/latency/bucket-table');
    for (let i = 0; i < 30_000; i++) {
      // integers from 0 to 2^44, spread over every magnitude, with repeats
      const v = Math.floor(2 ** (44 * rng()));
      rec.record(v);
      h.recordValue(v < 1 ? 1 : v);
    }
    const expected: { valuePs: number; count: number; cumulativeFraction: number }[] = [];
    const it = h.recordedValuesIterator;
    it.reset();
    let cumulative = 0;
    while (it.hasNext()) {
      const step = it.next();
      cumulative += step.countAddedInThisIterationStep;
      expected.push({
        valuePs: h.highestEquivalentValue(step.valueIteratedTo),
        count: step.countAddedInThisIterationStep,
        cumulativeFraction: cumulative / 30_000,
      });
    }
    expect(expected.length).toBeGreaterThan(10_000);
    expect(rec.buckets()).toEqual(expected);
  });
});
