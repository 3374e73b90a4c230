export { EventQueue, type EventFn, type EventHandle } from './event-queue.js';
export { Simulator, type RunLimits } from './simulator.js';
export { deriveStream, RandomStreams, type Rng } from './random.js';
export {
  Constant, Empirical, Exponential, Gamma, Lognormal, TruncatedNormal, Uniform, erf,
  standardExponential, standardNormal,
  type Distribution,
} from './distributions.js';
export * from './time.js';
