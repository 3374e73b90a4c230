/**
 * The host's network stack between the VMs' taps and the physical NIC (paths with a
 * host back end: virtio-qemu, vhost-kernel, emulated, emulated-vmm).
 *
 * Transmit runs in the sender's context (QEMU's writev, vhost's sendmsg): the caller
 * pays tun + bridge + driver xmit (hostnet.tx_per_pkt_ns) in its own step and hands the
 * frame over with transmit(); a full NIC ring queues it in the qdisc (txqueuelen), a full
 * qdisc drops it. Receive: each host NIC queue's MSI-X is a host interrupt on the core the
 * queue's IRQ is affine to; the hard IRQ and the NET_RX softirq on its way out run in
 * interrupt context there (an interrupt-context thread, host/softirqN: it preempts
 * whatever runs on that core, a vCPU in guest mode taking an external-interrupt exit).
 * Its NAPI poll reclaims transmitted descriptors, refills the ring from the qdisc, and
 * passes up to the budget of frames through driver, GRO and bridge into the destination
 * tap (dropped when the tap is full), waking the tap's reader. A softirq run that keeps
 * finding work past hostnet.softirq_packets or hostnet.softirq_time_us is deferred to
 * ksoftirqd (__do_softirq -> wakeup_softirqd), an ordinary thread that waits for the core.
 */
import { Fifo } from '../../primitives/fifo.js';
import type { HostThread } from '../../primitives/host-cpu.js';
import type { ActorEnv } from '../host/env.js';
import { unitsOf, type Packet, type PacketPort } from './messages.js';
import type { NicQueue } from './nic.js';

export interface HostNetCosts {
  /** Bridge + tun per packet received (a GRO-merged packet counts once) [ps]. */
  rxPerPktPs: number;
  /** Driver receive and GRO per wire frame [ps]. */
  rxPerFramePs: number;
  /** tun + bridge + NIC driver transmit per packet, in the sender's context [ps]. */
  txPerPktPs: number;
  /** Software segmentation (GSO) per frame cut [ps]. */
  gsoPerFramePs: number;
  /** A host process's receive-side TCP/IP work per packet, run in the sender's context when the peer is local [ps]. */
  localRxPs: number;
  isHostGro: boolean;
  /** The VMs' taps take merged packets (virtio GUEST_TSO). */
  isGuestTso: boolean;
  isNicTso: boolean;
  txCleanPs: number;
  irqPs: number;
  napiBudget: number;
  /** Packets and time one softirq run may take before deferring to ksoftirqd. */
  softirqPackets: number;
  softirqPs: number;
  tapQueue: number;
  qdiscQueue: number;
}

/** One tap device queue: frames toward a VM's back end, and who reads them. */
export class Tap {
  readonly queue: Fifo<Packet>;
  /** Wakes the reader (vhost worker's socket poll, QEMU's fd handler). */
  onReadable: () => void = () => {};
  drops = 0;
  constructor(
    readonly name: string,
    capacity: number,
  ) {
    this.queue = new Fifo<Packet>(capacity);
  }
}

class HostQueue {
  readonly qdisc: Fifo<Packet>;
  isPolling = false;
  // The NAPI poll in progress (one at a time: the softirq thread runs one step at a
  // time). Reused, so a poll allocates nothing.
  readonly got: (Packet | undefined)[] = [];
  /** CPU time of each packet of the poll [ps]. */
  readonly costs: Float64Array;
  gotCount = 0;
  moved = 0;
  cleaned = 0;
  totalPs = 0;
  /** The softirq run in progress: its start and packets received [ps, count]. */
  runStartPs = 0;
  runPackets = 0;
  constructor(
    readonly net: HostNet,
    readonly nicq: NicQueue,
    readonly thread: HostThread,
    capacity: number,
  ) {
    this.qdisc = new Fifo<Packet>(capacity);
    this.costs = new Float64Array(net.costs.napiBudget);
  }
}

function pollDone(hq: HostQueue): void {
  hq.net.pollDone(hq);
}

export class HostNet {
  private readonly queues: HostQueue[] = [];
  private readonly taps = new Map<string, Tap>();
  /** Picks the tap of a received frame. */
  tapOf: (pkt: Packet) => Tap = () => {
    throw new Error('host-net: no tap route');
  };
  /** A process on this host the VMs talk to (peer.location host): frames go to it, not to the NIC. */
  localDelivery: PacketPort | null = null;
  /** Picks the host NIC queue a VM's frame leaves by. */
  queueOf: (pkt: Packet) => number = (pkt) => pkt.queue % this.queues.length;
  qdiscDrops = 0;
  tapDrops = 0;
  polls = 0;
  /** Softirq runs deferred to ksoftirqd. */
  deferrals = 0;
  /** Stage id for the softirq receive path (marked when the frame is in the tap). */
  rxStage = -1;

  constructor(
    private readonly env: ActorEnv,
    readonly costs: HostNetCosts,
    /** Drop accounting. */
    private readonly drop: PacketPort,
  ) {}

  /** Serves a host NIC queue with a softirq thread (its IRQ is affine to that core). */
  addQueue(nicq: NicQueue, thread: HostThread): void {
    const hq = new HostQueue(this, nicq, thread, this.costs.qdiscQueue);
    this.queues.push(hq);
    nicq.postRxBuffers(nicq.rxRefillable);
    nicq.onIrq = () => {
      this.env.counters.interrupts++;
      hq.isPolling = true;
      hq.runStartPs = -1; // set when the softirq starts
      thread.wake();
    };
    thread.onRun = () => this.poll(hq);
  }

