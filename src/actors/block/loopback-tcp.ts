/**
 * One TCP connection over the loopback device, carrying iSCSI PDUs both ways between an
 * initiator and a target on the same host (io-paths.md s9). It has no thread of its own:
 * over loopback the sender's transmit (tcp_sendmsg ... loopback_xmit) raises NET_RX on the
 * sending CPU and the receive path (ip_rcv, tcp_v4_rcv, queueing on the socket, waking the
 * reader) runs there in softirq on the way out of the send. So the sending thread pays,
 * per PDU: the send syscall (a user-space sender), the copy of the payload into the skb
 * (unless sent by page reference), and per TCP segment the transmit and the loopback RX
 * softirq; at the end of that step the PDU is in the peer's socket and the peer's reader
 * is told (a wake-up of its thread, or a poller noticing). The reader pays, per PDU, its
 * recv syscalls (libiscsi and tgtd read the 48-byte header, then the data segment), the
 * tcp_recvmsg work and the copy of the payload out of the skb.
 *
 * Segments: a PDU of 48 + data bytes is cut into MSS-sized segments (65483 on lo); ACKs
 * ride on the traffic the other way or are delayed, and are not modelled.
 *
 * PDUs are pooled (no allocation per I/O).
 */
import { Fifo } from '../../primitives/fifo.js';
import type { ActorEnv } from '../host/env.js';
import type { BlkRequest } from './request.js';

/** Basic Header Segment of every iSCSI PDU [bytes] (RFC 7143 s11.2). */
export const BHS_BYTES = 48;

export const PDU_CMD = 0;
export const PDU_DATA_OUT = 1;
export const PDU_R2T = 2;
export const PDU_DATA_IN = 3;
export const PDU_RESPONSE = 4;

/** An iSCSI PDU of one command (RFC 7143 s11). */
export class IscsiPdu {
  kind = PDU_CMD;
  req: BlkRequest = null as unknown as BlkRequest;
  /** Data segment [bytes] (immediate data, Data-Out, Data-In). */
  dataBytes = 0;
  /** Buffer offset of the data, or of the burst an R2T asks for [bytes]. */
  offset = 0;
  /** R2T: desired data transfer length [bytes]. */
  burstBytes = 0;
  /** Last PDU of a sequence (F bit); on Data-In, the status rides along (phase collapse). */
  isFinal = false;
  /** Command PDU: unsolicited bytes (immediate plus unsolicited Data-Out) that follow or ride along. */
  unsolicitedBytes = 0;
}

/** TCP costs over loopback [ps] and the segment size. */
export interface LoopbackCosts {
  /** Sender's TCP/IP transmit per segment. */
  txPerSegmentPs: number;
  /** Loopback RX softirq per segment, on the sender's CPU. */
  rxPerSegmentPs: number;
  /** Reader's tcp_recvmsg work per read. */
  recvPerReadPs: number;
  mssBytes: number;
}

/** One end's receive side: PDUs queued on its socket, and who reads them. */
export class LoopbackSocket {
  readonly inbox = new Fifo<IscsiPdu>();
  /** Data arrived (sk_data_ready): wake or notify the reader. */
  onReadable: () => void = () => {};
}

export class LoopbackTcp {
  private readonly free: IscsiPdu[] = [];
  segments = 0;
  pdus = 0;
  /** While the path is cut (an outage): takes each PDU sent and returns true (it does not arrive now). */
  cut: ((to: LoopbackSocket, p: IscsiPdu) => boolean) | null = null;

  constructor(
    readonly env: ActorEnv,
    readonly name: string,
    private readonly costs: LoopbackCosts,
  ) {}

  /** A PDU from the pool. */
  pdu(kind: number, req: BlkRequest): IscsiPdu {
    const p = this.free.pop() ?? new IscsiPdu();
    p.kind = kind;
    p.req = req;
    p.dataBytes = 0;
    p.offset = 0;
    p.burstBytes = 0;
    p.isFinal = false;
    p.unsolicitedBytes = 0;
    return p;
  }

  release(p: IscsiPdu): void {
    p.req = null as unknown as BlkRequest;
    this.free.push(p);
  }

  /** TCP segments a PDU takes. */
  segmentsOf(p: IscsiPdu): number {
    return Math.ceil((BHS_BYTES + p.dataBytes) / this.costs.mssBytes);
  }

  /**
   * CPU time on the sending thread for one PDU [ps]: the send syscall (isUser), the
   * payload copy into the skb (isCopy), and per segment the transmit and the loopback RX
   * softirq that runs on the same CPU.
   */
  sendCostPs(p: IscsiPdu, isUser: boolean, isCopy: boolean): number {
    const c = this.costs;
    let ps = this.segmentsOf(p) * (c.txPerSegmentPs + c.rxPerSegmentPs);
    if (isUser) ps += this.env.syscallPs;
    if (isCopy && p.dataBytes > 0) ps += this.env.copyPs(p.dataBytes);
    return ps;
  }

  /** The part of sendCostPs that is TCP transmit and loopback RX softirq [ps]. */
  loopbackPs(p: IscsiPdu): number {
    return this.segmentsOf(p) * (this.costs.txPerSegmentPs + this.costs.rxPerSegmentPs);
  }

  /** At the end of the sending step: counts it and queues the PDU on the peer's socket. */
  deliver(to: LoopbackSocket, p: IscsiPdu, isUser: boolean, isCopy: boolean): void {
    const env = this.env;
    const n = this.segmentsOf(p);
    this.segments += n;
    this.pdus++;
    env.counters.tcpSegments += n;
    if (isUser) env.counters.syscalls++;
    if (isCopy && p.dataBytes > 0) env.countCopy(p.dataBytes);
    // an outage (a timeline's iscsi-disconnect) keeps or loses what is sent meanwhile
    if (this.cut !== null && this.cut(to, p)) return;
    const wasEmpty = to.inbox.length === 0;
    to.inbox.push(p);
    if (wasEmpty) to.onReadable();
  }

  /** Queues a PDU on a socket now (one the outage held, getting through at last). */
  enqueue(to: LoopbackSocket, p: IscsiPdu): void {
    const wasEmpty = to.inbox.length === 0;
    to.inbox.push(p);
    if (wasEmpty) to.onReadable();
  }

  /**
   * CPU time on the reading thread for one PDU [ps]: the recv syscalls (isUser: the header,
   * then the data segment if any), tcp_recvmsg per read, and the copy of the payload.
   */
  recvCostPs(p: IscsiPdu, isUser: boolean): number {
    const reads = p.dataBytes > 0 ? 2 : 1;
    let ps = reads * this.costs.recvPerReadPs;
    if (isUser) ps += reads * this.env.syscallPs;
    if (p.dataBytes > 0) ps += this.env.copyPs(p.dataBytes);
    return ps;
  }

  /** Counts a PDU read (made with recvCostPs). */
  countRecv(p: IscsiPdu, isUser: boolean): void {
    if (isUser) this.env.counters.syscalls += p.dataBytes > 0 ? 2 : 1;
    if (p.dataBytes > 0) this.env.countCopy(p.dataBytes);
  }
}
