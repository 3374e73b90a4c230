/**
 * QEMU's user-space virtio-net back end (hw/net/virtio-net.c, io-paths.md s3, path B),
 * served by the main loop with a tap.
 *
 * TX: the kick (ioeventfd readable, or a heavy exit when ioeventfd is off) runs
 * virtio_net_handle_tx_bh: disable kicks, schedule the TX bottom half. The BH
 * (virtio_net_flush_tx) pops up to qemu.tx_burst packets, each a virtqueue_pop (maps the
 * guest buffer) and a writev to the tap (syscall, copy into an skb, host stack transmit),
 * pushes them used, then virtio_notify: a KVM_SIGNAL_MSI ioctl if the guest wants it.
 * A full burst reschedules the BH; a short one re-enables kicks and flushes once more
 * (the re-check), rescheduling if that found packets.
 * RX: the tap's fd handler (tap_send) reads up to qemu.tap_read_limit frames, each a
 * read() into QEMU's buffer (copy 1) and virtio_net_receive (copy 2 into guest buffers,
 * used entry, virtio_notify). Without guest buffers it enables RX kicks and stops reading
 * the tap until the guest's refill kick (virtio_net_handle_rx).
 */
import type { Virtqueue } from '../../primitives/virtqueue.js';
import type { ActorEnv } from '../host/env.js';
import { rxBuffers, txSlotsOf } from './guest-virtio-net.js';
import type { Tap } from './host-net.js';
import { copyBytesOf, unitsOf, VIRTIO_NET_HDR_BYTES, type Packet, type PacketPort } from './messages.js';
import type { MainLoopHandler, QemuMainLoop } from '../host/qemu.js';

export interface QemuVirtioCosts {
  perPktPs: number;
  bhPs: number;
  txBurst: number;
  tapReadLimit: number;
  /** tun, bridge and NIC driver transmit of a packet, in the writer's context [ps]. */
  hostTxPs: (pkt: Packet) => number;
  syscallPs: number;
  /** KVM_SIGNAL_MSI: syscall + routing [ps]. */
  msiPs: number;
  rxBufBytes: number;
  /** Copies of a transmitted frame: tun's (1), plus a bounce buffer in user space (2). */
  txCopies: number;
  /** Copies of a received frame: the read into a user-space buffer and into the guest (2). */
  rxCopies: number;
}

export interface QemuVirtioStages {
  backendTx: number;
  backendRx: number;
}

/** One queue pair of the device. */
function flushPacketDone(q: QemuVirtioQueue): void {
  q.flushPacketDone();
}

function flushMsiDone(q: QemuVirtioQueue): void {
  q.flushMsiDone();
}

function readFrameDone(q: QemuVirtioQueue): void {
  q.readFrameDone();
}

function readMsiDone(q: QemuVirtioQueue): void {
  q.readMsiDone();
}

export class QemuVirtioQueue {
  private isTxWaiting = false;
  private isTapReadable = true;
  /** Handlers registered with the main loop. */
  readonly txNotifier: MainLoopHandler;
  readonly txBh: MainLoopHandler;
  readonly tapHandler: MainLoopHandler;
  readonly rxNotifier: MainLoopHandler;
  txPackets = 0;
  rxPackets = 0;
  msiIoctls = 0;

  constructor(
    private readonly env: ActorEnv,
    readonly name: string,
    private readonly loop: QemuMainLoop,
    private readonly txq: Virtqueue<Packet>,
    private readonly rxq: Virtqueue<Packet | null>,
    private readonly tap: Tap,
    private readonly costs: QemuVirtioCosts,
    private readonly stages: QemuVirtioStages,
    /** Hands a frame to the host stack at atPs. */
    private readonly transmit: PacketPort,
    /** Raises the guest interrupt of the rx or tx virtqueue after delayPs. */
    private readonly msi: (isTx: boolean, delayPs: number) => void,
  ) {
    const self = this;
    this.txNotifier = { name: `${name}/tx-notifier`, isReady: false, run: (_l, done) => self.handleTxKick(done) };
    this.txBh = { name: `${name}/tx-bh`, isReady: false, isBh: true, run: (_l, done) => self.txBhRun(done) };
    this.tapHandler = { name: `${name}/tap`, isReady: false, run: (_l, done) => self.tapSend(done) };
    this.rxNotifier = { name: `${name}/rx-notifier`, isReady: false, run: (_l, done) => self.handleRxKick(done) };
    tap.onReadable = () => {
      if (this.isTapReadable) loop.notify(this.tapHandler);
    };
  }

