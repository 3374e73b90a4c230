/**
 * KVM: the in-kernel hypervisor as it acts on vCPU threads and on the threads that
 * signal it.
 *
 * Exits (counted by reason in exitsByReason; HLT and timer exits are not I/O exits):
 * - light: ioeventfd kicks (K1), handled in KVM; the eventfd wakes the back end.
 * - heavy: KVM_RUN returns to QEMU on the vCPU thread, which takes the big lock (BQL)
 *   and runs the device model (K2, e1000 registers).
 * - kernel I/O: an MMIO/PIO access emulated inside the hypervisor (emulated-vmm).
 * Interrupts (io-paths.md s1.4):
 * - MSI through irqfd (vhost, vhost-user) or KVM_SIGNAL_MSI (QEMU): the signaller pays
 *   its syscall and the routing; with APICv the interrupt is posted (no exit), without it
 *   the vCPU takes an external-interrupt exit and an EOI exit (I1 / I1').
 * - legacy INTx (e1000): KVM_IRQ_LINE, and the level-triggered EOI always exits (I3).
 * - assigned-device MSI: VT-d posted straight to the vCPU (I4), or through a host IRQ on
 *   the vCPU's core, vfio's eventfd and irqfd (I5).
 * Halting: a HLT exit, optional tickless timer-reprogram exits on idle entry and exit;
 * halt polling itself is the vCPU thread's idle mode (host CPU primitive).
 */
import type { Mutex } from '../../primitives/mutex.js';
import type { ActorEnv } from './env.js';
import { IrqVector, type GuestTask, type GuestVcpu, type HaltHooks } from './guest-vcpu.js';
import type { SignalPort } from './env.js';

export interface KvmCosts {
  exitLightPs: number;
  exitKernelIoPs: number;
  exitUserPs: number;
  ioeventfdPs: number;
  irqRoutePs: number;
  postedIrqPs: number;
  injectExitPs: number;
  eoiExitPs: number;
  guestIrqPs: number;
  hostIrqPs: number;
  isApicv: boolean;
  isVtdPi: boolean;
  hasNohzTimerExits: boolean;
}

export type InterruptKind = 'msi' | 'intx' | 'device-msi';

/**
 * A heavy or in-kernel exit in progress on one vCPU (one at a time: the vCPU is in the
 * exit until it resumes at fn(arg)), reused from exit to exit so an exit allocates nothing.
 */
interface ExitContext {
  vcpu: GuestVcpu;
  bql: Mutex | null;
  handler: (vcpu: GuestVcpu, done: () => void) => void;
  fn: (arg: any) => void;
  arg: unknown;
  /** Handed to the handler: ends the exit (releasing the BQL of a heavy exit). */
  done: () => void;
}

function heavyExitEntered(ctx: ExitContext): void {
  ctx.bql!.acquire(ctx.vcpu.thread, runExitHandler, ctx);
}

function runExitHandler(ctx: ExitContext): void {
  ctx.handler(ctx.vcpu, ctx.done);
}

/** Resumes the guest at the exit's continuation. */
function resume(ctx: ExitContext): void {
  const fn = ctx.fn;
  const arg = ctx.arg;
  ctx.arg = undefined;
  fn(arg);
}

/** The vCPU's exit context in `contexts`, made at its first exit; done releases `bql` if any. */
function exitContext(contexts: (ExitContext | undefined)[], vcpu: GuestVcpu, bql: Mutex | null): ExitContext {
  let ctx = contexts[vcpu.index];
  if (ctx === undefined) {
    ctx = makeExitContext(vcpu, bql);
    contexts[vcpu.index] = ctx;
  }
  return ctx;
}

/**
 * A new exit context. (Its closures are written here, not in exitContext: a function
 * that contains a closure allocates its captured variables at every call, and
 * exitContext runs at every exit.)
 */
function makeExitContext(vcpu: GuestVcpu, bql: Mutex | null): ExitContext {
  const c: ExitContext = { vcpu, bql, handler: noop, fn: noop, arg: undefined, done: noop };
  c.done =
    bql === null
      ? () => resume(c)
      : () => {
          bql.release(vcpu.thread);
          resume(c);
        };
  return c;
}

/** A kick in progress on one vCPU (one step at a time per vCPU, so one record each). */
interface KickStep {
  eventfd: SignalPort;
  fn: (arg: any) => void;
  arg: unknown;
}

