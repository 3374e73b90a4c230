/**
 * Host CPU: cores, and threads pinned to them that contend for the core.
 *
 * A thread runs work as a chain of `exec(ps, fn, arg)` steps: it holds its core for `ps`,
 * then `fn(arg)` runs and either calls `exec` again, `idle()` (no more work) or `block()`
 * (waiting for a lock). Another actor hands it work by `wake()` (an eventfd, a socket, an
 * interrupt): a sleeping thread pays its wake-up latency, a polling thread only notices
 * the work within its poll pickup time, and a running thread remembers the wake and runs
 * its loop once more before it may go idle (so a wake-up can never be lost).
 *
 * Idle behaviour per thread:
 * - `sleep`: releases the core; optionally polls for a window first (vhost busy loop).
 * - `halt-poll`: a vCPU in HLT: polls for `pollWindowPs` (KVM halt polling), then sleeps.
 * - `poll`: never sleeps (DPDK PMD): the core stays busy polling.
 * Polling costs no events: poll time is accounted lazily from the idle start to the wake.
 * A polling thread gives the core up when another thread on it becomes ready: at once for
 * halt-poll and busy loops (they check need_resched), at the end of its slice for a PMD.
 *
 * Threads sharing a core queue FIFO; switching between them costs `ctxSwitchPs`. A
 * thread keeps the core until it idles or blocks, or until its slice expires while
 * others wait; a thread woken from sleep preempts one that has run for the wake-up
 * granularity (CFS-like). Preemption cancels the running step and resumes it later.
 *
 * Accounting per thread over the measurement window: busy (steps and switches), poll.
 * cpu.csv's busy_fraction is busy + poll (the core is occupied), poll_fraction the poll
 * part of it.
 */
import type { Rng } from '../core/random.js';
import { AS_DOUBLE } from '../core/time.js';
import type { Simulator } from '../core/simulator.js';
import type { Counters } from '../metrics/counters.js';
import type { CpuRow } from '../metrics/run-result.js';
import { Fifo } from './fifo.js';

export type IdleMode = 'sleep' | 'poll' | 'halt-poll';

const IDLE = 0;
const WAKING = 1;
const READY = 2;
const RUNNING = 3;
const BLOCKED = 4;
/** HostThread.state values actors may test directly (cheaper than the getters in hot code). */
export const THREAD_IDLE = IDLE;
export const THREAD_RUNNING = RUNNING;

export interface HostCpuOptions {
  /** Cost of switching a core between two threads [ps]. */
  ctxSwitchPs: number;
  /** Slice a thread keeps a shared core while others wait [ps]. */
  slicePs: number;
  /** A thread woken from sleep preempts one that has run at least this long [ps]. */
  wakeupGranularityPs: number;
  counters: Counters;
  /** Coefficient of variation of jittered costs (uniform); 0 for exact costs. */
  jitterCv: number;
  /** Makes a named random stream (one per thread, for jitter). */
  stream: (name: string) => Rng;
}

export interface ThreadOptions {
  name: string;
  core: number;
  idleMode: IdleMode;
  /** From wake() to running when the thread slept [ps]. */
  wakeupPs: number;
  /** From wake() to running when the thread was polling [ps]. */
  pollPickupPs?: number;
  /** Poll window before sleeping, for `halt-poll` and `sleep` (busy loop) [ps]. */
  pollWindowPs?: number;
  /** Counted in the summary's host_cpu_cores (false for the remote peer). */
  isHost?: boolean;
}

class Core {
  current: HostThread | null = null;
  /** Threads pinned to this core (paths add them all before the run starts). */
  threadCount = 0;
  lastRan: HostThread | null = null;
  /**
   * Threads ready to run, in order (a ring that keeps its storage: an array emptied by
   * `length = 0` reallocated at the next push, about 120 bytes per emulated request).
   */
  readonly ready = new Fifo<HostThread>();
  isSliceCheckPending = false;
  /** When the last thread to leave actually stops using the core (after its tail work) [ps]. */
  freeAtPs = AS_DOUBLE;
  constructor(
    readonly index: number,
    readonly cpu: HostCpu,
  ) {
    this.freeAtPs = 0;
  }
}

const noop = (): void => {};

