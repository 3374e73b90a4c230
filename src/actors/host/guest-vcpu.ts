/**
 * A guest vCPU (or, on bare metal, a host CPU running the application): one host thread
 * that runs the guest kernel's work in priority order, as a real CPU does:
 * hard interrupts (their handlers are short and synchronous), then softirq work (NAPI
 * polls), then application tasks; with nothing to do it halts.
 *
 * Softirq work does not starve application work for ever: after `softirqRestarts`
 * softirq tasks in a row, or `softirqPs` of them, while an application task waits, the
 * application task runs next (Linux __do_softirq hands the rest to ksoftirqd after
 * MAX_SOFTIRQ_RESTART passes or MAX_SOFTIRQ_TIME, and the scheduler then shares the CPU
 * between ksoftirqd and the application; here they take turns).
 *
 * Tasks run as chains of steps: task.run(vcpu) calls vcpu.exec(ps, fn, arg) one or more
 * times and finally vcpu.done(). Interrupts raised meanwhile wait for the current step to
 * end (steps are at most a few microseconds); their handler cost is added to the next
 * step. A halted vCPU is woken by raiseIrq(); KVM halt polling and the tickless-idle
 * timer exits are the Kvm actor's (hooks onHalt/onUnhalt).
 */
import { AS_DOUBLE } from '../../core/time.js';
import { Fifo } from '../../primitives/fifo.js';
import { THREAD_IDLE, THREAD_RUNNING, type HostThread } from '../../primitives/host-cpu.js';
import type { ActorEnv } from './env.js';

/** A unit of guest kernel or application work that can be queued on a vCPU. */
export interface GuestTask {
  isQueued: boolean;
  run(vcpu: GuestVcpu): void;
}

/** An interrupt vector of a guest device, bound to the vCPU its affinity points at. */
export class IrqVector {
  isPending = false;
  /** Deliveries, and deliveries merged into one already pending. */
  raised = 0;
  merged = 0;
  /** Exit reason ids counted each time the handler runs (EOI exits). */
  exitIds: number[] = [];
  /**
   * Exits (and their cost) taken only when the interrupt finds the vCPU in guest mode:
   * without APICv the IPI forces an external-interrupt exit; a halted vCPU is simply
   * woken and gets the interrupt injected on entry.
   */
  runningExitIds: number[] = [];
  runningExtraPs = 0;
  /** Whether the pending delivery found the vCPU in guest mode (set by the vCPU). */
  isRunningHit = false;
  /** When a delayed delivery is due, while the vector waits in its vCPU's delayed queue [ps]. */
  dueAtPs = AS_DOUBLE;
  constructor(
    readonly name: string,
    readonly vcpu: GuestVcpu,
    /** Guest handler (synchronous: ack, disable callbacks, schedule NAPI). */
    public handler: () => void,
    /** CPU cost of taking the interrupt, exits included [ps]. */
    public entryPs: number,
  ) {
    this.dueAtPs = 0;
  }
}

/** Hooks of the hypervisor for a halting vCPU (absent on bare metal). */
export interface HaltHooks {
  /** The guest executes HLT; returns CPU time spent in exits on the way [ps]. */
  onHalt(vcpu: GuestVcpu): number;
  /** The vCPU resumes after a halt; returns CPU time to charge to its next step [ps]. */
  onUnhalt(vcpu: GuestVcpu): number;
}

function raise(v: IrqVector): void {
  v.vcpu.raiseIrq(v);
}

export class GuestVcpu {
  private readonly irqs = new Fifo<IrqVector>();
  /**
   * Interrupts raised from this vCPU's own continuation, due at a later time (ascending;
   * each vector carries its due time in dueAtPs, a double field: a Fifo<number> of the
   * times boxed each one and gave every Fifo a second elements kind).
   */
  private readonly delayedIrqs = new Fifo<IrqVector>();
  private readonly softirqs = new Fifo<GuestTask>();
  private readonly apps = new Fifo<GuestTask>();
  private overheadPs = AS_DOUBLE;
  /** Overhead (interrupt entry, exits) that preceded the work of the last step [ps]. */
  lastOverheadPs = AS_DOUBLE;
  /** workStartPs as of the last noteWorkStart() [ps]. */
  workStartAtPs = AS_DOUBLE;
  private isHalted = false;
  private readonly doneFn = (): void => this.loop();
  /** Halts (HLT) and interrupts taken. */
  halts = 0;
  interruptsTaken = 0;
  /** Softirq tasks run in a row while application work waited, and since when [ps]. */
  private softirqStreak = 0;
  private softirqStreakStartPs = AS_DOUBLE;
  /**
   * KVM's adaptive halt polling (virt/kvm/kvm_main.c kvm_vcpu_halt): the window this vCPU
   * polls when it halts starts at 0, grows (x grow, at least growStart) after a halt that
   * outlasted it but ended within the maximum, shrinks (/ shrink, to 0 below growStart)
   * after a halt longer than the maximum. Null: the thread's fixed window.
   */
  haltPoll: { maxPs: number; grow: number; growStartPs: number; shrink: number } | null = null;
  /** The current adaptive window [ps]. */
  haltPollPs = AS_DOUBLE;
  private haltStartPs = AS_DOUBLE;
  /**
   * Paused by the hypervisor (a migration's stop-and-copy, an auto-converge throttle
   * sleep): the vCPU finishes its current step, then its thread blocks until resume();
   * interrupts raised meanwhile wait. onPaused is told when it has stopped.
   */
  private isPaused = false;
  private onPaused: (() => void) | null = null;
  private readonly resumeFn = (): void => this.loop();
  /** Time spent paused [ps] (the run's throttle and downtime, seen from this vCPU). */
  pausedPs = AS_DOUBLE;
  private pausedSincePs = AS_DOUBLE;
  /** MAX_SOFTIRQ_RESTART and MAX_SOFTIRQ_TIME of the guest kernel [count, ps]. */
  softirqRestarts = 10;
  softirqPs = 2_000_000_000;

