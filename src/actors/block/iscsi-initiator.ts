/**
 * QEMU's iSCSI block driver (block/iscsi.c) over libiscsi, as the back end of QEMU's
 * virtio-blk (io-paths.md B.3 network variant, s9). It runs on the device's thread (the
 * IOThread, or the main loop under the BQL): iscsi_co_readv/writev builds a SCSI task
 * with the guest's iovec and queues its Command PDU; libiscsi's socket fd handler, run
 * from the event loop, then writes the queue (one writev per PDU) and reads what the
 * target sent (per PDU the 48-byte header, then the data segment straight into the
 * guest's buffer: the one copy of a read).
 *
 * - Command window: a command is sent only while CmdSN <= MaxCmdSN (RFC 7143 s3.2.2.1);
 *   the others wait in the initiator's queue, and each completion opens a slot.
 * - Writes: immediate data rides in the Command PDU (ImmediateData, at most the target's
 *   MaxRecvDataSegmentLength and FirstBurstLength); with InitialR2T=No unsolicited
 *   Data-Out PDUs follow up to FirstBurstLength; the rest waits for the target's R2Ts
 *   (MaxBurstLength each), answered with Data-Out PDUs of the target's segment length.
 * - Reads: Data-In PDUs of at most the initiator's MaxRecvDataSegmentLength, the status in
 *   the last (phase collapse).
 *
 * Adaptive polling does not apply: the socket's fd handler has no io_poll callback,
 * which disables polling for the whole AioContext (util/aio-posix.c poll_disable_cnt);
 * the path sets the poll window to 0.
 */
import { Fifo } from '../../primitives/fifo.js';
import type { HostThread } from '../../primitives/host-cpu.js';
import type { ActorEnv } from '../host/env.js';
import type { AioOwner, EngineRunner, QemuBlockEngine } from './qemu-aio.js';
import { LoopbackSocket, PDU_CMD, PDU_DATA_IN, PDU_DATA_OUT, PDU_R2T, PDU_RESPONSE, type IscsiPdu, type LoopbackTcp } from './loopback-tcp.js';
import type { BlkRequest } from './request.js';

/** Negotiated session parameters (login). */
export interface IscsiSession {
  /** Commands in flight at most (MaxCmdSN window). */
  cmdWindow: number;
  /** Largest Data-In payload (initiator's MaxRecvDataSegmentLength) [bytes]. */
  dataInSegmentBytes: number;
  /** Largest immediate-data / Data-Out payload (target's MaxRecvDataSegmentLength) [bytes]. */
  dataOutSegmentBytes: number;
  firstBurstBytes: number;
  maxBurstBytes: number;
  isImmediateData: boolean;
  isInitialR2t: boolean;
}

export interface IscsiInitiatorCosts {
  /** Per command issued (driver + libiscsi task and PDU) [ps]. */
  cmdPs: number;
  /** Per PDU received (parse, task lookup, callback) [ps]. */
  pduPs: number;
  /** Per command completed (callback, coroutine re-entry) [ps]. */
  completePs: number;
}

export interface IscsiInitiatorStages {
  /** Window wait, the event loop's pick-up and the send up to the TCP transmit. */
  send: number;
  /** TCP transmit and the loopback RX softirq on the sending CPU (initiator -> target). */
  loopbackOut: number;
  /** From the PDU in the initiator's socket to read (the event loop's wake-up, recv, copy). */
  recv: number;
}

function readStep(i: IscsiInitiator): void {
  i.afterRead();
}
function sendStep(i: IscsiInitiator): void {
  i.afterSend();
}

