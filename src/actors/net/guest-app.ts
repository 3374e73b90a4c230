/**
 * The application inside a guest (or on bare metal) that drives a network workload, one
 * sender task per flow on the flow's vCPU:
 * - net-rr: a client keeping `outstanding` transactions in flight per flow (or opening
 *   them at a rate); a response completes the transaction, the next request follows
 *   after the think time.
 * - net-tx: a sender with a backlog (packets arrive at a rate, or always one more when
 *   saturating); it blocks while its queue's transmit ring is full. A backlogged sender
 *   hands the driver packets with xmit_more set (qdisc bulk dequeue), so the driver
 *   notifies the device once per batch.
 * - net-rx: a receiver; each frame the driver delivers completes an op.
 * The guest's socket and protocol stack cost (workload guest_stack_ns) is charged here on
 * transmit, and by the driver on receive.
 * The backlogs are the transmit queues' qdiscs: the open-loop senders (net-tx or net-rr
 * at a rate) of one queue hold at most the device's txQueueLen packets in all, and an
 * arrival to a full qdisc is dropped at once (pfifo_fast). A saturating sender or a
 * closed-loop client is never dropped there: it waits for room, it does not arrive.
 */
import type { Rng } from '../../core/random.js';
import { Fifo } from '../../primitives/fifo.js';
import { ArrivalProcess, type NetWorkloadSpec } from '../../workloads/net-common.js';
import { socketCostPs, type ActorEnv } from '../host/env.js';
import type { GuestTask, GuestVcpu } from '../host/guest-vcpu.js';
import type { Packet } from './messages.js';
import { SendWindow } from './send-window.js';

/** What a guest network driver offers the application. */
export interface NetDevice {
  readonly queuePairs: number;
  /** Packets the qdisc of each transmit queue holds (dev->tx_queue_len). */
  readonly txQueueLen: number;
  /** True if queue `queue` can take one more frame now. */
  canSend(queue: number): boolean;
  /**
   * Transmits on the vCPU: `extraPs` of stack cost plus the driver's own work and any
   * notification; fn runs when the guest continues.
   */
  send(vcpu: GuestVcpu, pkt: Packet, isMore: boolean, extraPs: number, fn: () => void): void;
  /** Set by the application: a frame reached the socket layer at atPs. */
  onReceive: (pkt: Packet, atPs: number) => void;
  /** Set by the application: a stopped transmit queue has room again. */
  onTxSpace: (queue: number) => void;
}

/** Ops and their fate, provided by the run. */
export interface OpHooks {
  newOp(vm: number, flow: number, queue: number): Packet | null;
  complete(pkt: Packet, atPs: number): void;
  drop(pkt: Packet, atPs: number): void;
}

class FlowSender implements GuestTask {
  isQueued = false;
  isBlocked = false;
  readonly backlog = new Fifo<Packet>();
  /** Saturating sender: always has another packet. */
  isSaturating = false;
  /** Bulk TCP-like: ops sent and not yet delivered, and how many the window allows. */
  readonly window = new SendWindow();
  /** Packets handed over since the last notification (xmit_more run). */
  private run_ = 0;
  private readonly afterSendFn = (): void => this.afterSend();
  private vcpuNow: GuestVcpu | null = null;
  private readonly device: NetDevice;
  private readonly txBatch: number;
  private readonly guestStackPs: number;
  /** Backlogged packets per queue, shared by the senders of the app (the qdisc lengths). */
  private readonly queued: Int32Array;
  /** Arrivals beyond it are dropped: txQueueLen for open-loop senders, unbounded otherwise. */
  private readonly limit: number;

  constructor(
    readonly app: GuestApp,
    readonly flow: number,
    readonly queue: number,
    readonly vcpu: GuestVcpu,
  ) {
    this.device = app.device;
    this.txBatch = app.spec.txBatch;
    this.guestStackPs = app.spec.guestStackPs;
    this.queued = app.queued;
    this.limit = app.backlogLimit;
  }

