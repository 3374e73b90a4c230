/**
 * What moves between actors: packets (one object per network op; a request/response
 * transaction reuses it for the response) and the port types that carry them.
 * A packet carries its own stage bookkeeping (TrackedOp) and its routing: VM, flow and
 * queue pair.
 *
 * The run harness recycles the object of a finished op for a later op (reset()), so that
 * packets live long enough to stay out of the young generation: storing a young object
 * into the rings (old objects) costs a slow write barrier, several times per op. Actors
 * must therefore not read a packet after handing it to the op's end (complete or drop);
 * rings may still hold it (a used entry the driver reclaims later only counts it).
 */
import { AS_DOUBLE } from '../../core/time.js';
import type { TrackedOp } from '../../primitives/stage-tracker.js';

/** Bytes of the Ethernet FCS, part of a frame's size but not copied by software. */
export const FCS_BYTES = 4;
/** Preamble, start delimiter and inter-frame gap a frame occupies on the wire. */
export const WIRE_OVERHEAD_BYTES = 20;
/** virtio-net header (VIRTIO_NET_F_MRG_RXBUF layout) copied with the frame. */
export const VIRTIO_NET_HDR_BYTES = 12;

export class Packet implements TrackedOp {
  stampPs = AS_DOUBLE;
  slot = -1;
  // The op's identity and sizes: set when the op is created (constructor or reset()).
  /** Creation order of the op (also the order ops are handed out). */
  id: number;
  vm: number;
  flow: number;
  /** Queue pair this flow is steered to. */
  queue: number;
  /** Frame size of the current direction, FCS included [bytes]. */
  bytes: number;
  /** Frame size of the request (or of the stream frame) [bytes]. */
  requestBytes: number;
  /** Response frame size for a request/response op [bytes]. */
  responseBytes: number;
  createdPs: number = AS_DOUBLE;
  /** Request on its way back as the response. */
  isResponse = false;
  /**
   * Ethernet frames this op is on the wire (a TCP segment offload, TSO/GSO, carries up to
   * 64 KiB as one packet in software and many MTU-sized frames on the wire).
   */
  frames = 1;
  /**
   * Software handles it frame by frame here (cut by GSO, or not yet merged by GRO);
   * false while it travels as one large packet. See unitsOf.
   */
  isSegmented = true;
  /** TCP payload bytes of a bulk-stream op (0 otherwise: the frame is the payload). */
  payloadBytes = 0;

  constructor(id: number, vm: number, flow: number, queue: number, bytes: number, responseBytes: number, createdPs: number) {
    this.stampPs = 0;
    this.id = id;
    this.vm = vm;
    this.flow = flow;
    this.queue = queue;
    this.bytes = bytes;
    this.requestBytes = bytes;
    this.responseBytes = responseBytes;
    this.createdPs = createdPs;
  }

  /** Makes this object a new op (recycling; same fields as the constructor sets). */
  reset(id: number, vm: number, flow: number, queue: number, bytes: number, responseBytes: number, createdPs: number): void {
    this.stampPs = 0;
    this.slot = -1;
    this.id = id;
    this.vm = vm;
    this.flow = flow;
    this.queue = queue;
    this.bytes = bytes;
    this.requestBytes = bytes;
    this.responseBytes = responseBytes;
    this.createdPs = createdPs;
    this.isResponse = false;
    this.frames = 1;
    this.isSegmented = true;
    this.payloadBytes = 0;
  }
}

/**
 * Ring entries or descriptors `units` frames of one op take in a ring of `ringSize`: all of
 * them, but at most a quarter of the ring. (The frames of one op are modelled as one ring
 * entry; real frames would go in one by one, so a ring smaller than the op never blocks.)
 */
export function ringUnits(units: number, ringSize: number): number {
  if (units === 1) return 1; // (single frames: no division)
  const cap = ringSize >= 4 ? Math.floor(ringSize / 4) : 1;
  return units < cap ? units : cap;
}

/** Packets software handles for this op now: its frames when segmented, else one. */
export function unitsOf(pkt: Packet): number {
  return pkt.isSegmented ? pkt.frames : 1;
}

/**
 * A guest driver's receive work for a packet of `units` frames (`rxPs` each) and the stack
 * above it (`stackPs`): once per packet when GRO merges the frames, else once per frame [ps].
 */
export function guestRxPs(units: number, rxPs: number, stackPs: number, isGro: boolean): number {
  return rxPs * units + (isGro ? stackPs : stackPs * units);
}

/** TCP/IP/Ethernet headers, timestamps option and FCS of each frame of a TCP stream [bytes]. */
export const TCP_FRAME_OVERHEAD_BYTES = 70;
/** Largest payload of one GSO/TSO packet: tcp_xmit_size_goal keeps it under gso_max_size (65,536) less MAX_TCP_HEADER. */
export const GSO_MAX_PAYLOAD_BYTES = 65536 - 1 - 320;

/** Hands a packet on, ready at atPs (now or later). */
export type PacketPort = (pkt: Packet, atPs: number) => void;

/** Bytes software copies for a frame (no FCS; plus a header where the path has one). */
export function copyBytesOf(frameBytes: number, headerBytes = 0): number {
  return frameBytes - FCS_BYTES + headerBytes;
}
