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
import { rxBuffers, txSegments } from './guest-virtio-net.js';
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
  private readonly batch: Packet[] = [];
  /** CPU time owed by the last burst (the call eventfd write), added to the next step [ps]. */
  private owedPs = 0;
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
  }

  private loop(): void {
    const n = this.ports.length;
    for (let k = 0; k < 2 * n; k++) {
      const idx = (this.cursor + k) % (2 * n);
      const port = this.ports[idx >> 1]!;
      const isTx = (idx & 1) === 0;
      if (isTx ? port.txq.availPending > 0 : !port.nicq.rxDone.isEmpty) {
        this.cursor = (idx + 1) % (2 * n);
        if (isTx) this.guestTx(port);
        else this.guestRx(port);
        return;
      }
    }
    if (this.owedPs > 0) {
      this.thread.chargeSwitch(this.owedPs);
      this.owedPs = 0;
    }
    this.thread.idle(); // keeps polling
  }

  private exec(cost: number, fn: () => void): void {
    const total = this.thread.jitter(cost) + this.owedPs;
    this.owedPs = 0;
    this.thread.exec(total, fn, undefined);
  }

  /** Writes the call eventfd if the guest asked for an interrupt. */
  private maybeCall(port: VhostUserPort, vq: Virtqueue<Packet> | Virtqueue<Packet | null>, isTx: boolean): void {
    if (!vq.shouldNotify()) return;
    this.calls++;
    this.env.counters.syscalls++;
    this.owedPs += this.costs.callPs;
    port.call(isTx, this.costs.callPs);
  }

  /** rte_vhost_dequeue_burst + rte_eth_tx_burst. */
  private guestTx(port: VhostUserPort): void {
    const c = this.costs;
    const txq = port.txq;
    const items: Packet[] = [];
    let cost = c.burstPs;
    let pkt: Packet | undefined;
    let slots = 0;
    while (items.length < c.burst && (pkt = txq.pop()) !== undefined) {
      slots += txq.poppedSlots;
      items.push(pkt);
      cost += c.vringPerPktPs + this.env.copyPs(copyBytesOf(pkt.bytes, VIRTIO_NET_HDR_BYTES)) + c.switchPerPktPs + c.nicPerPktPs;
    }
    const k = items.length;
    cost += txq.deviceCostPs(k, slots / k);
    this.bursts++;
    this.packets += k;
    const perPktPs = Math.round(cost / k);
    this.exec(cost, () => {
      const now = this.env.sim.nowPs;
      const space = port.nicq.txSpace;
      for (let i = 0; i < k; i++) {
        const p = items[i]!;
        txq.pushUsed(p, txq.slotsFor(txSegments(p.bytes)));
        this.env.countCopy(copyBytesOf(p.bytes, VIRTIO_NET_HDR_BYTES));
        if (i < space) {
          this.env.tracker.mark(p, this.stages.backendTx, perPktPs);
          port.nicq.post(p, now);
        } else {
          this.txDrops++; // tx_burst took fewer: the application frees the rest
          this.onDrop(p, now);
        }
      }
      this.maybeCall(port, txq, true);
      this.loop();
    });
  }

  /** rte_eth_rx_burst + rte_vhost_enqueue_burst. */
  private guestRx(port: VhostUserPort): void {
    const c = this.costs;
    const nicq = port.nicq;
    const rxq = port.rxq;
    const items: Packet[] = [];
    const dropped: Packet[] = [];
    let cost = c.burstPs;
    let buffersLeft = rxq.availPending;
    let buffers = 0;
    let pkt: Packet | undefined;
    while (items.length + dropped.length < c.burst && (pkt = nicq.takeRx()) !== undefined) {
      const need = rxBuffers(pkt.bytes, c.rxBufBytes);
      cost += c.nicPerPktPs + c.switchPerPktPs;
      if (need > buffersLeft) {
        dropped.push(pkt); // the guest ring is full: the enqueue takes fewer, the rest is freed
        continue;
      }
      buffersLeft -= need;
      buffers += need;
      items.push(pkt);
      cost += c.vringPerPktPs + this.env.copyPs(copyBytesOf(pkt.bytes, VIRTIO_NET_HDR_BYTES));
    }
    const k = items.length;
    cost += rxq.deviceCostPs(buffers, 1);
    this.bursts++;
    this.packets += k;
    const perPktPs = Math.round(cost / Math.max(1, k + dropped.length));
    this.exec(cost, () => {
      const now = this.env.sim.nowPs;
      for (let i = 0; i < k; i++) {
        const p = items[i]!;
        const need = rxBuffers(p.bytes, c.rxBufBytes);
        rxq.pop();
        rxq.pushUsed(p, 1);
        for (let b = 1; b < need; b++) {
          rxq.pop();
          rxq.pushUsed(null, 1);
        }
        this.env.countCopy(copyBytesOf(p.bytes, VIRTIO_NET_HDR_BYTES));
        this.env.tracker.mark(p, this.stages.backendRx, perPktPs);
      }
      for (const p of dropped) {
        this.rxDrops++;
        this.onDrop(p, now);
      }
      nicq.postRxBuffers(nicq.rxRefillable);
      if (k > 0) this.maybeCall(port, rxq, false);
      this.loop();
    });
  }
}
