/**
 * PCI passthrough for block (io-paths.md E.3): the whole NVMe controller is assigned to
 * the guest with VFIO; its driver writes the submission entries and the doorbell into
 * the mapped BAR (no exit) and the device DMAs into guest memory through the IOMMU; the
 * MSI-X is a VT-d posted interrupt (kvm.vtd_pi) or a host interrupt forwarded through
 * irqfd. One controller, one VM: several VMs share one with sriov.
 */
import { num } from '../../calibration/param.js';
import { InputError } from '../../util/input-error.js';
import type { BlockPathDef } from './support/block-run.js';
import { attachNvme } from './support/nvme.js';

export const passthroughBlockPath: BlockPathDef = {
  name: 'passthrough',
  description: 'the NVMe controller assigned to the guest with VFIO: doorbells without exits, posted MSI-X',
  isVirtual: true,
  diskKinds: ['nvme'],
  validate(p) {
    if (num(p, 'host.vms') > 1) throw new InputError('params.host.vms: one assigned NVMe controller serves one VM; use the sriov path to share it');
  },
  build(ctx) {
    const vm = ctx.vms[0]!;
    const kvm = vm.kvm!;
    attachNvme(ctx, vm, 0, num(ctx.params, 'ssd.queues'), (name, vcpu, handler) => {
      const vector = kvm.vector(name, vcpu, 'device-msi', handler);
      return { vector, raise: () => kvm.deviceMsi(vector) };
    });
  },
};
