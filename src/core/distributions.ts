/**
 * Random variates as pure functions of a stream. Each distribution knows its exact mean
 * and variance so tests and reports can compare draws with theory.
 * Values are in whatever unit the parameters are given in (the model uses picoseconds).
 */
import type { Rng } from './random.js';

export interface Distribution {
  sample(rng: Rng): number;
  /**
   * sample() rounded to the nearest integer (a duration in picoseconds, a size in bytes).
   * Prefer it on hot paths: an integer below 2^31 returns from a call that the compiler
   * did not inline without allocating a heap number, a fractional double does not.
   */
  sampleRounded(rng: Rng): number;
  readonly mean: number;
  readonly variance: number;
  /** Squared coefficient of variation, variance / mean^2 (0 when the mean is 0). */
  readonly scv: number;
}

/**
 * Math.round(v), exactly, for every v. For 0 < v < 2^31 it adds 0.5 and truncates to an
 * int32, which equals Math.round there (the sum is exact, or rounds within the same
 * integer) except at the one double 0.5 - 2^-54, where the sum rounds up to 1. That is
 * cheaper than V8's round-up-and-correct sequence and gives the compiler a small integer
 * (no heap number, no integer check before use as a delay). Tiny positive values take the
 * fast path too, so an optimized caller never meets the Math.round branch in practice.
 */
export function roundHalfUp(v: number): number {
  return v > 0 && v < 2147483647 && v !== HALF_BELOW ? (v + 0.5) | 0 : Math.round(v);
}

/** The largest double below 0.5: 0.5 + it rounds to 1. */
const HALF_BELOW = 0.49999999999999994;

function scvOf(mean: number, variance: number): number {
  return mean === 0 ? 0 : variance / (mean * mean);
}

export class Constant implements Distribution {
  readonly variance = 0;
  readonly scv = 0;
  constructor(readonly mean: number) {}
  sample(): number {
    return this.mean;
  }
  sampleRounded(): number {
    return Math.round(this.mean);
  }
}

export class Uniform implements Distribution {
  readonly mean: number;
  readonly variance: number;
  readonly scv: number;
  constructor(
    readonly min: number,
    readonly max: number,
  ) {
    if (!(max >= min)) throw new RangeError('uniform: max must be at least min');
    this.mean = (min + max) / 2;
    this.variance = ((max - min) * (max - min)) / 12;
    this.scv = scvOf(this.mean, this.variance);
  }
  sample(rng: Rng): number {
    return this.min + (this.max - this.min) * rng();
  }
  sampleRounded(rng: Rng): number {
    return roundHalfUp(this.sample(rng));
  }
}

export class Exponential implements Distribution {
  readonly variance: number;
  readonly scv = 1;
  constructor(readonly mean: number) {
    if (!(mean > 0)) throw new RangeError('exponential: mean must be positive');
    this.variance = mean * mean;
  }
  sample(rng: Rng): number {
    return this.mean * standardExponential(rng);
  }
  sampleRounded(rng: Rng): number {
    // standardExponential() and roundHalfUp() written out: whether or not the compiler
    // inlines this method, no double crosses a call (each would be a heap number).
    const j = bits32(rng);
    const i = j & 255;
    const k = j >>> 8;
    const v = this.mean * (k < zigK[i]! ? k * zigW[i]! : +exponentialSlow(rng, i, k));
    return v > 0 && v < 2147483647 && v !== HALF_BELOW ? (v + 0.5) | 0 : Math.round(v);
  }
}

/**
 * The next 32 random bits of a stream as a signed integer: the same bits as
 * rng() * 2^32 (callers take bit fields with & and >>>, which read them alike). Streams
 * from deriveStream carry their generator (gen), whose next() is one monomorphic method
 * that V8 inlines; other streams may offer int32(). Signed, so that the result is a small
 * integer even when this call is not inlined (an unsigned value from 2^31 on would be a
 * heap number); rng() boxes its fractional result on every draw.
 */
function bits32(rng: Rng): number {
  const gen = rng.gen;
  return gen !== undefined ? gen.next() : bits32Other(rng);
}

function bits32Other(rng: Rng): number {
  const int32 = rng.int32;
  return int32 !== undefined ? int32() | 0 : (rng() * 4294967296) | 0;
}

/*
 * Exponential(1) by the ziggurat method (Marsaglia and Tsang, "The ziggurat method for
 * generating random variables", J. Stat. Softw. 5(8), 2000, procedure REXP/efix) with
 * 256 layers. One 32-bit draw gives the layer (low 8 bits) and the abscissa (high 24
 * bits); about 98.9% of draws return after one multiply and compare, with no logarithm.
 * The wedge and tail tests make it exact (up to the 2^-24 grid within a layer).
 */
