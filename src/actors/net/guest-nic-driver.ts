/**
 * A native NIC driver (ixgbe/ixgbevf-like) in the guest, or on bare metal, driving NIC
 * queues directly: passthrough, SR-IOV VF, bare metal.
 *
 * Transmit: descriptor setup, then the tail doorbell, a plain MMIO write that does not
 * exit (the BAR is mapped into the guest, io-paths.md K4); backlogged senders ring it once
 * per batch (xmit_more). Receive and transmit completions: the queue's MSI-X (posted to
 * the vCPU with VT-d PI, through the host otherwise, or a host IRQ on bare metal) runs a
 * NAPI poll that cleans transmit descriptors, receives up to the budget, refills receive
 * buffers and unmasks the interrupt; completions that arrived meanwhile fire again.
 */
import { Fifo } from '../../primitives/fifo.js';
import { socketCostPs, type ActorEnv } from '../host/env.js';
import type { NetDevice } from './guest-app.js';
import type { GuestTask, GuestVcpu, IrqVector } from '../host/guest-vcpu.js';
import { guestRxPs, ringUnits, unitsOf, type Packet } from './messages.js';
import { TxSteps, type TxStep, type TxStepOwner } from './tx-step.js';
import type { NicQueue } from './nic.js';

export interface NicDriverCosts {
  xmitPs: number;
  rxPs: number;
  reclaimPs: number;
  doorbellPs: number;
  napiBudget: number;
  /** Receive-side stack cost per frame (workload guest_stack_ns) [ps]. */
  stackPs: number;
  /** The qdisc length of each transmit queue, dev->tx_queue_len (guest.txqueuelen_packets). */
  txQueueLen: number;
  /** The NIC takes TSO packets (else the guest's GSO cuts them into frames first). */
  isTso: boolean;
  /** GRO: the stack runs once per merged packet. */
  isGro: boolean;
  /** Bulk TCP-like mode: the application's read size [bytes] (0: not that mode). */
  tcpMessageBytes: number;
  /** Most descriptors one op may need (the frames of a packet the guest cuts). */
  maxTxUnits: number;
}

export interface NicDriverStages {
  guestTx: number;
  irq: number;
  guestRx: number;
}

function pollDone(napi: NicNapi): void {
  napi.driver.pollDone(napi);
}

class NicNapi implements GuestTask {
  isQueued = false;
  vector: IrqVector | null = null;
  readonly pending = new Fifo<Packet>();
  // The poll in progress (one at a time per queue): its CPU time and TX descriptors cleaned.
  totalPs = 0;
  cleaned = 0;
  /** Frames of the poll (the budget counts frames). */
  frames = 0;
  /** CPU time of each received packet of the poll [ps]. */
  readonly costs: Float64Array;
  /** The vCPU running the poll. */
  pollVcpu: GuestVcpu | null = null;
  constructor(
    readonly driver: GuestNicDriver,
    readonly queue: NicQueue,
    readonly index: number,
    readonly vcpu: GuestVcpu,
    budget: number,
  ) {
    this.costs = new Float64Array(budget);
  }
  run(vcpu: GuestVcpu): void {
    this.driver.poll(this, vcpu);
  }
}

export class GuestNicDriver implements NetDevice, TxStepOwner {
  onReceive: (pkt: Packet, atPs: number) => void = () => {};
  onTxSpace: (queue: number) => void = () => {};
  private readonly napis: NicNapi[];
  /** Frames set up but waiting for the doorbell (xmit_more). */
  private readonly unposted: Fifo<Packet>[];
  private readonly isStopped: boolean[];
  private readonly txLockUntil: number[];
  /** Descriptors of sends in progress per queue (taken, not yet written). */
  private readonly sending: number[];
  /** Descriptors of frames set up but not yet posted (xmit_more), per queue. */
  private readonly unpostedUnits: number[];
  /** Descriptors an op of the most frames takes, per queue: the room a queue needs to take one more. */
  private readonly maxTxDescriptors: number[];
  doorbells = 0;

  constructor(
    private readonly env: ActorEnv,
    readonly name: string,
    private readonly queues: NicQueue[],
    vcpuOfQueue: (q: number) => GuestVcpu,
    private readonly costs: NicDriverCosts,
    private readonly stages: NicDriverStages,
    /** Makes the interrupt vector of a queue and wires its delivery. */
    makeVector: (q: number, vcpu: GuestVcpu, handler: () => void) => IrqVector,
  ) {
    this.napis = queues.map((queue, i) => new NicNapi(this, queue, i, vcpuOfQueue(i), costs.napiBudget));
    this.unposted = queues.map(() => new Fifo<Packet>());
    this.isStopped = queues.map(() => false);
    this.txLockUntil = queues.map(() => 0);
    this.sending = queues.map(() => 0);
    this.unpostedUnits = queues.map(() => 0);
    this.maxTxDescriptors = queues.map((q) => ringUnits(costs.maxTxUnits, q.txRingSize));
    for (const napi of this.napis) {
      napi.vector = makeVector(napi.index, napi.vcpu, () => napi.vcpu.scheduleSoftirq(napi));
      napi.queue.postRxBuffers(napi.queue.rxRefillable);
    }
  }

  get queuePairs(): number {
    return this.queues.length;
  }

  get txQueueLen(): number {
    return this.costs.txQueueLen;
  }

  canSend(queue: number): boolean {
    const q = this.queues[queue]!;
    if (q.txSpace - this.unpostedUnits[queue]! - this.sending[queue]! >= this.maxTxDescriptors[queue]!) return true;
    this.isStopped[queue] = true; // netif_stop_subqueue; the next clean wakes it
    return false;
  }

