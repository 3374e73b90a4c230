/**
 * A service station: c identical servers in front of one FIFO queue, optionally bounded.
 * When the queue is full an arrival is dropped and counted ('drop'), or refused so that
 * the sender holds it and retries when space frees ('block': blocking after service).
 *
 * Time integrals (number in system, busy servers) and per-visit wait and service sums
 * are kept from the last resetStats() on, for utilisation, Little's law, the waiting
 * probability (Erlang C) and the stage breakdown. Events carry the server index, so
 * serving allocates nothing.
 */
import type { Distribution } from '../core/distributions.js';
import type { Rng } from '../core/random.js';
import type { Simulator } from '../core/simulator.js';
import { AS_DOUBLE, type TimePs } from '../core/time.js';

export type WhenFull = 'drop' | 'block';

export interface StationOptions {
  name: string;
  servers: number;
  service: Distribution;
  rng: Rng;
  /** Waiting places, not counting jobs in service; Infinity for an unbounded queue. */
  queueCapacity?: number;
  whenFull?: WhenFull;
}

/**
 * Initial length of the waiting ring (a power of two; it doubles when full). Large
 * enough that a queue at load 0.9 rarely grows, and so rarely deoptimizes its callers by
 * taking the growth path for the first time after they were compiled.
 */
const INITIAL_QUEUE = 256;

export class Station<T> {
  readonly name: string;
  readonly servers: number;
  readonly queueCapacity: number;
  readonly whenFull: WhenFull;

  /**
   * Called when a job leaves service, with the time it finished [ps]; return false to
   * refuse it (the server then holds it, blocked, until retryBlocked()).
   */
  onDeparture: (job: T, readyPs: TimePs) => boolean = () => true;
  /** Called for each dropped arrival. */
  onDrop: (job: T) => void = () => {};
  /** Called when a place frees after an arrival was refused in 'block' mode. */
  onSpace: () => void = () => {};

  private readonly sim: Simulator;
  private readonly service: Distribution;
  private readonly rng: Rng;
  /** Where departing jobs go when chained by connectTo(); null: onDeparture decides. */
  private next: Station<T> | null = null;

  // FIFO queue as a growable ring buffer (a power-of-two length).
  private queueJobs: (T | undefined)[] = [];
  private queueSincePs = new Float64Array(0);
  /** When each queued job entered this station (sincePs may be earlier). */
  private queueArrivePs = new Float64Array(0);
  private queueHead = 0;
  private queueLength = 0;

  private readonly serverJob: (T | undefined)[];
  /** When each server's current service ends (or ended, for a blocked server). */
  private readonly serverDonePs: Float64Array;
  /** When the job on each server entered this station. */
  private readonly serverArrivePs: Float64Array;
  private readonly idleServers: Int32Array;
  private idleCount: number;
  private readonly blockedServers: number[] = [];
  private hasRefused = false;
  private readonly finishFn = (server: number): void => this.finish(server);

  // Statistics since the last reset. The time integrals are not updated on every change
  // of state but derived from per-job sums that are kept anyway (stats() adds the jobs
  // still present): the area under the number in system is the sojourns of the jobs
  // that left, plus the time in the window of those present, less the part before the
  // window of those present at the reset (areaInSystemBase); the busy-server area is
  // the service times started in the window, plus the part in the window of services
  // running at the reset (areaBusyBase), plus time blocked after service, less the part
  // after now of services still running.
  private statsSincePs = AS_DOUBLE;
  private areaInSystemBase = AS_DOUBLE;
  private areaBusyBase = AS_DOUBLE;
  private blockedSumPs = AS_DOUBLE;
  arrivals = 0;
  departures = 0;
  drops = 0;
  private waitSumPs = AS_DOUBLE;
  private serviceSumPs = AS_DOUBLE;
  private servedCount = 0;
  private waitedCount = 0;
  private sojournSumPs = AS_DOUBLE;

  constructor(sim: Simulator, options: StationOptions) {
    if (!(Number.isInteger(options.servers) && options.servers >= 1)) {
      throw new RangeError(`station ${options.name}: servers must be an integer >= 1`);
    }
    this.sim = sim;
    this.name = options.name;
    this.servers = options.servers;
    this.service = options.service;
    this.rng = options.rng;
    this.queueCapacity = options.queueCapacity ?? Infinity;
    this.whenFull = options.whenFull ?? 'drop';
    this.serverJob = packedArray<T>(this.servers);
    this.serverDonePs = new Float64Array(this.servers);
    this.serverArrivePs = new Float64Array(this.servers);
    this.idleServers = new Int32Array(this.servers);
    for (let i = 0; i < this.servers; i++) this.idleServers[i] = this.servers - 1 - i;
    this.idleCount = this.servers;
    // The ring buffer's fields are assigned twice so V8 sees them as mutable from the
    // start: the first growth then deoptimizes nothing.
    this.queueJobs = packedArray<T>(INITIAL_QUEUE);
    this.queueSincePs = new Float64Array(INITIAL_QUEUE);
    this.queueArrivePs = new Float64Array(INITIAL_QUEUE);
    this.statsSincePs = 0;
    this.areaInSystemBase = this.areaBusyBase = this.blockedSumPs = 0;
    this.waitSumPs = this.serviceSumPs = this.sojournSumPs = 0;
  }

