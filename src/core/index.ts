export { EventQueue, type EventFn, type EventHandle, type RunClock } from './event-queue.js';
export { Simulator, type RunLimits } from './simulator.js';
export { deriveStream, RandomStreams, Xor4096, type Rng } from './random.js';
export {
  Constant, Empirical, Exponential, Gamma, Lognormal, TruncatedNormal, Uniform, erf,
  roundHalfUp, standardExponential, standardNormal,
  type Distribution,
} from './distributions.js';
export * from './time.js';