function execDone(t: HostThread): void {
  t.finishExec();
}
function wakeDone(t: HostThread): void {
  t.cpu.arrive(t);
}
function switchDone(t: HostThread): void {
  t.resume();
}
function sliceCheck(core: Core): void {
  core.cpu.sliceCheck(core);
}

export class HostThread {
  readonly name: string;
  readonly coreIndex: number;
  readonly idleMode: IdleMode;
  readonly isHost: boolean;
  wakeupPs = AS_DOUBLE;
  pollPickupPs = AS_DOUBLE;
  pollWindowPs = AS_DOUBLE;
  /** The actor's loop: called when the thread gets the CPU after a wake-up. */
  onRun: () => void = noop;

  /** @internal */ state = IDLE;
  /** @internal */ readonly core: Core;
  private readonly sim: Simulator;
  private readonly slicePs: number;
  isExecuting = false;
  private hasWakePending = false;
  private idleSincePs = AS_DOUBLE;
  private idleWindowPs = AS_DOUBLE;
  /** @internal */ sliceStartPs = AS_DOUBLE;
  /**
   * @internal Wake-up latency and steps computed ahead still to elapse before a step
   * started now begins [ps] (a step started now begins at sim.nowPs + startDelayPs).
   */
  startDelayPs = AS_DOUBLE;
  /** @internal */ isWakee = false;
  /** End of the last step computed ahead (execAhead) [ps]. */
  aheadEndPs = AS_DOUBLE;
  /** idleMode === 'poll' (a PMD). */
  private readonly isPoller: boolean;
  private execFn: ((arg: any) => void) | null = null;
  private execArg: unknown = undefined;
  private execStartPs = AS_DOUBLE;
  private execEndPs = AS_DOUBLE;
  private execHandle = AS_DOUBLE;
  /** @internal The running step was scheduled with a handle (preemption can cancel it). */
  isStepCancellable = false;
  private hasPendingExec = false;
  private pendingPs = AS_DOUBLE;
  private blockedFn: ((arg: any) => void) | null = null;
  private blockedArg: unknown = undefined;
  /**
   * xorshift32 state, seeded once from the thread's named stream (cheap per draw); kept
   * in a typed array, so the 32-bit state is never boxed as a double.
   */
  private readonly jitterBits = new Int32Array(1);
  private readonly jitterSpread: number;

  // Accounting since accountFromPs [ps].
  private busyPs = AS_DOUBLE;
  private pollPs = AS_DOUBLE;
  private accountFromPs = AS_DOUBLE;
  /** Steps run, wake-ups from sleep, context switches (for tests and reports). */
  steps = 0;
  wakeupsFromSleep = 0;

  constructor(
    readonly cpu: HostCpu,
    core: Core,
    options: ThreadOptions,
  ) {
    this.name = options.name;
    this.coreIndex = options.core;
    this.core = core;
    this.sim = cpu.sim;
    this.slicePs = cpu.options.slicePs;
    this.idleMode = options.idleMode;
    this.isPoller = options.idleMode === 'poll';
    this.isHost = options.isHost ?? true;
    this.wakeupPs = options.wakeupPs;
    this.pollPickupPs = options.pollPickupPs ?? 0;
    this.pollWindowPs = options.idleMode === 'poll' ? Infinity : (options.pollWindowPs ?? 0);
    const rng: Rng = cpu.options.stream(`cpu/${options.name}/jitter`);
    this.jitterBits[0] = Math.floor(rng() * 0xffffffff) | 1;
    this.jitterSpread = cpu.options.jitterCv * Math.sqrt(3);
    // the time fields start as doubles (AS_DOUBLE) and get their real initial values here
    this.idleSincePs = this.idleWindowPs = this.sliceStartPs = this.startDelayPs = 0;
    this.execStartPs = this.execEndPs = this.execHandle = this.pendingPs = this.aheadEndPs = 0;
    this.busyPs = this.pollPs = this.accountFromPs = 0;
  }

  /** A cost with the host's jitter applied (integer ps, never negative). */
  jitter(ps: number): number {
    if (this.jitterSpread === 0 || ps === 0) return ps;
    const bits = this.jitterBits;
    let x = bits[0]!;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bits[0] = x;
    const u = (x >>> 0) / 4294967296; // uniform in [0, 1)
    return Math.round(ps * (1 + this.jitterSpread * (2 * u - 1)));
  }

