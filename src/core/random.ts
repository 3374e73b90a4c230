/**
 * Named random streams. Every draw comes from a stream derived from
 * (seed, replication, name), so adding an actor or a stream never changes the draws of
 * another (the ns-3 "first use" hazard).
 *
 * Generator: seedrandom's xor4096 (Brent's xorgens 4096-bit xorshift with a Weyl
 * sequence; period 2^4096 - 1 times the Weyl period, passes TestU01 BigCrush per
 * Brent 2007). Its string seeding mixes every character of the name into the state and
 * then discards 512 outputs, so similar names give unrelated streams. It replaced Alea
 * for speed: about 6-7 ns a draw here against about 10-11 ns (bench notes in
 * bench/bench.ts). Draws are multiples of 2^-32 in [0, 1).
 */
import seedrandom from 'seedrandom';

/** A uniform generator on [0, 1) with 32-bit resolution. */
export interface Rng {
  (): number;
  /** Optional: the next draw's 32 bits as a signed integer (rng() is that over 2^32). */
  int32?: () => number;
}

/** Derives the stream for one name; pure function of its three inputs. */
export function deriveStream(seed: number, replication: number, name: string): Rng {
  // The generator itself, not a wrapper closure: one call less per draw.
  return seedrandom.xor4096(`iovsim/${seed}/${replication}/${name}`);
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
