/**
 * Simulated time: an integer count of picoseconds, held in a JS number.
 * 2^53 ps is about 2.5 hours of simulated time, far beyond any run here.
 * Build durations with ps()/ns()/us()/ms()/seconds(); never write bare literals.
 */
export type TimePs = number;

export const PS_PER_NS = 1_000;
export const PS_PER_US = 1_000_000;
export const PS_PER_MS = 1_000_000_000;
export const PS_PER_S = 1_000_000_000_000;

/** The simulator's last time: integers stay exact up to 2^53 ps (about 2.5 hours). */
export const MAX_TIME_PS = Number.MAX_SAFE_INTEGER;

/** A duration in picoseconds, rounded to the nearest integer picosecond. */
export function ps(value: number): TimePs {
  return Math.round(value);
}
export function ns(value: number): TimePs {
  return Math.round(value * PS_PER_NS);
}
export function us(value: number): TimePs {
  return Math.round(value * PS_PER_US);
}
export function ms(value: number): TimePs {
  return Math.round(value * PS_PER_MS);
}
export function seconds(value: number): TimePs {
  return Math.round(value * PS_PER_S);
}

/** Picoseconds to (fractional) nanoseconds, the unit of every output file. */
export function psToNs(timePs: TimePs): number {
  return timePs / PS_PER_NS;
}

/** A human-readable time for messages and traces, e.g. "1.250us". */
export function formatTime(timePs: TimePs): string {
  const abs = Math.abs(timePs);
  if (abs >= PS_PER_S) return `${(timePs / PS_PER_S).toFixed(6)}s`;
  if (abs >= PS_PER_MS) return `${(timePs / PS_PER_MS).toFixed(3)}ms`;
  if (abs >= PS_PER_US) return `${(timePs / PS_PER_US).toFixed(3)}us`;
  if (abs >= PS_PER_NS) return `${(timePs / PS_PER_NS).toFixed(3)}ns`;
  return `${timePs}ps`;
}

/**
 * Initial value for fields that will hold times or sums of times. V8 gives a field first
 * set to a small integer an integer representation, and converts it (deoptimizing every
 * function that uses it) the first time it holds a larger number, such as a time past
 * 2^31 ps = 2.1 ms. Such fields are declared `= AS_DOUBLE` and then set to their real
 * initial value (0) in the constructor, so they are doubles from the start.
 */
export const AS_DOUBLE = 0.5;
