/**
 * The iSCSI target on the host (io-paths.md s9): its own process or kernel threads, on
 * host cores, serving one connection per VM in front of the SSD. Three kinds:
 *
 * - `user` (tgtd-like, usr/iscsi + bs_rdwr): one event-loop thread sleeps in epoll; it
 *   reads each PDU (recv of the header, then of the data), and hands a ready command to a
 *   backing-store worker (a pending list and pthread_cond_signal: a futex wake). The
 *   worker wakes, makes a blocking pread/pwrite (O_DIRECT: the host block layer DMAs into
 *   the target's buffer) and sleeps until the SSD completes; it then queues the command
 *   as finished and writes the event loop's eventfd. The event loop reads the eventfd,
 *   builds the Data-In (status collapsed) or the SCSI Response, and sends it (writev:
 *   the payload is copied into the skb).
 * - `lio` (iscsi_target_mod + iblock): per connection an RX kernel thread (woken by the
 *   socket's data_ready) receives PDUs in the kernel (no syscall; Data-Out payload copied
 *   out of the skb into the command's pages), and submits the command through the target
 *   core and iblock as a bio on its own CPU; the NVMe interrupt's completion queues the
 *   response and wakes the connection's TX kernel thread, which sends Data-In by page
 *   reference (sendpage: no copy) and the status. LIO's completion work item
 *   (target_completion_wq) is folded into the interrupt, as for vhost-scsi.
 * - `spdk` (lib/iscsi on a reactor): one thread polls its core: socket reads (a syscall
 *   and a copy per PDU), commands to the NVMe bdev on a queue pair of its own (user-space
 *   driver, polled completion queue: no interrupt), Data-In written back (writev, copied).
 *   No wake-ups: it notices work within its poll pickup time.
 *
 * R2T: a write whose data is not all unsolicited gets an R2T per MaxBurstLength; the
 * command runs once its last data arrived. Every send runs the loopback RX softirq on the
 * sender's CPU (LoopbackTcp).
 */
import { Fifo } from '../../primitives/fifo.js';
import type { HostThread } from '../../primitives/host-cpu.js';
import type { ActorEnv } from '../host/env.js';
import type { HostBlockLayer } from './host-blk.js';
import { LoopbackSocket, PDU_CMD, PDU_DATA_IN, PDU_DATA_OUT, PDU_R2T, PDU_RESPONSE, type IscsiPdu, type LoopbackTcp } from './loopback-tcp.js';
import type { BlkRequest, HostBlockClient } from './request.js';
import type { NvmeQueuePair, Ssd } from './ssd.js';
import type { IscsiSession } from './iscsi-initiator.js';

export type IscsiTargetKind = 'user' | 'lio' | 'spdk';

export interface IscsiTargetCosts {
  /** Protocol work per PDU received or sent [ps]. */
  pduPs: number;
  /** Per command before the backstore: LIO's target core and iblock; tgtd's hand-off to a worker (each side); SPDK's bdev submission [ps]. */
  cmdPs: number;
  /** SPDK: per NVMe completion reaped [ps]. */
  completionPs: number;
  /** LIO: Data-In by page reference (no copy). */
  isSendpage: boolean;
}

export interface IscsiTargetStages {
  /** From the PDU in the target's socket to the command submitted to the backstore (wake-up, recv, protocol, submission). */
  recv: number;
  /** The backstore's I/O (host block layer and SSD; SPDK: the SSD). */
  device: number;
  /** From the I/O's completion to the response's send, up to the TCP transmit. */
  send: number;
  /** TCP transmit and the loopback RX softirq on the target's CPU (target -> initiator). */
  loopbackIn: number;
}

