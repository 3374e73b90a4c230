/**
 * A DPDK application in the guest forwarding between virtio-net ports (testpmd io
 * forwarding on the virtio PMD, as in CSIT's vhost tests and DPDK's PVP benchmark): each
 * vCPU polls its receive queues 100% of its time with interrupts off, and sends every
 * frame it receives on queue q out of the partner queue q xor 1. Per burst (at most
 * dpdk.burst): rte_eth_rx_burst (used entries, refill), rte_eth_tx_burst (reclaim used
 * transmit entries, add the frames; a frame without a free slot is dropped, as
 * rte_eth_tx_burst takes fewer), the vring work of the virtio PMD on each side and the
 * ring's cache lines. Kicks only if the device asked (a polling back end never does).
 * Each burst is a step on the vCPU thread; its frames are published when it ends.
 */
import type { HostThread } from '../../primitives/host-cpu.js';
import type { Virtqueue } from '../../primitives/virtqueue.js';
import type { ActorEnv } from '../host/env.js';
import type { DpdkCosts } from './dpdk-poller.js';
import type { Packet, PacketPort } from './messages.js';

/** The DPDK costs the guest's PMD shares with the host's (burst size, per-burst and per-packet vring work, each side). */
export type GuestPmdCosts = Pick<DpdkCosts, 'burst' | 'vringPerPktPs' | 'burstPs'>;

interface Lcore {
  pmd: GuestVirtioPmd;
  thread: HostThread;
  /** Receive queue indexes this lcore polls. */
  queues: number[];
  cursor: number;
  // the burst in progress
  rxQueue: number;
  got: Packet[];
  count: number;
  costPs: number;
}

function burstDone(l: Lcore): void {
  l.pmd.burstDone(l);
}

export class GuestVirtioPmd {
  private readonly lcores: Lcore[] = [];
  forwarded = 0;
  txDrops = 0;
  bursts = 0;
  /** Where a dropped frame goes (op accounting). */
  onDrop: PacketPort = () => {};
  /** Stage ids (set by the path): forwarding in the guest. */
  stage = -1;

  constructor(
    private readonly env: ActorEnv,
    private readonly rxqs: Virtqueue<Packet | null>[],
    private readonly txqs: Virtqueue<Packet>[],
    private readonly costs: GuestPmdCosts,
    /** A kick of transmit virtqueue q (only if the device asks). */
    private readonly kick: (q: number) => void,
    threads: HostThread[],
  ) {
    for (let i = 0; i < threads.length; i++) {
      const l: Lcore = { pmd: this, thread: threads[i]!, queues: [], cursor: 0, rxQueue: -1, got: [], count: 0, costPs: 0 };
      this.lcores.push(l);
      l.thread.onRun = () => this.loop(l);
    }
    for (let q = 0; q < rxqs.length; q++) {
      const l = this.lcores[q % this.lcores.length]!;
      l.queues.push(q);
      const rxq = rxqs[q]!;
      while (rxq.canAdd(1)) rxq.add(null, 1); // rte_eth_dev_start fills the receive ring
      rxq.disableCb(); // polling: no interrupts
      txqs[q]!.disableCb();
      // a used entry becoming visible is noticed by the poll loop
      rxq.onUsed = (visibleAtPs) => {
        const now = this.env.sim.nowPs;
        l.thread.wake(visibleAtPs > now ? visibleAtPs - now : 0);
      };
    }
  }

  private loop(l: Lcore): void {
    const c = this.costs;
    const n = l.queues.length;
    const t = this.env.sim.nowPs + l.thread.startDelayPs;
    for (let k = 0; k < n; k++) {
      const q = l.queues[(l.cursor + k) % n]!;
      const rxq = this.rxqs[q]!;
      rxq.observeAt(t);
      if (rxq.usedPending === 0) continue;
      l.cursor = (l.cursor + k + 1) % n;
      let item: Packet | null | undefined;
      let count = 0;
      let buffers = 0;
      while (count < c.burst && (item = rxq.getUsed()) !== undefined) {
        buffers++;
        if (item === null) continue;
        l.got[count++] = item;
      }
      // refill what was taken, then the transmit side's work
      for (let b = 0; b < buffers && rxq.canAdd(1); b++) rxq.add(null, 1);
      const txq = this.txqs[q ^ 1]!;
      while (txq.getUsed() !== undefined); // reclaim what the back end has sent
      l.rxQueue = q;
      l.count = count;
      l.costPs = l.thread.jitter(c.burstPs + 2 * count * c.vringPerPktPs) + rxq.driverCostPs(buffers, 1, true) + txq.driverCostPs(count, 1, true);
      this.bursts++;
      l.thread.exec(l.costPs, burstDone, l);
      return;
    }
    l.thread.idle(); // keeps polling
  }

  /** @internal The burst's CPU time has run: its frames go into the partner queue. */
  burstDone(l: Lcore): void {
    const txq = this.txqs[l.rxQueue ^ 1]!;
    const now = this.env.sim.nowPs;
    const per = l.count > 0 ? Math.round(l.costPs / l.count) : 0;
    for (let i = 0; i < l.count; i++) {
      const p = l.got[i]!;
      l.got[i] = undefined as unknown as Packet;
      p.queue = l.rxQueue ^ 1;
      if (txq.canAdd(1)) {
        if (this.stage >= 0) this.env.tracker.markAt(p, this.stage, per, now);
        txq.add(p, 1);
        this.forwarded++;
      } else {
        this.txDrops++;
        this.onDrop(p, now);
      }
    }
    if (l.count > 0 && txq.kickPrepare()) this.kick(l.rxQueue ^ 1);
    l.count = 0;
    this.loop(l);
  }
}
