/**
 * Latency distribution with bounded memory: an HDR histogram (hdr-histogram-js) at three
 * significant digits, so any quantile is within 0.1% of the exact sample quantile,
 * plus the mean and variance by Welford's method (exact, not from buckets).
 * Values are recorded in integer picoseconds.
 */
import { Float64Histogram } from 'hdr-histogram-js';

export interface LatencyBucket {
  /** Highest value equivalent to the bucket [ps]. */
  valuePs: number;
  count: number;
  cumulativeFraction: number;
}

export class LatencyRecorder {
  private readonly histogram: Float64Histogram;
  count = 0;
  private meanPs = 0;
  private m2 = 0;
  private minPs = Infinity;
  private maxPs = 0;

  constructor() {
    this.histogram = new Float64Histogram(1, 2, 3);
    this.histogram.autoResize = true;
  }

  record(valuePs: number): void {
    const v = valuePs < 1 ? 1 : Math.round(valuePs);
    this.histogram.recordValue(v);
    this.count++;
    const delta = valuePs - this.meanPs;
    this.meanPs += delta / this.count;
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

  /** Value at a quantile q in [0, 1] [ps]; 0 when nothing was recorded. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    if (q >= 1) return this.maxPs;
    return this.histogram.getValueAtPercentile(q * 100);
  }

  /** The non-empty buckets in increasing order, for CDF plots. */
  buckets(): LatencyBucket[] {
    const out: LatencyBucket[] = [];
    if (this.count === 0) return out;
    const it = this.histogram.recordedValuesIterator;
    it.reset();
    let cumulative = 0;
    while (it.hasNext()) {
      const v = it.next();
      cumulative += v.countAddedInThisIterationStep;
      out.push({
        valuePs: this.histogram.highestEquivalentValue(v.valueIteratedTo),
        count: v.countAddedInThisIterationStep,
        cumulativeFraction: cumulative / this.count,
      });
    }
    return out;
  }
}