  addTap(name: string): Tap {
    const tap = new Tap(name, this.costs.tapQueue);
    this.taps.set(name, tap);
    return tap;
  }

  /**
   * CPU time the sender (QEMU's writev, the vhost worker's sendmsg, the device model)
   * spends handing pkt to the host stack: tun, bridge and NIC driver per packet it is now,
   * software segmentation first when a large packet meets a NIC without TSO, and a local
   * peer's TCP/IP receive (netif_rx runs the softirq on the sender's core) [ps].
   */
  txCostPs(pkt: Packet): number {
    const c = this.costs;
    const units = unitsOf(pkt);
    let ps = c.txPerPktPs * units;
    if (this.localDelivery !== null) return ps + c.localRxPs * units;
    if (units === 1 && pkt.frames > 1 && !c.isNicTso) ps += c.gsoPerFramePs * pkt.frames;
    return ps;
  }

  /** A frame leaves a VM's back end (the caller paid txCostPs). */
  transmit(pkt: Packet, atPs: number): void {
    if (this.localDelivery !== null) {
      this.localDelivery(pkt, atPs); // bridge -> local IP: the host process's socket
      return;
    }
    if (!pkt.isSegmented && !this.costs.isNicTso) pkt.isSegmented = true; // GSO before the driver
    const hq = this.queues[this.queueOf(pkt)]!;
    const q = hq.nicq;
    if (q.txSpace >= q.descriptorsFor(pkt) && hq.qdisc.isEmpty) {
      q.post(pkt, atPs);
      return;
    }
    if (!hq.qdisc.push(pkt)) {
      this.qdiscDrops++;
      this.drop(pkt, atPs);
    }
  }

  /**
   * What a host process pays to put pkt into a VM's tap beyond its own stack: segmenting a
   * large packet the guest cannot take merged (no GUEST_TSO) [ps]. Marks it segmented.
   */
  toTapCostPs(pkt: Packet): number {
    if (pkt.isSegmented || pkt.frames === 1 || this.costs.isGuestTso) return 0;
    pkt.isSegmented = true;
    return this.costs.gsoPerFramePs * pkt.frames;
  }

  /** A frame from a host process into its VM's tap (tun_net_xmit); dropped when the tap is full. */
  toTap(pkt: Packet, atPs: number): void {
    const tap = this.tapOf(pkt);
    if (tap.queue.push(pkt)) {
      tap.onReadable();
    } else {
      tap.drops++;
      this.tapDrops++;
      this.drop(pkt, atPs);
    }
  }

  private poll(hq: HostQueue): void {
    if (!hq.isPolling) {
      hq.thread.idle();
      return;
    }
    const c = this.costs;
    const q = hq.nicq;
    if (hq.runStartPs < 0) {
      hq.runStartPs = this.env.sim.nowPs;
      hq.runPackets = 0;
    }
    let cleaned = 0;
    while (q.reclaimTx() !== undefined) cleaned++;
    let cost = c.irqPs + cleaned * c.txCleanPs;
    const moved = Math.min(hq.qdisc.length, q.txSpace);
    const got = hq.got;
    const costs = hq.costs;
    let n = 0;
    let pkt: Packet | undefined;
    while (n < c.napiBudget && (pkt = q.takeRx()) !== undefined) {
      let ps = c.rxPerPktPs;
      const frames = pkt.frames;
      if (frames > 1) {
        // driver and GRO per frame; bridge and tun per packet GRO leaves (one merged, or
        // every frame); cut again for a guest that cannot take it merged
        pkt.isSegmented = !c.isHostGro;
        ps = c.rxPerFramePs * frames + c.rxPerPktPs * unitsOf(pkt) + this.toTapCostPs(pkt);
      } else {
        ps += c.rxPerFramePs;
      }
      costs[n] = ps;
      cost += ps;
      got[n++] = pkt;
    }
    this.polls++;
    hq.gotCount = n;
    hq.moved = moved;
    hq.cleaned = cleaned;
    hq.totalPs = hq.thread.jitter(cost);
    hq.thread.exec(hq.totalPs, pollDone, hq);
  }

  /** @internal The poll's CPU time has run: transmit from the qdisc, frames into the taps. */
  pollDone(hq: HostQueue): void {
    const c = this.costs;
    const q = hq.nicq;
    const now = this.env.sim.nowPs;
    // the qdisc refills the ring with the descriptors this poll reclaimed
    for (let i = hq.moved; i > 0 && !hq.qdisc.isEmpty && q.txSpace >= q.descriptorsFor(hq.qdisc.peek()!); i--) q.post(hq.qdisc.shift()!, now);
    const startPs = now - hq.totalPs;
    let t = startPs + c.irqPs + hq.cleaned * c.txCleanPs;
    const got = hq.got;
    const n = hq.gotCount;
    hq.gotCount = 0;
    const costs = hq.costs;
    for (let i = 0; i < n; i++) {
      const p = got[i]!;
      got[i] = undefined;
      const ps = costs[i]!;
      t += ps;
      if (this.rxStage >= 0) this.env.tracker.markAt(p, this.rxStage, ps, t < now ? t : now);
      this.toTap(p, now);
    }
    q.postRxBuffers(q.rxRefillable);
    if (n >= c.napiBudget) {
      hq.runPackets += n;
      const thread = hq.thread;
      if (thread.isIrq && (hq.runPackets >= c.softirqPackets || now - hq.runStartPs >= c.softirqPs)) {
        this.deferrals++;
        thread.deferToThread(); // ksoftirqd polls on (its loop is this poll)
        return;
      }
      this.poll(hq);
      return;
    }
    hq.runStartPs = -1;
    hq.isPolling = false;
    q.unmask();
    hq.thread.idle();
  }
}
