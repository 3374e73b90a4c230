/**
 * passthrough (io-paths.md s6, path E): the whole NIC (its PF) is assigned to one VM with
 * VFIO and VT-d. The guest's native driver owns the queues; no host thread is on the data
 * path. One VM per NIC: several VMs need SR-IOV.
 */
import { bool, num, psOf } from '../../calibration/param.js';
import { Iotlb } from '../../primitives/iotlb.js';
import { InputError } from '../../util/input-error.js';
import { attachAssignedFunction } from './support/assigned.js';
import { registerFunctionReset } from './support/faults.js';
import { netPath } from './support/net-run.js';

export const passthroughPath = netPath({
  name: 'passthrough',
  description: 'whole NIC assigned with VFIO + VT-d; native guest driver, posted interrupts, no host thread',
  isVirtual: true,
  offloads: (p) => ({ tso: bool(p, 'nic.tso'), guestTso: false }),
  validate(p) {
    if (num(p, 'host.vms') > 1) {
      throw new InputError('params.host.vms: passthrough assigns the whole NIC to one VM; use the sriov path for several VMs');
    }
  },
  build(ctx) {
    const p = ctx.params;
    const iotlb = bool(p, 'iommu.enabled')
      ? new Iotlb(num(p, 'iommu.iotlb_entries'), num(p, 'iommu.guest_page_kib'), psOf(p, 'iommu.miss_ns'))
      : null;
    const vm = ctx.vms[0]!;
    const pf = ctx.nic.addFunction('pf', false, ctx.queuePairs, iotlb);
    ctx.nic.route = (pkt) => pf.queues[pkt.queue % pf.queues.length]!;
    attachAssignedFunction(ctx, vm, pf);
    if (bool(p, 'migration.failover') && !bool(p, 'vfio.migration')) {
      ctx.migration.blocker =
        'virtio-net failover needs a host port for the standby device, and passthrough assigns the whole NIC to the guest; use the sriov path (a VF for the guest, the PF for the standby) or vfio.migration=true';
    }
    if (ctx.timeline !== null) registerFunctionReset(ctx, [pf]);
    ctx.onFinish.push((extra) => {
      extra['iotlb.misses'] = iotlb?.misses ?? 0;
      extra['iotlb.hits'] = iotlb?.hits ?? 0;
    });
  },
});