export class IscsiInitiator implements QemuBlockEngine {
  readonly done = new Fifo<BlkRequest>();
  owner: AioOwner | null = null;
  batches = 0;
  /** Its end of the connection (what the target sent). */
  readonly socket = new LoopbackSocket();
  /** The target's end, set when the connection is made. */
  peer: LoopbackSocket = null as unknown as LoopbackSocket;
  private readonly pending = new Fifo<BlkRequest>();
  private readonly outq = new Fifo<IscsiPdu>();
  private inflight = 0;
  private readonly batch: IscsiPdu[] = [];
  private batchCount = 0;
  private runner: EngineRunner = null as unknown as EngineRunner;
  private serviceDone: () => void = () => {};
  /** Commands that waited for the window (a full window at submission). */
  windowWaits = 0;
  /** Commands sent and not answered, in CmdSN order; null in a run without a timeline. */
  sent: Set<BlkRequest> | null = null;
  readonly service = {
    hasWork: (): boolean => this.hasWork(),
    run: (runner: EngineRunner, done: () => void): void => {
      this.runner = runner;
      this.serviceDone = done;
      this.next();
    },
  };

  constructor(
    readonly env: ActorEnv,
    readonly name: string,
    readonly tcp: LoopbackTcp,
    readonly session: IscsiSession,
    private readonly costs: IscsiInitiatorCosts,
    private readonly stages: IscsiInitiatorStages,
  ) {
    this.socket.onReadable = () => this.owner!.aioReady();
  }

  attachSubmitter(_thread: HostThread): void {}

  submitCostPs(_reqs: readonly BlkRequest[], n: number): number {
    return n * this.costs.cmdPs;
  }

  /** Queues the commands; the event loop's fd handler sends them (iscsi_set_events: POLLOUT). */
  submit(reqs: readonly BlkRequest[], n: number, _thread: HostThread): void {
    this.batches++;
    for (let i = 0; i < n; i++) {
      if (this.inflight + this.pending.length >= this.session.cmdWindow) this.windowWaits++;
      this.pending.push(reqs[i]!);
    }
    this.owner!.aioReady();
  }

  reapCostPs(n: number): number {
    return n * this.costs.completePs;
  }

  countReap(): void {}

  private hasWork(): boolean {
    return this.socket.inbox.length !== 0 || this.outq.length !== 0 || (this.pending.length !== 0 && this.inflight < this.session.cmdWindow);
  }

  /** The fd handler: read what arrived, then write what may go; then back to the owner. */
  private next(): void {
    const inbox = this.socket.inbox;
    const batch = this.batch;
    const tcp = this.tcp;
    if (inbox.length !== 0) {
      let n = 0;
      let ps = 0;
      for (let p = inbox.shift(); p !== undefined; p = inbox.shift()) {
        batch[n++] = p;
        ps += tcp.recvCostPs(p, true) + this.costs.pduPs;
      }
      this.batchCount = n;
      this.runner.exec(ps, readStep, this);
      return;
    }
    // one PDU per step: each is in the target's socket as soon as its own send ends
    if (this.outq.length === 0) this.issueNext();
    const p = this.outq.shift();
    if (p !== undefined) {
      batch[0] = p;
      this.batchCount = 1;
      this.runner.exec(tcp.sendCostPs(p, true, true), sendStep, this);
      return;
    }
    this.serviceDone();
  }

  /** Queues the next command the window allows: its Command PDU and any unsolicited Data-Out. */
  private issueNext(): void {
    const s = this.session;
    if (this.pending.length === 0 || this.inflight >= s.cmdWindow) return;
    const tcp = this.tcp;
    const req = this.pending.shift()!;
    this.inflight++;
    if (this.sent !== null) this.sent.add(req);
    const cmd = tcp.pdu(PDU_CMD, req);
    this.outq.push(cmd);
    if (!req.isWrite) return;
    const total = req.totalBytes;
    const immediate = s.isImmediateData ? Math.min(total, s.firstBurstBytes, s.dataOutSegmentBytes) : 0;
    const unsolicited = s.isInitialR2t ? immediate : Math.min(total, s.firstBurstBytes);
    cmd.dataBytes = immediate;
    cmd.unsolicitedBytes = unsolicited;
    // unsolicited Data-Out after the immediate data (InitialR2T=No)
    for (let off = immediate; off < unsolicited; ) {
      const len = Math.min(s.dataOutSegmentBytes, unsolicited - off);
      const d = tcp.pdu(PDU_DATA_OUT, req);
      d.offset = off;
      d.dataBytes = len;
      off += len;
      d.isFinal = off >= unsolicited;
      this.outq.push(d);
    }
  }

