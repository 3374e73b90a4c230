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
 * others wait. Wake-up preemption follows CFS: each thread's virtual runtime is the time
 * it has occupied a core; a thread woken from sleep is placed no further back than the
 * core's minimum virtual runtime less half the scheduling latency (GENTLE_FAIR_SLEEPERS
 * sleeper credit), and preempts the running thread when that one's virtual runtime is
 * ahead of it by more than the wake-up granularity (check_preempt_wakeup): a thread that
 * mostly sleeps preempts a CPU hog at once, two busy threads share by slices.
 * Preemption cancels the running step and resumes it later.
 *
 * Interrupt context (`ThreadOptions.isIrq`): a thread that stands for work a device
 * interrupt runs on its core (a NIC's hard IRQ and the softirq run on its exit). It does
 * not queue behind the core's threads: it takes the core at once, cancelling the running
 * step (which resumes with its remainder when the interrupt work is done, with no context
 * switch) or pausing a poller's poll loop; the interrupted thread may pay for it
 * (`onInterrupt`: a vCPU in guest mode takes an external-interrupt exit). Interrupt work
 * on one core runs one at a time, in arrival order. Its wake-up costs the core's idle
 * exit only when the core was idle. `deferToThread()` turns it into an ordinary thread
 * (ksoftirqd) until it next goes idle: it then waits for the core like any other.
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
import { idleGovernorFor, type IdleGovernor, type IdleState } from './idle-governor.js';

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
  /** Idle states of every core (C1 only, or C1E and C6 too); none: C1 only. */
  idleStates?: readonly IdleState[];
  /** Extra time the first work after a cache-flushing idle state takes [ps]. */
  coldCachePs?: number;
  /**
   * Simultaneous multithreading: logical CPU i and i + smtCores are the two hardware
   * threads of one physical core (Linux's numbering); 0 means no SMT.
   */
  smtCores?: number;
  /** How much longer a step takes while its sibling hardware thread is busy (factor >= 1). */
  smtSlowdown?: number;
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
  /** Interrupt context: preempts whatever runs on the core (see the file comment). */
  isIrq?: boolean;
  /**
   * Not pinned: woken from sleep while its core is taken, it moves to an idle core if
   * there is one (Linux select_task_rq_fair -> select_idle_sibling); `core` is its first.
   */
  isMigratable?: boolean;
}

/**
 * A periodic timer interrupt (a scheduler tick) that lands only in work: a tick due while
 * its core idles or polls is skipped (NO_HZ idle). It is not an event: a step counts the
 * ticks due inside it and is stretched by them (so it may take in one more).
 */
class TickTimer {
  periodPs = AS_DOUBLE;
  /** The next tick not yet charged to a step (Infinity: off) [ps]. */
  nextPs = AS_DOUBLE;
  /** The handler's time per tick [ps]. */
  costPs = AS_DOUBLE;
  /** Ticks that landed in work. */
  fired = 0;
  constructor() {
    this.periodPs = this.costPs = 0;
    this.nextPs = Infinity;
  }

  start(nowPs: number, periodPs: number, phasePs: number, costPs: number): void {
    this.periodPs = periodPs;
    this.nextPs = nowPs + phasePs;
    this.costPs = costPs;
  }

  /** Charges the ticks due in a step from startPs to endPs; returns the time they add [ps] (onTick: more per tick). */
  charge(startPs: number, endPs: number, onTick: (() => number) | null): number {
    const periodPs = this.periodPs;
    let next = this.nextPs;
    if (next <= startPs) next += Math.floor((startPs - next) / periodPs + 1) * periodPs;
    let extraPs = 0;
    while (next <= endPs + extraPs) {
      this.fired++;
      extraPs += this.costPs + (onTick !== null ? onTick() : 0);
      next += periodPs;
    }
    this.nextPs = next;
    return extraPs;
  }
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
  /** Interrupt-context threads waiting for the one running (FIFO). */
  readonly irqReady = new Fifo<HostThread>();
  /** The thread an interrupt-context thread took the core from; it gets it back after. */
  interrupted: HostThread | null = null;
  /** When the last thread to leave actually stops using the core (after its tail work) [ps]. */
  freeAtPs = AS_DOUBLE;
  /** CFS min_vruntime: never decreases [ps]. */
  minVruntimePs = AS_DOUBLE;
  /** C-state choice when several states are enabled; null when C1 is the only one. */
  readonly governor: IdleGovernor | null;
  /** The other hardware thread of this physical core (SMT), or null. */
  sibling: Core | null = null;
  /** The host's scheduler tick on this core (off until HostCpu.startTicks). */
  readonly tick = new TickTimer();
  constructor(
    readonly index: number,
    readonly cpu: HostCpu,
  ) {
    this.freeAtPs = this.minVruntimePs = 0;
    this.governor = idleGovernorFor(cpu.options.idleStates, cpu.coldCachePs);
  }

