/**
 * The simulator: a clock and a pending-event set, nothing else. No global state, so
 * several simulations can run side by side in one process.
 */
import { EventQueue, type EventFn, type EventHandle, type RunClock } from './event-queue.js';
import { InputError } from '../util/input-error.js';
import { AS_DOUBLE, MAX_TIME_PS, formatTime, type TimePs } from './time.js';

export interface RunLimits {
  /** Stop before the first event later than this time [ps]; the clock ends here. */
  untilPs?: TimePs;
  /** Stop after this many events have run in this call. */
  maxEvents?: number;
}

/**
 * A run that needs more simulated time than the clock holds: ops that take too long, or
 * too many of them at a slow rate. The input's doing (planning refuses what it can foresee:
 * scenario/setup-check.ts), so it is an InputError, answered with exit status 2.
 */
export class ClockEndError extends InputError {
  constructor(nowPs: TimePs) {
    super(
      `the run reached the end of the simulator's clock (2^53 ps, about 2.5 hours of simulated time) at ${formatTime(nowPs)} before its ops finished; lower workload.ops or make its ops quicker (times, rates)`,
    );
  }
}

function badDelay(method: string, delayPs: number, nowPs: TimePs): never {
  // a valid delay that ends past the clock: the run needs more time than it has
  if (Number.isInteger(delayPs) && delayPs >= 0) throw new ClockEndError(nowPs);
  throw new RangeError(`${method}: delay must be a non-negative integer of picoseconds, got ${delayPs}`);
}

export class Simulator implements RunClock {
  /** Current simulated time [ps]. */
  nowPs: TimePs = AS_DOUBLE;
  /** Events run since creation. */
  eventsProcessed = 0;
  /** Set by stop(); the event loop reads it after each event. Not for callers to touch. */
  stopRequested = false;
  private readonly queue: EventQueue;

  constructor(initialCapacity = 1024) {
    this.nowPs = 0;
    this.queue = new EventQueue(initialCapacity);
  }

  /** Number of live pending events. */
  get pending(): number {
    return this.queue.size;
  }

  /** Runs fn(arg) after delayPs (a non-negative integer) from now; returns a handle for cancel(). */
  schedule<A>(delayPs: TimePs, fn: EventFn<A>, arg: A): EventHandle;
  schedule(delayPs: TimePs, fn: EventFn<undefined>): EventHandle;
  schedule<A>(delayPs: TimePs, fn: EventFn<A>, arg?: A): EventHandle {
    const queue = this.queue;
    const timePs = this.nowPs + delayPs;
    // Rejects negative, fractional, NaN and infinite delays, and times past 2^53 ps.
    if (!(delayPs >= 0 && timePs <= MAX_TIME_PS) || delayPs !== Math.floor(delayPs)) badDelay('schedule', delayPs, this.nowPs);
    queue.nextTimePs = timePs;
    return queue.pushAtNextTime(fn, arg as A);
  }

  /**
   * schedule() for an event nobody will cancel: no handle is returned or kept, which
   * spares the queue's handle bookkeeping. Ordering is the same as schedule()'s (equal
   * times run first-in first-out across both).
   */
  post<A>(delayPs: TimePs, fn: EventFn<A>, arg: A): void;
  post(delayPs: TimePs, fn: EventFn<undefined>): void;
  post<A>(delayPs: TimePs, fn: EventFn<A>, arg?: A): void {
    const queue = this.queue;
    const timePs = this.nowPs + delayPs;
    if (!(delayPs >= 0 && timePs <= MAX_TIME_PS) || delayPs !== Math.floor(delayPs)) badDelay('post', delayPs, this.nowPs);
    queue.nextTimePs = timePs;
    queue.postAtNextTime(fn, arg as A);
  }

  /** Runs fn(arg) at absolute time timePs (not in the past, an integer). */
  at<A>(timePs: TimePs, fn: EventFn<A>, arg: A): EventHandle;
  at(timePs: TimePs, fn: EventFn<undefined>): EventHandle;
  at<A>(timePs: TimePs, fn: EventFn<A>, arg?: A): EventHandle {
    if (!(timePs >= this.nowPs && timePs <= MAX_TIME_PS) || timePs !== Math.floor(timePs)) this.badTime(timePs);
    const queue = this.queue;
    queue.nextTimePs = timePs;
    return queue.pushAtNextTime(fn, arg as A);
  }

  private badTime(timePs: number): never {
    if (Number.isInteger(timePs) && timePs >= this.nowPs) throw new ClockEndError(this.nowPs);
    throw new RangeError(`at: time must be an integer not before now (${formatTime(this.nowPs)}), got ${timePs}`);
  }

  /** Cancels a pending event; false when it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    return this.queue.cancel(handle);
  }

  /** Makes the current run() return after the event in progress. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Time of the next live event, or Infinity. */
  peekTimePs(): number {
    return this.queue.peekTime();
  }

  /**
   * Runs events in (time, insertion) order until the queue is empty, stop() is called,
   * the next event is later than untilPs, or maxEvents have run. Returns events run.
   */
  run(limits?: RunLimits): number {
    const untilPs = limits?.untilPs ?? Infinity;
    const maxEvents = limits?.maxEvents ?? Infinity;
    this.stopRequested = false;
    const first = this.eventsProcessed;
    // Without limits, a loop that checks none (the usual case, and the fastest).
    if (untilPs === Infinity && maxEvents === Infinity) this.queue.runAll(this);
    else this.queue.runLimited(this, untilPs, maxEvents);
    const count = this.eventsProcessed - first;
    if (untilPs !== Infinity && !this.stopRequested && count < maxEvents && untilPs > this.nowPs) {
      this.nowPs = untilPs;
    }
    return count;
  }
}
