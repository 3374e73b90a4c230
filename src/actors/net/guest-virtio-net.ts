/**
 * The guest's virtio-net driver (Linux drivers/net/virtio_net.c), per queue pair a
 * receive and a transmit virtqueue with their own MSI-X vectors and NAPI instances.
 *
 * Transmit (start_xmit): with TX NAPI, disable TX callbacks, reclaim used buffers, and
 * when no more packets follow (no xmit_more) re-enable them "delayed" (after 3/4 of the
 * outstanding buffers) with a re-check; add the packet (one slot with indirect
 * descriptors); stop the queue when fewer than 2 + MAX_SKB_FRAGS slots are left; kick
 * only at the end of a batch and only if the device asked (virtqueue_kick_prepare).
 * Receive: the interrupt disables RX callbacks and schedules NAPI (skb_recv_done); the
 * poll receives up to the budget, refills buffers (kicking only if the device asked),
 * then re-enables callbacks and re-checks (virtqueue_napi_complete), polling again if
 * something slipped in. TX completions: the TX interrupt schedules TX NAPI, which
 * reclaims and wakes a stopped queue, then re-enables callbacks with a re-check.
 */
import type { StageTracker } from '../../primitives/stage-tracker.js';
import type { Virtqueue } from '../../primitives/virtqueue.js';
import { socketCostPs, type ActorEnv } from '../host/env.js';
import type { NetDevice } from './guest-app.js';
import type { GuestTask, GuestVcpu, IrqVector } from '../host/guest-vcpu.js';
import { guestRxPs, ringUnits, unitsOf, type Packet } from './messages.js';
import { TxSteps, type TxStep, type TxStepOwner } from './tx-step.js';

/** MAX_SKB_FRAGS + 2: start_xmit stops the queue below this many free slots. */
export const TX_STOP_THRESHOLD = 2 + 17;

export interface VirtioDriverCosts {
  xmitPs: number;
  rxPs: number;
  reclaimPs: number;
  napiBudget: number;
  hasNapiTx: boolean;
  /** Receive-side stack cost per frame (workload guest_stack_ns) [ps]. */
  stackPs: number;
  rxBufBytes: number;
  /** The qdisc length of each transmit queue, dev->tx_queue_len (guest.txqueuelen_packets). */
  txQueueLen: number;
  /** The device takes TSO packets (else the guest's GSO cuts them into frames first). */
  isTso: boolean;
  /** GRO: the stack runs once per merged packet. */
  isGro: boolean;
  /** Bulk TCP-like mode: the application's read size [bytes] (0: not that mode). */
  tcpMessageBytes: number;
  /** Most frames one op may put into the transmit ring (the queue stops before less room is left). */
  maxTxUnits: number;
}

export interface VirtioDriverStages {
  guestTx: number;
  irq: number;
  guestRx: number;
}

/** A kick (available-buffer notification) for virtqueue `vq`: runs on the vCPU, then fn. */
export type KickPort = (vcpu: GuestVcpu, vq: number, fn: () => void) => void;

/** Descriptors a transmitted frame needs: the header inline (ANY_LAYOUT) plus page frags. */
export function txSegments(frameBytes: number): number {
  return 1 + Math.floor((frameBytes - 1) / 4096);
}

/**
 * Ring slots a transmitted packet takes (what the device returns with its used entry):
 * the frames a guest cut by GSO take a slot each (a frame's header and data in one
 * descriptor); else its descriptors (one with indirect).
 */
export function txSlotsOf(txq: Virtqueue<Packet>, pkt: Packet): number {
  const units = unitsOf(pkt);
  return units > 1 ? ringUnits(units, txq.size) : txq.slotsFor(txSegments(pkt.bytes));
}

/**
 * Mergeable receive buffers a frame fills, at most a quarter of the ring (ringUnits; a train of frames
 * larger than the whole ring is taken as if it fitted: the frames of a real one would go
 * in one by one as buffers come back).
 */
export function rxBuffers(frameBytes: number, bufBytes: number, ringSize: number): number {
  if (frameBytes <= bufBytes) return 1; // (most frames: no division)
  return ringUnits(Math.ceil(frameBytes / bufBytes), ringSize);
}