  get isRunning(): boolean {
    return this.state === RUNNING;
  }
  get isIdle(): boolean {
    return this.state === IDLE;
  }
  get isBlocked(): boolean {
    return this.state === BLOCKED;
  }

  /**
   * A step computed ahead instead of waited for: the thread holds its core for ps more
   * (its next step or idle period starts after it) and the caller applies the step's
   * effects itself, time-stamped with the step's end time, left in aheadEndPs (a field
   * rather than a return value: a time returned from a call that is not inlined is a
   * heap-allocated number). For polling back ends whose effects are all time-stamped
   * (ring entries, NIC posts, interrupts): no event per step.
   */
  execAhead(ps: number): void {
    if (this.state !== RUNNING || this.isExecuting) {
      throw new Error(`thread ${this.name}: execAhead while not running its loop`);
    }
    const start = this.sim.nowPs + this.startDelayPs;
    const end = start + ps;
    const from = start > this.accountFromPs ? start : this.accountFromPs; // span(start, end), inline
    if (end > from) this.busyPs += end - from;
    this.startDelayPs += ps;
    this.steps++;
    this.aheadEndPs = end;
  }

  /** Holds the core for ps, then runs fn(arg). Only from the thread's own loop. */
  exec<A>(ps: number, fn: (arg: A) => void, arg: A): void {
    if (this.state !== RUNNING || this.isExecuting) {
      throw new Error(`thread ${this.name}: exec while not running its loop (state ${this.state})`);
    }
    const core = this.core;
    if (core.ready.length !== 0 && this.sim.nowPs - this.sliceStartPs >= this.slicePs) {
      // Slice used up and others wait: yield before this step.
      this.hasPendingExec = true;
      this.pendingPs = ps;
      this.execFn = fn;
      this.execArg = arg;
      this.state = READY;
      core.ready.push(this);
      this.cpu.releaseCore(core);
      return;
    }
    this.startExec(ps, fn, arg);
  }

  private startExec(ps: number, fn: ((arg: any) => void) | null, arg: unknown): void {
    const sim = this.sim;
    const now = sim.nowPs;
    const delay = this.startDelayPs;
    this.startDelayPs = 0;
    this.isExecuting = true;
    this.execFn = fn;
    this.execArg = arg;
    this.execStartPs = now + delay;
    this.execEndPs = now + delay + ps;
    // Only a thread that shares its core can be preempted (its step cancelled); a thread
    // alone on its core posts its step, which spares the event queue's handle bookkeeping
    // (a thread that joins the core later cannot preempt a step posted before it came).
    this.isStepCancellable = this.core.threadCount > 1;
    if (this.isStepCancellable) this.execHandle = sim.schedule(delay + ps, execDone, this);
    else sim.post(delay + ps, execDone, this);
  }

  /** @internal */
  finishExec(): void {
    this.isExecuting = false;
    this.steps++;
    const startPs = this.execStartPs;
    const endPs = this.execEndPs;
    const from = startPs > this.accountFromPs ? startPs : this.accountFromPs; // span(start, end), inline
    if (endPs > from) this.busyPs += endPs - from;
    const fn = this.execFn!;
    const arg = this.execArg;
    this.execFn = null;
    this.execArg = undefined;
    fn(arg);
    if (this.state === RUNNING && !this.isExecuting) {
      throw new Error(`thread ${this.name}: a step ended without exec(), idle() or block()`);
    }
  }

  /**
   * No more work: the thread polls or sleeps per its idle mode. If a wake arrived while it
   * ran, its loop runs once more instead (the eventfd was signalled: no lost wake-up).
   * windowPs overrides the poll window for this idle period. tailPs is CPU work done on
   * the way out (an exit on HLT, an eventfd write) without a step of its own: it counts as
   * busy and the idle period (and its polling) starts after it.
   */
  idle(windowPs?: number, tailPs = 0): void {
    if (this.state !== RUNNING || this.isExecuting) {
      throw new Error(`thread ${this.name}: idle while not running its loop`);
    }
    if (this.hasWakePending) {
      this.hasWakePending = false;
      this.onRun();
      return;
    }
    const now = this.sim.nowPs + this.startDelayPs; // after steps computed ahead
    this.startDelayPs = 0;
    this.state = IDLE;
    if (tailPs > 0) this.busyPs += this.span(now, now + tailPs);
    this.idleSincePs = now + tailPs;
    this.idleWindowPs = windowPs ?? this.pollWindowPs;
    const core = this.core;
    const othersReady = core.ready.length !== 0;
    if (this.isPoller) {
      if (othersReady) this.cpu.scheduleSliceCheck(core);
      return;
    }
    if (this.idleWindowPs > 0 && !othersReady) return; // keeps the core, polling
    this.idleWindowPs = 0;
    if (this.idleSincePs > core.freeAtPs) core.freeAtPs = this.idleSincePs;
    this.cpu.releaseCore(core);
  }