function noop(): void {}

function kickDone(st: KickStep): void {
  const { eventfd, fn, arg } = st;
  st.arg = undefined;
  eventfd();
  fn(arg);
}

export class Kvm implements HaltHooks {
  /** Exits by class, for tests. */
  lightExits = 0;
  heavyExits = 0;
  kernelIoExits = 0;

  private readonly hltId: number;
  private readonly timerId: number;
  private readonly extIntId: number;
  private readonly hostTimerId: number;
  private readonly counters: ActorEnv['counters'];
  private readonly exits: ActorEnv['exits'];
  /** Delivery latency an MSI adds: posting with APICv, none without [ps]. */
  private readonly msiPostPs: number;
  private readonly exitLightPs: number;
  private readonly hasNohzTimerExits: boolean;

  constructor(
    private readonly env: ActorEnv,
    readonly costs: KvmCosts,
    /** QEMU's big lock, taken by heavy exits (null when there is no QEMU device model). */
    private readonly bql: Mutex | null,
  ) {
    this.hltId = env.exits.id('hlt', false);
    this.timerId = env.exits.id('timer', false);
    this.extIntId = env.exits.id('external-interrupt', true);
    this.hostTimerId = env.exits.id('host-timer', false);
    this.counters = env.counters;
    this.exits = env.exits;
    this.msiPostPs = costs.isApicv ? costs.postedIrqPs : 0;
    this.exitLightPs = costs.exitLightPs;
    this.hasNohzTimerExits = costs.hasNohzTimerExits;
  }

  // ------------------------------------------------------------------ kicks and exits

  /** CPU time of an ioeventfd kick on the vCPU [ps]. */
  get kickPs(): number {
    return this.costs.exitLightPs + this.costs.ioeventfdPs;
  }

  /**
   * K1: the guest's notify write exits to KVM, which signals the eventfd (waking the back
   * end) and resumes the guest at fn(arg).
   */
  ioeventfdKick<A>(vcpu: GuestVcpu, eventfd: SignalPort, reason: string, fn: (arg: A) => void, arg: A): void {
    this.lightExits++;
    this.exits.countByName(reason, true);
    let st = this.kickSteps[vcpu.index];
    if (st === undefined) {
      st = { eventfd: noop, fn: noop, arg: undefined };
      this.kickSteps[vcpu.index] = st;
    }
    st.eventfd = eventfd;
    st.fn = fn;
    st.arg = arg;
    vcpu.exec(this.kickPs, kickDone, st);
  }

  /** Scratch records of the kicks in progress, by vCPU index (reused: a kick allocates nothing). */
  private readonly kickSteps: (KickStep | undefined)[] = [];

  /**
   * A heavy exit: KVM_RUN returns to QEMU on the vCPU thread, which takes the BQL and runs
   * handler(vcpu, done) (device code; it may run steps on the vCPU), then releases the
   * BQL and re-enters the guest at fn(arg).
   */
  heavyExit<A>(vcpu: GuestVcpu, reason: string, handler: (vcpu: GuestVcpu, done: () => void) => void, fn: (arg: A) => void, arg: A): void {
    const bql = this.bql;
    if (bql === null) throw new Error('heavy exit without a QEMU device model');
    this.heavyExits++;
    this.exits.countByName(reason, true);
    const ctx = exitContext(this.heavyContexts, vcpu, bql);
    ctx.handler = handler;
    ctx.fn = fn;
    ctx.arg = arg;
    vcpu.exec(this.costs.exitUserPs, heavyExitEntered, ctx);
  }

  /** Exit contexts by vCPU index: heavy exits (under the BQL) and in-kernel ones. */
  private readonly heavyContexts: (ExitContext | undefined)[] = [];
  private readonly kernelIoContexts: (ExitContext | undefined)[] = [];

  /** An MMIO/PIO exit emulated inside the hypervisor: handler runs in the exit, no BQL. */
  kernelIoExit<A>(vcpu: GuestVcpu, reason: string, handler: (vcpu: GuestVcpu, done: () => void) => void, fn: (arg: A) => void, arg: A): void {
    this.kernelIoExits++;
    this.exits.countByName(reason, true);
    const ctx = exitContext(this.kernelIoContexts, vcpu, null);
    ctx.handler = handler;
    ctx.fn = fn;
    ctx.arg = arg;
    vcpu.exec(this.costs.exitKernelIoPs, runExitHandler, ctx);
  }

