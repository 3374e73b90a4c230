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
import type { ActorEnv } from './env.js';
import type { NetDevice } from './guest-app.js';
import type { GuestTask, GuestVcpu } from './guest-vcpu.js';
import type { Packet } from './messages.js';
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
}

export interface E1000DriverStages {
  guestTx: number;
  irq: number;
  guestRx: number;
}

/** DESC_NEEDED: the driver stops its queue with fewer free transmit descriptors. */
const TX_STOP_THRESHOLD = 21;
const IMS_ENABLE_MASK = 3;

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

export class GuestE1000 implements NetDevice {
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
    vcpu.exec(cost, () => {
      this.env.tracker.mark(pkt, this.stages.guestTx, cost);
      this.dev.txPending.push(pkt);
      this.txInUse++;
      const isStopping = this.costs.ringSize - this.txInUse < TX_STOP_THRESHOLD;
      if (isStopping) this.isStopped = true;
      if (!isMore || isStopping) {
        this.regExit(vcpu, 'mmio-e1000-tdt', (v, done) => this.dev.writeTdt(v, done), fn);
      } else {
        fn();
      }
    }, undefined);
  }

  private reg(vcpu: GuestVcpu, reason: string, work: () => void, fn: () => void): void {
    this.regExit(vcpu, reason, (v, done) => {
      work();
      v.exec(this.dev.regPs, done, undefined);
    }, fn);
  }

  /** @internal e1000_intr: ICR read, then mask (IMC + flush) and schedule NAPI. */
  isr(vcpu: GuestVcpu): void {
    let icr = 0;
    this.reg(vcpu, 'mmio-e1000-icr', () => (icr = this.dev.readIcr()), () => {
      if (icr === 0) {
        this.spuriousInterrupts++;
        vcpu.done();
        return;
      }
      this.reg(vcpu, 'mmio-e1000-imc', () => this.dev.writeImc(IMS_ENABLE_MASK), () => {
        this.reg(vcpu, 'mmio-e1000-status', () => undefined, () => {
          vcpu.scheduleSoftirq(this.napi);
          vcpu.done();
        });
      });
    });
  }

  /** @internal e1000_clean: TX clean, RX up to the budget, RDT refill, unmask. */
  poll(vcpu: GuestVcpu): void {
    const c = this.costs;
    const dev = this.dev;
    const cleaned = dev.txDone;
    dev.txDone = 0;
    this.txInUse -= cleaned;
    const got: Packet[] = [];
    let pkt: Packet | undefined;
    const workStartPs = vcpu.workStartPs;
    while (got.length < c.napiBudget && (pkt = dev.rxDone.shift()) !== undefined) {
      this.env.tracker.markAt(pkt, this.stages.irq, 0, workStartPs);
      got.push(pkt);
    }
    const perPkt = c.rxPs + c.stackPs;
    const cost = vcpu.thread.jitter(cleaned * c.reclaimPs + got.length * perPkt);
    vcpu.exec(cost, () => {
      let t = this.env.sim.nowPs - cost + cleaned * c.reclaimPs;
      for (const p of got) {
        t += perPkt;
        const at = t < this.env.sim.nowPs ? t : this.env.sim.nowPs;
        this.env.tracker.markAt(p, this.stages.guestRx, perPkt, at);
        this.onReceive(p, at);
      }
      if (this.isStopped && c.ringSize - this.txInUse >= TX_STOP_THRESHOLD) {
        this.isStopped = false;
        this.onTxSpace(0);
      }
      const finish = (): void => {
        if (got.length >= c.napiBudget) {
          vcpu.scheduleSoftirq(this.napi);
          vcpu.done();
          return;
        }
        // napi_complete + e1000_irq_enable: IMS write and a flush read
        this.reg(vcpu, 'mmio-e1000-ims', () => this.dev.writeIms(IMS_ENABLE_MASK), () => {
          this.reg(vcpu, 'mmio-e1000-status', () => undefined, () => vcpu.done());
        });
      };
      if (got.length > 0) {
        const n = got.length;
        this.reg(vcpu, 'mmio-e1000-rdt', () => this.dev.writeRdt(n), finish);
      } else {
        finish();
      }
    }, undefined);
  }
}