  /** Forgets a wake recorded while running (the caller has just checked for work itself). */
  clearWake(): void {
    this.hasWakePending = false;
  }

  /**
   * Work arrived for this thread (eventfd, socket, interrupt, ring became non-empty),
   * visible to it after extraPs (a delivery latency). A polling thread notices it within
   * its pickup time; a sleeping one pays its wake-up latency.
   *
   * When the thread can have its core at once (it holds it polling, or the core is free),
   * its loop runs right away and the latency is prepended to its first step, which saves
   * an event per wake-up; otherwise it queues for the core after the latency.
   */
  wake(extraPs = 0): void {
    const state = this.state;
    if (state !== IDLE) {
      if (state === RUNNING || state === BLOCKED || (state === READY && this.hasPendingExec)) {
        this.hasWakePending = true;
      }
      return;
    }
    const now = this.sim.nowPs;
    const core = this.core;
    const idleSincePs = this.idleSincePs;
    const idleFor = now - idleSincePs;
    if (core.current === this && idleFor <= this.idleWindowPs) {
      // Still polling (PMD, halt poll, busy loop): the loop notices the work.
      this.isWakee = false;
      if (idleFor < 0 && this.isPoller) {
        // Still busy with work computed ahead: a poller looks at its rings when that is
        // done, and must see everything that arrived meanwhile, so it waits.
        const waitPs = this.pollPickupPs + extraPs - idleFor;
        this.pollPs += this.span(idleSincePs, now + waitPs);
        this.state = WAKING;
        this.sim.post(waitPs, wakeDone, this);
        return;
      }
      if (idleFor < 0 && -idleFor > extraPs) extraPs = -idleFor; // woken during its tail work: it finishes that first
      const latencyPs = this.pollPickupPs + extraPs;
      const end = now + latencyPs;
      const from = idleSincePs > this.accountFromPs ? idleSincePs : this.accountFromPs; // span(idleSince, end), inline
      if (end > from) this.pollPs += end - from;
      core.lastRan = this;
      this.state = RUNNING;
      this.startDelayPs = latencyPs;
      this.onRun(); // (idle() consumes any delay left: the idle period starts after it)
      this.startDelayPs = 0;
      return;
    }
    if (core.current === this) this.stopPolling();
    let latencyPs = this.jitter(this.wakeupPs) + extraPs;
    this.wakeupsFromSleep++;
    const counters = this.cpu.options.counters;
    counters.wakeups++;
    counters.contextSwitches++;
    this.isWakee = true;
    if (core.current === null && core.ready.length === 0) {
      if (core.freeAtPs > now + latencyPs) latencyPs = core.freeAtPs - now; // the last occupant's tail
      core.current = this;
      core.lastRan = this;
      this.state = RUNNING;
      this.sliceStartPs = now + latencyPs;
      this.startDelayPs = latencyPs;
      this.onRun(); // (idle() consumes any delay left: the idle period starts after it)
      this.startDelayPs = 0;
      return;
    }
    this.state = WAKING;
    if (latencyPs === 0) this.cpu.arrive(this);
    else this.sim.post(latencyPs, wakeDone, this);
  }

  /**
   * Waits for an event other than work (a lock): the core is released; unblock() resumes
   * at fn(arg) after the wake-up latency. Wakes meanwhile are remembered for idle().
   */
  block<A>(fn: (arg: A) => void, arg: A): void {
    if (this.state !== RUNNING || this.isExecuting) throw new Error(`thread ${this.name}: block while not running`);
    this.state = BLOCKED;
    this.blockedFn = fn;
    this.blockedArg = arg;
    this.cpu.releaseCore(this.core);
  }

