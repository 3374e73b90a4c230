/**
 * Virtio device set-up shared by the virtio paths (vhost-user, vhost-kernel,
 * virtio-qemu): the negotiated configuration (version, ring format, queue pairs,
 * suppression features) with the impossible combinations rejected, and the guest
 * driver with its virtqueues.
 */
import { bool, num, psOf, str, type ParamValues } from '../../../calibration/param.js';
import type { GuestVcpu, IrqVector } from '../../../actors/host/guest-vcpu.js';
import { GuestVirtioNet, type KickPort } from '../../../actors/net/guest-virtio-net.js';
import type { Packet } from '../../../actors/net/messages.js';
import { reportVirtqueues, Virtqueue } from '../../../primitives/virtqueue.js';
import { InputError } from '../../../util/input-error.js';
import { virtioDriverCosts } from './costs.js';
import type { NetContext, VmContext } from './net-run.js';

export interface VirtioConfig {
  version: string;
  /** The guest drives the device as a legacy (0.95) device. */
  isLegacy: boolean;
  isPacked: boolean;
  hasEventIdx: boolean;
  hasIndirect: boolean;
  /** Queue pairs the driver uses (legacy: one). */
  queuePairs: number;
  rxSize: number;
  txSize: number;
  /** Exit reason of a kick: port I/O (legacy) or MMIO (modern), both ioeventfd capable. */
  notifyReason: string;
}

function isPowerOfTwo(n: number): boolean {
  return (n & (n - 1)) === 0;
}

/** Resolves and checks the virtio parameters for a path's back end. */
export function virtioConfig(p: ParamValues, backend: 'qemu' | 'vhost-kernel' | 'vhost-user'): VirtioConfig {
  const version = str(p, 'virtio.version');
  const isLegacy = version === '0.95' || bool(p, 'virtio.legacy_driver');
  const isPacked = version === '1.1' && !isLegacy;
  if (isPacked && backend === 'vhost-kernel') {
    throw new InputError(
      'params.virtio.version: 1.1 (packed ring) is not supported by vhost-kernel (VHOST_FEATURES has no VIRTIO_F_RING_PACKED); use 1.0, or the vhost-user or virtio-qemu path',
    );
  }
  const rxSize = num(p, 'virtio.rx_queue_size');
  const txSize = num(p, 'virtio.tx_queue_size');
  if (!isPacked) {
    if (!isPowerOfTwo(rxSize)) throw new InputError(`params.virtio.rx_queue_size: a split ring needs a power of two, got ${rxSize}`);
    if (!isPowerOfTwo(txSize)) throw new InputError(`params.virtio.tx_queue_size: a split ring needs a power of two, got ${txSize}`);
  }
  if (txSize > 256 && backend !== 'vhost-user') {
    throw new InputError(
      `params.virtio.tx_queue_size: QEMU allows a TX queue above 256 only with vhost-user or vDPA (virtio_net_max_tx_queue_size), got ${txSize}`,
    );
  }
  if (isLegacy && (rxSize > 1024 || txSize > 1024)) {
    throw new InputError('params.virtio.rx_queue_size: legacy (0.95) virtqueues are at most 1024 entries in QEMU (VIRTQUEUE_MAX_SIZE for legacy layout)');
  }
  return {
    version,
    isLegacy,
    isPacked,
    hasEventIdx: bool(p, 'virtio.event_idx'),
    hasIndirect: bool(p, 'virtio.indirect'),
    queuePairs: isLegacy ? 1 : num(p, 'vm.queue_pairs'),
    rxSize,
    txSize,
    notifyReason: isLegacy ? 'pio-ioeventfd' : 'mmio-ioeventfd',
  };
}

export interface VirtioDevice {
  driver: GuestVirtioNet;
  rxqs: Virtqueue<Packet | null>[];
  txqs: Virtqueue<Packet>[];
}

/** A VM's virtqueues (rx and tx per queue pair), with their bound checks and counters in the run details. */
export function makeVirtqueues(ctx: NetContext, vm: VmContext, cfg: VirtioConfig): { rxqs: Virtqueue<Packet | null>[]; txqs: Virtqueue<Packet>[] } {
  const common = {
    isPacked: cfg.isPacked,
    hasIndirect: cfg.hasIndirect,
    hasEventIdx: cfg.hasEventIdx,
    cachelinePs: psOf(ctx.params, 'virtio.cacheline_ns'),
    counters: ctx.counters,
    clock: ctx.sim,
  };
  const rxqs: Virtqueue<Packet | null>[] = [];
  const txqs: Virtqueue<Packet>[] = [];
  for (let q = 0; q < cfg.queuePairs; q++) {
    rxqs.push(new Virtqueue<Packet | null>({ name: `${vm.name}/rxq${q}`, size: cfg.rxSize, ...common }));
    txqs.push(new Virtqueue<Packet>({ name: `${vm.name}/txq${q}`, size: cfg.txSize, ...common }));
  }
  ctx.onFinish.push((extra, violations) => reportVirtqueues([...rxqs, ...txqs], extra, violations));
  for (const vq of [...rxqs, ...txqs]) ctx.tracker.addGauge(vq.name, () => vq.outstanding);
  return { rxqs, txqs };
}

/** Creates a VM's virtqueues and guest virtio-net driver; sets vm.device. */
export function makeVirtioDevice(
  ctx: NetContext,
  vm: VmContext,
  cfg: VirtioConfig,
  kick: KickPort,
  makeVector: (vq: number, vcpu: GuestVcpu, handler: () => void) => IrqVector,
): VirtioDevice {
  const { rxqs, txqs } = makeVirtqueues(ctx, vm, cfg);
  const stages = {
    guestTx: ctx.tracker.define('guest.tx', 'guest-vcpu'),
    irq: ctx.tracker.define('irq+wake', 'kvm'),
    guestRx: ctx.tracker.define('guest.rx', 'guest-vcpu'),
  };
  const driver = new GuestVirtioNet(
    ctx.env,
    `${vm.name}/virtio-net`,
    rxqs,
    txqs,
    (q) => ctx.vcpuOfQueue(vm, q),
    virtioDriverCosts(ctx.params, ctx.spec, ctx.offloads),
    stages,
    kick,
    makeVector,
  );
  vm.device = driver;
  return { driver, rxqs, txqs };
}