const ZIG_N = 256;
const ZIG_R = 7.69711747013104972; // start of the tail
const ZIG_V = 3.949659822581572e-3; // area of each layer
const ZIG_M = 16777216; // 2^24 abscissa steps per layer
const zigK = new Int32Array(ZIG_N); // below 2^24, compared with 24-bit integers
const zigW = new Float64Array(ZIG_N);
const zigF = new Float64Array(ZIG_N);
{
  let de = ZIG_R;
  let te = de;
  const q = ZIG_V / Math.exp(-de);
  zigK[0] = Math.floor((de / q) * ZIG_M);
  zigK[1] = 0;
  zigW[0] = q / ZIG_M;
  zigW[ZIG_N - 1] = de / ZIG_M;
  zigF[0] = 1;
  zigF[ZIG_N - 1] = Math.exp(-de);
  for (let i = ZIG_N - 2; i >= 1; i--) {
    de = -Math.log(ZIG_V / de + Math.exp(-de));
    zigK[i + 1] = Math.floor((de / te) * ZIG_M);
    te = de;
    zigF[i] = Math.exp(-de);
    zigW[i] = de / ZIG_M;
  }
}

/** One Exponential(1) variate. */
export function standardExponential(rng: Rng): number {
  const j = bits32(rng);
  const i = j & 255;
  const k = j >>> 8;
  if (k < zigK[i]!) return k * zigW[i]!;
  return +exponentialSlow(rng, i, k);
}

function exponentialSlow(rng: Rng, i: number, k: number): number {
  for (;;) {
    if (i === 0) return ZIG_R - Math.log(1 - rng());
    const x = k * zigW[i]!;
    if (zigF[i]! + rng() * (zigF[i - 1]! - zigF[i]!) < Math.exp(-x)) return x;
    const j = bits32(rng);
    i = j & 255;
    k = j >>> 8;
    if (k < zigK[i]!) return k * zigW[i]!;
  }
}

/*
 * Normal(0, 1) by the ziggurat method (Marsaglia and Tsang 2000, procedure RNOR/nfix)
 * with 128 layers. One 32-bit draw gives the layer (low 7 bits), the sign (bit 7) and
 * the magnitude (high 24 bits); about 98.8% of draws return after one multiply and
 * compare. The wedge test and Marsaglia's tail method (beyond r = 3.4426) make it exact
 * (up to the 2^-24 grid within a layer). No state is kept between calls, so a
 * distribution shared by several streams never mixes their draws.
 */
const NOR_N = 128;
const NOR_R = 3.442619855899; // start of the tail
const NOR_V = 9.91256303526217e-3; // area of each layer
const norK = new Int32Array(NOR_N); // below 2^24, compared with 24-bit integers
const norW = new Float64Array(NOR_N);
const norF = new Float64Array(NOR_N);
{
  let dn = NOR_R;
  let tn = dn;
  const q = NOR_V / Math.exp(-0.5 * dn * dn);
  norK[0] = Math.floor((dn / q) * ZIG_M);
  norK[1] = 0;
  norW[0] = q / ZIG_M;
  norW[NOR_N - 1] = dn / ZIG_M;
  norF[0] = 1;
  norF[NOR_N - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = NOR_N - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(NOR_V / dn + Math.exp(-0.5 * dn * dn)));
    norK[i + 1] = Math.floor((dn / tn) * ZIG_M);
    tn = dn;
    norF[i] = Math.exp(-0.5 * dn * dn);
    norW[i] = dn / ZIG_M;
  }
}

/** One standard normal variate. */
export function standardNormal(rng: Rng): number {
  const j = bits32(rng);
  const i = j & 127;
  const k = j >>> 8;
  if (k < norK[i]!) return j & 128 ? -k * norW[i]! : k * norW[i]!;
  return +normalSlow(rng, j);
}

function normalSlow(rng: Rng, j: number): number {
  for (;;) {
    const i = j & 127;
    const k = j >>> 8;
    const sign = j & 128 ? -1 : 1;
    if (k < norK[i]!) return sign * k * norW[i]!;
    if (i === 0) {
      // Tail beyond NOR_R: Marsaglia (1964).
      let x: number, y: number;
      do {
        x = -Math.log(1 - rng()) / NOR_R;
        y = -Math.log(1 - rng());
      } while (y + y < x * x);
      return sign * (NOR_R + x);
    }
    const x = k * norW[i]!;
    if (norF[i]! + rng() * (norF[i - 1]! - norF[i]!) < Math.exp(-0.5 * x * x)) return sign * x;
    j = bits32(rng);
  }
}

/** Error function, Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7). */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-ax * ax);
  return sign * y;
}

/**
 * Normal(mu, sigma) truncated to [0, inf) by rejection, so the result is a true
 * truncated normal; mean and variance are the truncated moments.
 */
