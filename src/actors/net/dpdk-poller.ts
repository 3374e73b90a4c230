/**
 * A DPDK PMD thread serving vhost-user ports and the physical NIC (OVS-DPDK / testpmd
 * style, io-paths.md s5): it polls 100% of its core, in bursts of at most 32.
 *
 * At start it disables guest kicks on every vring it serves (NO_NOTIFY, or a frozen
 * avail_event with EVENT_IDX), so the guest never exits to transmit. Each burst is one
 * step: guest TX: dequeue (copy guest -> mbuf), switch, NIC tx_burst with one doorbell;
 * NIC RX: rx_burst, switch, enqueue into the guest's receive ring (copy mbuf -> guest;
 * drop if the guest has no buffers), one shadow used-ring flush. After a burst it writes
 * the call eventfd (a syscall on the PMD core; KVM's irqfd routes the interrupt) only if
 * the guest asked for an interrupt (used_event crossed / NO_INTERRUPT clear).
 * Polling costs no events: a ring that becomes non-empty wakes the polling thread, which
 * notices it within half an empty poll loop.
 */
import type { HostThread } from '../../primitives/host-cpu.js';
import type { StageTracker } from '../../primitives/stage-tracker.js';
import type { Virtqueue } from '../../primitives/virtqueue.js';
import { rxBuffers } from './guest-virtio-net.js';
import type { ActorEnv } from '../host/env.js';
import { copyBytesOf, unitsOf, VIRTIO_NET_HDR_BYTES, type Packet } from './messages.js';
import type { NicQueue } from './nic.js';

export interface DpdkCosts {
  burst: number;
  vringPerPktPs: number;
  nicPerPktPs: number;
  switchPerPktPs: number;
  burstPs: number;
  /** Writing the call eventfd: syscall + irqfd routing in this context [ps]. */
  callPs: number;
  rxBufBytes: number;
}

/** One vhost-user queue pair and the NIC queue its traffic uses. */
export interface VhostUserPort {
  name: string;
  txq: Virtqueue<Packet>;
  rxq: Virtqueue<Packet | null>;
  nicq: NicQueue;
  /** Signals the guest (KVM irqfd) for the rx or tx virtqueue after delayPs. */
  call: (isTx: boolean, delayPs: number) => void;
}

export interface DpdkStages {
  backendTx: number;
  backendRx: number;
}

export class DpdkPoller {
  private readonly ports: VhostUserPort[] = [];
  private cursor = 0;
  /** Bursts run, packets moved, drops for want of guest buffers or NIC descriptors. */
  bursts = 0;
  packets = 0;
  rxDrops = 0;
  txDrops = 0;
  calls = 0;
  /** Called with each dropped packet (op accounting). */
  onDrop: (pkt: Packet, atPs: number) => void = () => {};

  // Costs, stage ids and helpers read per burst or packet, hoisted from their objects.
  private readonly burst: number;
  private readonly burstPs: number;
  private readonly vringPerPktPs: number;
  private readonly switchPerPktPs: number;
  private readonly nicPerPktPs: number;
  private readonly callPs: number;
  private readonly rxBufBytes: number;
  private readonly tracker: StageTracker;
  private readonly backendTxStage: number;
  private readonly backendRxStage: number;

  constructor(
    private readonly env: ActorEnv,
    readonly thread: HostThread,
    costs: DpdkCosts,
    stages: DpdkStages,
  ) {
    this.burst = costs.burst;
    this.burstPs = costs.burstPs;
    this.vringPerPktPs = costs.vringPerPktPs;
    this.switchPerPktPs = costs.switchPerPktPs;
    this.nicPerPktPs = costs.nicPerPktPs;
    this.callPs = costs.callPs;
    this.rxBufBytes = costs.rxBufBytes;
    this.tracker = env.tracker;
    this.backendTxStage = stages.backendTx;
    this.backendRxStage = stages.backendRx;
    this.itemSlots = new Int32Array(Math.max(32, costs.burst));
    thread.onRun = () => this.loop();
  }

