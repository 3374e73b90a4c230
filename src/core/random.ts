/**
 * Named random streams. Every draw comes from a stream derived from
 * (seed, replication, name), so adding an actor or a stream never changes the draws of
 * another (the ns-3 "first use" hazard).
 *
 * Generator: seedrandom's xor4096 (Brent's xorgens 4096-bit xorshift with a Weyl
 * sequence; period 2^4096 - 1 times the Weyl period, passes TestU01 BigCrush per
 * Brent 2007). Its string seeding mixes every character of the name into the state and
 * then discards 512 outputs, so similar names give unrelated streams. It replaced Alea
 * for speed. seedrandom computes the seeded state; draws then come from Xor4096 below,
 * the same generator step for step (same draws) in a form V8 inlines. Draws are
 * multiples of 2^-32 in [0, 1).
 */
import seedrandom from 'seedrandom';

/** A uniform generator on [0, 1) with 32-bit resolution. */
export interface Rng {
  (): number;
  /** Optional: the next draw's 32 bits as a signed integer (rng() is that over 2^32). */
  int32?: () => number;
  /** Optional: the generator itself (streams from deriveStream have it). */
  gen?: Xor4096;
}

/**
 * Brent's xor4096 with a Weyl sequence, step for step as seedrandom's xor4096 (so the
 * same seed gives the same draws), over a typed array in one class: every stream's
 * next() is then one monomorphic, inlinable method, where seedrandom's closures over a
 * plain array cost a closure call and tagged loads per draw.
 */
export class Xor4096 {
  /** x[0..127]: the xorshift state; x[128]: the Weyl sequence w; x[129]: the index i. */
  private readonly x: Int32Array;

  constructor(state: { x: readonly number[]; w: number; i: number }) {
    this.x = new Int32Array(130);
    this.x.set(state.x);
    this.x[128] = state.w;
    this.x[129] = state.i;
  }

  /** The next 32 bits as a signed integer. */
  next(): number {
    // All state in one typed array: every value is an untagged int32, so the additions
    // compile to plain 32-bit adds (a field holding w was a tagged number, added as a
    // double and truncated).
    const x = this.x;
    const w = (x[128]! + 0x61c88647) | 0;
    const i0 = x[129]!;
    let v = x[(i0 + 34) & 127]!;
    const i = (i0 + 1) & 127;
    let t = x[i]!;
    v ^= v << 13;
    t ^= t << 17;
    v ^= v >>> 15;
    t ^= t >>> 12;
    v ^= t;
    x[i] = v;
    x[128] = w;
    x[129] = i;
    return (v + (w ^ (w >>> 16))) | 0;
  }
}

/** Derives the stream for one name; pure function of its three inputs. */
export function deriveStream(seed: number, replication: number, name: string): Rng {
  // seedrandom seeds the state (mixing every character of the name, then 512 discarded
  // outputs); the draws then come from our copy of the generator.
  const seeded = seedrandom.xor4096(`iovsim/${seed}/${replication}/${name}`, { state: true });
  const state = seeded.state() as unknown as { X: number[]; w: number; i: number };
  const gen = new Xor4096({ x: state.X, w: state.w, i: state.i });
  const rng = (() => (gen.next() >>> 0) / 4294967296) as Rng;
  rng.int32 = () => gen.next();
  rng.gen = gen;
  return rng;
}

/** Hands out named streams for one (seed, replication); a name can be taken once. */
export class RandomStreams {
  private readonly taken = new Set<string>();

  constructor(
    readonly seed: number,
    readonly replication: number,
  ) {}

  stream(name: string): Rng {
    if (this.taken.has(name)) throw new Error(`random stream "${name}" is already in use`);
    this.taken.add(name);
    return deriveStream(this.seed, this.replication, name);
  }
}
