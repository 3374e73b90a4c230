/**
 * Latency distribution with bounded memory: HDR histogram buckets at three significant
 * digits (2048 sub-buckets per power of two, unit 1 ps), so any quantile is within
 * 1/1024 < 0.1% of the exact sample quantile, plus the mean and variance by Welford's
 * method (exact, not from buckets). Values are recorded in integer picoseconds.
 *
 * Recording is the hot path (one call per completed op), and hdr-histogram-js's
 * recordValue() costs about 220 ns here (Math.log2 and Math.pow per value). So record()
 * computes the same counts-array index itself with integer bit tricks (about 15 ns) and
 * counts into a Float64Array; the counts move into an hdr-histogram-js histogram, bucket
 * by bucket with recordValueWithCount(), only when a quantile is asked for, so quantile
 * semantics are the library's. The buckets for CDF plots are read from our counts with
 * the library's bucket bounds. test/metrics checks the index mapping against the
 * library's countsArrayIndex() and the buckets against its recordedValuesIterator.
 */
// The class's own module: the package index also loads its log writer, which builds an
// Intl.NumberFormat at import (about 20 ms per process and per worker thread), and its
// WebAssembly and encoding modules, none of which iovsim uses.
import float64HistogramModule from 'hdr-histogram-js/dist/Float64Histogram.js';
import { AS_DOUBLE } from '../core/time.js';

// A CommonJS module: Node's import gives its exports object (the class is its `default`);
// vitest's module runner hands over the class itself.
const Float64Histogram: typeof float64HistogramModule.default =
  typeof float64HistogramModule === 'function' ? float64HistogramModule : float64HistogramModule.default;
type Float64Histogram = InstanceType<typeof Float64Histogram>;

export interface LatencyBucket {
  /** Highest value equivalent to the bucket [ps]. */
  valuePs: number;
  count: number;
  cumulativeFraction: number;
}

/** log2 of the sub-bucket count: 2^11 = 2048 sub-buckets give 3 significant digits. */
const SUB_BUCKET_BITS = 11;
const SUB_BUCKET_COUNT = 1 << SUB_BUCKET_BITS;
const SUB_BUCKET_HALF_BITS = SUB_BUCKET_BITS - 1;
const SUB_BUCKET_HALF = 1 << SUB_BUCKET_HALF_BITS;
/** Largest value recorded: integers are exact up to here. */
const MAX_VALUE_PS = Number.MAX_SAFE_INTEGER;
/** 2^-b for b = 0..63, exact. */
const INV_POW2 = Float64Array.from({ length: 64 }, (_, b) => 2 ** -b);

/**
 * The counts-array index of an integer value >= 0 (below 2^53) in an HDR histogram with
 * lowest discernible value 1 and 3 significant digits: the same as hdr-histogram-js's
 * countsArrayIndex().
 */
export function hdrIndex(value: number): number {
  if (value < SUB_BUCKET_COUNT) return value;
  const hi = Math.floor(value / 4294967296);
  const msb = hi > 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(value);
  const bucket = msb - SUB_BUCKET_HALF_BITS;
  return ((bucket + 1) << SUB_BUCKET_HALF_BITS) + Math.floor(value * INV_POW2[bucket]!) - SUB_BUCKET_HALF;
}

/** The lowest value of the bucket at a counts-array index (inverse of hdrIndex). */
export function hdrValueAt(index: number): number {
  if (index < SUB_BUCKET_COUNT) return index;
  const bucket = (index >> SUB_BUCKET_HALF_BITS) - 1;
  const sub = (index & (SUB_BUCKET_HALF - 1)) + SUB_BUCKET_HALF;
  return sub * 2 ** bucket;
}

/**
 * The highest value in the bucket at a counts-array index: hdr-histogram-js's
 * highestEquivalentValue(hdrValueAt(index)). Below 2048 a bucket is one value wide;
 * above, the bucket at magnitude b is 2^b wide.
 */
export function hdrHighestEquivalentAt(index: number): number {
  if (index < SUB_BUCKET_COUNT) return index;
  return hdrValueAt(index) + 2 ** ((index >> SUB_BUCKET_HALF_BITS) - 1) - 1;
}

/** The non-empty buckets of a recorder as parallel arrays (see LatencyRecorder.bucketTable). */
export interface LatencyBucketTable {
  /** Highest value equivalent to each bucket [ps]. */
  valuePs: Float64Array;
  count: Float64Array;
  cumulativeFraction: Float64Array;
}