  constructor(
    readonly env: ActorEnv,
    readonly name: string,
    readonly index: number,
    readonly thread: HostThread,
    private readonly hooks: HaltHooks | null,
  ) {
    thread.onRun = this.doneFn;
    this.pausedPs = this.pausedSincePs = 0;
    this.overheadPs = this.lastOverheadPs = this.workStartAtPs = this.softirqStreakStartPs = this.haltPollPs = this.haltStartPs = 0;
  }

  get isVirtual(): boolean {
    return this.hooks !== null;
  }

  /** Stops the vCPU after its current step; onPaused(): it has stopped. */
  pause(onPaused: () => void): void {
    if (this.isPaused) throw new Error(`${this.name}: paused twice`);
    this.isPaused = true;
    this.onPaused = onPaused;
    this.thread.wake(); // a halted vCPU wakes to stop
  }

  /** Whether the vCPU is paused (or stopping). */
  get paused(): boolean {
    return this.isPaused;
  }

  /** Lets a paused vCPU run again. */
  resume(): void {
    if (!this.isPaused) throw new Error(`${this.name}: resumed while running`);
    this.isPaused = false;
    if (this.onPaused === null) {
      this.pausedPs += this.env.sim.nowPs - this.pausedSincePs;
      this.thread.unblock();
    } else {
      this.onPaused = null; // resumed before it stopped: it never blocked
    }
  }

  /** An interrupt reaches this vCPU now (a halted vCPU wakes). */
  raiseIrq(v: IrqVector): void {
    v.raised++;
    if (v.isPending) {
      v.merged++;
      return;
    }
    v.isPending = true;
    v.isRunningHit = this.thread.state === THREAD_RUNNING;
    this.irqs.push(v);
    this.thread.wake();
  }

  /**
   * Raises the interrupt after delayPs (delivery latency). A halted vCPU is woken with the
   * latency folded into its wake-up (no separate event); a running one sees it after the
   * delay.
   */
  raiseIrqAfter(v: IrqVector, delayPs: number): void {
    const thread = this.thread;
    const state = thread.state;
    if (delayPs <= 0) {
      this.raiseIrq(v);
    } else if (state === THREAD_IDLE && !v.isPending) {
      v.raised++;
      v.isPending = true;
      v.isRunningHit = false;
      this.irqs.push(v);
      thread.wake(delayPs);
    } else if (state === THREAD_RUNNING && !thread.isExecuting && !v.isPending) {
      // raised from inside this vCPU's own step end (a back end reacting synchronously):
      // due later; the loop takes it when due, or wakes for it after halting
      const at = this.env.sim.nowPs + delayPs;
      const last = this.delayedIrqs.peekLast();
      if (last === undefined || at >= last.dueAtPs) {
        v.isPending = true;
        v.dueAtPs = at;
        this.delayedIrqs.push(v);
      } else {
        this.env.sim.post(delayPs, raise, v);
      }
    } else {
      this.env.sim.post(delayPs, raise, v);
    }
  }

  /** Blocks the thread until resume(). */
  private stop(): void {
    const done = this.onPaused!;
    this.onPaused = null;
    this.pausedSincePs = this.env.sim.nowPs;
    this.thread.block(this.resumeFn, undefined);
    done();
  }

  /** After a halt: grow or shrink the poll window as kvm_vcpu_halt does. */
  private adaptHaltPoll(): void {
    const h = this.haltPoll!;
    this.noteWorkStart();
    const haltPs = this.workStartAtPs - this.haltStartPs;
    const poll = this.haltPollPs;
    if (haltPs <= poll) return; // woken while polling: keep it
    if (poll > 0 && haltPs > h.maxPs) {
      let v = h.shrink > 0 ? poll / h.shrink : 0;
      if (v < h.growStartPs) v = 0;
      this.haltPollPs = Math.round(v);
    } else if (poll < h.maxPs && haltPs < h.maxPs && h.grow > 0) {
      let v = poll * h.grow;
      if (v < h.growStartPs) v = h.growStartPs;
      this.haltPollPs = Math.min(Math.round(v), h.maxPs);
    }
  }