  send(vcpu: GuestVcpu, pkt: Packet, isMore: boolean, extraPs: number, fn: () => void): void {
    const c = this.costs;
    // without NIC TSO the stack's GSO cuts a large packet into frames, each a descriptor
    if (!pkt.isSegmented && !c.isTso) pkt.isSegmented = true;
    const units = unitsOf(pkt);
    // HARD_TX_LOCK: vCPUs sharing a queue serialize on its lock (they spin, so it is CPU time)
    const driverPs = vcpu.thread.jitter(c.xmitPs * units) + (isMore ? 0 : c.doorbellPs);
    vcpu.noteWorkStart();
    const reachPs = vcpu.workStartAtPs + extraPs;
    const lockFreePs = this.txLockUntil[pkt.queue]!;
    const spinPs = lockFreePs > reachPs ? lockFreePs - reachPs : 0;
    this.txLockUntil[pkt.queue] = reachPs + spinPs + driverPs;
    const cost = extraPs + spinPs + driverPs;
    this.sending[pkt.queue]! += this.queues[pkt.queue]!.descriptorsFor(pkt);
    this.txSteps.start(vcpu, pkt, isMore, cost, fn);
  }

  /** Scratch state of the transmit step running on each vCPU (one step at a time per vCPU). */
  private readonly txSteps = new TxSteps(this);

  /** @internal The transmit step has run: descriptors posted, doorbell at the batch end. */
  sendDone(st: TxStep): void {
    const pkt = st.pkt!;
    const fn = st.fn!;
    st.pkt = null;
    st.fn = null;
    const q = this.queues[pkt.queue]!;
    const units = q.descriptorsFor(pkt);
    this.sending[pkt.queue]! -= units;
    this.env.tracker.mark(pkt, this.stages.guestTx, st.costPs);
    const pending = this.unposted[pkt.queue]!;
    pending.push(pkt);
    this.unpostedUnits[pkt.queue]! += units;
    // the tail is written at the end of a batch, or when the queue is about to stop
    // (netif_xmit_stopped: xmit_more is not honoured on a stopped queue)
    const isStopping = q.txSpace - this.unpostedUnits[pkt.queue]! - this.sending[pkt.queue]! < this.maxTxDescriptors[pkt.queue]!;
    if (!st.isMore || isStopping) {
      this.doorbells++;
      const now = this.env.sim.nowPs;
      let p: Packet | undefined;
      while ((p = pending.shift()) !== undefined) q.post(p, now);
      this.unpostedUnits[pkt.queue] = 0;
    }
    fn();
  }

  /** @internal NAPI poll of one queue: clean TX, receive up to the budget, refill, unmask. */
  poll(napi: NicNapi, vcpu: GuestVcpu): void {
    const c = this.costs;
    const q = napi.queue;
    let cost = 0;
    let cleaned = 0;
    while (q.reclaimTx() !== undefined) cleaned++;
    cost += cleaned * c.reclaimPs;
    const got = napi.pending;
    let pkt: Packet | undefined;
    vcpu.noteWorkStart();
    const workStartPs = vcpu.workStartAtPs;
    let frames = 0;
    while (frames < c.napiBudget && (pkt = q.takeRx()) !== undefined) {
      this.env.tracker.markAt(pkt, this.stages.irq, 0, workStartPs);
      // a descriptor per frame; GRO merges a stream's frames before the stack
      const f = pkt.frames;
      let ps = guestRxPs(f, c.rxPs, c.stackPs, c.isGro);
      if (pkt.payloadBytes > 0) ps += socketCostPs(this.env, pkt.payloadBytes, c.tcpMessageBytes, this.env.syscallPs);
      napi.costs[got.length] = ps;
      cost += ps;
      frames += f;
      got.push(pkt);
    }
    const n = got.length;
    napi.frames = frames;
    const refill = q.rxRefillable + n;
    if (refill > 0) cost += c.doorbellPs;
    napi.totalPs = vcpu.thread.jitter(cost);
    napi.cleaned = cleaned;
    napi.pollVcpu = vcpu;
    vcpu.exec(napi.totalPs, pollDone, napi);
  }

  /** @internal The poll's CPU time has run: frames to the socket layer, refill, unmask. */
  pollDone(napi: NicNapi): void {
    const c = this.costs;
    const q = napi.queue;
    const vcpu = napi.pollVcpu!;
    const got = napi.pending;
    // frames reach the socket layer one after the other during the poll
    let t = this.env.sim.nowPs - napi.totalPs + napi.cleaned * c.reclaimPs; // the start of the poll's work
    let p: Packet | undefined;
    let i = 0;
    while ((p = got.shift()) !== undefined) {
      const perPkt = napi.costs[i++]!;
      t += perPkt;
      const at = t < this.env.sim.nowPs ? t : this.env.sim.nowPs;
      this.env.tracker.markAt(p, this.stages.guestRx, perPkt, at);
      this.onReceive(p, at);
    }
    q.postRxBuffers(q.rxRefillable);
    if (napi.cleaned > 0 && this.isStopped[napi.index]) {
      this.isStopped[napi.index] = false;
      this.onTxSpace(napi.index);
    }
    if (napi.frames >= c.napiBudget) {
      vcpu.scheduleSoftirq(napi); // budget used up: poll again
    } else {
      q.unmask(); // napi_complete_done + re-enable the vector
    }
    vcpu.done();
  }
}
