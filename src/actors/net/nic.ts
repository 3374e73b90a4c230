/**
 * A physical NIC port and its functions (the PF, and SR-IOV VFs that share the port).
 *
 * Each function has queue pairs. Transmit: the driver posts a descriptor and rings the
 * doorbell; the NIC fetches the descriptor and the payload by DMA (PCIe round trips,
 * IOMMU translation through an IOTLB), passes its pipeline, and the frame waits for the
 * port. The port serializes frames at line rate, each with 20 B of preamble and gap,
 * serving the queues that have frames ready round-robin (the VF arbiter), optionally
 * rate-limited per function. Receive: a frame from the wire passes the pipeline (and the
 * VF switch), needs a free receive descriptor (else it is dropped and counted), is written
 * by DMA, and raises the queue's moderated interrupt, or just becomes visible to a
 * polling driver (DPDK).
 *
 * Interrupts are auto-masked when they fire and unmasked by the driver at the end of its
 * NAPI poll; causes that arrive while masked fire at unmask (the device-side half of the
 * disable, drain, enable, re-check pattern).
 */
import type { Simulator } from '../../core/simulator.js';
import { AS_DOUBLE, PS_PER_S } from '../../core/time.js';
import { Fifo } from '../../primitives/fifo.js';
import type { Iotlb } from '../../primitives/iotlb.js';
import { IrqModerator } from '../../primitives/irq-moderator.js';
import type { ActorEnv, SignalPort } from '../host/env.js';
import { ringUnits, unitsOf, WIRE_OVERHEAD_BYTES, type Packet, type PacketPort } from './messages.js';

export interface NicCosts {
  lineRateGbps: number;
  pipelinePs: number;
  dmaReadPs: number;
  dmaReadPsPerKib: number;
  dmaWritePs: number;
  itrPs: number;
  /** Extra receive/transmit latency of a VF (switch, pool arbitration) [ps]. */
  vfSwitchPs: number;
  txRing: number;
  rxRing: number;
}

/** Picoseconds `frames` frames of `bytes` in all (FCS included) occupy the wire at `gbps`. */
export function wireTimePs(bytes: number, gbps: number, frames = 1): number {
  return Math.round(((bytes + frames * WIRE_OVERHEAD_BYTES) * 8 * PS_PER_S) / (gbps * 1e9));
}

/** A frame source of a port (a NIC queue, the peer's generator). */
export interface PortSource {
  /** Frames ready to go, in order. */
  readonly ready: Fifo<Packet>;
  /** Earliest time the source may send again (rate limit) [ps]. */
  nextAllowedPs: number;
  /** Pacing rate in Gb/s (0: none). */
  rateLimitGbps: number;
  /** Called when a frame has left the port (last bit out). */
  onSent(pkt: Packet): void;
  /** False if onSent does nothing, so the port needs no event at the end of its frames. */
  readonly needsSentEvent: boolean;
}

function portTxEnd(port: WirePort): void {
  port.txEnd();
}
function portRetry(port: WirePort): void {
  port.isRetryArmed = false;
  port.kick();
}

/**
 * A transmitter onto a wire: one frame at a time at line rate, round-robin over sources
 * with frames ready, then propagation latency to the receiver.
 */
export class WirePort {
  private readonly sources: PortSource[] = [];
  private next = 0;
  private isBusy = false;
  /** End of the frame sent without an end event (the port is busy until then) [ps]. */
  private busyUntilPs = AS_DOUBLE;
  private current: Packet | null = null;
  private currentSource: PortSource | null = null;
  /** @internal */ isRetryArmed = false;
  /** Frames sent, and time spent sending [ps] (for utilisation). */
  framesSent = 0;
  busyPs = AS_DOUBLE;
  /** wireTimePs of the last frame size asked (frames mostly repeat their size). */
  private lastBytes = -1;
  private lastWirePs = 0;