  get hasWork(): boolean {
    return this.isSaturating || this.backlog.length !== 0;
  }

  run(vcpu: GuestVcpu): void {
    const device = this.device;
    if (!device.canSend(this.queue)) {
      this.isBlocked = true;
      vcpu.done();
      return;
    }
    let pkt = this.backlog.shift();
    if (pkt !== undefined) this.queued[this.queue]!--;
    else if (this.isSaturating) {
      if (!this.window.canSend()) {
        vcpu.done(); // waits for an ACK: the window is full
        return;
      }
      const app = this.app;
      pkt = app.hooks.newOp(app.vm, this.flow, this.queue) ?? undefined;
      if (pkt !== undefined) this.window.sent();
    }
    if (pkt === undefined) {
      vcpu.done();
      return;
    }
    this.vcpuNow = vcpu;
    // xmit_more while backlogged, but the batch ends (and notifies) every txBatch packets
    // (a window-limited sender whose window is now full has nothing behind this packet)
    const isMore = (this.backlog.length !== 0 || (this.isSaturating && this.window.hasRoom)) && ++this.run_ < this.txBatch;
    if (!isMore) this.run_ = 0;
    let stackPs = vcpu.thread.jitter(this.guestStackPs);
    if (pkt.payloadBytes > 0) stackPs += this.app.writePs(pkt.payloadBytes);
    device.send(vcpu, pkt, isMore, stackPs, this.afterSendFn);
  }

  private afterSend(): void {
    const vcpu = this.vcpuNow!;
    this.vcpuNow = null;
    if (this.isSaturating || this.backlog.length !== 0) vcpu.scheduleApp(this);
    vcpu.done();
  }

  /** New work for this sender; dropped at once when its queue's qdisc is full. */
  push(pkt: Packet): void {
    const queued = this.queued;
    const q = this.queue;
    if (queued[q]! >= this.limit) {
      const app = this.app;
      app.qdiscDrops++;
      app.onDrop(pkt, app.env.sim.nowPs);
      return;
    }
    queued[q]!++;
    this.backlog.push(pkt);
    if (!this.isBlocked) this.vcpu.scheduleApp(this);
  }

  /** An op of this flow was delivered (or lost): the window opens by one. */
  acked(): void {
    if (this.window.release() && !this.isBlocked) this.vcpu.scheduleApp(this);
  }

  unblock(): void {
    if (!this.isBlocked) return;
    this.isBlocked = false;
    if (this.hasWork) this.vcpu.scheduleApp(this);
  }
}

export class GuestApp {
  private readonly senders: FlowSender[] = [];
  private readonly thinkFn = (s: FlowSender): void => this.openTransaction(s);
  private readonly isClosedLoop: boolean;
  private readonly hasThink: boolean;
  /** @internal Backlogged packets per transmit queue (its qdisc length). */
  readonly queued: Int32Array;
  /** @internal The qdisc limit for this app's senders. */
  readonly backlogLimit: number;
  /** Open-loop arrivals dropped because their queue's qdisc was full (qdisc drops). */
  qdiscDrops = 0;
  /** Where a qdisc drop goes: the op's drop hook, or the run's drop port when the path wires it. */
  onDrop: (pkt: Packet, atPs: number) => void;