  /** The core has nothing to run from atPs on (after any tail work): it enters an idle state. */
  goIdle(atPs: number): void {
    if (this.governor !== null) this.governor.enter(atPs > this.freeAtPs ? atPs : this.freeAtPs);
  }

  /** True while a thread works or polls on this logical CPU (its sibling then runs slower). */
  isBusyAt(nowPs: number): boolean {
    const cur = this.current;
    if (cur === null) return false;
    return cur.state !== IDLE || nowPs < cur.idleSincePs + cur.idleWindowPs;
  }

  /** Work reaches the idle core now: extra latency of the idle state left (and cold caches) [ps]. */
  wake(nowPs: number): number {
    return this.governor !== null ? this.governor.exit(nowPs) : 0;
  }

  /** update_min_vruntime: the smallest virtual runtime of the running and ready threads, never lower than before. */
  minVruntimeAt(now: number): number {
    let m = Infinity;
    const cur = this.current;
    if (cur !== null && !cur.isIrq) m = cur.vruntimeAt(now);
    const ready = this.ready;
    for (let i = 0; i < ready.length; i++) {
      const v = ready.at(i)!.vruntimeAt(now);
      if (v < m) m = v;
    }
    if (m !== Infinity && m > this.minVruntimePs) this.minVruntimePs = m;
    return this.minVruntimePs;
  }
}

const noop = (): void => {};

/** No thread on it, none waiting, no tail work. */
function isIdleCore(c: Core, now: number): boolean {
  return c.current === null && c.ready.length === 0 && c.freeAtPs <= now;
}