  constructor(
    private readonly sim: Simulator,
    readonly name: string,
    readonly lineRateGbps: number,
    readonly wireLatencyPs: number,
    /** The receiver: gets each frame with the time its last bit arrives. */
    public deliver: PacketPort,
  ) {
    this.busyUntilPs = this.busyPs = 0;
  }

  addSource(s: PortSource): void {
    this.sources.push(s);
  }

  /** True if a frame can claim the port now: it is idle and nobody is waiting for it. */
  get canReserve(): boolean {
    return !this.isBusy && !this.isRetryArmed && this.busyUntilPs <= this.sim.nowPs;
  }

  /**
   * The port is claimed for a frame that will be ready at readyPs (still being fetched):
   * it goes out then, or when the frame before it has left, with no event for its
   * readiness. Frames of other sources that become ready meanwhile wait behind it (first
   * come, first served while the port is lightly loaded). When the source needs no
   * end-of-frame callback the frame is delivered at once with its arrival time and the
   * port just remembers until when it is busy: no event at all.
   */
  reserve(source: PortSource, pkt: Packet, readyPs: number): void {
    const txPs = this.wirePs(pkt);
    const startPs = readyPs > this.busyUntilPs ? readyPs : this.busyUntilPs;
    this.busyPs += txPs;
    if (!source.needsSentEvent) {
      this.busyUntilPs = startPs + txPs;
      this.framesSent++;
      this.deliver(pkt, this.busyUntilPs + this.wireLatencyPs);
      return;
    }
    this.isBusy = true;
    this.current = pkt;
    this.currentSource = source;
    this.sim.post(startPs + txPs - this.sim.nowPs, portTxEnd, this);
  }

  /** wireTimePs of a packet at line rate (all its frames), remembered for the last size. */
  private wirePs(pkt: Packet): number {
    const bytes = pkt.bytes;
    if (pkt.frames !== 1) return wireTimePs(bytes, this.lineRateGbps, pkt.frames);
    if (bytes !== this.lastBytes) {
      this.lastBytes = bytes;
      this.lastWirePs = wireTimePs(bytes, this.lineRateGbps);
    }
    return this.lastWirePs;
  }

  /** A source has a new frame ready: start sending if idle. */
  kick(): void {
    if (this.isBusy) return;
    const now = this.sim.nowPs;
    if (now < this.busyUntilPs) {
      // a frame sent without an end event is still on the wire
      if (!this.isRetryArmed) {
        this.isRetryArmed = true;
        this.sim.post(this.busyUntilPs - now, portRetry, this);
      }
      return;
    }
    const n = this.sources.length;
    let earliest = Infinity;
    for (let k = 0; k < n; k++) {
      const i = (this.next + k) % n;
      const s = this.sources[i]!;
      if (s.ready.isEmpty) continue;
      if (s.nextAllowedPs > now) {
        if (s.nextAllowedPs < earliest) earliest = s.nextAllowedPs;
        continue;
      }
      this.next = (i + 1) % n;
      const pkt = s.ready.shift()!;
      const txPs = this.wirePs(pkt);
      if (s.rateLimitGbps > 0) s.nextAllowedPs = now + wireTimePs(pkt.bytes, s.rateLimitGbps, pkt.frames);
      this.isBusy = true;
      this.current = pkt;
      this.currentSource = s;
      this.busyPs += txPs;
      this.sim.post(txPs, portTxEnd, this);
      return;
    }
    if (earliest < Infinity && !this.isRetryArmed) {
      this.isRetryArmed = true;
      this.sim.post(earliest - now, portRetry, this);
    }
  }

  /** @internal */
  txEnd(): void {
    const pkt = this.current!;
    const src = this.currentSource!;
    this.current = null;
    this.currentSource = null;
    this.isBusy = false;
    this.framesSent++;
    src.onSent(pkt);
    this.deliver(pkt, this.sim.nowPs + this.wireLatencyPs);
    this.kick();
  }
}