  /** Jobs waiting plus jobs in (or blocked after) service. */
  get population(): number {
    return this.servers - this.idleCount + this.queueLength;
  }

  /**
   * Offers a job that has been waiting to enter since sincePs (now by default).
   * Returns false when it was dropped or refused.
   */
  arrive(job: T, sincePs?: TimePs): boolean {
    // Kept short (rare branches in helpers), so the compiler can inline it with the
    // service start and the event push behind it.
    if (this.idleCount === 0) return this.arriveBusy(job, sincePs);
    this.arrivals++;
    if (sincePs !== undefined) this.countWait(sincePs);
    const server = this.idleServers[--this.idleCount]!;
    this.serverArrivePs[server] = this.sim.nowPs;
    this.startService(server, job);
    return true;
  }

  /** arrive() when every server is busy: the job waits, or is dropped or refused. */
  private arriveBusy(job: T, sincePs: TimePs | undefined): boolean {
    if (this.queueLength >= this.queueCapacity) {
      if (this.whenFull === 'drop') {
        this.drops++;
        this.onDrop(job);
      } else {
        this.hasRefused = true;
      }
      return false;
    }
    this.arrivals++;
    this.enqueue(job, sincePs);
    return true;
  }

  /** Counts the wait of a job that was ready at sincePs and starts service now. */
  private countWait(sincePs: TimePs): void {
    const waitPs = this.sim.nowPs - sincePs;
    if (waitPs > 0) {
      this.waitSumPs += waitPs;
      this.waitedCount++;
    }
  }

  /**
   * Chains this station into `next`: departing jobs enter it directly (a monomorphic
   * call, cheaper than an onDeparture closure per station). A job that `next` drops is
   * gone (its onDrop ran) and frees this server; a job it refuses ('block' mode) stays
   * on this server, blocked, and next's onSpace retries it.
   */
  connectTo(next: Station<T>): void {
    this.next = next;
    next.onSpace = () => this.retryBlocked();
  }

  /** Retries jobs held by blocked servers; the downstream calls this when it has room. */
  retryBlocked(): void {
    while (this.blockedServers.length > 0) {
      const server = this.blockedServers[0]!;
      const job = this.serverJob[server]!;
      const next = this.next;
      const isAccepted =
        next !== null
          ? next.arrive(job, this.serverDonePs[server]!) || next.whenFull === 'drop'
          : this.onDeparture(job, this.serverDonePs[server]!);
      if (!isAccepted) return;
      this.blockedServers.shift();
      const donePs = this.serverDonePs[server]!;
      this.blockedSumPs += this.sim.nowPs - Math.max(donePs, this.statsSincePs);
      this.release(server);
    }
  }

  /** Starts a new measurement window: time integrals and per-visit sums restart now. */
  resetStats(): void {
    const now = this.sim.nowPs;
    this.statsSincePs = now;
    // Jobs present now: their time before now is outside the new window.
    let inSystemBase = 0;
    let busyBase = 0;
    for (let s = 0; s < this.servers; s++) {
      if (this.isServerIdle(s)) continue;
      inSystemBase -= now - this.serverArrivePs[s]!;
      if (!this.blockedServers.includes(s)) busyBase += this.serverDonePs[s]! - now;
    }
    const mask = this.queueJobs.length - 1;
    for (let i = 0; i < this.queueLength; i++) inSystemBase -= now - this.queueArrivePs[(this.queueHead + i) & mask]!;
    this.areaInSystemBase = inSystemBase;
    this.areaBusyBase = busyBase;
    this.blockedSumPs = 0;
    this.arrivals = 0;
    this.departures = 0;
    this.drops = 0;
    this.waitSumPs = 0;
    this.serviceSumPs = 0;
    this.servedCount = 0;
    this.waitedCount = 0;
    this.sojournSumPs = 0;
  }

  /** Statistics over the window since the last reset, up to now. */
  stats(): StationStats {
    const now = this.sim.nowPs;
    const since = this.statsSincePs;
    const windowPs = now - since;
    let areaInSystem = this.areaInSystemBase + this.sojournSumPs;
    let areaBusy = this.areaBusyBase + this.serviceSumPs + this.blockedSumPs;
    for (let s = 0; s < this.servers; s++) {
      if (this.isServerIdle(s)) continue;
      areaInSystem += now - this.serverArrivePs[s]!;
      const donePs = this.serverDonePs[s]!;
      if (this.blockedServers.includes(s)) areaBusy += now - Math.max(donePs, since);
      else areaBusy -= donePs - now;
    }
    const mask = this.queueJobs.length - 1;
    for (let i = 0; i < this.queueLength; i++) {
      areaInSystem += now - this.queueArrivePs[(this.queueHead + i) & mask]!;
    }
    return {
      name: this.name,
      servers: this.servers,
      windowPs,
      arrivals: this.arrivals,
      departures: this.departures,
      drops: this.drops,
      served: this.servedCount,
      meanInSystem: windowPs > 0 ? areaInSystem / windowPs : 0,
      utilisation: windowPs > 0 ? areaBusy / windowPs / this.servers : 0,
      waitMeanPs: this.servedCount > 0 ? this.waitSumPs / this.servedCount : 0,
      serviceMeanPs: this.servedCount > 0 ? this.serviceSumPs / this.servedCount : 0,
      waitProbability: this.servedCount > 0 ? this.waitedCount / this.servedCount : 0,
      sojournMeanPs: this.departures > 0 ? this.sojournSumPs / this.departures : 0,
    };
  }

