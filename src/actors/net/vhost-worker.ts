/**
 * A vhost-net worker (Linux drivers/vhost/net.c, io-paths.md s4): the kernel thread that
 * serves one vhost-net device, i.e. one queue pair (its TX and RX virtqueues and one tap
 * queue). Its work items run serially.
 *
 * handle_tx: disable kicks, then in chunks of at most VHOST_NET_BATCH packets: read the
 * descriptors, copy each packet into a kernel buffer and send it through tun, bridge and
 * the NIC driver (vhost.per_pkt_ns + copy + hostnet.tx_per_pkt_ns), add the used entries
 * and signal the guest through the call eventfd (irqfd, in kernel) if it asked. After
 * vhost.pkt_weight packets or vhost.byte_weight bytes it requeues itself (fairness with
 * RX). When the ring is empty: optionally busy-poll it (kicks stay off), then re-enable
 * kicks and re-check (vhost_enable_notify), draining again if something slipped in.
 * handle_rx: take frames from the tap, copy each into guest receive buffers (mergeable),
 * signal per batch; with no buffers it re-enables RX kicks and waits for the guest's
 * refill kick, frames waiting in the tap (dropped when it is full).
 */
import type { HostThread } from '../../primitives/host-cpu.js';
import type { Virtqueue } from '../../primitives/virtqueue.js';
import type { ActorEnv } from '../host/env.js';
import { rxBuffers, txSlotsOf } from './guest-virtio-net.js';
import type { Tap } from './host-net.js';
import { copyBytesOf, unitsOf, VIRTIO_NET_HDR_BYTES, type Packet, type PacketPort } from './messages.js';

export interface VhostCosts {
  /** handle_tx/handle_rx work per packet (descriptor chain) [ps]. */
  perPktPs: number;
  /** tun, bridge and NIC driver transmit of a packet, in the worker's context [ps]. */
  hostTxPs: (pkt: Packet) => number;
  pktWeight: number;
  byteWeight: number;
  batch: number;
  busyloopPs: number;
  /** eventfd_signal on the call fd and irqfd routing, in this kernel context [ps]. */
  signalPs: number;
  rxBufBytes: number;
}

export interface VhostStages {
  backendTx: number;
  backendRx: number;
}

function busyloopExpired(w: VhostWorker): void {
  w.busyloopExpired();
}

function txBatchDone(w: VhostWorker): void {
  w.txBatchDone();
}

function rxBatchDone(w: VhostWorker): void {
  w.rxBatchDone();
}

export class VhostWorker {
  private txWork = false;
  private rxWork = false;
  private txRunPackets = 0;
  private txRunBytes = 0;
  private isBusyPolling = false;
  /** CPU time owed by the last signal (eventfd_signal + irqfd), added to the next step [ps]. */
  private owedPs = 0;
  private busyloopHandle = -1;
  /** Counters for tests and reports. */
  txPackets = 0;
  rxPackets = 0;
  signals = 0;
  runs = 0;
  onDrop: PacketPort = () => {};

  // The batch in progress in each direction (one at a time: the worker is one thread, and
  // a batch's step ends before the loop can start the next). Reused, so a run of the
  // worker allocates nothing.
  private readonly txItems: (Packet | undefined)[];
  /** Cumulative CPU time up to the end of each packet of the batch [ps]. */
  private readonly txOffsets: Float64Array;
  private txCount = 0;
  private txTotalPs = 0;
  /** total / cost of the batch: the packets' times within it stretch with the jitter. */
  private txScale = 1;
  private readonly rxItems: (Packet | undefined)[];
  private readonly rxOffsets: Float64Array;
  private rxCount = 0;
  private rxTotalPs = 0;
  private rxScale = 1;
  private rxIsOutOfBuffers = false;

  constructor(
    private readonly env: ActorEnv,
    readonly name: string,
    readonly thread: HostThread,
    private readonly txq: Virtqueue<Packet>,
    private readonly rxq: Virtqueue<Packet | null>,
    private readonly tap: Tap,
    private readonly costs: VhostCosts,
    private readonly stages: VhostStages,
    /** Hands a frame to tun/bridge/NIC at atPs. */
    private readonly transmit: PacketPort,
    /** Signals the guest for the rx or tx virtqueue after delayPs (irqfd). */
    private readonly call: (isTx: boolean, delayPs: number) => void,
  ) {
    this.txItems = Array.from({ length: costs.batch }, () => undefined);
    this.txOffsets = new Float64Array(costs.batch);
    this.rxItems = Array.from({ length: costs.batch }, () => undefined);
    this.rxOffsets = new Float64Array(costs.batch);
    thread.onRun = () => this.loop();
    tap.onReadable = () => {
      this.rxWork = true;
      thread.wake();
    };
    if (costs.busyloopPs > 0) {
      // While busy polling, a buffer published into the empty ring is noticed by the loop.
      txq.onAvail = () => {
        if (this.isBusyPolling) {
          this.txWork = true;
          thread.wake();
        }
      };
    }
  }

