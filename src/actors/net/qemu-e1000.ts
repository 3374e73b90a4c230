/**
 * An emulated Intel e1000 NIC (hw/net/e1000.c; io-paths.md s2, path A), either in QEMU
 * user space (`qemu` mode: register accesses are heavy exits under the BQL, frames go
 * through tap writev/read with two copies each way, INTx through KVM_IRQ_LINE ioctls) or
 * inside the hypervisor (`vmm` mode, VMware-style in-VMM emulation, SUG01: register
 * accesses are in-kernel I/O exits, one copy each way, in-kernel interrupt injection, the
 * receive side run by a kernel worker).
 *
 * Registers modelled: TDT (transmit all descriptors up to the tail, synchronously on the
 * writing vCPU), RDT (free receive descriptors), ICR (read-to-clear cause, deasserts the
 * line), IMS/IMC (mask), STATUS (flush reads). Causes TXDW and RXT0 raise the
 * level-triggered INTx line through the mitigation timer (ITR); a masked cause asserts
 * the line when unmasked.
 */
import { Fifo } from '../../primitives/fifo.js';
import type { HostThread } from '../../primitives/host-cpu.js';
import { IrqModerator } from '../../primitives/irq-moderator.js';
import type { ActorEnv } from '../host/env.js';
import type { Tap } from './host-net.js';
import { copyBytesOf, ringUnits, type Packet, type PacketPort } from './messages.js';

export const ICR_TXDW = 1;
export const ICR_RXT0 = 2;

/** Something that can run steps: a vCPU (in an exit) or a host thread. */
export interface Executor {
  exec<A>(ps: number, fn: (arg: A) => void, arg: A): void;
}

export interface E1000Costs {
  isInKernel: boolean;
  txPerPktPs: number;
  rxPerPktPs: number;
  regPs: number;
  syscallPs: number;
  /** tun, bridge and NIC driver transmit of a packet, in the device model's context [ps]. */
  hostTxPs: (pkt: Packet) => number;
  /** Raising INTx: KVM_IRQ_LINE ioctl (QEMU) or in-kernel injection [ps]. */
  irqRaisePs: number;
  itrPs: number;
  ringSize: number;
  tapReadLimit: number;
}

export interface E1000Stages {
  backendTx: number;
  backendRx: number;
}

/**
 * A frame being processed by the device: on the vCPU that wrote TDT (vCPUs of a VM may
 * write it concurrently when no BQL serializes their exits, as in the hypervisor), or on
 * the thread reading the tap. Kept in a pooled record, with a module-level continuation,
 * rather than in a closure made per frame.
 */
interface FrameStep {
  readonly dev: E1000Device;
  exe: Executor | null;
  done: (() => void) | null;
  pkt: Packet | null;
  bytes: number;
  costPs: number;
  /** Frames read from the tap in this receive call before this one. */
  read: number;
}

function txStepDone(step: FrameStep): void {
  step.dev.afterTxStep(step);
}

function rxStepDone(step: FrameStep): void {
  step.dev.afterRxStep(step);
}

export class E1000Device {
  /** Descriptors the driver filled, between TDH and TDT. */
  readonly txPending = new Fifo<Packet>();
  /** Descriptors written back (DD) and not yet cleaned by the driver. */
  txDone = 0;
  /** Free receive descriptors (RDH..RDT). */
  rxFree = 0;
  /** Received frames in the ring, not yet taken by the driver. */
  readonly rxDone = new Fifo<Packet>();
  private icr = 0;
  private ims = 0;
  private isLineHigh = false;
  private isTapStopped = false;
  private readonly moderator: IrqModerator;
  /** Raises the guest's INTx vector after delayPs. */
  raiseLine: (delayPs: number) => void = () => {};
  /** Called when the tap has frames to read and reading is allowed. */
  onTapReady: () => void = () => {};
  interruptsRaised = 0;
  txPackets = 0;
  rxPackets = 0;
  /** Step records not in use (a stack: steps in flight at once are few). */
  private readonly freeSteps: FrameStep[] = [];
  private freeStepCount = 0;

  constructor(
    private readonly env: ActorEnv,
    readonly name: string,
    private readonly costs: E1000Costs,
    private readonly stages: E1000Stages,
    readonly tap: Tap,
    private readonly transmit: PacketPort,
  ) {
    this.moderator = new IrqModerator(env.sim, costs.itrPs, () => this.assert());
    tap.onReadable = () => {
      if (!this.isTapStopped) this.onTapReady();
    };
  }

  /** Copies per frame each way: QEMU's buffer in between (2) or straight (1). */
  private get copiesEachWay(): number {
    return this.costs.isInKernel ? 1 : 2;
  }

  // ---------------------------------------------------------------- registers

  /** TDT write: start_xmit walks every pending descriptor on the writing thread. */
  writeTdt(exe: Executor, done: () => void): void {
    const c = this.costs;
    const pkt = this.txPending.shift();
    if (pkt === undefined) {
      this.setCause(ICR_TXDW);
      done();
      return;
    }
    const bytes = copyBytesOf(pkt.bytes);
    // a TSO context: the device model cuts the frames itself (xmit_seg), each sent on its own
    pkt.isSegmented = true;
    const frames = pkt.frames;
    const cost = (c.txPerPktPs + (c.isInKernel ? 0 : c.syscallPs)) * frames + this.copiesEachWay * this.env.copyPs(bytes) + c.hostTxPs(pkt);
    this.runStep(exe, done, pkt, bytes, cost, 0, txStepDone);
  }