function txFetched(q: NicQueue): void {
  q.fetched();
}
function rxWritten(q: NicQueue): void {
  q.written();
}

/** One queue pair of a NIC function. */
export class NicQueue implements PortSource {
  readonly ready = new Fifo<Packet>();
  get needsSentEvent(): boolean {
    return !this.isTxAutoReclaim;
  }
  nextAllowedPs = AS_DOUBLE;
  rateLimitGbps = 0;

  // Transmit: descriptors posted and not yet reclaimed by the driver.
  private txOutstanding = 0;
  private readonly txFetching = new Fifo<Packet>();
  private lastTxReadyPs = AS_DOUBLE;
  /** Transmitted frames whose descriptors the driver has not reclaimed. */
  readonly txDone = new Fifo<Packet>();
  /**
   * Descriptors of each entry of txDone (read when sent: the packet object may be recycled
   * for a new op before the driver reclaims its descriptors).
   */
  private readonly txDoneUnits = new Fifo<number>();
  // Receive: free buffers posted by the driver; frames written, awaiting the driver.
  rxFree: number;
  private readonly rxWriting = new Fifo<Packet>();
  private lastRxDonePs = AS_DOUBLE;
  readonly rxDone = new Fifo<Packet>();
  /** Receive descriptors holding frames the driver has not taken (a frame each). */
  private rxHeld = 0;
  private rxSlot = 0;
  private txSlot = 0;

  // Interrupts.
  private isMasked = false;
  private hasMaskedCause = false;
  private readonly moderator: IrqModerator;
  /** The queue's MSI-X (host IRQ, guest vector); null for a polled queue. */
  onIrq: SignalPort | null = null;
  /** Polling hook: a frame became visible in rxDone (DPDK). */
  onRxReady: SignalPort | null = null;
  /** Reclaim transmit descriptors at once (a PMD reclaims them lazily in tx_burst). */
  isTxAutoReclaim = false;
  /** Frames dropped for want of a receive descriptor. */
  rxDrops = 0;
  /** Called for each dropped frame (op accounting). */
  onDrop: PacketPort = () => {};
  /** Stage marks: frame handed to the port / written to host memory. */
  txStage = -1;
  rxStage = -1;
  irqsFired = 0;
  // Read per frame, hoisted from nic.costs and nic.port.
  private readonly sim: Simulator;
  private readonly costs: NicCosts;
  private readonly port: WirePort;
  private readonly txRing: number;
  private readonly rxRing: number;
  /** Fixed part of the descriptor and payload fetch: DMA read, pipeline, VF switch [ps]. */
  private readonly txFixedPs: number;

  constructor(
    private readonly env: ActorEnv,
    readonly nic: Nic,
    readonly name: string,
    readonly isVf: boolean,
    private readonly iotlb: Iotlb | null,
    /** Guest-physical base of this queue's buffers, for IOTLB page numbers. */
    private readonly bufferBase: number,
  ) {
    this.rxFree = 0;
    this.nextAllowedPs = this.lastTxReadyPs = this.lastRxDonePs = 0;
    this.sim = env.sim;
    this.costs = nic.costs;
    this.port = nic.port;
    this.txRing = nic.costs.txRing;
    this.rxRing = nic.costs.rxRing;
    this.txFixedPs = nic.costs.pipelinePs + (isVf ? nic.costs.vfSwitchPs : 0);
    this.moderator = new IrqModerator(env.sim, nic.costs.itrPs, () => this.fire());
  }

  get txSpace(): number {
    return this.txRing - this.txOutstanding;
  }

  /** Transmit descriptors pkt takes (see ringUnits). */
  descriptorsFor(pkt: Packet): number {
    return ringUnits(unitsOf(pkt), this.txRing);
  }

  /** Receive descriptors pkt takes: one per frame (see ringUnits). */
  private rxDescriptorsFor(pkt: Packet): number {
    return ringUnits(pkt.frames, this.rxRing);
  }