  constructor(
    readonly env: ActorEnv,
    readonly vm: number,
    readonly spec: NetWorkloadSpec,
    readonly device: NetDevice,
    /** vCPU of each flow. */
    vcpuOfFlow: (flow: number) => GuestVcpu,
    readonly hooks: OpHooks,
    private readonly rng: Rng,
  ) {
    this.isClosedLoop = spec.kind === 'net-rr' && spec.arrival.kind === 'closed';
    this.hasThink = spec.think.mean > 0;
    this.onDrop = hooks.drop;
    this.queued = new Int32Array(device.queuePairs);
    // Only an open-loop sender arrives regardless of room (a closed-loop client would
    // reopen a dropped transaction at once; a saturating one only sends when it can).
    const isOpenLoop = spec.arrival.kind !== 'closed' && spec.arrival.kind !== 'saturate';
    this.backlogLimit = isOpenLoop ? device.txQueueLen : Infinity;
    for (let f = 0; f < spec.flows; f++) {
      const queue = f % device.queuePairs;
      this.senders.push(new FlowSender(this, f, queue, vcpuOfFlow(f)));
    }
    device.onReceive = (pkt, atPs) => this.receive(pkt, atPs);
    device.onTxSpace = (queue) => {
      for (const s of this.senders) if (s.queue === queue) s.unblock();
    };
  }

  /**
   * A bulk TCP-like application's socket calls for `payload` bytes: a send (or recv)
   * syscall per message, shared by the packets of a larger message, and the copy between
   * the application and socket buffers [ps].
   */
  writePs(payload: number): number {
    return socketCostPs(this.env, payload, this.spec.tcp!.messageBytes, this.env.syscallPs);
  }

  /** Ops a bulk TCP-like flow may have in flight (set by the run from the op size). */
  windowOps = Infinity;

  /** An op of flow `flow` was delivered or lost: its sender's window opens. */
  acked(flow: number): void {
    this.senders[flow]?.acked();
  }

  /** Starts the flows (call once, at time 0). */
  start(): void {
    const spec = this.spec;
    const a = spec.arrival;
    if (spec.kind === 'net-rx') return; // the peer generates
    for (const s of this.senders) {
      if (a.kind === 'closed') {
        for (let i = 0; i < a.outstanding; i++) this.openTransaction(s);
      } else if (a.kind === 'saturate') {
        s.isSaturating = true;
        if (spec.tcp !== null) s.window.limit = this.windowOps;
        s.vcpu.scheduleApp(s);
      } else {
        const arrivals = new ArrivalProcess(a, this.rng, 1 / spec.flows);
        const next = (): void => {
          this.openTransaction(s);
          this.env.sim.at(Math.max(this.env.sim.nowPs, arrivals.next()), next, undefined);
        };
        this.env.sim.at(arrivals.next(), next, undefined);
      }
    }
  }

  private openTransaction(s: FlowSender): void {
    const pkt = this.hooks.newOp(this.vm, s.flow, s.queue);
    if (pkt !== null) s.push(pkt);
  }

  private receive(pkt: Packet, atPs: number): void {
    const flow = pkt.flow; // (the packet is not read after its op ends: it is recycled)
    this.hooks.complete(pkt, atPs);
    if (!this.isClosedLoop) return;
    const s = this.senders[flow]!;
    const think = this.hasThink ? Math.round(this.spec.think.sample(this.rng)) : 0;
    const delay = Math.max(0, atPs + think - this.env.sim.nowPs);
    if (delay === 0) this.openTransaction(s);
    else this.env.sim.post(delay, this.thinkFn, s);
  }

  /** The longest backlog one sender had (its flow's; its queue's when it has the queue alone). */
  maxBacklog(): number {
    let max = 0;
    for (const s of this.senders) if (s.backlog.maxLength > max) max = s.backlog.maxLength;
    return max;
  }

  /**
   * TCP sends a transaction's request again (its frame was lost and the retransmission
   * timer fired): through the flow's sender, the stack and the device, as the first time.
   */
  retransmit(pkt: Packet): void {
    pkt.isResponse = false;
    pkt.bytes = pkt.requestBytes;
    this.senders[pkt.flow]!.push(pkt);
  }

  /** A transaction's packet was lost: a closed-loop client opens a new one at once. */
  lost(pkt: Packet, atPs: number): void {
    const flow = pkt.flow; // (the packet is not read after its op ends: it is recycled)
    this.hooks.drop(pkt, atPs);
    if (this.isClosedLoop) this.openTransaction(this.senders[flow]!);
  }
}