  // ------------------------------------------------------------------ interrupts

  /**
   * Makes an interrupt vector of a guest device bound to a vCPU, with the entry cost and
   * exits its delivery mode implies.
   */
  vector(name: string, vcpu: GuestVcpu, kind: InterruptKind, handler: () => void): IrqVector {
    const c = this.costs;
    const v = new IrqVector(name, vcpu, handler, c.guestIrqPs);
    if (kind === 'intx') {
      // IOAPIC level-triggered EOI is intercepted even with APICv (io-paths.md s1.4 I3).
      v.entryPs += c.eoiExitPs;
      v.exitIds = [this.env.exits.id('ioapic-eoi', true)];
    } else if (!c.isApicv) {
      v.entryPs += c.eoiExitPs;
      v.exitIds = [this.env.exits.id('eoi', true)];
    }
    if (!c.isApicv) {
      // the IPI kicks a running vCPU out (external-interrupt exit), injection on re-entry
      v.runningExitIds = [this.extIntId];
      v.runningExtraPs = c.injectExitPs;
    }
    return v;
  }

  /** CPU time the signaller spends to route an MSI through irqfd or KVM_SIGNAL_MSI [ps] (syscall excluded). */
  get routePs(): number {
    return this.costs.irqRoutePs;
  }

  /**
   * Delivers an MSI that irqfd or KVM_SIGNAL_MSI has routed (the signaller has paid its
   * syscall and routing): posted with APICv, else injected on the next entry.
   */
  deliverMsi(v: IrqVector, delayPs = 0): void {
    this.counters.interrupts++;
    v.vcpu.raiseIrqAfter(v, delayPs + this.msiPostPs);
  }

  /** Raises a legacy INTx line (the caller paid the KVM_IRQ_LINE ioctl or in-kernel injection). */
  raiseIntx(v: IrqVector, delayPs = 0): void {
    this.env.counters.interrupts++;
    v.vcpu.raiseIrqAfter(v, delayPs + (this.costs.isApicv ? this.costs.postedIrqPs : 0));
  }

  /**
   * An assigned device's MSI-X (passthrough, VF): VT-d posted interrupt (I4), or a host
   * IRQ on the vCPU's core forwarded by vfio through irqfd (I5): the running vCPU takes an
   * external-interrupt exit and the host handler runs on its core.
   */
  deviceMsi(v: IrqVector): void {
    this.env.counters.interrupts++;
    const c = this.costs;
    if (c.isVtdPi) {
      v.vcpu.raiseIrqAfter(v, c.postedIrqPs);
      return;
    }
    const vcpu = v.vcpu;
    if (vcpu.thread.isRunning) {
      vcpu.charge(this.hostInterruptExit() + c.hostIrqPs + c.irqRoutePs);
    } else {
      vcpu.charge(c.hostIrqPs + c.irqRoutePs);
    }
    vcpu.raiseIrq(v);
  }

  /**
   * A host interrupt (a NIC's MSI-X and its softirq) taking the core of a vCPU that runs
   * in guest mode: an external-interrupt exit, whose cost is added to the vCPU's step
   * (the host handler's own time is the interrupt work's). Installed on each vCPU thread.
   */
  hostInterruptExit(): number {
    this.exits.count(this.extIntId);
    this.lightExits++;
    return this.exitLightPs;
  }

  /** The host's timer tick landing on a vCPU in guest mode: an exit (not I/O), counted as host-timer. */
  hostTimerExit(): number {
    this.exits.count(this.hostTimerId);
    return this.exitLightPs;
  }

  // ------------------------------------------------------------------ halting

  onHalt(_vcpu: GuestVcpu): number {
    const t = this.exits;
    t.count(this.hltId);
    let ps = this.exitLightPs;
    if (this.hasNohzTimerExits) {
      t.count(this.timerId);
      ps += this.exitLightPs;
    }
    return ps;
  }

  onUnhalt(_vcpu: GuestVcpu): number {
    if (!this.hasNohzTimerExits) return 0;
    this.exits.count(this.timerId);
    return this.exitLightPs;
  }
}

export type { GuestTask };
