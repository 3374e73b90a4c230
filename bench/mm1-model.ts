/**
 * The M/M/1 model of the engine benchmarks (`npm run bench` case (a), and
 * `npm run bench:instructions -- --case mm1`): one Station with exponential service
 * (mean 1 us) fed by Poisson arrivals at load 0.9, run until `customers` have left.
 */
import { Exponential } from '../src/core/distributions.js';
import { deriveStream } from '../src/core/random.js';
import { Simulator } from '../src/core/simulator.js';
import { us } from '../src/core/time.js';
import { Station } from '../src/primitives/station.js';

/** Builds and runs the model; returns the events run. Throws if a customer is missing. */
export function runMm1(customers: number, seed: number): number {
  const sim = new Simulator();
  const station = new Station<number>(sim, {
    name: 'server',
    servers: 1,
    service: new Exponential(us(1)),
    rng: deriveStream(seed, 0, 'bench/mm1/service'),
  });
  const gap = new Exponential(us(1) / 0.9);
  const gapRng = deriveStream(seed, 0, 'bench/mm1/gap');
  let arrived = 0;
  let departed = 0;
  station.onDeparture = () => {
    if (++departed === customers) sim.stop();
    return true;
  };
  const arrive = (): void => {
    station.arrive(arrived);
    if (++arrived < customers) sim.post(gap.sampleRounded(gapRng), arrive);
  };
  sim.post(gap.sampleRounded(gapRng), arrive);
  sim.run();
  if (departed !== customers) throw new Error(`mm1: ${departed} of ${customers} customers departed`);
  return sim.eventsProcessed;
}