  /** Serves a port: disables its guest kicks and polls its rings. */
  addPort(port: VhostUserPort): void {
    this.ports.push(port);
    port.txq.disableNotify();
    port.rxq.disableNotify();
    const wake = (): void => this.thread.wake();
    port.txq.onAvail = wake;
    port.nicq.onRxReady = wake;
    port.nicq.isTxAutoReclaim = true;
    port.nicq.postRxBuffers(port.nicq.rxRefillable);
    // the burst's used entries are published ahead of time; a late check notifies then
    port.txq.lateNotify = (delayPs) => this.lateCall(port, true, delayPs);
    port.rxq.lateNotify = (delayPs) => this.lateCall(port, false, delayPs);
  }

  private loop(): void {
    const ports = this.ports;
    const slots = 2 * ports.length;
    let idx = this.cursor;
    for (let k = 0; k < slots; k++) {
      const port = ports[idx >> 1]!;
      const next = idx + 1 === slots ? 0 : idx + 1;
      if ((idx & 1) === 0) {
        const txq = port.txq;
        if (txq.availIdx !== txq.lastAvailIdx) {
          this.cursor = next;
          this.guestTx(port);
          return;
        }
      } else if (port.nicq.rxDone.length !== 0) {
        this.cursor = next;
        this.guestRx(port);
        return;
      }
      idx = next;
    }
    this.thread.idle(); // keeps polling (after the bursts computed ahead)
  }

  private lateCall(port: VhostUserPort, isTx: boolean, delayPs: number): void {
    this.calls++;
    this.env.counters.syscalls++;
    port.call(isTx, delayPs + this.callPs);
  }

  /** Writes the call eventfd after the burst (ending at endPs) if the guest asked for an interrupt. */
  private maybeCall(port: VhostUserPort, vq: Virtqueue<Packet> | Virtqueue<Packet | null>, isTx: boolean): void {
    if (!vq.shouldNotify()) return;
    this.calls++;
    this.env.counters.syscalls++;
    const thread = this.thread;
    thread.execAhead(this.callPs); // eventfd write + irqfd routing
    port.call(isTx, thread.aheadEndPs - this.env.sim.nowPs);
  }

  // The burst in progress (one at a time per PMD thread).
  private readonly items: Packet[] = [];
  /**
   * While a migration logs dirty pages (vhost-user LOG_SHMFD): per packet, the log-cache
   * entries of its written pages and used element (lib/vhost/vhost.c
   * __vhost_log_cache_write), and per burst the cache flush into the shared bitmap
   * (__vhost_log_cache_sync) [ps]; 0 otherwise.
   */
  logPerPagePs = 0;
  logPerBurstPs = 0;

  /** Ring slots of each dequeued buffer (as popped). */
  private readonly itemSlots: Int32Array;
  private readonly dropped: Packet[] = [];

  /**
   * rte_vhost_dequeue_burst + rte_eth_tx_burst. The burst's CPU time is computed ahead
   * (no event); its effects carry the end time.
   */
  private guestTx(port: VhostUserPort): void {
    const env = this.env;
    const txq = port.txq;
    const items = this.items;
    const itemSlots = this.itemSlots;
    const burst = this.burst;
    let cost = this.burstPs;
    let pkt: Packet | undefined;
    let slots = 0;
    let k = 0;
    while (k < burst && (pkt = txq.pop()) !== undefined) {
      const popped = txq.poppedSlots;
      slots += popped;
      itemSlots[k] = popped;
      items[k++] = pkt;
      // per mbuf: a packet, or each frame the guest cut (without TSO on the port)
      cost += (this.vringPerPktPs + this.switchPerPktPs + this.nicPerPktPs) * unitsOf(pkt) + env.copyPs(copyBytesOf(pkt.bytes, VIRTIO_NET_HDR_BYTES));
    }
    cost += txq.deviceCostPs(k, slots / k);
    if (this.logPerBurstPs !== 0) cost += this.logPerBurstPs + this.logPerPagePs * k;
    this.bursts++;
    this.packets += k;
    const perPktPs = Math.round(cost / k);
    const thread = this.thread;
    thread.execAhead(thread.jitter(cost));
    const end = thread.aheadEndPs;
    const nicq = port.nicq;
    let space = nicq.txSpace;
    const tracker = this.tracker;
    const stage = this.backendTxStage;
    for (let i = 0; i < k; i++) {
      const p = items[i]!;
      txq.pushUsed(p, itemSlots[i]!, end);
      env.countCopy(copyBytesOf(p.bytes, VIRTIO_NET_HDR_BYTES));
      const units = nicq.descriptorsFor(p);
      if (units <= space) {
        space -= units;
        tracker.markAt(p, stage, perPktPs, end);
        nicq.post(p, end);
      } else {
        this.txDrops++; // tx_burst took fewer: the application frees the rest
        this.onDrop(p, end);
      }
      items[i] = undefined as unknown as Packet;
    }
    this.maybeCall(port, txq, true);
    this.next();
  }

