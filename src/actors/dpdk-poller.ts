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
import type { HostThread } from '../primitives/host-cpu.js';
import type { Virtqueue } from '../primitives/virtqueue.js';
import { rxBuffers } from './guest-virtio-net.js';
import type { ActorEnv } from './env.js';
import { copyBytesOf, VIRTIO_NET_HDR_BYTES, type Packet } from './messages.js';
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

  constructor(
    private readonly env: ActorEnv,
    readonly thread: HostThread,
    private readonly costs: DpdkCosts,
    private readonly stages: DpdkStages,
  ) {
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
        if (port.txq.availIdx !== port.txq.lastAvailIdx) {
          this.cursor = next;
          this.guestTx(port);
          return;
        }
      } else if (!port.nicq.rxDone.isEmpty) {
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
    port.call(isTx, delayPs + this.costs.callPs);
  }

  /** Writes the call eventfd after the burst (ending at endPs) if the guest asked for an interrupt. */
  private maybeCall(port: VhostUserPort, vq: Virtqueue<Packet> | Virtqueue<Packet | null>, isTx: boolean): void {
    if (!vq.shouldNotify()) return;
    this.calls++;
    this.env.counters.syscalls++;
    const end = this.thread.execAhead(this.costs.callPs); // eventfd write + irqfd routing
    port.call(isTx, end - this.env.sim.nowPs);
  }

  // The burst in progress (one at a time per PMD thread).
  private readonly items: Packet[] = [];
  /** Ring slots of each dequeued buffer (as popped). */
  private itemSlots = new Int32Array(32);
  private itemCount = 0;
  private readonly dropped: Packet[] = [];
  private droppedCount = 0;
  private port: VhostUserPort | null = null;
  private perPktPs = 0;

  /** rte_vhost_dequeue_burst + rte_eth_tx_burst. */
  private guestTx(port: VhostUserPort): void {
    const c = this.costs;
    const txq = port.txq;
    const items = this.items;
    let cost = c.burstPs;
    let pkt: Packet | undefined;
    let slots = 0;
    let k = 0;
    if (this.itemSlots.length < c.burst) this.itemSlots = new Int32Array(c.burst);
    const itemSlots = this.itemSlots;
    while (k < c.burst && (pkt = txq.pop()) !== undefined) {
      slots += txq.poppedSlots;
      itemSlots[k] = txq.poppedSlots;
      items[k++] = pkt;
      cost += c.vringPerPktPs + this.env.copyPs(copyBytesOf(pkt.bytes, VIRTIO_NET_HDR_BYTES)) + c.switchPerPktPs + c.nicPerPktPs;
    }
    this.itemCount = k;
    cost += txq.deviceCostPs(k, slots / k);
    this.bursts++;
    this.packets += k;
    this.perPktPs = Math.round(cost / k);
    this.port = port;
    this.afterTx(this.thread.execAhead(this.thread.jitter(cost))); // computed ahead (no event): effects carry the end time
  }

  private afterTx(end: number): void {
    const port = this.port!;
    const txq = port.txq;
    const items = this.items;
    const now = end;
    const space = port.nicq.txSpace;
    const k = this.itemCount;
    for (let i = 0; i < k; i++) {
      const p = items[i]!;
      txq.pushUsed(p, this.itemSlots[i]!, end);
      this.env.countCopy(copyBytesOf(p.bytes, VIRTIO_NET_HDR_BYTES));
      if (i < space) {
        this.env.tracker.markAt(p, this.stages.backendTx, this.perPktPs, end);
        port.nicq.post(p, end);
      } else {
        this.txDrops++; // tx_burst took fewer: the application frees the rest
        this.onDrop(p, now);
      }
      items[i] = undefined as unknown as Packet;
    }
    this.itemCount = 0;
    this.port = null;
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
    for (const p of this.ports) {
      if (p.txq.availIdx !== p.txq.lastAvailIdx || !p.nicq.rxDone.isEmpty) {
        hasWork = true;
        break;
      }
    }
    this.thread.clearWake();
    this.thread.idle();
    if (hasWork) this.thread.wake();
  }

  /** rte_eth_rx_burst + rte_vhost_enqueue_burst. */
  private guestRx(port: VhostUserPort): void {
    const c = this.costs;
    const nicq = port.nicq;
    const rxq = port.rxq;
    const items = this.items;
    const dropped = this.dropped;
    let cost = c.burstPs;
    let buffersLeft = rxq.availPending;
    let buffers = 0;
    let pkt: Packet | undefined;
    let k = 0;
    let d = 0;
    while (k + d < c.burst && (pkt = nicq.takeRx()) !== undefined) {
      const need = rxBuffers(pkt.bytes, c.rxBufBytes);
      cost += c.nicPerPktPs + c.switchPerPktPs;
      if (need > buffersLeft) {
        dropped[d++] = pkt; // the guest ring is full: the enqueue takes fewer, the rest is freed
        continue;
      }
      buffersLeft -= need;
      buffers += need;
      items[k++] = pkt;
      cost += c.vringPerPktPs + this.env.copyPs(copyBytesOf(pkt.bytes, VIRTIO_NET_HDR_BYTES));
    }
    this.itemCount = k;
    this.droppedCount = d;
    cost += rxq.deviceCostPs(buffers, 1);
    this.bursts++;
    this.packets += k;
    this.perPktPs = Math.round(cost / (k + d > 0 ? k + d : 1));
    this.port = port;
    this.afterRx(this.thread.execAhead(this.thread.jitter(cost))); // computed ahead, as in guestTx
  }

  private afterRx(end: number): void {
    const c = this.costs;
    const port = this.port!;
    const rxq = port.rxq;
    const nicq = port.nicq;
    const items = this.items;
    const k = this.itemCount;
    const now = end;
    for (let i = 0; i < k; i++) {
      const p = items[i]!;
      items[i] = undefined as unknown as Packet;
      const need = rxBuffers(p.bytes, c.rxBufBytes);
      rxq.pop();
      rxq.pushUsed(p, 1, end);
      for (let b = 1; b < need; b++) {
        rxq.pop();
        rxq.pushUsed(null, 1, end);
      }
      this.env.countCopy(copyBytesOf(p.bytes, VIRTIO_NET_HDR_BYTES));
      this.env.tracker.markAt(p, this.stages.backendRx, this.perPktPs, end);
    }
    this.itemCount = 0;
    const dropped = this.dropped;
    for (let i = 0; i < this.droppedCount; i++) {
      this.rxDrops++;
      this.onDrop(dropped[i]!, now);
      dropped[i] = undefined as unknown as Packet;
    }
    this.droppedCount = 0;
    this.port = null;
    nicq.postRxBuffers(nicq.rxRefillable);
    if (k > 0) this.maybeCall(port, rxq, false);
    this.next();
  }
}
