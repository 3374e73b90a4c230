/**
 * Wiring shared by the device-assignment paths (passthrough, SR-IOV VF): the guest runs
 * a native NIC driver on a NIC function mapped through VFIO. Doorbells are plain MMIO
 * writes into the mapped BAR (no exit), DMA is translated by the IOMMU (IOVA = GPA,
 * guest RAM pages in the IOTLB), MSI-X is delivered by KVM as a VT-d posted interrupt
 * or through a host IRQ and irqfd.
 */
import { GuestNicDriver } from '../../../actors/net/guest-nic-driver.js';
import type { NicFunction } from '../../../actors/net/nic.js';
import { nicDriverCosts } from './costs.js';
import { assignedMigrationParts } from '../../migration-run.js';
import type { NetContext, VmContext } from './net-run.js';

export function attachAssignedFunction(ctx: NetContext, vm: VmContext, fn: NicFunction): void {
  const kvm = vm.kvm!;
  ctx.migration = assignedMigrationParts(ctx.params, 'nic', ctx.migration);
  const stages = {
    guestTx: ctx.tracker.define('guest.tx', 'guest-vcpu'),
    irq: ctx.tracker.define('irq+wake', 'kvm'),
    guestRx: ctx.tracker.define('guest.rx', 'guest-vcpu'),
  };
  const txStage = ctx.tracker.define('nic.tx', 'nic');
  const rxStage = ctx.tracker.define('nic.rx', 'nic');
  for (const q of fn.queues) {
    q.txStage = txStage;
    q.rxStage = rxStage;
    q.onDrop = ctx.drop;
  }
  vm.device = new GuestNicDriver(
    ctx.env,
    `${vm.name}/${fn.isVf ? 'ixgbevf' : 'ixgbe'}`,
    fn.queues,
    (q) => ctx.vcpuOfQueue(vm, q),
    nicDriverCosts(ctx.params, ctx.spec, ctx.offloads),
    stages,
    (q, vcpu, handler) => {
      const v = kvm.vector(`${vm.name}/${fn.name}/q${q}`, vcpu, 'msi', handler);
      fn.queues[q]!.onIrq = () => kvm.deviceMsi(v);
      return v;
    },
  );
}