/** One connection (one VM's session). */
export class TargetConn {
  readonly socket = new LoopbackSocket();
  /** R2Ts to send. */
  readonly r2ts = new Fifo<IscsiPdu>();
  /** Commands whose I/O completed, to answer. */
  readonly finished = new Fifo<BlkRequest>();
  /** PDUs of the command being answered. */
  readonly responses = new Fifo<IscsiPdu>();
  /** Step scratch: PDUs received, and PDUs to send (apart: LIO's RX and TX threads run at once). */
  readonly rxBatch: IscsiPdu[] = [];
  rxCount = 0;
  readonly txBatch: IscsiPdu[] = [];
  txCount = 0;
  /** LIO's RX and TX threads (user and spdk: the target's one thread for both). */
  rx: HostThread = null as unknown as HostThread;
  tx: HostThread = null as unknown as HostThread;
  constructor(
    readonly target: IscsiTarget,
    readonly index: number,
    /** The initiator's end. */
    readonly peer: LoopbackSocket,
  ) {}
}

/** A backing-store worker of the user-space target: one blocking request at a time. */
class BsWorker {
  req: BlkRequest | null = null;
  isDone = false;
  constructor(
    readonly target: IscsiTarget,
    readonly index: number,
    readonly thread: HostThread,
  ) {}
}

function recvStep(c: TargetConn): void {
  c.target.afterRecv(c);
}
function sendStep(c: TargetConn): void {
  c.target.afterSend(c);
}
function workerSubmitted(w: BsWorker): void {
  w.target.workerSubmitted(w);
}
function workerReturned(w: BsWorker): void {
  w.target.workerReturned(w);
}

export class IscsiTarget implements HostBlockClient {
  readonly conns: TargetConn[] = [];
  private readonly bsQueue = new Fifo<BlkRequest>();
  private readonly workers: BsWorker[] = [];
  private readonly idleWorkers: BsWorker[] = [];
  /** spdk: commands waiting for room in the NVMe submission queue. */
  private readonly spdkOverflow = new Fifo<BlkRequest>();
  private readonly reaped: BlkRequest[] = [];
  commands = 0;
  r2tsSent = 0;

  constructor(
    readonly env: ActorEnv,
    readonly name: string,
    readonly kind: IscsiTargetKind,
    readonly tcp: LoopbackTcp,
    readonly session: IscsiSession,
    private readonly costs: IscsiTargetCosts,
    private readonly stages: IscsiTargetStages,
    /** user and lio: the host block layer; spdk: null. */
    private readonly host: HostBlockLayer | null,
    /** spdk: the SSD and its queue pair; others: null. */
    private readonly ssd: Ssd | null,
    private readonly queue: NvmeQueuePair | null,
    /** The target's main thread (user: the event loop; spdk: the reactor; lio: unused). */
    readonly main: HostThread | null,
    /** user: makes a worker thread. */
    makeWorker: ((name: string) => HostThread) | null,
    workerCount: number,
  ) {
    if (kind === 'user') {
      for (let i = 0; i < workerCount; i++) {
        const w = new BsWorker(this, i, makeWorker!(`${name}/bs${i}`));
        w.thread.onRun = () => this.runWorker(w);
        host!.attach(w.thread);
        this.workers.push(w);
      }
      for (let i = this.workers.length - 1; i >= 0; i--) this.idleWorkers.push(this.workers[i]!);
      main!.onRun = () => this.runMain();
    } else if (kind === 'spdk') {
      queue!.onInterrupt = null; // polled completion queue
      queue!.onCqe = () => main!.wake();
      main!.onRun = () => this.runMain();
    }
  }

  /** A connection from an initiator whose socket is `peer`; lio gives it its RX and TX threads. */
  connect(peer: LoopbackSocket, rx: HostThread | null, tx: HostThread | null): TargetConn {
    const c = new TargetConn(this, this.conns.length, peer);
    this.conns.push(c);
    if (this.kind === 'lio') {
      c.rx = rx!;
      c.tx = tx!;
      this.host!.attach(c.rx);
      c.rx.onRun = () => this.runLioRx(c);
      c.tx.onRun = () => this.runLioTx(c);
      c.socket.onReadable = () => c.rx.wake();
    } else {
      c.rx = this.main!;
      c.tx = this.main!;
      c.socket.onReadable = () => this.main!.wake();
    }
    return c;
  }

  private get isUser(): boolean {
    return this.kind !== 'lio';
  }