class RxNapi implements GuestTask {
  isQueued = false;
  vector: IrqVector | null = null;
  readonly got: Packet[] = [];
  /** CPU time of each received packet of the poll [ps]. */
  readonly costs: Float64Array;
  refill = 0;
  cost = 0;
  received = 0;
  budgetUsed = 0;
  /** The driver's afterRefill(this), bound once (a closure made per poll allocated its context at every poll). */
  afterRefillFn: () => void = () => {};
  /** Free slots above which a poll refills: half of min(budget, ring size) (try_fill_recv). */
  readonly refillAbove: number;
  constructor(
    readonly driver: GuestVirtioNet,
    readonly q: number,
    readonly vcpu: GuestVcpu,
    readonly rxq: Virtqueue<Packet | null>,
    napiBudget: number,
  ) {
    this.refillAbove = Math.min(napiBudget, rxq.size) / 2;
    this.costs = new Float64Array(napiBudget);
  }
  run(vcpu: GuestVcpu): void {
    this.driver.pollRx(this, vcpu);
  }
}

class TxNapi implements GuestTask {
  isQueued = false;
  vector: IrqVector | null = null;
  vcpu: GuestVcpu | null = null;
  constructor(
    readonly driver: GuestVirtioNet,
    readonly q: number,
    readonly txq: Virtqueue<Packet>,
  ) {}
  run(vcpu: GuestVcpu): void {
    this.driver.pollTx(this, vcpu);
  }
}

export class GuestVirtioNet implements NetDevice, TxStepOwner {
  onReceive: (pkt: Packet, atPs: number) => void = () => {};
  onTxSpace: (queue: number) => void = () => {};
  private readonly rxNapis: RxNapi[] = [];
  private readonly txNapis: TxNapi[] = [];
  private readonly isStopped: boolean[] = [];
  /** When each queue's transmit lock is next free [ps]. */
  private readonly txLockUntil: Float64Array;
  /** Kicks written, by virtqueue kind. */
  txKicks = 0;
  rxKicks = 0;
  // Costs and stage ids read per packet, hoisted from `costs` and `stages`.
  private readonly hasNapiTx: boolean;
  private readonly napiBudget: number;
  private readonly xmitPs: number;
  private readonly reclaimPs: number;
  private readonly tracker: StageTracker;
  private readonly guestTxStage: number;
  private readonly irqStage: number;
  private readonly guestRxStage: number;
  private readonly rxPs: number;
  private readonly stackPs: number;
  private readonly isTso: boolean;
  private readonly isGro: boolean;
  private readonly tcpMessageBytes: number;
  /** check_sq_full_and_disable's threshold per transmit queue: room for one more op of the most frames. */
  private readonly txStopThreshold: Int32Array;

  constructor(
    private readonly env: ActorEnv,
    readonly name: string,
    /** rx and tx virtqueue of each queue pair. */
    readonly rxqs: Virtqueue<Packet | null>[],
    readonly txqs: Virtqueue<Packet>[],
    private readonly vcpuOfQueue: (q: number) => GuestVcpu,
    private readonly costs: VirtioDriverCosts,
    private readonly stages: VirtioDriverStages,
    private readonly kick: KickPort,
    /** Makes a vq's interrupt vector on a vCPU (the path wires its delivery). */
    makeVector: (vq: number, vcpu: GuestVcpu, handler: () => void) => IrqVector,
  ) {
    this.txLockUntil = new Float64Array(rxqs.length);
    this.hasNapiTx = costs.hasNapiTx;
    this.napiBudget = costs.napiBudget;
    this.xmitPs = costs.xmitPs;
    this.reclaimPs = costs.reclaimPs;
    this.rxPs = costs.rxPs;
    this.stackPs = costs.stackPs;
    this.isTso = costs.isTso;
    this.isGro = costs.isGro;
    this.tcpMessageBytes = costs.tcpMessageBytes;
    // (a frame a guest cut by GSO takes one slot: see txSlotsOf)
    this.txStopThreshold = Int32Array.from(txqs, (txq) =>
      costs.maxTxUnits > 1 ? Math.max(TX_STOP_THRESHOLD, ringUnits(costs.maxTxUnits, txq.size) + 1) : TX_STOP_THRESHOLD,
    );
    this.tracker = env.tracker;
    this.guestTxStage = stages.guestTx;
    this.irqStage = stages.irq;
    this.guestRxStage = stages.guestRx;
    for (let q = 0; q < rxqs.length; q++) {
      const vcpu = vcpuOfQueue(q);
      const rxq = rxqs[q]!;
      const txq = txqs[q]!;
      const rx = new RxNapi(this, q, vcpu, rxq, costs.napiBudget);
      rx.afterRefillFn = () => this.afterRefill(rx);
      const tx = new TxNapi(this, q, txq);
      rx.vector = makeVector(2 * q, vcpu, () => {
        rxq.disableCb(); // skb_recv_done
        vcpu.scheduleSoftirq(rx);
      });
      tx.vector = makeVector(2 * q + 1, vcpu, () => {
        txq.disableCb(); // skb_xmit_done
        vcpu.scheduleSoftirq(tx);
      });
      this.rxNapis.push(rx);
      this.txNapis.push(tx);
      this.isStopped.push(false);
      while (rxq.canAdd(1)) rxq.add(null, 1); // probe-time try_fill_recv
      rxq.enableCb();
      if (!costs.hasNapiTx) txq.disableCb();
    }
  }