  /** @internal PDUs read: complete commands, answer R2Ts. */
  afterRead(): void {
    const batch = this.batch;
    const n = this.batchCount;
    const tracker = this.env.tracker;
    const tcp = this.tcp;
    const s = this.session;
    let stepPs = 0;
    for (let i = 0; i < n; i++) stepPs += tcp.recvCostPs(batch[i]!, true) + this.costs.pduPs;
    const sharePs = n > 0 ? Math.round(stepPs / n) : 0;
    for (let i = 0; i < n; i++) {
      const p = batch[i]!;
      batch[i] = undefined as unknown as IscsiPdu;
      tcp.countRecv(p, true);
      const req = p.req;
      if (p.kind === PDU_R2T) {
        tracker.mark(req, this.stages.recv, sharePs);
        for (let off = p.offset, end = p.offset + p.burstBytes; off < end; ) {
          const len = Math.min(s.dataOutSegmentBytes, end - off);
          const d = tcp.pdu(PDU_DATA_OUT, req);
          d.offset = off;
          d.dataBytes = len;
          off += len;
          d.isFinal = off >= end;
          this.outq.push(d);
        }
      } else if ((p.kind === PDU_DATA_IN && p.isFinal) || p.kind === PDU_RESPONSE) {
        tracker.mark(req, this.stages.recv, sharePs);
        this.inflight--;
        if (this.sent !== null) this.sent.delete(req);
        this.done.push(req);
      }
      tcp.release(p);
    }
    this.batchCount = 0;
    this.next();
  }

  /** True while a step of the fd handler is under way (PDUs of it not yet applied). */
  get isInStep(): boolean {
    return this.batchCount !== 0;
  }

  /**
   * The session is made again (libiscsi iscsi_reconnect: a new connection and login): what
   * the old connection had queued or received is gone, and the commands it left unanswered
   * go out again first, in their order (libiscsi requeues its outstanding tasks on the new
   * connection). Returns how many were retried.
   */
  reconnect(): number {
    const tcp = this.tcp;
    while (this.outq.length !== 0) tcp.release(this.outq.shift()!);
    while (this.socket.inbox.length !== 0) tcp.release(this.socket.inbox.shift()!);
    const retried = [...this.sent!];
    this.sent!.clear();
    this.inflight = 0;
    const waiting: BlkRequest[] = [];
    while (this.pending.length !== 0) waiting.push(this.pending.shift()!);
    for (const r of retried) this.pending.push(r);
    for (const r of waiting) this.pending.push(r);
    this.owner!.aioReady();
    return retried.length;
  }

  /** @internal PDUs written: they are in the target's socket. */
  afterSend(): void {
    const batch = this.batch;
    const n = this.batchCount;
    const tracker = this.env.tracker;
    const tcp = this.tcp;
    const now = this.env.sim.nowPs;
    for (let i = 0; i < n; i++) {
      const p = batch[i]!;
      batch[i] = undefined as unknown as IscsiPdu;
      // the command, or the last Data-Out of a burst, marks the request's hop to the target
      if (p.kind === PDU_CMD || p.isFinal) {
        const req = p.req;
        const loopPs = tcp.loopbackPs(p);
        const at = Math.max(now - loopPs, req.stampPs);
        tracker.markAt(req, this.stages.send, tcp.sendCostPs(p, true, true) - loopPs, at);
        tracker.mark(req, this.stages.loopbackOut, loopPs);
      }
      tcp.deliver(this.peer, p, true, true);
    }
    this.batchCount = 0;
    this.next();
  }
}