  // ---------------------------------------------------------------- receiving

  /** Whether the PDU completes a command's data (then it runs), and queues an R2T if more data is due. */
  private isReady(c: TargetConn, p: IscsiPdu, isApply: boolean): boolean {
    const req = p.req;
    if (p.kind === PDU_CMD) {
      if (!req.isWrite) return true;
      if (p.unsolicitedBytes > p.dataBytes) return false; // unsolicited Data-Out follows
      return this.afterData(c, req, p.unsolicitedBytes, isApply);
    }
    if (p.kind === PDU_DATA_OUT && p.isFinal) return this.afterData(c, req, p.offset + p.dataBytes, isApply);
    return false;
  }

  /** Write data received up to `end` bytes: run the command, or ask for the next burst. */
  private afterData(c: TargetConn, req: BlkRequest, end: number, isApply: boolean): boolean {
    const total = req.totalBytes;
    if (end >= total) return true;
    if (isApply) {
      const r2t = this.tcp.pdu(PDU_R2T, req);
      r2t.offset = end;
      r2t.burstBytes = Math.min(this.session.maxBurstBytes, total - end);
      c.r2ts.push(r2t);
    }
    return false;
  }

  /** CPU time to read the connection's queued PDUs and run the ready commands' submission [ps]. */
  private takeInbox(c: TargetConn): number {
    const inbox = c.socket.inbox;
    const batch = c.rxBatch;
    const tcp = this.tcp;
    const isUser = this.isUser;
    let n = 0;
    let ps = 0;
    for (let p = inbox.shift(); p !== undefined; p = inbox.shift()) {
      batch[n++] = p;
      ps += tcp.recvCostPs(p, isUser) + this.costs.pduPs;
      if (this.isReady(c, p, false)) ps += this.submitCostPs(p.req);
    }
    c.rxCount = n;
    return ps;
  }

  private submitCostPs(req: BlkRequest): number {
    const cmd = this.costs.cmdPs;
    if (this.kind === 'lio') return cmd + this.host!.costPs(req);
    return cmd; // user: the hand-off (futex wake counted apart); spdk: bdev submission
  }

  /** @internal The PDUs are read: R2Ts queued, ready commands go to the backstore. */
  afterRecv(c: TargetConn): void {
    const batch = c.rxBatch;
    const n = c.rxCount;
    const tcp = this.tcp;
    const isUser = this.isUser;
    const tracker = this.env.tracker;
    let hasR2t = false;
    for (let i = 0; i < n; i++) {
      const p = batch[i]!;
      batch[i] = undefined as unknown as IscsiPdu;
      tcp.countRecv(p, isUser);
      const req = p.req;
      const r2tsBefore = c.r2ts.length;
      if (this.isReady(c, p, true)) {
        this.commands++;
        tracker.mark(req, this.stages.recv, tcp.recvCostPs(p, isUser) + this.costs.pduPs + this.submitCostPs(req));
        req.tag = c.index;
        req.hostClient = this;
        this.execute(c, req);
      } else if (c.r2ts.length !== r2tsBefore) {
        tracker.mark(req, this.stages.recv, tcp.recvCostPs(p, isUser) + this.costs.pduPs);
        hasR2t = true;
      }
      tcp.release(p);
    }
    c.rxCount = 0;
    if (hasR2t && this.kind === 'lio') c.tx.wake();
    this.loopAfterStep(c);
  }

  private execute(c: TargetConn, req: BlkRequest): void {
    if (this.kind === 'lio') {
      this.host!.submit(req, c.rx);
    } else if (this.kind === 'user') {
      this.bsQueue.push(req);
      const w = this.idleWorkers.pop();
      if (w !== undefined) {
        this.env.counters.syscalls++; // futex wake
        w.thread.wake();
      }
    } else {
      const ssd = this.ssd!;
      if (this.spdkOverflow.length === 0 && ssd.canSubmit(this.queue!)) ssd.submit(this.queue!, req);
      else this.spdkOverflow.push(req);
    }
  }