  /** Interrupts (raised, or due by now) or softirq work wait: a task between two steps should let them run. */
  get hasUrgentWork(): boolean {
    if (this.irqs.length !== 0 || this.softirqs.length !== 0) return true;
    const d = this.delayedIrqs.peek();
    return d !== undefined && d.dueAtPs <= this.env.sim.nowPs + this.thread.startDelayPs + this.overheadPs;
  }

  /** Queues softirq work (NAPI); the vCPU runs it before application work. */
  scheduleSoftirq(task: GuestTask): void {
    if (task.isQueued) return;
    task.isQueued = true;
    this.softirqs.push(task);
    this.thread.wake();
  }

  /** Queues runnable application work. */
  scheduleApp(task: GuestTask): void {
    if (task.isQueued) return;
    task.isQueued = true;
    this.apps.push(task);
    this.thread.wake();
  }

  /** When the work of a step started now begins: after wake-up latency and pending overhead [ps]. */
  get workStartPs(): number {
    this.noteWorkStart();
    return this.workStartAtPs;
  }

  /**
   * Sets workStartAtPs to workStartPs. Hot drivers call this and read the field: a time
   * returned by a getter the compiler does not inline is a new heap number (32 bytes per
   * vhost-user request), a store into a double field is not.
   */
  noteWorkStart(): void {
    this.workStartAtPs = this.env.sim.nowPs + this.thread.startDelayPs + this.overheadPs;
  }

  /** Adds CPU time to the next step (an exit or handler cost incurred synchronously) [ps]. */
  charge(ps: number): void {
    this.overheadPs += ps;
  }

  /** Runs ps of guest work (plus pending overhead), then fn(arg). */
  exec<A>(ps: number, fn: (arg: A) => void, arg: A): void {
    const total = ps + this.overheadPs;
    this.lastOverheadPs = this.overheadPs;
    this.overheadPs = 0;
    this.thread.exec(total, fn, arg);
  }

  /** The current task step chain is over: pick the next work. */
  done(): void {
    this.loop();
  }

  private loop(): void {
    const wasHalted = this.isHalted;
    if (this.isHalted) {
      this.isHalted = false;
      if (this.hooks !== null) this.overheadPs += this.hooks.onUnhalt(this);
      if (this.haltPoll !== null) this.adaptHaltPoll();
    }
    if (this.isPaused) {
      this.stop();
      return;
    }
    const delayed = this.delayedIrqs;
    if (delayed.length !== 0) {
      this.noteWorkStart();
      const t = this.workStartAtPs;
      while (delayed.length !== 0 && delayed.peek()!.dueAtPs <= t) {
        const v = delayed.shift()!;
        v.raised++;
        v.isRunningHit = !wasHalted;
        this.irqs.push(v);
      }
    }
    const irqs = this.irqs;
    while (irqs.length !== 0) {
      const v = irqs.shift()!;
      v.isPending = false;
      this.interruptsTaken++;
      this.overheadPs += v.entryPs;
      const ids = v.exitIds;
      for (let i = 0; i < ids.length; i++) this.env.exits.count(ids[i]!);
      if (v.isRunningHit) {
        this.overheadPs += v.runningExtraPs;
        const r = v.runningExitIds;
        for (let i = 0; i < r.length; i++) this.env.exits.count(r[i]!);
      }
      v.handler();
    }
    let task: GuestTask | undefined;
    if (this.softirqs.length !== 0) {
      if (this.apps.length === 0) {
        this.softirqStreak = 0;
        task = this.softirqs.shift();
      } else if (this.softirqStreak === 0) {
        this.softirqStreak = 1;
        this.softirqStreakStartPs = this.env.sim.nowPs;
        task = this.softirqs.shift();
      } else if (this.softirqStreak < this.softirqRestarts && this.env.sim.nowPs - this.softirqStreakStartPs < this.softirqPs) {
        this.softirqStreak++;
        task = this.softirqs.shift();
      } else {
        // ksoftirqd: the waiting application work gets its turn
        this.softirqStreak = 0;
        task = this.apps.shift();
      }
    } else if (this.apps.length !== 0) {
      this.softirqStreak = 0;
      task = this.apps.shift();
    }
    if (task !== undefined) {
      task.isQueued = false;
      task.run(this);
      return;
    }
    if (this.overheadPs > 0) {
      this.exec(0, this.doneFn, undefined);
      return;
    }
    // Every queue was just checked: a wake recorded during the last step is spent.
    this.thread.clearWake();
    this.isHalted = true;
    this.halts++;
    const exitPs = this.hooks !== null ? this.hooks.onHalt(this) : 0;
    if (this.haltPoll !== null) {
      this.haltStartPs = this.env.sim.nowPs + this.thread.startDelayPs + exitPs;
      this.thread.idle(this.haltPollPs, exitPs);
    } else {
      this.thread.idle(undefined, exitPs);
    }
    if (delayed.length !== 0) {
      // an interrupt is on its way: it wakes the halted vCPU when it arrives
      const v = delayed.peek()!;
      const due = v.dueAtPs;
      v.isPending = true;
      const now = this.env.sim.nowPs;
      this.thread.wake(due > now ? due - now : 0);
    }
  }
}