export class LatencyRecorder {
  /** Counts by HDR index; grows to the largest index seen (at most about 45,000). */
  private counts = new Float64Array(4 * SUB_BUCKET_COUNT);
  private maxIndex = -1;
  /** The library histogram, refilled from counts when stale. */
  private readonly histogram: Float64Histogram;
  private isHistogramStale = false;
  count = 0;
  private meanPs = AS_DOUBLE;
  private m2 = AS_DOUBLE;
  private minPs = Infinity;
  private maxPs = AS_DOUBLE;

  constructor() {
    this.meanPs = this.m2 = this.maxPs = 0;
    this.histogram = new Float64Histogram(1, 2, 3);
    this.histogram.autoResize = true;
  }

  /** Records one latency [ps]; a negative, NaN or infinite value is a model bug and throws. */
  record(valuePs: number): void {
    if (!(valuePs >= 0 && valuePs <= MAX_VALUE_PS)) {
      throw new RangeError(`latency recorder: value must be a finite number >= 0 ps, got ${valuePs}`);
    }
    const v = valuePs < 1 ? 1 : Math.round(valuePs);
    const index = hdrIndex(v);
    if (index >= this.counts.length) this.growCounts(index);
    this.counts[index]!++;
    if (index > this.maxIndex) this.maxIndex = index;
    this.isHistogramStale = true;
    const n = ++this.count;
    const delta = valuePs - this.meanPs;
    this.meanPs += delta / n;
    this.m2 += delta * (valuePs - this.meanPs);
    if (valuePs < this.minPs) this.minPs = valuePs;
    if (valuePs > this.maxPs) this.maxPs = valuePs;
  }

  get mean(): number {
    return this.count > 0 ? this.meanPs : 0;
  }
  get variance(): number {
    return this.count > 1 ? this.m2 / (this.count - 1) : 0;
  }
  get max(): number {
    return this.count > 0 ? this.maxPs : 0;
  }
  get min(): number {
    return this.count > 0 ? this.minPs : 0;
  }

  /** Counters held, whatever the number of values recorded (bounded memory). */
  get bucketCapacity(): number {
    return this.counts.length;
  }

  /** Value at a quantile q in [0, 1] [ps]; 0 when nothing was recorded. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    if (q >= 1) return this.maxPs;
    return this.synced().getValueAtPercentile(q * 100);
  }

  /**
   * The non-empty buckets in increasing order, for CDF plots: each bucket's highest
   * equivalent value, its count and the cumulative fraction up to it. The same buckets
   * and values as the library's recordedValuesIterator with highestEquivalentValue()
   * (test/metrics checks it), read straight from our counts: the iterator allocates an
   * object per step, and a run has some 10^4 buckets.
   */
  bucketTable(): LatencyBucketTable {
    let n = 0;
    const counts = this.counts;
    for (let i = 0; i <= this.maxIndex; i++) if (counts[i]! > 0) n++;
    const table = { valuePs: new Float64Array(n), count: new Float64Array(n), cumulativeFraction: new Float64Array(n) };
    if (this.count === 0) return table;
    let k = 0;
    let cumulative = 0;
    for (let i = 0; i <= this.maxIndex; i++) {
      const c = counts[i]!;
      if (c === 0) continue;
      cumulative += c;
      table.valuePs[k] = hdrHighestEquivalentAt(i);
      table.count[k] = c;
      table.cumulativeFraction[k] = cumulative / this.count;
      k++;
    }
    return table;
  }

  /** bucketTable() as objects. */
  buckets(): LatencyBucket[] {
    const t = this.bucketTable();
    return Array.from(t.valuePs, (valuePs, k) => ({ valuePs, count: t.count[k]!, cumulativeFraction: t.cumulativeFraction[k]! }));
  }

  /** The library histogram with every recorded count in it. */
  private synced(): Float64Histogram {
    if (this.isHistogramStale) {
      const h = this.histogram;
      h.reset();
      const counts = this.counts;
      for (let i = 0; i <= this.maxIndex; i++) {
        const c = counts[i]!;
        if (c > 0) h.recordValueWithCount(hdrValueAt(i), c);
      }
      this.isHistogramStale = false;
    }
    return this.histogram;
  }

  private growCounts(index: number): void {
    let size = this.counts.length;
    while (size <= index) size *= 2;
    const grown = new Float64Array(size);
    grown.set(this.counts);
    this.counts = grown;
  }
}