  /**
   * After a burst computed ahead: the next pass over the rings happens when the burst is
   * done (so it sees what arrives meanwhile): scheduled if work is already waiting,
   * otherwise the ring that receives work wakes the poller.
   */
  private next(): void {
    let hasWork = false;
    const ports = this.ports;
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i]!;
      if (p.txq.availIdx !== p.txq.lastAvailIdx || p.nicq.rxDone.length !== 0) {
        hasWork = true;
        break;
      }
    }
    const thread = this.thread;
    thread.clearWake();
    thread.idle();
    if (hasWork) thread.wake();
  }

  /** rte_eth_rx_burst + rte_vhost_enqueue_burst (computed ahead, as in guestTx). */
  private guestRx(port: VhostUserPort): void {
    const env = this.env;
    const nicq = port.nicq;
    const rxq = port.rxq;
    const items = this.items;
    const dropped = this.dropped;
    const burst = this.burst;
    const rxBufBytes = this.rxBufBytes;
    let cost = this.burstPs;
    let buffersLeft = rxq.availPending;
    let buffers = 0;
    let pkt: Packet | undefined;
    let k = 0;
    let d = 0;
    while (k + d < burst && (pkt = nicq.takeRx()) !== undefined) {
      const need = rxBuffers(pkt.bytes, rxBufBytes, rxq.size);
      const units = unitsOf(pkt);
      cost += (this.nicPerPktPs + this.switchPerPktPs) * units;
      if (need > buffersLeft) {
        dropped[d++] = pkt; // the guest ring is full: the enqueue takes fewer, the rest is freed
        continue;
      }
      buffersLeft -= need;
      buffers += need;
      items[k++] = pkt;
      cost += this.vringPerPktPs * units + env.copyPs(copyBytesOf(pkt.bytes, VIRTIO_NET_HDR_BYTES));
      if (this.logPerPagePs !== 0) cost += this.logPerPagePs * (need + 1);
    }
    if (this.logPerBurstPs !== 0 && k > 0) cost += this.logPerBurstPs;
    cost += rxq.deviceCostPs(buffers, 1);
    this.bursts++;
    this.packets += k;
    const perPktPs = Math.round(cost / (k + d > 0 ? k + d : 1));
    const thread = this.thread;
    thread.execAhead(thread.jitter(cost));
    const end = thread.aheadEndPs;
    const tracker = this.tracker;
    const stage = this.backendRxStage;
    for (let i = 0; i < k; i++) {
      const p = items[i]!;
      items[i] = undefined as unknown as Packet;
      const need = rxBuffers(p.bytes, rxBufBytes, rxq.size);
      rxq.pop();
      rxq.pushUsed(p, 1, end);
      for (let b = 1; b < need; b++) {
        rxq.pop();
        rxq.pushUsed(null, 1, end);
      }
      env.countCopy(copyBytesOf(p.bytes, VIRTIO_NET_HDR_BYTES));
      tracker.markAt(p, stage, perPktPs, end);
    }
    for (let i = 0; i < d; i++) {
      this.rxDrops++;
      this.onDrop(dropped[i]!, end);
      dropped[i] = undefined as unknown as Packet;
    }
    nicq.postRxBuffers(nicq.rxRefillable);
    if (k > 0) this.maybeCall(port, rxq, false);
    this.next();
  }
}
