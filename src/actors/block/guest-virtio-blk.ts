/**
 * The guest's virtio block drivers (Linux drivers/block/virtio_blk.c, and
 * drivers/scsi/virtio_scsi.c, which differs in its request layout): one virtqueue per
 * hardware queue (num_queues; legacy devices have one), each request a chain of
 * descriptors {header, data pages, status} (virtio-scsi: {request header + CDB, data,
 * response}), one slot with indirect descriptors. virtio_queue_rq adds the request; the
 * kick goes only at the end of a plug batch and only if the device asked for it
 * (virtqueue_kick_prepare: EVENT_IDX or the NO_NOTIFY flag). virtblk_done disables
 * callbacks, takes every used buffer, and re-enables with the re-check.
 *
 * With polled completions (poll_queues, io_uring IOPOLL) the queue's callbacks stay
 * disabled and the reaper polls the used ring.
 */
import type { Virtqueue } from '../../primitives/virtqueue.js';
import type { GuestVcpu, IrqVector } from '../host/guest-vcpu.js';
import type { BlkDriver } from './guest-blk-mq.js';
import type { BlkRequest } from './request.js';

/** Descriptors of a request besides its data: virtio-blk's header and status byte (virtio-scsi: request and response). */
export const VIRTIO_BLK_HEADER_SEGMENTS = 2;
/** Data bytes per descriptor: a guest page. */
export const VIRTIO_BLK_SEGMENT_BYTES = 4096;

/** Descriptors a request of `bytes` takes without indirect descriptors. */
export function virtioBlkSegments(bytes: number): number {
  return VIRTIO_BLK_HEADER_SEGMENTS + Math.ceil(bytes / VIRTIO_BLK_SEGMENT_BYTES);
}

/** The guest's notification of a virtqueue: an exit of some kind, then fn(arg). */
export type BlkKickPort = <A>(vcpu: GuestVcpu, vq: number, fn: (arg: A) => void, arg: A) => void;

export interface VirtioBlkCosts {
  /** virtio_queue_rq: request header, sg mapping, descriptor set-up [ps]. */
  queuePs: number;
  /** Per used buffer reclaimed in virtblk_done (detach, status check) [ps]. */
  reapPs: number;
  /** Descriptors per request besides the data pages (header and status: 2). */
  headerSegments: number;
  /** Data bytes per descriptor (a guest page). */
  segmentBytes: number;
}

export class GuestVirtioBlk implements BlkDriver {
  readonly queueCount: number;
  readonly maxRequestBytes: number;
  onIrq: (hwq: number) => void = () => {};
  readonly vectors: IrqVector[] = [];

  constructor(
    readonly name: string,
    readonly vqs: Virtqueue<BlkRequest>[],
    private readonly costs: VirtioBlkCosts,
    private readonly kick: BlkKickPort,
    /** The hardware queues whose completions are polled (no interrupts). */
    private readonly isPolled: boolean,
    makeVector: (vq: number, handler: () => void) => IrqVector,
  ) {
    this.queueCount = vqs.length;
    // without indirect descriptors a request's segments must fit the ring (seg_max)
    const vq0 = vqs[0]!;
    this.maxRequestBytes = vq0.hasIndirect ? Infinity : (vq0.size - costs.headerSegments) * costs.segmentBytes;
    for (let q = 0; q < vqs.length; q++) {
      this.vectors.push(makeVector(q, () => this.onIrq(q)));
      if (isPolled) vqs[q]!.disableCb();
    }
  }

  private segmentsOf(req: BlkRequest): number {
    return this.costs.headerSegments + Math.ceil(req.totalBytes / this.costs.segmentBytes);
  }

  depth(hwq: number): number {
    const vq = this.vqs[hwq]!;
    // without indirect descriptors a request takes its segments' slots (virtblk's queue depth is the ring size either way)
    return vq.hasIndirect ? vq.size : Math.max(1, Math.floor(vq.size / (this.costs.headerSegments + 1)));
  }

  canQueue(hwq: number, req: BlkRequest): boolean {
    return this.vqs[hwq]!.canAdd(this.segmentsOf(req));
  }

  queueCostPs(hwq: number, req: BlkRequest): number {
    const vq = this.vqs[hwq]!;
    const slots = vq.slotsFor(this.segmentsOf(req));
    return this.costs.queuePs + vq.driverCostPs(1, slots, false);
  }

  queueRq(hwq: number, req: BlkRequest): void {
    this.vqs[hwq]!.add(req, this.segmentsOf(req));
  }

  commit<A>(vcpu: GuestVcpu, hwq: number, fn: (arg: A) => void, arg: A): void {
    if (this.vqs[hwq]!.kickPrepare()) {
      this.kick(vcpu, hwq, fn, arg);
    } else {
      fn(arg);
    }
  }

  ack<A>(_vcpu: GuestVcpu, _hwq: number, fn: (arg: A) => void, arg: A): void {
    fn(arg);
  }

  observeAt(hwq: number, atPs: number): void {
    this.vqs[hwq]!.observeAt(atPs);
  }

  reap(hwq: number, out: BlkRequest[]): number {
    const vq = this.vqs[hwq]!;
    let n = 0;
    for (let r = vq.getUsed(); r !== undefined; r = vq.getUsed()) out[n++] = r;
    return n;
  }

  reapCostPs(hwq: number, n: number): number {
    return n * this.costs.reapPs + this.vqs[hwq]!.driverCostPs(0, 0, true);
  }

  disableIrq(hwq: number): void {
    this.vqs[hwq]!.disableCb();
  }

  enableIrq(hwq: number): boolean {
    if (this.isPolled) return false;
    return this.vqs[hwq]!.enableCb();
  }
}