  get rxRingSize(): number {
    return this.rxRing;
  }

  get txRingSize(): number {
    return this.txRing;
  }

  /**
   * The driver posted a frame and rang the doorbell at atPs (now or later): the NIC
   * fetches descriptor and payload, and the frame joins the port's queue.
   */
  post(pkt: Packet, atPs: number): void {
    const sim = this.sim;
    const now = sim.nowPs;
    // A back end that batches hands its frames over together at the end of its step.
    if (atPs < now) atPs = now;
    const txRing = this.txRing;
    const units = this.descriptorsFor(pkt);
    if (this.txOutstanding + units > txRing) throw new Error(`nic ${this.name}: transmit ring overflow`);
    this.txOutstanding += units;
    const c = this.costs;
    const slot = this.txSlot;
    this.txSlot = slot + 1 < txRing ? slot + 1 : 0;
    const iotlb = this.iotlb;
    const bytes = pkt.bytes;
    const descPs = c.dmaReadPs + (iotlb === null ? 0 : iotlb.translate(this.bufferBase + slot * 16, 16));
    const payloadPs = c.dmaReadPs + Math.round((Math.max(0, bytes - 64) / 1024) * c.dmaReadPsPerKib) +
      (iotlb === null ? 0 : iotlb.translate(this.bufferBase + (0x100000 + slot * 2048), bytes));
    let readyPs = atPs + descPs + payloadPs + this.txFixedPs;
    if (readyPs < this.lastTxReadyPs) readyPs = this.lastTxReadyPs;
    this.lastTxReadyPs = readyPs;
    const port = this.port;
    if (this.txFetching.length === 0 && this.rateLimitGbps === 0 && port.canReserve) {
      if (this.txStage >= 0) this.env.tracker.markAt(pkt, this.txStage, 0, readyPs);
      if (this.isTxAutoReclaim) this.txOutstanding -= units; // sent within the fetch time; reclaimed lazily
      port.reserve(this, pkt, readyPs);
      return;
    }
    this.txFetching.push(pkt);
    sim.post(readyPs - now, txFetched, this);
  }

  /** @internal */
  fetched(): void {
    const pkt = this.txFetching.shift()!;
    if (this.txStage >= 0) this.env.tracker.mark(pkt, this.txStage, 0);
    this.ready.push(pkt);
    this.nic.port.kick();
  }

  /** @internal The port sent a frame of this queue. */
  onSent(pkt: Packet): void {
    if (this.isTxAutoReclaim) {
      this.txOutstanding -= this.descriptorsFor(pkt); // a PMD reclaims sent descriptors lazily in tx_burst
    } else {
      this.txDone.push(pkt);
      this.txDoneUnits.push(this.descriptorsFor(pkt));
      this.cause();
    }
  }

  /** The driver reclaims one transmitted descriptor; undefined when none. */
  reclaimTx(): Packet | undefined {
    const pkt = this.txDone.shift();
    if (pkt !== undefined) this.txOutstanding -= this.txDoneUnits.shift()!;
    return pkt;
  }

  /** The driver posts n free receive buffers. */
  postRxBuffers(n: number): void {
    this.rxFree += n;
    if (this.rxFree > this.rxRing) throw new Error(`nic ${this.name}: more receive buffers than ring slots`);
  }

  /** Free receive descriptors the driver could post (ring slots minus posted and unreaped). */
  get rxRefillable(): number {
    return this.rxRing - this.rxFree - this.rxHeld;
  }

  /**
   * A frame from the wire reaches this queue's DMA engine at atPs (now or later). It
   * needs a free receive descriptor when its DMA completes, else it is dropped.
   */
  receive(pkt: Packet, atPs: number): void {
    const slot = this.rxSlot;
    this.rxSlot = slot + 1 < this.rxRing ? slot + 1 : 0;
    const iotlb = this.iotlb;
    let donePs = atPs + this.costs.dmaWritePs + (iotlb === null ? 0 : iotlb.translate(this.bufferBase + (0x100000 + slot * 2048), pkt.bytes));
    if (donePs < this.lastRxDonePs) donePs = this.lastRxDonePs;
    this.lastRxDonePs = donePs;
    this.rxWriting.push(pkt);
    const sim = this.sim;
    sim.post(donePs - sim.nowPs, rxWritten, this);
  }