  /** The host block layer completed a request (lio: interrupt context; user: its worker wakes). */
  hostDone(req: BlkRequest): void {
    if (this.kind === 'user') {
      // (req.tag holds its connection: find its worker among the few)
      let w = this.workers[0]!;
      for (let i = 0; i < this.workers.length; i++) if (this.workers[i]!.req === req) w = this.workers[i]!;
      w.isDone = true;
      w.thread.wake();
      return;
    }
    // lio: target_complete_cmd -> iscsit_queue_data_in: queue the response, wake TX
    this.env.tracker.mark(req, this.stages.device, 0);
    const c = this.conns[req.tag]!;
    c.finished.push(req);
    c.tx.wake();
  }

  // ---------------------------------------------------------------- sending

  /**
   * CPU time to send the connection's next PDU [ps] (an R2T first, else the next PDU of the
   * oldest finished command); it waits in the batch. One PDU per step: each is in the
   * initiator's socket as soon as its own send ends.
   */
  private takeOutgoing(c: TargetConn): number {
    const tcp = this.tcp;
    const isUser = this.isUser;
    const pduPs = this.costs.pduPs;
    let p = c.r2ts.shift();
    if (p === undefined) {
      if (c.responses.length === 0) this.queueResponse(c);
      p = c.responses.shift()!;
    }
    c.txBatch[0] = p;
    c.txCount = 1;
    const isCopy = p.kind === PDU_DATA_IN && !(this.kind === 'lio' && this.costs.isSendpage);
    return pduPs + tcp.sendCostPs(p, isUser, isCopy);
  }

  /** The PDUs answering the oldest finished command: Data-In (status in the last) or a SCSI Response. */
  private queueResponse(c: TargetConn): void {
    const tcp = this.tcp;
    const req = c.finished.shift()!;
    if (req.isWrite) {
      const r = tcp.pdu(PDU_RESPONSE, req);
      r.isFinal = true;
      c.responses.push(r);
      return;
    }
    const total = req.totalBytes;
    const seg = this.session.dataInSegmentBytes;
    for (let off = 0; off < total; ) {
      const d = tcp.pdu(PDU_DATA_IN, req);
      d.offset = off;
      d.dataBytes = Math.min(seg, total - off);
      off += d.dataBytes;
      d.isFinal = off >= total; // status collapsed into the last Data-In
      c.responses.push(d);
    }
  }

  /** @internal The PDUs are on their way: in the initiator's socket. */
  afterSend(c: TargetConn): void {
    const batch = c.txBatch;
    const n = c.txCount;
    const tcp = this.tcp;
    const isUser = this.isUser;
    const isCopyIn = !(this.kind === 'lio' && this.costs.isSendpage);
    const tracker = this.env.tracker;
    const now = this.env.sim.nowPs;
    for (let i = 0; i < n; i++) {
      const p = batch[i]!;
      batch[i] = undefined as unknown as IscsiPdu;
      const isCopy = p.kind === PDU_DATA_IN && isCopyIn;
      if (p.kind === PDU_R2T) this.r2tsSent++;
      if (p.isFinal || p.kind === PDU_R2T) {
        const req = p.req;
        const loopPs = tcp.loopbackPs(p);
        const at = Math.max(now - loopPs, req.stampPs);
        tracker.markAt(req, this.stages.send, this.costs.pduPs + tcp.sendCostPs(p, isUser, isCopy) - loopPs, at);
        tracker.mark(req, this.stages.loopbackIn, loopPs);
      }
      tcp.deliver(c.peer, p, isUser, isCopy);
    }
    c.txCount = 0;
    this.loopAfterStep(c);
  }

  private loopAfterStep(c: TargetConn): void {
    if (this.kind === 'lio') {
      // each of LIO's threads goes back to its own loop
      return;
    }
    this.runMain();
  }

  // ---------------------------------------------------------------- LIO's threads

  private runLioRx(c: TargetConn): void {
    if (c.socket.inbox.length === 0) {
      c.rx.idle();
      return;
    }
    const ps = this.takeInbox(c);
    c.rx.exec(ps, lioRxDone, c);
  }

