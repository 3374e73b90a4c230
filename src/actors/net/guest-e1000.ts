/**
 * The guest's e1000 driver (Linux drivers/net/ethernet/intel/e1000), whose every
 * register access traps (io-paths.md s2).
 *
 * Transmit: fill a descriptor (guest memory), then write TDT, one exit per batch
 * (xmit_more); the device transmits synchronously inside that exit. Interrupt (INTx):
 * read ICR (clears and deasserts), mask with IMC and flush with a STATUS read, schedule
 * NAPI; NAPI cleans transmit descriptors, receives up to the budget, refills and writes
 * RDT, then unmasks with IMS and a flush read: about five heavy exits per interrupt plus
 * one per RDT write, and the level-triggered EOI exit.
 */
import { socketCostPs, type ActorEnv } from '../host/env.js';
import type { NetDevice } from './guest-app.js';
import type { GuestTask, GuestVcpu } from '../host/guest-vcpu.js';
import { guestRxPs, ringUnits, type Packet } from './messages.js';
import { TxSteps, type TxStep, type TxStepOwner } from './tx-step.js';
import type { E1000Device } from './qemu-e1000.js';

/** Runs one trapped register access: exit, device handler, re-entry, then fn. */
export type RegisterExit = (vcpu: GuestVcpu, reason: string, handler: (vcpu: GuestVcpu, done: () => void) => void, fn: () => void) => void;

export interface E1000DriverCosts {
  xmitPs: number;
  rxPs: number;
  reclaimPs: number;
  napiBudget: number;
  stackPs: number;
  ringSize: number;
  /** The qdisc length of each transmit queue, dev->tx_queue_len (guest.txqueuelen_packets). */
  txQueueLen: number;
  /** GRO: the stack runs once per merged packet. */
  isGro: boolean;
  /** Bulk TCP-like mode: the application's read size [bytes] (0: not that mode). */
  tcpMessageBytes: number;
}

export interface E1000DriverStages {
  guestTx: number;
  irq: number;
  guestRx: number;
}

/** DESC_NEEDED: the driver stops its queue with fewer free transmit descriptors. */
const TX_STOP_THRESHOLD = 21;
const IMS_ENABLE_MASK = 3;

function pollDone(driver: GuestE1000): void {
  driver.pollDone();
}

class E1000Isr implements GuestTask {
  isQueued = false;
  constructor(readonly driver: GuestE1000) {}
  run(vcpu: GuestVcpu): void {
    this.driver.isr(vcpu);
  }
}

class E1000Napi implements GuestTask {
  isQueued = false;
  constructor(readonly driver: GuestE1000) {}
  run(vcpu: GuestVcpu): void {
    this.driver.poll(vcpu);
  }
}

export class GuestE1000 implements NetDevice, TxStepOwner {
  onReceive: (pkt: Packet, atPs: number) => void = () => {};
  onTxSpace: (queue: number) => void = () => {};
  private readonly isrTask = new E1000Isr(this);
  private readonly napi = new E1000Napi(this);
  private isStopped = false;
  /** Descriptors posted to the device and not yet cleaned. */
  private txInUse = 0;
  spuriousInterrupts = 0;

  constructor(
    private readonly env: ActorEnv,
    readonly name: string,
    private readonly dev: E1000Device,
    readonly vcpu: GuestVcpu,
    private readonly costs: E1000DriverCosts,
    private readonly stages: E1000DriverStages,
    private readonly regExit: RegisterExit,
  ) {
    this.regPs = dev.regPs;
    dev.writeRdt(costs.ringSize - 1); // probe: fill the receive ring (one slot stays empty)
    dev.writeIms(IMS_ENABLE_MASK);
  }

  get queuePairs(): number {
    return 1;
  }

  get txQueueLen(): number {
    return this.costs.txQueueLen;
  }

  /** The INTx vector's handler: the ISR itself traps, so it runs as guest work. */
  interrupt(): void {
    this.vcpu.scheduleSoftirq(this.isrTask);
  }

  canSend(): boolean {
    return !this.isStopped;
  }

  send(vcpu: GuestVcpu, pkt: Packet, isMore: boolean, extraPs: number, fn: () => void): void {
    const cost = extraPs + vcpu.thread.jitter(this.costs.xmitPs);
    this.txSteps.start(vcpu, pkt, isMore, cost, fn);
  }

  // Register sequences run as chains of exits. Their handlers and continuations are made
  // once per driver and keep the chain's state in fields (one transmit per vCPU, one ISR
  // and one NAPI poll at a time on the interrupt's vCPU), so an access allocates nothing.
  /** Scratch state of the transmit step running on each vCPU. */
  private readonly txSteps = new TxSteps(this);
  private readonly regPs: number;
  private readonly tdtWrite = (v: GuestVcpu, done: () => void): void => this.dev.writeTdt(v, done);
  private readonly statusRead = (v: GuestVcpu, done: () => void): void => v.exec(this.regPs, done, undefined);

  /** @internal The transmit step has run: descriptor filled; TDT written at the batch end. */
  sendDone(st: TxStep): void {
    const pkt = st.pkt!;
    const fn = st.fn!;
    st.pkt = null;
    st.fn = null;
    this.env.tracker.mark(pkt, this.stages.guestTx, st.costPs);
    this.dev.txPending.push(pkt);
    this.txInUse++;
    const isStopping = this.costs.ringSize - this.txInUse < TX_STOP_THRESHOLD;
    if (isStopping) this.isStopped = true;
    if (!st.isMore || isStopping) {
      this.regExit(st.vcpu, 'mmio-e1000-tdt', this.tdtWrite, fn);
    } else {
      fn();
    }
  }

