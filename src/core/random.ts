/**
 * Named random streams. Every draw comes from a stream derived from
 * (seed, replication, name) with seedrandom's Alea generator, so adding an actor or a
 * stream never changes the draws of another (the ns-3 "first use" hazard).
 */
import seedrandom from 'seedrandom';

/** A uniform generator on [0, 1). */
export type Rng = () => number;

/** Derives the stream for one name; pure function of its three inputs. */
export function deriveStream(seed: number, replication: number, name: string): Rng {
  const prng = seedrandom.alea(`iovsim/${seed}/${replication}/${name}`);
  return () => prng();
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
