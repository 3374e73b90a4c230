/**
 * The native NVMe driver wiring shared by bare metal, passthrough and SR-IOV: a VM (or
 * the host) owns some of the controller's queue pairs, one per hardware queue (its
 * vCPUs, at most the queues it is given), and takes each queue's MSI-X on that queue's
 * vCPU; io_uring hipri jobs get polled queues (no vector).
 */
import { psOf } from '../../../calibration/param.js';
import { GuestNvme } from '../../../actors/block/guest-nvme.js';
import type { NvmeQueuePair, Ssd } from '../../../actors/block/ssd.js';
import type { GuestVcpu, IrqVector } from '../../../actors/host/guest-vcpu.js';
import type { BlockContext, BlockVm } from './block-run.js';
import { assignedMigrationParts } from '../../migration-run.js';

export function attachNvme(
  ctx: BlockContext,
  vm: BlockVm,
  firstQueue: number,
  queueCount: number,
  makeVector: (name: string, vcpu: GuestVcpu, handler: () => void) => { vector: IrqVector; raise: () => void },
): GuestNvme {
  const p = ctx.params;
  const ssd = ctx.disk as Ssd;
  const n = Math.max(1, Math.min(vm.vcpus.length, queueCount));
  const queues: NvmeQueuePair[] = [];
  for (let q = 0; q < n; q++) queues.push(ssd.queues[firstQueue + q]!);
  const driver = new GuestNvme(
    `${vm.name}/nvme`,
    ssd,
    queues,
    { queuePs: psOf(p, 'guest.nvme_queue_ns'), doorbellPs: psOf(p, 'guest.mmio_write_ns'), reapPs: psOf(p, 'guest.nvme_reap_ns') },
    ctx.spec.isPolled,
    (q, handler) => makeVector(`${vm.name}/nvme-q${q}`, ctx.vcpuOfQueue(vm, q), handler),
  );
  ctx.setDriver(vm, driver);
  // an assigned controller (passthrough, SR-IOV) blocks migration unless it implements VFIO migration
  const drain = ctx.migration.drain;
  ctx.migration = { ...assignedMigrationParts(p, 'nvme', ctx.migration), drain };
  return driver;
}