  private isServerIdle(s: number): boolean {
    for (let i = 0; i < this.idleCount; i++) if (this.idleServers[i] === s) return true;
    return false;
  }

  /** Starts serving a job on an idle server; the caller has accounted its wait. */
  private startService(server: number, job: T): void {
    const servicePs = this.service.sampleRounded(this.rng);
    this.serverJob[server] = job;
    this.serverDonePs[server] = this.sim.nowPs + servicePs;
    this.serviceSumPs += servicePs;
    this.servedCount++;
    this.sim.post(servicePs, this.finishFn, server);
  }

  private finish(server: number): void {
    const job = this.serverJob[server] as T;
    const next = this.next;
    const isAccepted =
      next !== null ? next.arrive(job) || next.whenFull === 'drop' : this.onDeparture(job, this.sim.nowPs);
    if (isAccepted) {
      this.release(server);
    } else {
      // Blocked after service: the server keeps the job until the downstream has room.
      this.blockedServers.push(server);
    }
  }

  /** The job on `server` leaves; the next queued job, if any, starts on it. */
  private release(server: number): void {
    const now = this.sim.nowPs;
    this.departures++;
    this.sojournSumPs += now - this.serverArrivePs[server]!;
    if (this.queueLength > 0) {
      const head = this.queueHead;
      const waitPs = now - this.queueSincePs[head]!;
      this.serverArrivePs[server] = this.queueArrivePs[head]!;
      if (waitPs > 0) {
        this.waitSumPs += waitPs;
        this.waitedCount++;
      }
      const job = this.queueJobs[head] as T;
      this.queueJobs[head] = undefined;
      this.queueHead = (head + 1) & (this.queueJobs.length - 1);
      this.queueLength--;
      this.startService(server, job);
    } else {
      this.serverJob[server] = undefined;
      this.idleServers[this.idleCount++] = server;
    }
    if (this.hasRefused === true) {
      this.hasRefused = false;
      this.onSpace();
    }
  }

  private enqueue(job: T, sincePs: TimePs | undefined): void {
    if (this.queueLength === this.queueJobs.length) this.growQueue();
    const tail = (this.queueHead + this.queueLength) & (this.queueJobs.length - 1);
    const now = this.sim.nowPs;
    this.queueJobs[tail] = job;
    // Two stores, not one of (sincePs ?? now): that value would merge a double with a
    // tagged one, and the compiler boxes the double in a new heap number on every call.
    if (sincePs === undefined) this.queueSincePs[tail] = now;
    else this.queueSincePs[tail] = sincePs;
    this.queueArrivePs[tail] = now;
    this.queueLength++;
  }

  private growQueue(): void {
    const cap = this.queueJobs.length;
    const jobs = packedArray<T>(cap * 2);
    const since = new Float64Array(cap * 2);
    const arrive = new Float64Array(cap * 2);
    for (let i = 0; i < this.queueLength; i++) {
      const j = (this.queueHead + i) & (cap - 1);
      jobs[i] = this.queueJobs[j];
      since[i] = this.queueSincePs[j]!;
      arrive[i] = this.queueArrivePs[j]!;
    }
    this.queueJobs = jobs;
    this.queueSincePs = since;
    this.queueArrivePs = arrive;
    this.queueHead = 0;
  }
}

/** n undefined elements in a packed array (new Array(n).fill() is holey: loads check for holes). */
function packedArray<T>(n: number): (T | undefined)[] {
  return Array.from({ length: n }, () => undefined);
}

export interface StationStats {
  name: string;
  servers: number;
  windowPs: number;
  arrivals: number;
  departures: number;
  drops: number;
  /** Jobs that started service in the window. */
  served: number;
  /** Time-averaged number of jobs waiting or in service (L in Little's law). */
  meanInSystem: number;
  /** Fraction of server time busy (blocked time included). */
  utilisation: number;
  /** Mean wait before service, counted from the sincePs given to arrive() (default: arrival). */
  waitMeanPs: number;
  serviceMeanPs: number;
  /** Fraction of the jobs served that waited before service (Erlang C for M/M/c). */
  waitProbability: number;
  /**
   * Mean time from entering this station to leaving it, blocked time included, over the
   * jobs that left in the window: with departures / windowPs it gives L by Little's law.
   * It differs from waitMeanPs + serviceMeanPs when jobs block: a job's wait counts from
   * sincePs (when it became ready, possibly while still held upstream), so the stages'
   * waits and services add up to the end-to-end latency, while the sojourn is this
   * station's own.
   */
  sojournMeanPs: number;
}