  private runLioTx(c: TargetConn): void {
    if (!hasOutgoing(c)) {
      c.tx.idle();
      return;
    }
    const ps = this.takeOutgoing(c);
    c.tx.exec(ps, lioTxDone, c);
  }

  /** @internal */
  lioRxDone(c: TargetConn): void {
    this.afterRecv(c);
    this.runLioRx(c);
  }

  /** @internal */
  lioTxDone(c: TargetConn): void {
    this.afterSend(c);
    this.runLioTx(c);
  }

  // ---------------------------------------------------------------- the user-space event loop and the SPDK reactor

  private runMain(): void {
    const main = this.main!;
    if (this.kind === 'spdk') {
      // bdev_nvme's poller: completions first
      const ssd = this.ssd!;
      const q = this.queue!;
      const out = this.reaped;
      let k = 0;
      for (let r = ssd.reap(q); r !== undefined; r = ssd.reap(q)) out[k++] = r;
      if (k !== 0) {
        const tracker = this.env.tracker;
        for (let i = 0; i < k; i++) {
          const r = out[i]!;
          out[i] = undefined as unknown as BlkRequest;
          tracker.mark(r, this.stages.device, 0);
          this.conns[r.tag]!.finished.push(r);
        }
        const o = this.spdkOverflow;
        while (o.length !== 0 && ssd.canSubmit(q)) ssd.submit(q, o.shift()!);
        main.exec(k * this.costs.completionPs, spdkReaped, this);
        return;
      }
    }
    for (const c of this.conns) {
      if (c.socket.inbox.length !== 0) {
        main.exec(this.takeInbox(c), recvStep, c);
        return;
      }
    }
    for (const c of this.conns) {
      if (hasOutgoing(c)) {
        let ps = this.takeOutgoing(c);
        if (this.kind === 'user' && this.pendingEventfd) {
          // the workers' eventfd, read once for the finished commands gathered
          this.pendingEventfd = false;
          this.env.counters.syscalls++;
          ps += this.env.syscallPs;
        }
        main.exec(ps, sendStep, c);
        return;
      }
    }
    main.idle();
  }

  /** @internal */
  spdkReaped(): void {
    this.runMain();
  }

  /** user: a worker wrote the event loop's eventfd since it last read it. */
  private pendingEventfd = false;

  // ---------------------------------------------------------------- user-space backing-store workers

  private runWorker(w: BsWorker): void {
    if (w.isDone) {
      w.isDone = false;
      // back in user space: the finished list and the eventfd write
      w.thread.exec(this.costs.cmdPs + this.env.syscallPs, workerReturned, w);
      return;
    }
    const req = this.bsQueue.shift();
    if (req === undefined) {
      this.idleWorkers.push(w);
      w.thread.idle();
      return;
    }
    w.req = req;
    // bs_rdwr_request: pread/pwrite, through the host block layer, then it blocks
    w.thread.exec(this.costs.cmdPs + this.env.syscallPs + this.host!.costPs(req), workerSubmitted, w);
  }

  /** @internal */
  workerSubmitted(w: BsWorker): void {
    this.env.counters.syscalls++;
    this.host!.submit(w.req!, w.thread);
    w.thread.idle();
  }

  /** @internal */
  workerReturned(w: BsWorker): void {
    const req = w.req!;
    w.req = null;
    this.env.tracker.mark(req, this.stages.device, 0);
    this.env.counters.syscalls++; // eventfd write
    this.conns[req.tag]!.finished.push(req);
    this.pendingEventfd = true;
    this.main!.wake();
    this.runWorker(w);
  }
}

function hasOutgoing(c: TargetConn): boolean {
  return c.r2ts.length !== 0 || c.responses.length !== 0 || c.finished.length !== 0;
}
function lioRxDone(c: TargetConn): void {
  c.target.lioRxDone(c);
}
function lioTxDone(c: TargetConn): void {
  c.target.lioTxDone(c);
}
function spdkReaped(t: IscsiTarget): void {
  t.spdkReaped();
}