  /** @internal A frame of a TDT write has been processed: it leaves, the walk goes on. */
  afterTxStep(tx: FrameStep): void {
    const exe = tx.exe!;
    const done = tx.done!;
    const pkt = tx.pkt!;
    this.endStep(tx, this.stages.backendTx);
    this.transmit(pkt, this.env.sim.nowPs);
    this.txDone++;
    this.txPackets++;
    this.writeTdt(exe, done);
  }

  /** ICR read: returns the causes and clears them, deasserting the line. */
  readIcr(): number {
    const v = this.icr;
    this.icr = 0;
    this.isLineHigh = false;
    return v;
  }

  writeIms(bits: number): void {
    this.ims |= bits;
    if ((this.icr & this.ims) !== 0) this.moderator.trigger();
  }

  writeImc(bits: number): void {
    this.ims &= ~bits;
  }

  /** RDT write: n more free receive descriptors; a stopped tap is read again. */
  writeRdt(n: number): void {
    this.rxFree += n;
    if (this.rxFree > this.costs.ringSize) throw new Error(`${this.name}: more receive descriptors than the ring holds`);
    if (this.isTapStopped && this.rxFree > 0) {
      this.isTapStopped = false;
      if (!this.tap.queue.isEmpty) this.onTapReady();
    }
  }

  get regPs(): number {
    return this.costs.regPs;
  }

  // ---------------------------------------------------------------- receive

  /** tap_send / in-kernel receive: frames from the tap into the guest ring, one per step. */
  receiveFrames(exe: Executor, done: () => void, read = 0): void {
    const c = this.costs;
    const tap = this.tap.queue;
    if (read >= c.tapReadLimit || tap.isEmpty) {
      if (!tap.isEmpty) this.onTapReady();
      done();
      return;
    }
    if (this.rxFree < ringUnits(tap.peek()!.frames, c.ringSize)) {
      this.isTapStopped = true; // e1000_can_receive: no descriptors, stop reading the tap
      done();
      return;
    }
    const pkt = tap.shift()!;
    // a descriptor, a read and the receive work per frame (the host cut merged packets)
    const frames = pkt.frames;
    this.rxFree -= ringUnits(frames, c.ringSize);
    const bytes = copyBytesOf(pkt.bytes);
    const cost = (c.rxPerPktPs + (c.isInKernel ? 0 : c.syscallPs)) * frames + this.copiesEachWay * this.env.copyPs(bytes);
    this.runStep(exe, done, pkt, bytes, cost, read, rxStepDone);
  }

  /** @internal A frame read from the tap is in the guest ring: the next one, if any. */
  afterRxStep(rx: FrameStep): void {
    const exe = rx.exe!;
    const done = rx.done!;
    const pkt = rx.pkt!;
    const read = rx.read;
    this.endStep(rx, this.stages.backendRx);
    this.rxDone.push(pkt);
    this.rxPackets++;
    this.setCause(ICR_RXT0);
    this.receiveFrames(exe, done, read + 1);
  }

  /** Processes a frame on exe for costPs, in a pooled step record, then fn(record). */
  private runStep(exe: Executor, done: () => void, pkt: Packet, bytes: number, costPs: number, read: number, fn: (step: FrameStep) => void): void {
    const step = this.freeStepCount > 0 ? this.freeSteps[--this.freeStepCount]! : { dev: this, exe: null, done: null, pkt: null, bytes: 0, costPs: 0, read: 0 };
    step.exe = exe;
    step.done = done;
    step.pkt = pkt;
    step.bytes = bytes;
    step.costPs = costPs;
    step.read = read;
    exe.exec(costPs, fn, step);
  }

  /** The common end of a frame step: its copies, its syscall, its stage; the record is freed. */
  private endStep(step: FrameStep, stage: number): void {
    for (let i = 0; i < this.copiesEachWay; i++) this.env.countCopy(step.bytes);
    if (!this.costs.isInKernel) this.env.counters.syscalls++;
    this.env.tracker.mark(step.pkt!, stage, step.costPs);
    step.exe = null;
    step.done = null;
    step.pkt = null;
    this.freeSteps[this.freeStepCount++] = step;
  }

  // ---------------------------------------------------------------- interrupts

  private setCause(bits: number): void {
    this.icr |= bits;
    if ((this.icr & this.ims) !== 0) this.moderator.trigger();
  }

  private assert(): void {
    if ((this.icr & this.ims) === 0 || this.isLineHigh) return;
    this.isLineHigh = true;
    this.interruptsRaised++;
    if (!this.costs.isInKernel) this.env.counters.syscalls++; // KVM_IRQ_LINE
    this.raiseLine(this.costs.irqRaisePs);
  }
}

/** The in-hypervisor device's receive worker (emulated-vmm): reads the tap in kernel. */
export function attachKernelReceiver(dev: E1000Device, thread: HostThread): void {
  let isWork = false;
  // made once: a closure written inside onRun would allocate onRun's context at every run
  const idle = (): void => thread.idle();
  thread.onRun = () => {
    if (!isWork) {
      thread.idle();
      return;
    }
    isWork = false;
    dev.receiveFrames(thread, idle);
  };
  dev.onTapReady = () => {
    isWork = true;
    thread.wake();
  };
}
