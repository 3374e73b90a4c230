/**
 * Virtio block set-up shared by the virtio paths (virtio-qemu, vhost-kernel, vhost-user):
 * the negotiated configuration (version, ring format, request queues, suppression
 * features) with the impossible combinations rejected, the virtqueues with their bound
 * checks, and the guest driver (virtio-blk, or virtio-scsi for vhost-scsi) with one
 * MSI-X vector per queue, affine to vCPU q mod vcpus.
 */
import { bool, num, psOf, str, type ParamValues } from '../../../calibration/param.js';
import { GuestVirtioBlk, VIRTIO_BLK_HEADER_SEGMENTS, VIRTIO_BLK_SEGMENT_BYTES, virtioBlkSegments, type BlkKickPort } from '../../../actors/block/guest-virtio-blk.js';
import type { BlkRequest } from '../../../actors/block/request.js';
import type { IrqVector } from '../../../actors/host/guest-vcpu.js';
import { reportVirtqueues, Virtqueue } from '../../../primitives/virtqueue.js';
import { InputError } from '../../../util/input-error.js';
import type { BlkWorkloadSpec } from '../../../workloads/blk.js';
import type { BlockContext, BlockVm } from './block-run.js';

export interface VirtioBlkConfig {
  isLegacy: boolean;
  isPacked: boolean;
  hasEventIdx: boolean;
  hasIndirect: boolean;
  queues: number;
  queueSize: number;
  notifyReason: string;
}

export type BlkBackendKind = 'qemu' | 'vhost-scsi' | 'spdk';

/** The configuration, and (given the workload) that one request fits the ring. */
export function virtioBlkConfig(p: ParamValues, backend: BlkBackendKind, spec?: BlkWorkloadSpec): VirtioBlkConfig {
  const version = str(p, 'virtio.version');
  const isLegacy = version === '0.95' || bool(p, 'virtio.legacy_driver');
  const isPacked = version === '1.1' && !isLegacy;
  if (isPacked && backend === 'vhost-scsi') {
    throw new InputError('params.virtio.version: 1.1 (packed ring) is not supported by vhost-scsi (VHOST_SCSI_FEATURES has no VIRTIO_F_RING_PACKED); use 1.0, or the vhost-user or virtio-qemu path');
  }
  const size = num(p, 'blk.queue_size');
  if (!isPacked && (size & (size - 1)) !== 0) throw new InputError(`params.blk.queue_size: a split ring needs a power of two, got ${size}`);
  if (isLegacy && size > 1024) throw new InputError('params.blk.queue_size: legacy (0.95) virtqueues are at most 1024 entries in QEMU');
  const hasIndirect = bool(p, 'virtio.indirect');
  if (spec !== undefined && !hasIndirect) {
    const descriptors = virtioBlkSegments(spec.blockBytes);
    if (descriptors > size) {
      throw new InputError(
        `params.blk.queue_size: a ${spec.blockBytes}-byte request takes ${descriptors} descriptors without indirect descriptors, more than the ${size}-entry ring (the guest would split it: not modelled); use virtio.indirect true, a larger queue or a smaller bs`,
      );
    }
  }
  const asked = num(p, 'blk.num_queues');
  return {
    isLegacy,
    isPacked,
    // SPDK masks VIRTIO_RING_F_EVENT_IDX out of its features (io-paths.md D.3 step 0)
    hasEventIdx: backend !== 'spdk' && bool(p, 'virtio.event_idx'),
    hasIndirect,
    queues: isLegacy ? 1 : asked > 0 ? asked : num(p, 'vm.vcpus'),
    queueSize: size,
    notifyReason: isLegacy ? 'pio-ioeventfd' : 'mmio-ioeventfd',
  };
}

/** A VM's request virtqueues and guest driver, installed under its blk-mq layer. */
export function makeVirtioBlk(
  ctx: BlockContext,
  vm: BlockVm,
  cfg: VirtioBlkConfig,
  isScsi: boolean,
  kick: BlkKickPort,
  makeVector: (q: number, handler: () => void) => IrqVector,
): { driver: GuestVirtioBlk; vqs: Virtqueue<BlkRequest>[] } {
  const p = ctx.params;
  const vqs: Virtqueue<BlkRequest>[] = [];
  for (let q = 0; q < cfg.queues; q++) {
    vqs.push(
      new Virtqueue<BlkRequest>({
        name: `${vm.name}/${isScsi ? 'scsi' : 'blk'}vq${q}`,
        size: cfg.queueSize,
        isPacked: cfg.isPacked,
        hasIndirect: cfg.hasIndirect,
        hasEventIdx: cfg.hasEventIdx,
        cachelinePs: psOf(p, 'virtio.cacheline_ns'),
        counters: ctx.host.counters,
        clock: ctx.host.sim,
      }),
    );
  }
  ctx.onFinish.push((extra, violations) => reportVirtqueues(vqs, extra, violations));
  for (const vq of vqs) ctx.host.tracker.addGauge(vq.name, () => vq.outstanding);
  const driver = new GuestVirtioBlk(
    `${vm.name}/${isScsi ? 'virtio-scsi' : 'virtio-blk'}`,
    vqs,
    {
      queuePs: psOf(p, 'guest.virtio_blk_queue_ns'),
      reapPs: psOf(p, 'guest.virtio_blk_reap_ns'),
      headerSegments: VIRTIO_BLK_HEADER_SEGMENTS,
      segmentBytes: VIRTIO_BLK_SEGMENT_BYTES,
    },
    kick,
    ctx.spec.isPolled,
    makeVector,
  );
  ctx.setDriver(vm, driver);
  return { driver, vqs };
}