export class TruncatedNormal implements Distribution {
  readonly mean: number;
  readonly variance: number;
  readonly scv: number;
  constructor(
    readonly mu: number,
    readonly sigma: number,
  ) {
    if (!(sigma >= 0)) throw new RangeError('normal: stdev must be non-negative');
    if (sigma === 0) {
      if (mu < 0) throw new RangeError('normal: mean must be non-negative when stdev is 0');
      this.mean = mu;
      this.variance = 0;
    } else {
      const alpha = -mu / sigma;
      const phi = Math.exp(-0.5 * alpha * alpha) / Math.sqrt(2 * Math.PI);
      const z = 1 - 0.5 * (1 + erf(alpha / Math.SQRT2));
      if (z < 1e-6) throw new RangeError('normal: mean is too far below zero for truncation');
      const lambda = phi / z;
      this.mean = mu + sigma * lambda;
      this.variance = sigma * sigma * (1 + alpha * lambda - lambda * lambda);
    }
    this.scv = scvOf(this.mean, this.variance);
  }
  sample(rng: Rng): number {
    if (this.sigma === 0) return this.mu;
    for (;;) {
      const x = this.mu + this.sigma * standardNormal(rng);
      if (x >= 0) return x;
    }
  }
  sampleRounded(rng: Rng): number {
    return roundHalfUp(this.sample(rng));
  }
}

/** Lognormal given its own mean and coefficient of variation (not those of the log). */
export class Lognormal implements Distribution {
  readonly variance: number;
  readonly scv: number;
  private readonly muLog: number;
  private readonly sigmaLog: number;
  constructor(
    readonly mean: number,
    readonly cv: number,
  ) {
    if (!(mean > 0)) throw new RangeError('lognormal: mean must be positive');
    if (!(cv > 0)) throw new RangeError('lognormal: cv must be positive');
    const s2 = Math.log(1 + cv * cv);
    this.sigmaLog = Math.sqrt(s2);
    this.muLog = Math.log(mean) - s2 / 2;
    this.variance = (cv * mean) ** 2;
    this.scv = cv * cv;
  }
  sample(rng: Rng): number {
    return Math.exp(this.muLog + this.sigmaLog * standardNormal(rng));
  }
  sampleRounded(rng: Rng): number {
    return roundHalfUp(this.sample(rng));
  }
}

/**
 * Gamma with a real shape k and a mean; integer k is the Erlang-k distribution, sampled
 * as the sum of k exponentials when k <= ERLANG_SUM_MAX (k ziggurat draws are cheaper
 * than Marsaglia-Tsang's normal, uniform and logarithm).
 */
export class Gamma implements Distribution {
  readonly variance: number;
  readonly scv: number;
  private readonly scale: number;
  /** k when k is an integer up to ERLANG_SUM_MAX, else 0. */
  private readonly erlangK: number;
  constructor(
    readonly mean: number,
    readonly shape: number,
  ) {
    if (!(mean > 0)) throw new RangeError('gamma: mean must be positive');
    if (!(shape > 0)) throw new RangeError('gamma: shape must be positive');
    this.scale = mean / shape;
    this.variance = shape * this.scale * this.scale;
    this.scv = 1 / shape;
    this.erlangK = Number.isInteger(shape) && shape <= ERLANG_SUM_MAX ? shape : 0;
  }
  sample(rng: Rng): number {
    const k = this.erlangK;
    if (k === 0) return this.scale * sampleGammaUnit(this.shape, rng);
    let sum = 0;
    for (let i = 0; i < k; i++) sum += standardExponential(rng);
    return this.scale * sum;
  }
  sampleRounded(rng: Rng): number {
    return roundHalfUp(this.sample(rng));
  }
}

const ERLANG_SUM_MAX = 16;

/** Marsaglia and Tsang (2000); shape < 1 by the boost x * U^(1/k). */
function sampleGammaUnit(k: number, rng: Rng): number {
  if (k < 1) return sampleGammaUnit(k + 1, rng) * Math.pow(1 - rng(), 1 / k);
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      x = standardNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A discrete distribution over given values with non-negative weights. */
export class Empirical implements Distribution {
  readonly mean: number;
  readonly variance: number;
  readonly scv: number;
  private readonly values: Float64Array;
  private readonly cumulative: Float64Array;
  constructor(values: readonly number[], weights: readonly number[]) {
    if (values.length === 0 || values.length !== weights.length) {
      throw new RangeError('empirical: values and weights must be non-empty and of equal length');
    }
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0) || weights.some((w) => !(w >= 0))) {
      throw new RangeError('empirical: weights must be non-negative with a positive sum');
    }
    this.values = Float64Array.from(values);
    this.cumulative = new Float64Array(values.length);
    let acc = 0, m = 0, m2 = 0;
    for (let i = 0; i < values.length; i++) {
      const p = weights[i]! / total;
      acc += p;
      this.cumulative[i] = acc;
      m += p * values[i]!;
      m2 += p * values[i]! * values[i]!;
    }
    this.cumulative[values.length - 1] = 1;
    this.mean = m;
    this.variance = Math.max(0, m2 - m * m);
    this.scv = scvOf(m, this.variance);
  }
  sample(rng: Rng): number {
    const u = rng();
    const c = this.cumulative;
    let lo = 0, hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (u < c[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return this.values[lo]!;
  }
  sampleRounded(rng: Rng): number {
    return roundHalfUp(this.sample(rng));
  }
}