  get queuePairs(): number {
    return this.txqs.length;
  }

  get txQueueLen(): number {
    return this.costs.txQueueLen;
  }

  /** The interrupt vector of virtqueue `vq` (rx = 2q, tx = 2q + 1). */
  vectorOf(vq: number): IrqVector {
    const q = vq >> 1;
    return (vq & 1) === 0 ? this.rxNapis[q]!.vector! : this.txNapis[q]!.vector!;
  }

  canSend(queue: number): boolean {
    return !this.isStopped[queue];
  }

  send(vcpu: GuestVcpu, pkt: Packet, isMore: boolean, extraPs: number, fn: () => void): void {
    const queue = pkt.queue;
    const txq = this.txqs[queue]!;
    const hasNapiTx = this.hasNapiTx;
    // (the work starts after any wake-up latency and pending overhead; nothing below changes it)
    vcpu.noteWorkStart();
    const workStartPs = vcpu.workStartAtPs;
    txq.observeAt(workStartPs);
    // free_old_xmit, with TX NAPI: callbacks off while reclaiming, "delayed" on at batch end
    let reclaimed = 0;
    for (;;) {
      if (hasNapiTx) txq.disableCb();
      while (txq.getUsed() !== undefined) reclaimed++;
      if (!hasNapiTx || isMore || !txq.enableCbDelayed()) break;
    }
    // without device TSO the stack's GSO cuts a large packet into frames, each a start_xmit
    if (!pkt.isSegmented && !this.isTso) pkt.isSegmented = true;
    const units = unitsOf(pkt);
    const slots = units > 1 ? 1 : txq.slotsFor(txSegments(pkt.bytes));
    // HARD_TX_LOCK: vCPUs sharing a queue serialize on its lock (they spin, so it is CPU time)
    const driverPs = vcpu.thread.jitter(this.xmitPs * units) + reclaimed * this.reclaimPs + txq.driverCostPs(units, slots, !isMore);
    const lockFreePs = this.txLockUntil[queue]!;
    const reachPs = workStartPs + extraPs;
    const spinPs = lockFreePs > reachPs ? lockFreePs - reachPs : 0;
    this.txLockUntil[queue] = reachPs + spinPs + driverPs;
    const cost = extraPs + spinPs + driverPs;
    this.txSteps.start(vcpu, pkt, isMore, cost, fn);
  }

  /** Scratch state of the transmit step running on each vCPU (one step at a time per vCPU). */
  private readonly txSteps = new TxSteps(this);

  /** @internal The transmit step has run: the frame goes into the ring, kicked at the batch end. */
  sendDone(st: TxStep): void {
    const pkt = st.pkt!;
    const fn = st.fn!;
    const vcpu = st.vcpu;
    st.pkt = null;
    st.fn = null;
    const txq = this.txqs[pkt.queue]!;
    this.tracker.mark(pkt, this.guestTxStage, st.costPs);
    const units = unitsOf(pkt);
    if (units > 1) txq.add(pkt, 1, ringUnits(units, txq.size));
    else txq.add(pkt, txSegments(pkt.bytes));
    let isStopping = false;
    const stopThreshold = this.txStopThreshold[pkt.queue]!;
    if (txq.freeSlots < stopThreshold) {
      // check_sq_full_and_disable: stop, and ask for a TX interrupt after 3/4 of the ring
      isStopping = true;
      this.isStopped[pkt.queue] = true;
      if (txq.enableCbDelayed()) {
        if (this.hasNapiTx) {
          txq.disableCb();
          vcpu.scheduleSoftirq(this.txNapis[pkt.queue]!); // enough already used: reclaim now
        } else {
          while (txq.getUsed() !== undefined);
          if (txq.freeSlots >= stopThreshold) {
            this.isStopped[pkt.queue] = false;
            txq.disableCb();
          }
        }
      }
    }
    if ((!st.isMore || isStopping) && txq.kickPrepare()) {
      this.txKicks++;
      this.kick(vcpu, 2 * pkt.queue + 1, fn);
    } else {
      fn();
    }
  }