/** Its thread is in a poll window that gives way to any runnable thread (not a PMD). */
function isPolledCore(c: Core): boolean {
  const cur = c.current;
  return cur !== null && cur.state === IDLE && cur.idleMode !== 'poll' && c.ready.length === 0 && c.irqReady.length === 0;
}

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
  /**
   * Called when interrupt-context work takes the core from this thread while it runs a
   * step; returns CPU time added to the step's remainder (a vCPU's external-interrupt
   * exit) [ps]. Null: nothing.
   */
  onInterrupt: (() => number) | null = null;
  /** Interrupt context now (see ThreadOptions.isIrq); false while deferred to a thread. */
  isIrq: boolean;
  /** Created as interrupt context (it returns to it when it goes idle). */
  private readonly isIrqBorn: boolean;
  /** Interrupts this thread's steps or polls suffered (for tests and reports). */
  interruptions = 0;
  /** Called when a host timer tick lands on this thread while it works; returns extra CPU time (a vCPU's exit) [ps]. */
  onHostTick: (() => number) | null = null;
  /** The guest's own tick on this thread (a vCPU; off otherwise), and what it adds per tick. */
  private readonly guestTick = new TickTimer();
  private onGuestTick: (() => number) | null = null;

  /** @internal */ state = IDLE;
  /** @internal The core it runs on now (a migratable thread changes it when woken). */ core: Core;
  /** May move to an idle core when woken (ThreadOptions.isMigratable). */
  readonly isMigratable: boolean;
  /** Times it moved to another core. */
  migrations = 0;
  /** Core time occupied on each core before its last move (window only), by core index [ps]. */
  private usedOnCorePs: Float64Array | null = null;
  /** busy + poll at its last move [ps]. */
  private usedAtMovePs = 0;
  private readonly sim: Simulator;
  private readonly slicePs: number;
  isExecuting = false;
  private hasWakePending = false;
  /** @internal When the current idle period began (after tail work and steps computed ahead) [ps]. */
  idleSincePs = AS_DOUBLE;
  /** @internal */ idleWindowPs = AS_DOUBLE;
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
  readonly isPoller: boolean;
  /** A wake that reached this thread while interrupt work paused its polling. */
  private hasWakeWhileInterrupted = false;
  private execFn: ((arg: any) => void) | null = null;
  private execArg: unknown = undefined;
  private execStartPs = AS_DOUBLE;
  private execEndPs = AS_DOUBLE;
  private execHandle = AS_DOUBLE;
  /** @internal The running step was scheduled with a handle (preemption can cancel it). */
  isStepCancellable = false;
  private hasPendingExec = false;
  /** The pending step has not started yet (SMT still stretches it when it does). */
  private isPendingNew = false;
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
  /**
   * Ends of busy and poll time charged ahead of the clock (steps computed ahead, tail
   * work, a switch, a poller's pickup): usage() leaves out what lies past now, so a window
   * that ends (or starts) inside such a stretch counts only its own part.
   */
  private busyUntilPs = AS_DOUBLE;
  private pollUntilPs = AS_DOUBLE;
  /** Core time occupied before accountFromPs, and the sleeper placement's adjustment [ps]. */
  private vruntimeBasePs = AS_DOUBLE;
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
    this.isIrq = this.isIrqBorn = options.isIrq ?? false;
    this.isMigratable = options.isMigratable ?? false;
    this.wakeupPs = options.wakeupPs;
    this.pollPickupPs = options.pollPickupPs ?? 0;
    this.pollWindowPs = options.idleMode === 'poll' ? Infinity : (options.pollWindowPs ?? 0);
    const rng: Rng = cpu.options.stream(`cpu/${options.name}/jitter`);
    this.jitterBits[0] = Math.floor(rng() * 0xffffffff) | 1;
    this.jitterSpread = cpu.options.jitterCv * Math.sqrt(3);
    // the time fields start as doubles (AS_DOUBLE) and get their real initial values here
    this.idleSincePs = this.idleWindowPs = this.sliceStartPs = this.startDelayPs = 0;
    this.execStartPs = this.execEndPs = this.execHandle = this.pendingPs = this.aheadEndPs = 0;
    this.busyPs = this.pollPs = this.accountFromPs = this.vruntimeBasePs = 0;
    this.busyUntilPs = this.pollUntilPs = 0;
  }

  /** CFS virtual runtime at now: core time occupied (steps, switches, polling) plus placement [ps]. */
  vruntimeAt(now: number): number {
    let v = this.vruntimeBasePs + this.busyPs + this.pollPs;
    if (this.isExecuting && now > this.execStartPs) v += now - this.execStartPs;
    else if (this.state === IDLE && this.core.current === this && now > this.idleSincePs) {
      v += Math.min(now, this.idleSincePs + this.idleWindowPs) - this.idleSincePs;
    }
    return v;
  }

  /** @internal The thread leaves its core for core `to`: books its core time so far to the old core. */
  moveTo(to: Core, coreCount: number): void {
    if (this.usedOnCorePs === null || this.usedOnCorePs.length < coreCount) {
      const grown = new Float64Array(coreCount);
      if (this.usedOnCorePs !== null) grown.set(this.usedOnCorePs);
      this.usedOnCorePs = grown;
    }
    const used = this.busyPs + this.pollPs;
    this.usedOnCorePs[this.core.index]! += used - this.usedAtMovePs;
    this.usedAtMovePs = used;
    this.core.threadCount--;
    to.threadCount++;
    this.core = to;
    this.migrations++;
  }

  /** Core time occupied in the window on each core (index: core) [ps]. */
  usedByCore(coreCount: number): Float64Array {
    const out = new Float64Array(coreCount);
    if (this.usedOnCorePs !== null) out.set(this.usedOnCorePs.subarray(0, coreCount));
    const u = this.usage();
    out[this.core.index]! += u.busyPs + u.pollPs - this.usedAtMovePs;
    return out;
  }

  /** @internal Moves the virtual runtime by ps (migration between cores). */
  shiftVruntime(ps: number): void {
    this.vruntimeBasePs += ps;
  }

  /** @internal place_entity for a wakee: no further back than min_vruntime less the sleeper credit. */
  placeVruntime(minPs: number, creditPs: number, now: number): void {
    const v = this.vruntimeAt(now);
    const floor = minPs - creditPs;
    if (v < floor) this.vruntimeBasePs += floor - v;
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
  /** Other threads are pinned to (or now on) this thread's core: a long step would hold them off for its whole length. */
  get sharesCore(): boolean {
    return this.core.threadCount > 1;
  }
  get isIdle(): boolean {
    return this.state === IDLE;
  }
  get isBlocked(): boolean {
    return this.state === BLOCKED;
  }

  /**
   * What the thread does at nowPs, for a trace: 2 running (a step, or tail work before its
   * idle period), 1 polling (in its poll window, holding the core), 0 otherwise (asleep,
   * blocked, or runnable and waiting for the core). Reads state only.
   */
  activityAt(nowPs: number): number {
    if (this.state === RUNNING) return 2;
    if (this.state !== IDLE) return 0;
    if (nowPs < this.idleSincePs) return 2;
    return this.core.current === this && nowPs < this.idleSincePs + this.idleWindowPs ? 1 : 0;
  }

  /**
   * The timer ticks that land in a step from startPs to endPs, and the time they add to it
   * [ps]: the host's tick on this core (plus what onHostTick adds: a vCPU in guest mode
   * exits) and the guest's own tick on a vCPU. Out of line: steps that cross no tick (all
   * but about one in a thousand) pay two comparisons.
   */
  private tickWorkPs(startPs: number, endPs: number): number {
    const host = this.core.tick;
    let extraPs = host.nextPs <= endPs ? host.charge(startPs, endPs, this.onHostTick) : 0;
    const guest = this.guestTick;
    if (guest.nextPs <= endPs + extraPs) extraPs += guest.charge(startPs, endPs + extraPs, this.onGuestTick);
    return extraPs;
  }

  /**
   * The guest's scheduler tick on this thread (a vCPU): every periodPs from phasePs on,
   * a step it lands in takes costPs more (a timer exit and the handler) and onTick runs;
   * a halted or polling vCPU skips it (NO_HZ_IDLE).
   */
  startGuestTick(periodPs: number, phasePs: number, costPs: number, onTick: () => void): void {
    if (!(periodPs > 0)) return;
    this.guestTick.start(this.sim.nowPs, periodPs, phasePs, costPs);
    this.onGuestTick = () => {
      onTick();
      return 0;
    };
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
    const sib = this.core.sibling;
    if (sib !== null && sib.isBusyAt(this.sim.nowPs)) ps = Math.round(ps * this.cpu.smtSlowdown);
    const start = this.sim.nowPs + this.startDelayPs;
    if (start + ps > this.core.tick.nextPs || start + ps > this.guestTick.nextPs) ps += this.tickWorkPs(start, start + ps);
    const end = start + ps;
    const from = start > this.accountFromPs ? start : this.accountFromPs; // span(start, end), inline
    if (end > from) this.busyPs += end - from;
    this.busyUntilPs = end;
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
    if (core.ready.length !== 0 && !this.isIrq && this.sim.nowPs - this.sliceStartPs >= this.slicePs) {
      // Slice used up and others wait: yield before this step.
      this.hasPendingExec = true;
      this.isPendingNew = true;
      this.pendingPs = ps;
      this.execFn = fn;
      this.execArg = arg;
      this.state = READY;
      core.ready.push(this);
      this.cpu.releaseCore(core);
      return;
    }
    this.startExec(ps, fn, arg, true);
  }

  /** isNew: a step starting (SMT stretches it once), not the remainder of one resumed. */
  private startExec(ps: number, fn: ((arg: any) => void) | null, arg: unknown, isNew: boolean): void {
    if (this.core.irqReady.length !== 0 && !this.isIrq) {
      // interrupt work arrived while this thread was between steps: it runs first
      this.hasPendingExec = true;
      this.isPendingNew = isNew;
      this.pendingPs = ps + this.startDelayPs;
      this.startDelayPs = 0;
      this.execFn = fn;
      this.execArg = arg;
      this.state = READY;
      this.cpu.interruptCore(this.core, this);
      this.cpu.grantIrq(this.core);
      return;
    }
    const sim = this.sim;
    const now = sim.nowPs;
    const delay = this.startDelayPs;
    this.startDelayPs = 0;
    // a busy sibling hardware thread shares the core's pipeline: the step takes longer
    const sib = this.core.sibling;
    if (isNew && sib !== null && sib.isBusyAt(now)) ps = Math.round(ps * this.cpu.smtSlowdown);
    const startPs = now + delay;
    if (startPs + ps > this.core.tick.nextPs || startPs + ps > this.guestTick.nextPs) ps += this.tickWorkPs(startPs, startPs + ps);
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

  /** @internal Runs the actor's loop as this thread (HostCpu.running says so meanwhile). */
  runLoop(): void {
    const cpu = this.cpu;
    const outer = cpu.running;
    cpu.running = this;
    this.onRun();
    cpu.running = outer;
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
    const cpu = this.cpu;
    const outer = cpu.running;
    cpu.running = this;
    fn(arg);
    cpu.running = outer;
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
      this.runLoop();
      return;
    }
    if (this.isIrqBorn) this.isIrq = true; // (ksoftirqd done: the next interrupt runs in irq context)
    const now = this.sim.nowPs + this.startDelayPs; // after steps computed ahead
    this.startDelayPs = 0;
    this.state = IDLE;
    if (tailPs > 0) {
      this.busyPs += this.span(now, now + tailPs);
      if (now + tailPs > this.busyUntilPs) this.busyUntilPs = now + tailPs;
    }
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
    let core = this.core;
    if (core.interrupted === this) {
      // polling, paused by interrupt work: the poll loop sees the work when it resumes
      this.hasWakeWhileInterrupted = true;
      return;
    }
    if (this.isIrq) {
      this.wakeIrq(extraPs);
      return;
    }
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
        this.pollUntilPs = now + waitPs;
        this.state = WAKING;
        this.sim.post(waitPs, wakeDone, this);
        return;
      }
      if (idleFor < 0 && -idleFor > extraPs) extraPs = -idleFor; // woken during its tail work: it finishes that first
      const latencyPs = this.pollPickupPs + extraPs;
      const end = now + latencyPs;
      const from = idleSincePs > this.accountFromPs ? idleSincePs : this.accountFromPs; // span(idleSince, end), inline
      if (end > from) this.pollPs += end - from;
      this.pollUntilPs = end;
      core.lastRan = this;
      this.state = RUNNING;
      this.startDelayPs = latencyPs;
      this.runLoop(); // (idle() consumes any delay left: the idle period starts after it)
      this.startDelayPs = 0;
      return;
    }
    if (core.current === this) this.stopPolling();
    if (this.isMigratable) core = this.cpu.placeOnWake(this);
    if (core.threadCount > 1) this.placeVruntime(core.minVruntimeAt(now), this.cpu.sleeperCreditPs, now);
    let latencyPs = this.jitter(this.wakeupPs) + extraPs;
    this.wakeupsFromSleep++;
    const counters = this.cpu.options.counters;
    counters.wakeups++;
    counters.contextSwitches++;
    this.isWakee = true;
    if (core.current === null && core.ready.length === 0) {
      latencyPs += core.wake(now); // the core's idle state
      if (core.freeAtPs > now + latencyPs) latencyPs = core.freeAtPs - now; // the last occupant's tail
      core.current = this;
      core.lastRan = this;
      this.state = RUNNING;
      this.sliceStartPs = now + latencyPs;
      this.startDelayPs = latencyPs;
      this.runLoop(); // (idle() consumes any delay left: the idle period starts after it)
      this.startDelayPs = 0;
      return;
    }
    this.state = WAKING;
    if (latencyPs === 0) this.cpu.arrive(this);
    else this.sim.post(latencyPs, wakeDone, this);
  }

  /**
   * Interrupt work raised: on a busy core it starts now (the core is awake); on an idle
   * core after the core's idle exit (wakeupPs). Not a context switch.
   */
  private wakeIrq(extraPs: number): void {
    const core = this.core;
    this.isWakee = false;
    const cur = core.current;
    // a halt-poll or busy-loop window that ran out left the core idle
    if (cur !== null && cur.state === IDLE && !cur.isPoller && this.sim.nowPs >= cur.idleSincePs + cur.idleWindowPs) cur.stopPolling();
    const latencyPs = (core.current === null ? this.jitter(this.wakeupPs) + core.wake(this.sim.nowPs) : 0) + extraPs;
    this.state = WAKING;
    if (latencyPs === 0) this.cpu.arrive(this);
    else this.sim.post(latencyPs, wakeDone, this);
  }

  /**
   * Interrupt context only, from its own loop before its next step: the rest of this work
   * is deferred to a thread (ksoftirqd), which waits for the core like any other thread
   * (the interrupted thread gets the core back first). It returns to interrupt context
   * when it goes idle.
   */
  deferToThread(): void {
    if (!this.isIrq || this.state !== RUNNING || this.isExecuting) {
      throw new Error(`thread ${this.name}: deferToThread outside interrupt work`);
    }
    this.isIrq = false;
    this.state = WAKING;
    this.isWakee = true;
    this.cpu.options.counters.wakeups++;
    this.cpu.releaseCore(this.core);
    this.cpu.arrive(this);
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
    const now = this.cpu.sim.nowPs;
    if (this.core.threadCount > 1) this.placeVruntime(this.core.minVruntimeAt(now), this.cpu.sleeperCreditPs, now);
    this.cpu.options.counters.wakeups++;
    this.cpu.options.counters.contextSwitches++;
    this.cpu.sim.post(this.jitter(this.wakeupPs), wakeDone, this);
  }

  /** @internal The thread got the core (after a switch): continue its step or loop. */
  resume(): void {
    if (this.hasPendingExec) {
      this.hasPendingExec = false;
      this.startExec(this.pendingPs, this.execFn, this.execArg, this.isPendingNew);
      this.isPendingNew = false;
    } else {
      this.runLoop();
    }
  }

  /** @internal Interrupt work takes the core from this polling thread: its poll pauses. */
  pausePoll(): void {
    const now = this.sim.nowPs;
    const end = Math.min(now, this.idleSincePs + this.idleWindowPs);
    this.pollPs += this.span(this.idleSincePs, end);
    // what is left of the window continues after the interruption
    this.idleWindowPs = Math.max(0, this.idleSincePs + this.idleWindowPs - now);
  }

  /** @internal The interrupt work is done: this polling thread polls on, or runs a wake it got. */
  resumePoll(core: Core): void {
    core.current = this;
    const now = this.sim.nowPs;
    this.idleSincePs = now;
    if (this.hasWakeWhileInterrupted) {
      this.hasWakeWhileInterrupted = false;
      core.lastRan = this;
      this.state = RUNNING;
      this.startDelayPs = this.pollPickupPs;
      this.pollPs += this.span(now, now + this.pollPickupPs);
      this.pollUntilPs = now + this.pollPickupPs;
      this.runLoop();
      this.startDelayPs = 0;
      return;
    }
    if (this.idleWindowPs <= 0 || core.ready.length !== 0) {
      if (this.isPoller) {
        this.cpu.scheduleSliceCheck(core);
        return;
      }
      // the window ran out during the interruption, or a thread waits: sleep
      this.idleWindowPs = 0;
      core.current = null;
      this.cpu.releaseCore(core);
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
    if (this.core.current === this) {
      this.core.current = null;
      // the poll window ended at `end` if it ran out: the core was idle since then
      if (end < now) this.core.goIdle(end);
    }
  }

  /** @internal A PMD's poll interval ends because it yields the core. */
  endPollInterval(): void {
    this.pollPs += this.span(this.idleSincePs, this.cpu.sim.nowPs);
  }

  /** @internal Preempts the running step: it resumes with its remaining time. */
  preemptStep(): void {
    const now = this.cpu.sim.nowPs;
    this.cpu.sim.cancel(this.execHandle);
    // a step that had not begun (a polling thread's pickup still running): the polling
    // booked up to its start did not happen past now, the preempting thread has the core
    if (this.pollUntilPs > now) {
      // (polling was booked from idleSincePs: past its tail work, which did happen)
      this.pollPs -= this.span(now > this.idleSincePs ? now : this.idleSincePs, this.pollUntilPs);
      this.pollUntilPs = now;
    }
    this.busyPs += this.span(this.execStartPs, now);
    this.isExecuting = false;
    this.hasPendingExec = true;
    this.pendingPs = this.execEndPs - now;
  }

  /** @internal Adds CPU time to the pending step (an interruption's cost) [ps]. */
  addPendingPs(ps: number): void {
    if (this.hasPendingExec) this.pendingPs += ps;
  }

  /** @internal */
  get hasPendingStep(): boolean {
    return this.hasPendingExec;
  }

  /** @internal Charges a context switch starting at startPs (the switch delays the thread's step by as much). */
  chargeSwitch(ps: number, startPs = this.cpu.sim.nowPs): void {
    this.busyPs += this.span(startPs, startPs + ps);
    if (startPs + ps > this.busyUntilPs) this.busyUntilPs = startPs + ps;
  }

  /** Length of [a, b] inside the accounting window [ps]. */
  private span(a: number, b: number): number {
    const from = a > this.accountFromPs ? a : this.accountFromPs;
    return b > from ? b - from : 0;
  }

  /** @internal */
  resetStats(): void {
    const now = this.cpu.sim.nowPs;
    // time charged ahead of now belongs to the new window
    const busyAhead = this.busyUntilPs > now ? this.busyUntilPs - now : 0;
    const pollAhead = this.pollAheadAt(now);
    this.vruntimeBasePs += this.busyPs + this.pollPs - busyAhead - pollAhead;
    this.usedOnCorePs?.fill(0);
    this.usedAtMovePs = 0;
    this.accountFromPs = now;
    this.busyPs = busyAhead;
    this.pollPs = pollAhead;
    this.steps = 0;
    this.wakeupsFromSleep = 0;
  }

  /** Poll time charged past now (it follows any busy time charged ahead) [ps]. */
  private pollAheadAt(now: number): number {
    const from = this.busyUntilPs > now ? this.busyUntilPs : now;
    return this.pollUntilPs > from ? this.pollUntilPs - from : 0;
  }

  /** Busy (steps, switches) and poll time since the last reset, up to now [ps]. */
  usage(): { busyPs: number; pollPs: number; windowPs: number } {
    const now = this.cpu.sim.nowPs;
    let busy = this.busyPs;
    let poll = this.pollPs - this.pollAheadAt(now);
    if (this.busyUntilPs > now) busy -= this.busyUntilPs - now;
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
  /** The thread whose loop or step callback runs now; null in other events (links, devices). For reports only. */
  running: HostThread | null = null;
  /** Sleeper credit: half the scheduling latency (two slices) [ps]. */
  readonly sleeperCreditPs: number;
  /** HostCpuOptions.coldCachePs [ps]. */
  readonly coldCachePs: number;
  /** HostCpuOptions.smtSlowdown. */
  readonly smtSlowdown: number;

  constructor(
    readonly sim: Simulator,
    readonly options: HostCpuOptions,
  ) {
    this.sleeperCreditPs = options.slicePs;
    this.coldCachePs = options.coldCachePs ?? 0;
    this.smtSlowdown = options.smtSlowdown ?? 1;
  }

  /** check_preempt_wakeup: the wakee t runs before cur when cur is ahead by more than the granularity. */
  private wakeePreempts(t: HostThread, cur: HostThread): boolean {
    const now = this.sim.nowPs;
    return t.isWakee && !cur.isIrq && cur.vruntimeAt(now) - t.vruntimeAt(now) > this.options.wakeupGranularityPs;
  }

  private coreAt(index: number): Core {
    if (!(Number.isInteger(index) && index >= 0)) throw new RangeError(`core index must be a non-negative integer, got ${index}`);
    while (this.cores.length <= index) {
      const c = new Core(this.cores.length, this);
      this.cores.push(c);
      const n = this.options.smtCores ?? 0;
      if (n > 0) {
        const sib = c.index < n ? c.index + n : c.index - n;
        const other = this.cores[sib];
        if (other !== undefined) {
          c.sibling = other;
          other.sibling = c;
        }
      }
    }
    return this.cores[index]!;
  }

  /** Host timer ticks that landed in work (for tests and reports). */
  get ticks(): number {
    return this.cores.reduce((sum, c) => sum + c.tick.fired, 0);
  }

  /**
   * False once the run has stalled (set by the run: no op ended for a long time): other
   * tenants' threads then stop, so a stuck run ends, with its error, instead of running
   * their bursts to the end of time.
   */
  isAlive: () => boolean = () => true;

  /**
   * Starts the host's scheduler tick on every core: every periodPs, at a phase drawn per
   * core, a core with a thread at work spends costPs in the timer interrupt (the step it
   * lands in stretches by as much, plus what onHostTick adds); an idle or polling core
   * skips it (NO_HZ idle; a poll loop is not delayed unless work arrives within the tick).
   * No events: each step counts the ticks that fall in it (TickTimer).
   */
  startTicks(periodPs: number, costPs: number, stream: (name: string) => Rng): void {
    if (!(periodPs > 0) || !(costPs > 0)) return;
    for (const core of this.cores) {
      const phase = Math.floor(stream(`cpu/core${core.index}/tick`)() * periodPs);
      core.tick.start(this.sim.nowPs, periodPs, phase, costPs);
    }
  }

  /** Makes cores 0..n-1 exist (so threads can move to cores nobody was placed on). */
  ensureCores(n: number): void {
    if (n > 0) this.coreAt(n - 1);
  }

  /**
   * @internal Where a migratable thread woken from sleep runs: its core if idle, else the
   * next idle core after it, else its core (select_idle_sibling scans the LLC for an idle
   * CPU). An idle core has no thread on it, none waiting and no tail work.
   */
  placeOnWake(t: HostThread): Core {
    const prev = t.core;
    const now = this.sim.nowPs;
    if (isIdleCore(prev, now)) return prev;
    const cores = this.cores;
    const n = cores.length;
    let polled: Core | null = isPolledCore(prev) ? prev : null;
    for (let k = 1; k < n; k++) {
      const c = cores[(prev.index + k) % n]!;
      if (isIdleCore(c, now)) return this.migrate(t, prev, c, now);
      if (polled === null && isPolledCore(c)) polled = c;
    }
    // no idle core: one whose thread only polls for work (a halted vCPU in KVM's halt
    // polling, a busy loop) gives way at once, where a working thread would be preempted
    if (polled !== null && polled !== prev) return this.migrate(t, prev, polled, now);
    return prev;
  }

  private migrate(t: HostThread, from: Core, to: Core, now: number): Core {
    // (vruntime is relative to a core's min_vruntime: renormalized for the new core)
    t.shiftVruntime(to.minVruntimeAt(now) - from.minVruntimeAt(now));
    t.moveTo(to, this.cores.length);
    return to;
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
      t.runLoop();
      return;
    }
    if (t.isIrq) {
      this.arriveIrq(core, t);
      return;
    }
    if (cur !== null && cur.state === IDLE) {
      if (cur.idleMode === 'poll') {
        if (this.wakeePreempts(t, cur) && this.suspend(cur)) {
          core.ready.unshift(cur);
          this.grant(core, t, this.options.ctxSwitchPs);
          return;
        }
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
    if (cur.state === RUNNING && this.wakeePreempts(t, cur)) {
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

  /** Interrupt work wants its core: it takes it from whatever runs there. */
  private arriveIrq(core: Core, t: HostThread): void {
    const cur = core.current;
    t.state = READY;
    if (cur === null) {
      core.irqReady.push(t);
      this.releaseCore(core);
      return;
    }
    if (cur.isIrq) {
      core.irqReady.push(t); // interrupt work runs one at a time
      return;
    }
    if (cur.state === IDLE) {
      // a poller (halt poll, busy loop, PMD): its poll loop pauses; steps it computed
      // ahead finish first (they are not preemptible)
      cur.pausePoll();
      cur.interruptions++;
      core.interrupted = cur;
      core.irqReady.push(t);
      if (cur.idleSincePs > core.freeAtPs) core.freeAtPs = cur.idleSincePs;
      core.current = null;
      this.grantIrq(core);
      return;
    }
    if (cur.state === RUNNING && cur.isExecuting && cur.isStepCancellable) {
      cur.preemptStep();
      cur.state = READY;
      this.interruptCore(core, cur);
      core.irqReady.unshift(t);
      this.grantIrq(core);
      return;
    }
    // switching in, or a step that cannot be cancelled: the interrupt waits for its next step
    core.irqReady.push(t);
  }

  /**
   * @internal Interrupt work takes the core from victim, a thread whose step is pending
   * (READY): it gets the core back, with no context switch, when the interrupt work ends.
   */
  interruptCore(core: Core, victim: HostThread): void {
    victim.interruptions++;
    if (victim.onInterrupt !== null) victim.addPendingPs(victim.onInterrupt());
    core.interrupted = victim;
    core.current = null;
  }

  /** @internal Runs the next interrupt work waiting on the core (the core is free). */
  grantIrq(core: Core): void {
    const t = core.irqReady.shift()!;
    this.grant(core, t, 0);
  }

  private grant(core: Core, t: HostThread, switchPs: number): void {
    core.current = t;
    core.lastRan = t;
    t.state = RUNNING;
    const now = this.sim.nowPs;
    let waitPs = core.freeAtPs > now ? core.freeAtPs - now : 0; // the last occupant's tail work
    if (core.governor !== null) waitPs += core.wake(now);
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
    if (core.irqReady.length !== 0) {
      this.grantIrq(core);
      return;
    }
    const back = core.interrupted;
    if (back !== null) {
      // return from interrupt: the interrupted thread continues, no context switch
      core.interrupted = null;
      if (back.state === IDLE) {
        back.resumePoll(core);
        return;
      }
      // (its slice goes on: interrupt time is charged to the interrupted thread, as CFS does)
      core.current = back;
      core.lastRan = back;
      back.state = RUNNING;
      const now = this.sim.nowPs;
      const waitPs = core.freeAtPs > now ? core.freeAtPs - now : 0;
      if (waitPs > 0) this.sim.post(waitPs, switchDone, back);
      else back.resume();
      if (core.ready.length !== 0) this.scheduleSliceCheck(core);
      return;
    }
    const next = core.ready.shift();
    if (next) this.grant(core, next, this.options.ctxSwitchPs);
    else core.goIdle(this.sim.nowPs);
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
    if (cur.state === BLOCKED || cur.state === READY || cur.isIrq) return; // (interrupt work ends with a check)
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
      // work it computed ahead is not preemptible: the next thread starts after it
      if (cur.idleSincePs > cur.core.freeAtPs) cur.core.freeAtPs = cur.idleSincePs;
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
  /**
   * One cpu.csv row per thread; `core` is where it spent most of the window (its only
   * core unless it migrates).
   */
  rows(): CpuRow[] {
    const n = this.cores.length;
    return this.threads.map((t) => {
      const u = t.usage();
      const w = u.windowPs > 0 ? u.windowPs : 1;
      let core = t.core.index;
      if (t.migrations > 0) {
        const byCore = t.usedByCore(n);
        for (let i = 0; i < n; i++) if (byCore[i]! > byCore[core]!) core = i;
      }
      return {
        thread: t.name,
        core,
        busyFraction: Math.min(1, (u.busyPs + u.pollPs) / w),
        pollFraction: Math.min(1, u.pollPs / w),
      };
    });
  }

  /** Fraction of the window each core was occupied (all threads that ran on it). */
  coreBusyFractions(): number[] {
    const n = this.cores.length;
    const sum = new Float64Array(n);
    let windowPs = 1;
    for (const t of this.threads) {
      const used = t.usedByCore(n);
      const w = t.usage().windowPs;
      let total = 0;
      for (let i = 0; i < n; i++) total += used[i]!;
      // (work computed ahead can reach past the window's end: clipped as in rows())
      const scale = total > w && total > 0 ? w / total : 1;
      for (let i = 0; i < n; i++) sum[i]! += used[i]! * scale;
      windowPs = Math.max(windowPs, w);
    }
    return Array.from(sum, (x) => x / windowPs);
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