  /** ioeventfd of the TX queue signalled (K1). */
  kickTx(): void {
    this.loop.notify(this.txNotifier);
  }

  /** ioeventfd of the RX queue signalled (refill after running out of buffers). */
  kickRx(): void {
    this.loop.notify(this.rxNotifier);
  }

  /**
   * virtio_net_handle_tx_bh, run wherever the kick lands: the main loop (ioeventfd) or a
   * vCPU thread in a heavy exit (ioeventfd off). Returns its CPU cost [ps].
   */
  txKickWork(): number {
    if (!this.isTxWaiting) {
      this.isTxWaiting = true;
      this.txq.disableNotify();
      this.loop.notify(this.txBh); // qemu_bh_schedule -> aio_notify
    }
    return this.costs.bhPs;
  }

  private handleTxKick(done: () => void): void {
    // event_notifier_test_and_clear (a read syscall) + virtio_net_handle_tx_bh
    const cost = this.costs.syscallPs + this.txKickWork();
    this.loop.thread.exec(cost, done, undefined);
  }

  private txBhRun(done: () => void): void {
    this.flushDone = done;
    this.flushTx(0, false);
  }

  // The TX flush in progress (the main loop runs one handler at a time, so one flush per
  // queue): its steps keep their state here and name module-level callbacks, so a flush
  // allocates nothing.
  private flushDone: (() => void) | null = null;
  private flushSent = 0;
  private flushIsRecheck = false;
  private flushPkt: Packet | null = null;
  private flushCostPs = 0;
  private flushBytes = 0;
  private flushUnits = 1;

  /** virtio_net_flush_tx: one packet per step, then the notify and the burst decision. */
  private flushTx(sent: number, isRecheck: boolean): void {
    const c = this.costs;
    const txq = this.txq;
    const thread = this.loop.thread;
    this.flushSent = sent;
    this.flushIsRecheck = isRecheck;
    if (sent < c.txBurst) {
      const pkt = txq.pop();
      if (pkt !== undefined) {
        const bytes = copyBytesOf(pkt.bytes, VIRTIO_NET_HDR_BYTES);
        // a virtqueue_pop and a writev per packet the guest queued (per frame when it cut them)
        const units = unitsOf(pkt);
        this.flushUnits = units;
        const cost = thread.jitter((c.perPktPs + c.syscallPs) * units + c.txCopies * this.env.copyPs(bytes) + c.hostTxPs(pkt)) + txq.deviceCostPs(units, 1);
        this.flushPkt = pkt;
        this.flushBytes = bytes;
        this.flushCostPs = cost;
        thread.exec(cost, flushPacketDone, this);
        return;
      }
    }
    this.afterFlush();
  }

  /** @internal A packet's step of the flush has run: it leaves through the tap. */
  flushPacketDone(): void {
    const pkt = this.flushPkt!;
    this.flushPkt = null;
    const txq = this.txq;
    this.env.counters.syscalls += this.flushUnits;
    for (let i = 0; i < this.costs.txCopies; i++) this.env.countCopy(this.flushBytes);
    txq.pushUsed(pkt, txSlotsOf(txq, pkt));
    this.env.tracker.mark(pkt, this.stages.backendTx, this.flushCostPs);
    this.transmit(pkt, this.env.sim.nowPs);
    this.txPackets++;
    // virtio_notify after each virtqueue_push (hw/net/virtio-net.c virtio_net_flush_tx)
    if (txq.shouldNotify()) {
      this.msiIoctls++;
      this.env.counters.syscalls++;
      this.loop.thread.exec(this.costs.msiPs, flushMsiDone, this);
      return;
    }
    this.flushTx(this.flushSent + 1, this.flushIsRecheck);
  }

  /** @internal A packet's MSI ioctl has run. */
  flushMsiDone(): void {
    this.msi(true, 0);
    this.flushTx(this.flushSent + 1, this.flushIsRecheck);
  }