  /** @internal RX NAPI poll. */
  pollRx(napi: RxNapi, vcpu: GuestVcpu): void {
    const rxq = napi.rxq;
    const got = napi.got;
    const budget = this.napiBudget;
    const tracker = this.tracker;
    const irqStage = this.irqStage;
    let item: Packet | null | undefined;
    let buffers = 0;
    let n = 0;
    let used = 0; // of the budget: a packet per frame the device delivered separately
    let total = 0;
    const costs = napi.costs;
    vcpu.noteWorkStart();
    const workStartPs = vcpu.workStartAtPs;
    rxq.observeAt(workStartPs);
    while (used < budget && (item = rxq.getUsed()) !== undefined) {
      buffers++;
      if (item === null) continue; // a continuation buffer of a mergeable frame
      tracker.markAt(item, irqStage, 0, workStartPs);
      const units = unitsOf(item);
      let ps = guestRxPs(units, this.rxPs, this.stackPs, this.isGro); // GRO merges the frames
      // a bulk TCP-like application's reads: recv syscalls per message and the copy out
      if (item.payloadBytes > 0) ps += socketCostPs(this.env, item.payloadBytes, this.tcpMessageBytes, this.env.syscallPs);
      costs[n] = ps;
      total += ps;
      used += units;
      got[n++] = item;
    }
    napi.received = n;
    napi.budgetUsed = used;
    const freeSlots = rxq.freeSlots;
    const refill = freeSlots > napi.refillAbove ? freeSlots : 0;
    napi.refill = refill;
    const cost = vcpu.thread.jitter(total) + rxq.driverCostPs(buffers + refill, 1, true) + Math.round((refill * this.reclaimPs) / 2);
    napi.cost = cost;
    vcpu.exec(cost, this.afterPollRxFn, napi);
  }

  private readonly afterPollRxFn = (napi: RxNapi): void => this.afterPollRx(napi);

  private afterPollRx(napi: RxNapi): void {
    const rxq = napi.rxq;
    const got = napi.got;
    const n = napi.received;
    const costs = napi.costs;
    const now = this.env.sim.nowPs;
    let t = now - napi.cost; // the start of the NAPI work
    for (let i = 0; i < n; i++) {
      const p = got[i]!;
      got[i] = undefined as unknown as Packet;
      const perPkt = costs[i]!;
      t += perPkt;
      const at = t < now ? t : now;
      this.tracker.markAt(p, this.guestRxStage, perPkt, at);
      this.onReceive(p, at);
    }
    if (napi.refill > 0) {
      while (rxq.canAdd(1)) rxq.add(null, 1);
      if (rxq.kickPrepare()) {
        this.rxKicks++;
        this.kick(napi.vcpu, 2 * napi.q, napi.afterRefillFn);
        return;
      }
    }
    this.afterRefill(napi);
  }

  private afterRefill(napi: RxNapi): void {
    const rxq = napi.rxq;
    const vcpu = napi.vcpu;
    if (napi.budgetUsed >= this.napiBudget) {
      vcpu.scheduleSoftirq(napi);
    } else if (rxq.enableCb()) {
      rxq.disableCb(); // virtqueue_napi_complete: something slipped in, poll again
      vcpu.scheduleSoftirq(napi);
    }
    vcpu.done();
  }

  /** @internal TX NAPI poll (virtnet_poll_tx). */
  pollTx(napi: TxNapi, vcpu: GuestVcpu): void {
    const txq = napi.txq;
    vcpu.noteWorkStart();
    txq.observeAt(vcpu.workStartAtPs);
    let reclaimed = 0;
    while (txq.getUsed() !== undefined) reclaimed++;
    napi.vcpu = vcpu;
    vcpu.exec(reclaimed * this.reclaimPs + txq.driverCostPs(0, 1, true), this.afterPollTxFn, napi);
  }

  private readonly afterPollTxFn = (napi: TxNapi): void => this.afterPollTx(napi);

  private afterPollTx(napi: TxNapi): void {
    const txq = napi.txq;
    const vcpu = napi.vcpu!;
    if (this.isStopped[napi.q] && txq.freeSlots >= this.txStopThreshold[napi.q]!) {
      this.isStopped[napi.q] = false;
      this.onTxSpace(napi.q);
    }
    if (txq.enableCb()) {
      txq.disableCb();
      vcpu.scheduleSoftirq(napi);
    }
    vcpu.done();
  }
}