  /** The guest kicked the TX virtqueue (ioeventfd -> vhost_poll_wakeup). */
  kickTx(): void {
    this.txWork = true;
    this.thread.wake();
  }

  /** The guest kicked the RX virtqueue (buffers refilled after the worker ran out). */
  kickRx(): void {
    this.rxWork = true;
    this.thread.wake();
  }

  private loop(): void {
    if (this.isBusyPolling) this.stopBusyPoll();
    if (this.txWork) {
      this.handleTx();
    } else if (this.rxWork) {
      this.handleRx();
    } else {
      const owed = this.owedPs;
      this.owedPs = 0;
      if (this.costs.busyloopPs > 0) {
        this.isBusyPolling = true;
        this.busyloopHandle = this.env.sim.schedule(owed + this.costs.busyloopPs, busyloopExpired, this);
        this.thread.idle(this.costs.busyloopPs, owed);
      } else {
        this.thread.idle(undefined, owed);
      }
    }
  }

  private stopBusyPoll(): void {
    this.isBusyPolling = false;
    if (this.busyloopHandle >= 0) this.env.sim.cancel(this.busyloopHandle);
    this.busyloopHandle = -1;
  }

  /** @internal The busy-poll window ended: re-enable kicks, re-check, then sleep. */
  busyloopExpired(): void {
    this.busyloopHandle = -1;
    if (!this.isBusyPolling) return;
    this.isBusyPolling = false;
    if (this.txq.enableNotify()) {
      this.txq.disableNotify();
      this.txWork = true;
      this.thread.wake();
    }
  }

  /**
   * While a migration logs dirty pages (VHOST_F_LOG_ALL): the cost of logging one written
   * guest page (drivers/vhost/vhost.c log_write -> set_bit_to_user) [ps]; 0 otherwise.
   * A TX packet logs its used-ring element, an RX packet its buffer pages and used element.
   */
  logPagePs = 0;

  private handleTx(): void {
    const c = this.costs;
    const txq = this.txq;
    this.txWork = false;
    txq.disableNotify();
    this.runs++;
    const items = this.txItems;
    const offsets = this.txOffsets;
    let cost = 0;
    let k = 0;
    let pkt: Packet | undefined;
    while (k < c.batch && this.txRunPackets < c.pktWeight && this.txRunBytes < c.byteWeight && (pkt = txq.pop()) !== undefined) {
      items[k] = pkt;
      const bytes = copyBytesOf(pkt.bytes, VIRTIO_NET_HDR_BYTES);
      // a descriptor chain per packet the guest queued (one per frame when it cut them)
      cost += c.perPktPs * unitsOf(pkt) + this.env.copyPs(bytes) + c.hostTxPs(pkt);
      if (this.logPagePs !== 0) cost += this.logPagePs;
      offsets[k++] = cost;
      this.txRunPackets++;
      this.txRunBytes += pkt.bytes;
    }
    if (k === 0) {
      this.finishTx();
      return;
    }
    cost += txq.deviceCostPs(k, 1);
    const total = this.thread.jitter(cost);
    this.txCount = k;
    this.txTotalPs = total;
    this.txScale = total / cost;
    this.thread.exec(total, txBatchDone, this);
  }

  /** @internal The TX batch's CPU time has run: the packets go out along it. */
  txBatchDone(): void {
    const txq = this.txq;
    const items = this.txItems;
    const offsets = this.txOffsets;
    const k = this.txCount;
    const total = this.txTotalPs;
    const scale = this.txScale;
    const now = this.env.sim.nowPs;
    const startPs = now - total;
    for (let i = 0; i < k; i++) {
      const p = items[i]!;
      items[i] = undefined;
      const at = Math.min(now, startPs + Math.round(offsets[i]! * scale));
      txq.pushUsed(p, txSlotsOf(txq, p));
      this.env.countCopy(copyBytesOf(p.bytes, VIRTIO_NET_HDR_BYTES));
      this.env.tracker.markAt(p, this.stages.backendTx, Math.round((offsets[i]! - (i > 0 ? offsets[i - 1]! : 0)) * scale), at);
      this.transmit(p, at);
    }
    this.txCount = 0;
    this.txPackets += k;
    this.signal(txq, true);
    this.finishTx();
  }