  // e1000_intr: ICR read, then mask (IMC + flush) and schedule NAPI.
  private isrVcpu: GuestVcpu | null = null;
  private isrIcr = 0;
  private readonly icrRead = (v: GuestVcpu, done: () => void): void => {
    this.isrIcr = this.dev.readIcr();
    v.exec(this.regPs, done, undefined);
  };
  private readonly afterIcr = (): void => {
    const vcpu = this.isrVcpu!;
    if (this.isrIcr === 0) {
      this.spuriousInterrupts++;
      vcpu.done();
      return;
    }
    this.regExit(vcpu, 'mmio-e1000-imc', this.imcWrite, this.afterImc);
  };
  private readonly imcWrite = (v: GuestVcpu, done: () => void): void => {
    this.dev.writeImc(IMS_ENABLE_MASK);
    v.exec(this.regPs, done, undefined);
  };
  private readonly afterImc = (): void => this.regExit(this.isrVcpu!, 'mmio-e1000-status', this.statusRead, this.afterIsrStatus);
  private readonly afterIsrStatus = (): void => {
    const vcpu = this.isrVcpu!;
    vcpu.scheduleSoftirq(this.napi);
    vcpu.done();
  };

  /** @internal e1000_intr. */
  isr(vcpu: GuestVcpu): void {
    this.isrVcpu = vcpu;
    this.isrIcr = 0;
    this.regExit(vcpu, 'mmio-e1000-icr', this.icrRead, this.afterIcr);
  }

  // e1000_clean: TX clean, RX up to the budget, RDT refill, unmask.
  private pollVcpu: GuestVcpu | null = null;
  private readonly pollGot: (Packet | undefined)[] = [];
  private pollCount = 0;
  private pollFrames = 0;
  private readonly pollCosts = new Float64Array(4096);
  private pollCleaned = 0;
  private pollCostPs = 0;
  private readonly rdtWrite = (v: GuestVcpu, done: () => void): void => {
    this.dev.writeRdt(this.pollFrames);
    v.exec(this.regPs, done, undefined);
  };
  private readonly pollFinish = (): void => {
    const vcpu = this.pollVcpu!;
    if (this.pollCount >= this.costs.napiBudget) {
      vcpu.scheduleSoftirq(this.napi);
      vcpu.done();
      return;
    }
    // napi_complete + e1000_irq_enable: IMS write and a flush read
    this.regExit(vcpu, 'mmio-e1000-ims', this.imsWrite, this.afterIms);
  };
  private readonly imsWrite = (v: GuestVcpu, done: () => void): void => {
    this.dev.writeIms(IMS_ENABLE_MASK);
    v.exec(this.regPs, done, undefined);
  };
  private readonly afterIms = (): void => this.regExit(this.pollVcpu!, 'mmio-e1000-status', this.statusRead, this.afterPollStatus);
  private readonly afterPollStatus = (): void => this.pollVcpu!.done();

  /** @internal e1000_clean. */
  poll(vcpu: GuestVcpu): void {
    const c = this.costs;
    const dev = this.dev;
    const cleaned = dev.txDone;
    dev.txDone = 0;
    this.txInUse -= cleaned;
    const got = this.pollGot;
    let n = 0;
    let pkt: Packet | undefined;
    vcpu.noteWorkStart();
    const workStartPs = vcpu.workStartAtPs;
    let total = 0;
    let frames = 0;
    while (n < c.napiBudget && (pkt = dev.rxDone.shift()) !== undefined) {
      this.env.tracker.markAt(pkt, this.stages.irq, 0, workStartPs);
      // a descriptor per frame; GRO merges a stream's frames before the stack
      const f = pkt.frames;
      let ps = guestRxPs(f, c.rxPs, c.stackPs, c.isGro);
      if (pkt.payloadBytes > 0) ps += socketCostPs(this.env, pkt.payloadBytes, c.tcpMessageBytes, this.env.syscallPs);
      this.pollCosts[n] = ps;
      total += ps;
      frames += ringUnits(f, c.ringSize);
      got[n++] = pkt;
    }
    this.pollVcpu = vcpu;
    this.pollCount = n;
    this.pollFrames = frames;
    this.pollCleaned = cleaned;
    this.pollCostPs = vcpu.thread.jitter(cleaned * c.reclaimPs + total);
    vcpu.exec(this.pollCostPs, pollDone, this);
  }

  /** @internal The poll's CPU time has run: frames up the stack, then RDT and unmask. */
  pollDone(): void {
    const c = this.costs;
    const got = this.pollGot;
    const n = this.pollCount;
    let t = this.env.sim.nowPs - this.pollCostPs + this.pollCleaned * c.reclaimPs;
    for (let i = 0; i < n; i++) {
      const p = got[i]!;
      got[i] = undefined;
      const perPkt = this.pollCosts[i]!;
      t += perPkt;
      const at = t < this.env.sim.nowPs ? t : this.env.sim.nowPs;
      this.env.tracker.markAt(p, this.stages.guestRx, perPkt, at);
      this.onReceive(p, at);
    }
    if (this.isStopped && c.ringSize - this.txInUse >= TX_STOP_THRESHOLD) {
      this.isStopped = false;
      this.onTxSpace(0);
    }
    if (n > 0) {
      this.regExit(this.pollVcpu!, 'mmio-e1000-rdt', this.rdtWrite, this.pollFinish);
    } else {
      this.pollFinish();
    }
  }
}