  /** Ends a block(): the thread is woken (futex) and continues at its block continuation. */
  unblock(): void {
    if (this.state !== BLOCKED) throw new Error(`thread ${this.name}: unblock while not blocked`);
    this.hasPendingExec = true;
    this.pendingPs = 0;
    this.execFn = this.blockedFn;
    this.execArg = this.blockedArg;
    this.blockedFn = null;
    this.blockedArg = undefined;
    this.state = WAKING;
    this.isWakee = true;
    this.wakeupsFromSleep++;
    this.cpu.options.counters.wakeups++;
    this.cpu.options.counters.contextSwitches++;
    this.cpu.sim.post(this.jitter(this.wakeupPs), wakeDone, this);
  }

  /** @internal The thread got the core (after a switch): continue its step or loop. */
  resume(): void {
    if (this.hasPendingExec) {
      this.hasPendingExec = false;
      this.startExec(this.pendingPs, this.execFn, this.execArg);
    } else {
      this.onRun();
    }
  }

  /** @internal Stops a poll window that still holds the core; releases it. */
  stopPolling(): void {
    const now = this.cpu.sim.nowPs;
    const end = Math.min(now, this.idleSincePs + this.idleWindowPs);
    this.pollPs += this.span(this.idleSincePs, end);
    this.idleWindowPs = 0;
    // tail work (HLT exits) or steps computed ahead still occupy the core until idleSince
    if (this.idleSincePs > this.core.freeAtPs) this.core.freeAtPs = this.idleSincePs;
    if (this.core.current === this) this.core.current = null;
  }

  /** @internal A PMD's poll interval ends because it yields the core. */
  endPollInterval(): void {
    this.pollPs += this.span(this.idleSincePs, this.cpu.sim.nowPs);
  }

  /** @internal Preempts the running step: it resumes with its remaining time. */
  preemptStep(): void {
    const now = this.cpu.sim.nowPs;
    this.cpu.sim.cancel(this.execHandle);
    this.busyPs += this.span(this.execStartPs, now);
    this.isExecuting = false;
    this.hasPendingExec = true;
    this.pendingPs = this.execEndPs - now;
  }

  /** @internal */
  get hasPendingStep(): boolean {
    return this.hasPendingExec;
  }

  /** @internal Charges a context switch starting at startPs (the switch delays the thread's step by as much). */
  chargeSwitch(ps: number, startPs = this.cpu.sim.nowPs): void {
    this.busyPs += this.span(startPs, startPs + ps);
  }

  /** Length of [a, b] inside the accounting window [ps]. */
  private span(a: number, b: number): number {
    const from = a > this.accountFromPs ? a : this.accountFromPs;
    return b > from ? b - from : 0;
  }

  /** @internal */
  resetStats(): void {
    this.accountFromPs = this.cpu.sim.nowPs;
    this.busyPs = 0;
    this.pollPs = 0;
    this.steps = 0;
    this.wakeupsFromSleep = 0;
  }

  /** Busy (steps, switches) and poll time since the last reset, up to now [ps]. */
  usage(): { busyPs: number; pollPs: number; windowPs: number } {
    const now = this.cpu.sim.nowPs;
    let busy = this.busyPs;
    let poll = this.pollPs;
    if (this.isExecuting) busy += this.span(this.execStartPs, now);
    if (this.state === IDLE && this.core.current === this) {
      poll += this.span(this.idleSincePs, Math.min(now, this.idleSincePs + this.idleWindowPs));
    }
    return { busyPs: busy, pollPs: poll, windowPs: now - this.accountFromPs };
  }
}

export class HostCpu {
  private readonly cores: Core[] = [];
  readonly threads: HostThread[] = [];

  constructor(
    readonly sim: Simulator,
    readonly options: HostCpuOptions,
  ) {}

  private coreAt(index: number): Core {
    if (!(Number.isInteger(index) && index >= 0)) throw new RangeError(`core index must be a non-negative integer, got ${index}`);
    while (this.cores.length <= index) this.cores.push(new Core(this.cores.length, this));
    return this.cores[index]!;
  }

  addThread(options: ThreadOptions): HostThread {
    const core = this.coreAt(options.core);
    const t = new HostThread(this, core, options);
    core.threadCount++;
    this.threads.push(t);
    return t;
  }

  /**
   * Starts a thread's loop at time 0 as if it had just been woken with the core free
   * (a poller starts polling; others run onRun and usually go idle).
   */
  start(t: HostThread): void {
    t.state = WAKING;
    t.isWakee = false;
    this.arrive(t);
  }