  private finishTx(): void {
    const c = this.costs;
    const txq = this.txq;
    if (this.txRunPackets >= c.pktWeight || this.txRunBytes >= c.byteWeight) {
      // vhost_exceeds_weight: requeue the work item behind the others
      this.txRunPackets = 0;
      this.txRunBytes = 0;
      this.txWork = true;
      if (this.rxWork) {
        this.handleRx();
        return;
      }
      this.loop();
      return;
    }
    if (txq.availPending > 0) {
      this.txWork = true;
    } else if (c.busyloopPs === 0 && txq.enableNotify()) {
      txq.disableNotify(); // re-check found a buffer published during the drain
      this.txWork = true;
    } else if (c.busyloopPs > 0) {
      // busy polling keeps kicks off; the loop spins, then re-enables (busyloopExpired)
    }
    if (!this.txWork) {
      this.txRunPackets = 0;
      this.txRunBytes = 0;
    }
    this.loop();
  }

  private handleRx(): void {
    const c = this.costs;
    const rxq = this.rxq;
    const tap = this.tap.queue;
    this.rxWork = false;
    rxq.disableNotify();
    const items = this.rxItems;
    const offsets = this.rxOffsets;
    let k = 0;
    let cost = 0;
    let buffersLeft = rxq.availPending;
    let buffers = 0;
    let isOutOfBuffers = false;
    while (k < c.batch && !tap.isEmpty) {
      const need = rxBuffers(tap.peek()!.bytes, c.rxBufBytes, rxq.size);
      if (need > buffersLeft) {
        isOutOfBuffers = true;
        break;
      }
      const p = tap.shift()!;
      buffersLeft -= need;
      buffers += need;
      items[k] = p;
      cost += c.perPktPs * unitsOf(p) + this.env.copyPs(copyBytesOf(p.bytes, VIRTIO_NET_HDR_BYTES));
      if (this.logPagePs !== 0) cost += this.logPagePs * (need + 1);
      offsets[k++] = cost;
    }
    if (k === 0) {
      this.finishRx(isOutOfBuffers);
      return;
    }
    cost += rxq.deviceCostPs(buffers, 1);
    const total = this.thread.jitter(cost);
    this.rxCount = k;
    this.rxTotalPs = total;
    this.rxScale = total / cost;
    this.rxIsOutOfBuffers = isOutOfBuffers;
    this.thread.exec(total, rxBatchDone, this);
  }

  /** @internal The RX batch's CPU time has run: the frames are in the guest's buffers. */
  rxBatchDone(): void {
    const c = this.costs;
    const rxq = this.rxq;
    const items = this.rxItems;
    const offsets = this.rxOffsets;
    const k = this.rxCount;
    const total = this.rxTotalPs;
    const scale = this.rxScale;
    const now = this.env.sim.nowPs;
    const startPs = now - total;
    for (let i = 0; i < k; i++) {
      const p = items[i]!;
      items[i] = undefined;
      const need = rxBuffers(p.bytes, c.rxBufBytes, rxq.size);
      rxq.pop();
      rxq.pushUsed(p, 1);
      for (let b = 1; b < need; b++) {
        rxq.pop();
        rxq.pushUsed(null, 1);
      }
      this.env.countCopy(copyBytesOf(p.bytes, VIRTIO_NET_HDR_BYTES));
      const at = Math.min(now, startPs + Math.round(offsets[i]! * scale));
      this.env.tracker.markAt(p, this.stages.backendRx, Math.round((offsets[i]! - (i > 0 ? offsets[i - 1]! : 0)) * scale), at);
    }
    this.rxCount = 0;
    this.rxPackets += k;
    this.signal(rxq, false);
    this.finishRx(this.rxIsOutOfBuffers);
  }

  private finishRx(isOutOfBuffers: boolean): void {
    const rxq = this.rxq;
    if (isOutOfBuffers) {
      // not enough guest buffers: ask for the refill kick, and retry at once only if the
      // guest published more meanwhile (vhost_enable_notify compares with the avail index
      // it last read)
      const seen = rxq.availPending;
      if (rxq.enableNotify() && rxq.availPending > seen) {
        rxq.disableNotify();
        this.rxWork = true;
      }
    } else if (!this.tap.queue.isEmpty) {
      this.rxWork = true;
    }
    this.loop();
  }

  private takeOwed(): number {
    const owed = this.owedPs;
    this.owedPs = 0;
    return owed;
  }

  private signal(vq: Virtqueue<Packet> | Virtqueue<Packet | null>, isTx: boolean): void {
    if (!vq.shouldNotify()) return;
    this.signals++;
    this.owedPs += this.costs.signalPs;
    this.call(isTx, this.costs.signalPs);
  }
}