  /** The burst is over: reschedule, or re-enable kicks and flush once more (virtio_net_tx_bh). */
  private afterFlush(): void {
    const txq = this.txq;
    const sent = this.flushSent;
    if (sent >= this.costs.txBurst) {
      this.loop.notify(this.txBh); // more to do: reschedule the BH, kicks stay off
      this.endFlush();
      return;
    }
    if (this.flushIsRecheck) {
      if (sent > 0) {
        txq.disableNotify();
        this.loop.notify(this.txBh);
        this.endFlush();
        return;
      }
      this.isTxWaiting = false;
      this.endFlush();
      return;
    }
    // short burst: re-enable kicks and flush once more (the race close)
    txq.enableNotify();
    this.flushTx(0, true);
  }

  private endFlush(): void {
    const done = this.flushDone!;
    this.flushDone = null;
    done();
  }

  /** tap_send: up to the read limit, one frame per step. */
  private tapSend(done: () => void): void {
    this.readDone = done;
    this.readFrames(0);
  }

  // The tap read in progress (one per queue, like the flush above).
  private readDone: (() => void) | null = null;
  private readCount = 0;
  private readPkt: Packet | null = null;
  private readNeed = 0;
  private readBytes = 0;
  private readCostPs = 0;
  private readUnits = 1;

  private readFrames(read: number): void {
    const c = this.costs;
    const rxq = this.rxq;
    const tap = this.tap.queue;
    const thread = this.loop.thread;
    if (read >= c.tapReadLimit || tap.isEmpty) {
      if (!tap.isEmpty && this.isTapReadable) this.loop.notify(this.tapHandler); // still readable
      this.endRead();
      return;
    }
    const need = rxBuffers(tap.peek()!.bytes, c.rxBufBytes, rxq.size);
    if (rxq.availPending < need) {
      // virtio_net_has_buffers fails: enable RX kicks, stop polling the tap
      this.isTapReadable = false;
      if (rxq.enableNotify() && rxq.availPending >= need) {
        rxq.disableNotify();
        this.isTapReadable = true;
        this.readFrames(read);
        return;
      }
      this.endRead();
      return;
    }
    const pkt = tap.shift()!;
    const bytes = copyBytesOf(pkt.bytes, VIRTIO_NET_HDR_BYTES);
    // a read() and a virtio_net_receive per packet in the tap (per frame when not merged)
    const units = unitsOf(pkt);
    this.readUnits = units;
    const cost = thread.jitter((c.syscallPs + c.perPktPs) * units + c.rxCopies * this.env.copyPs(bytes)) + rxq.deviceCostPs(need, 1);
    this.readCount = read;
    this.readPkt = pkt;
    this.readNeed = need;
    this.readBytes = bytes;
    this.readCostPs = cost;
    thread.exec(cost, readFrameDone, this);
  }

  /** @internal A frame's step of the tap read has run: it is in the guest's buffers. */
  readFrameDone(): void {
    const rxq = this.rxq;
    const pkt = this.readPkt!;
    this.readPkt = null;
    const bytes = this.readBytes;
    this.env.counters.syscalls += this.readUnits;
    for (let i = 0; i < this.costs.rxCopies; i++) this.env.countCopy(bytes);
    rxq.pop();
    rxq.pushUsed(pkt, 1);
    for (let b = 1; b < this.readNeed; b++) {
      rxq.pop();
      rxq.pushUsed(null, 1);
    }
    this.env.tracker.mark(pkt, this.stages.backendRx, this.readCostPs);
    this.rxPackets++;
    if (rxq.shouldNotify()) {
      this.msiIoctls++;
      this.env.counters.syscalls++;
      this.loop.thread.exec(this.costs.msiPs, readMsiDone, this);
    } else {
      this.readFrames(this.readCount + 1);
    }
  }

  /** @internal The read's MSI ioctl has run. */
  readMsiDone(): void {
    this.msi(false, 0);
    this.readFrames(this.readCount + 1);
  }

  private endRead(): void {
    const done = this.readDone!;
    this.readDone = null;
    done();
  }

  /** virtio_net_handle_rx: buffers were refilled; read the tap again. */
  private handleRxKick(done: () => void): void {
    this.rxq.disableNotify();
    this.isTapReadable = true;
    this.loop.thread.exec(this.costs.syscallPs, () => {
      if (!this.tap.queue.isEmpty) this.loop.notify(this.tapHandler);
      done();
    }, undefined);
  }
}