  /** @internal A thread whose wake-up latency has passed wants its core. */
  arrive(t: HostThread): void {
    const core = t.core;
    let cur = core.current;
    if (cur === t) {
      t.state = RUNNING; // it kept the core while polling
      t.onRun();
      return;
    }
    if (cur !== null && cur.state === IDLE) {
      if (cur.idleMode === 'poll') {
        t.state = READY;
        core.ready.push(t);
        this.scheduleSliceCheck(core);
        return;
      }
      cur.stopPolling(); // halt poll and busy loops give way to a runnable thread at once
      cur = null;
    }
    if (cur === null) {
      this.grant(core, t, 0);
      return;
    }
    if (t.isWakee && cur.state === RUNNING && this.sim.nowPs - cur.sliceStartPs >= this.options.wakeupGranularityPs) {
      // Wake-up preemption: the wakee runs now, the preempted thread first in line after it.
      if (this.suspend(cur)) {
        core.ready.unshift(cur);
        this.grant(core, t, this.options.ctxSwitchPs);
        return;
      }
    }
    t.state = READY;
    core.ready.push(t);
    this.scheduleSliceCheck(core);
  }

  private grant(core: Core, t: HostThread, switchPs: number): void {
    core.current = t;
    core.lastRan = t;
    t.state = RUNNING;
    const now = this.sim.nowPs;
    const waitPs = core.freeAtPs > now ? core.freeAtPs - now : 0; // the last occupant's tail work
    t.sliceStartPs = now + waitPs;
    if (switchPs > 0) {
      this.options.counters.contextSwitches++;
      t.chargeSwitch(switchPs, now + waitPs);
    }
    if (switchPs + waitPs > 0) this.sim.post(switchPs + waitPs, switchDone, t);
    else t.resume();
  }

  /** @internal The current thread left the core (sleep, block, yield): run the next ready one. */
  releaseCore(core: Core): void {
    core.current = null;
    const next = core.ready.shift();
    if (next) this.grant(core, next, this.options.ctxSwitchPs);
  }

  /** @internal */
  scheduleSliceCheck(core: Core): void {
    if (core.isSliceCheckPending) return;
    const cur = core.current;
    if (cur === null) return;
    core.isSliceCheckPending = true;
    const at = Math.max(this.sim.nowPs, cur.sliceStartPs + this.options.slicePs);
    this.sim.post(at - this.sim.nowPs, sliceCheck, core);
  }

  /** @internal */
  sliceCheck(core: Core): void {
    core.isSliceCheckPending = false;
    if (core.ready.length === 0) return;
    const cur = core.current;
    if (cur === null) {
      this.releaseCore(core);
      return;
    }
    if (cur.state === BLOCKED || cur.state === READY) return;
    if (this.sim.nowPs < cur.sliceStartPs + this.options.slicePs) {
      this.scheduleSliceCheck(core);
      return;
    }
    if (this.suspend(cur)) {
      core.ready.push(cur);
      this.releaseCore(core);
    }
  }

  /** Takes the core from its current thread (which becomes READY); false if it cannot be. */
  private suspend(cur: HostThread): boolean {
    if (cur.state === IDLE) {
      cur.endPollInterval(); // a PMD stops polling; it is always runnable
    } else if (cur.isExecuting && cur.isStepCancellable) {
      cur.preemptStep();
    } else {
      return false;
    }
    cur.state = READY;
    return true;
  }

  /** Starts the measurement window for every thread. */
  resetStats(): void {
    for (const t of this.threads) t.resetStats();
  }

  /** One cpu.csv row per thread. */
  rows(): CpuRow[] {
    return this.threads.map((t) => {
      const u = t.usage();
      const w = u.windowPs > 0 ? u.windowPs : 1;
      return {
        thread: t.name,
        core: t.coreIndex,
        busyFraction: Math.min(1, (u.busyPs + u.pollPs) / w),
        pollFraction: Math.min(1, u.pollPs / w),
      };
    });
  }

  /** Host cores' worth of busy and polling time (host threads only). */
  hostCores(): number {
    let sum = 0;
    for (const r of this.rows()) {
      const t = this.threads.find((x) => x.name === r.thread)!;
      if (t.isHost) sum += r.busyFraction;
    }
    return sum;
  }
}
