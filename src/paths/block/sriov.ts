/**
 * SR-IOV for block (io-paths.md s7, "block over NVMe SR-IOV controllers follows E.3"):
 * each VM gets a virtual function of one NVMe controller, with queue pairs of its own;
 * all functions share the controller's firmware cores, channels, dies, write buffer and
 * PCIe link, so one VM's load slows the others' I/O.
 */
import { num } from '../../calibration/param.js';
import { InputError } from '../../util/input-error.js';
import type { BlockPathDef } from './support/block-run.js';
import { attachNvme } from './support/nvme.js';

export const sriovBlockPath: BlockPathDef = {
  name: 'sriov',
  description: 'NVMe virtual functions of one controller, one per VM, sharing its parallelism',
  isVirtual: true,
  diskKinds: ['nvme'],
  validate(p) {
    if (num(p, 'ssd.queues') < num(p, 'host.vms')) {
      throw new InputError(`params.ssd.queues: ${num(p, 'ssd.queues')} queue pairs cannot give each of ${num(p, 'host.vms')} VMs a function with a queue`);
    }
  },
  build(ctx) {
    const perVm = Math.floor(num(ctx.params, 'ssd.queues') / ctx.vms.length);
    for (const vm of ctx.vms) {
      const kvm = vm.kvm!;
      attachNvme(ctx, vm, vm.index * perVm, perVm, (name, vcpu, handler) => {
        const vector = kvm.vector(name, vcpu, 'device-msi', handler);
        return { vector, raise: () => kvm.deviceMsi(vector) };
      });
    }
  },
};