  /** @internal */
  written(): void {
    const pkt = this.rxWriting.shift()!;
    const frames = this.rxDescriptorsFor(pkt);
    if (this.rxFree < frames) {
      this.rxDrops++;
      this.onDrop(pkt, this.env.sim.nowPs);
      return;
    }
    this.rxFree -= frames;
    this.rxHeld += frames;
    if (this.rxStage >= 0) this.env.tracker.mark(pkt, this.rxStage, 0);
    this.rxDone.push(pkt);
    if (this.onRxReady !== null) this.onRxReady();
    this.cause();
  }

  /** The driver takes the next received frame; undefined when none. */
  takeRx(): Packet | undefined {
    const pkt = this.rxDone.shift();
    if (pkt !== undefined) this.rxHeld -= this.rxDescriptorsFor(pkt);
    return pkt;
  }

  private cause(): void {
    if (this.onIrq === null) return;
    if (this.isMasked) {
      this.hasMaskedCause = true;
      return;
    }
    this.moderator.trigger();
  }

  private fire(): void {
    if (this.isMasked) {
      this.hasMaskedCause = true;
      return;
    }
    this.isMasked = true; // auto-mask until the driver's NAPI poll completes
    this.irqsFired++;
    this.onIrq!();
  }

  /** The driver re-enables the queue's interrupt; pending causes fire (re-check). */
  unmask(): void {
    this.isMasked = false;
    if (this.hasMaskedCause || !this.rxDone.isEmpty || !this.txDone.isEmpty) {
      this.hasMaskedCause = false;
      if (!this.rxDone.isEmpty || !this.txDone.isEmpty) this.moderator.trigger();
    }
  }
}

/** A NIC function (PF or VF) with its queue pairs. */
export interface NicFunction {
  name: string;
  isVf: boolean;
  queues: NicQueue[];
}

export class Nic {
  readonly port: WirePort;
  readonly functions: NicFunction[] = [];
  /** Maps a received frame to its queue (by VM, flow: the L2 sorter and RSS). */
  route: (pkt: Packet) => NicQueue = () => {
    throw new Error('nic: no receive route');
  };
  /** Stage for the wire crossing (frame leaves the port until it reaches the NIC). */
  wireStage = -1;

  constructor(
    private readonly env: ActorEnv,
    readonly name: string,
    readonly costs: NicCosts,
    wireLatencyPs: number,
    deliver: PacketPort,
  ) {
    this.port = new WirePort(env.sim, `${name}/port`, costs.lineRateGbps, wireLatencyPs, deliver);
  }

  addFunction(name: string, isVf: boolean, queuePairs: number, iotlb: Iotlb | null, rateLimitGbps = 0): NicFunction {
    const index = this.functions.length;
    const f: NicFunction = { name, isVf, queues: [] };
    for (let q = 0; q < queuePairs; q++) {
      const queue = new NicQueue(this.env, this, `${name}/q${q}`, isVf, iotlb, (index * 64 + q) * 0x4000000);
      queue.rateLimitGbps = rateLimitGbps;
      f.queues.push(queue);
      this.port.addSource(queue);
    }
    this.functions.push(f);
    return f;
  }

  /** A frame's last bit arrives from the wire at atPs (now or later). */
  receive(pkt: Packet, atPs: number): void {
    if (this.wireStage >= 0) this.env.tracker.markAt(pkt, this.wireStage, 0, atPs);
    const q = this.route(pkt);
    q.receive(pkt, atPs + this.costs.pipelinePs + (q.isVf ? this.costs.vfSwitchPs : 0));
  }
}
