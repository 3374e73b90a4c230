/**
 * sriov (io-paths.md s7, path F): each VM gets a virtual function of one physical NIC.
 * The data path is that of passthrough; the VFs share the port (round-robin arbitration,
 * optional per-VF rate limit), the IOMMU's IOTLB, and pass the NIC's VF switch. The PF
 * driver caps the number of VFs and the queues per VF.
 */
import { bool, num, psOf } from '../../calibration/param.js';
import { Iotlb } from '../../primitives/iotlb.js';
import { InputError } from '../../util/input-error.js';
import { attachAssignedFunction } from './support/assigned.js';
import { buildStandby, pairWithStandby } from './support/failover.js';
import { registerFunctionReset } from './support/faults.js';
import { netPath } from './support/net-run.js';

export const sriovPath = netPath({
  name: 'sriov',
  description: 'one SR-IOV VF per VM sharing the PF port; native guest driver, posted interrupts',
  isVirtual: true,
  offloads: (p) => ({ tso: bool(p, 'nic.tso'), guestTso: false }),
  validate(p) {
    const vms = num(p, 'host.vms');
    const maxVfs = num(p, 'sriov.max_vfs');
    if (vms > maxVfs) {
      throw new InputError(`params.host.vms: ${vms} VMs need ${vms} VFs but the PF driver enables at most sriov.max_vfs = ${maxVfs}`);
    }
    const qp = num(p, 'vm.queue_pairs');
    const maxQ = num(p, 'sriov.vf_max_queues');
    if (qp > maxQ) {
      throw new InputError(`params.vm.queue_pairs: a VF offers at most sriov.vf_max_queues = ${maxQ} queue pairs, got ${qp}`);
    }
  },
  build(ctx) {
    const p = ctx.params;
    // virtio-net failover: the standby device (its own back end over the PF) first
    const isFailover = ctx.timeline !== null && bool(p, 'migration.failover') && !bool(p, 'vfio.migration');
    const standby = isFailover ? buildStandby(ctx) : null;
    const iotlb = bool(p, 'iommu.enabled')
      ? new Iotlb(num(p, 'iommu.iotlb_entries'), num(p, 'iommu.guest_page_kib'), psOf(p, 'iommu.miss_ns'))
      : null;
    const rate = num(p, 'sriov.vf_rate_limit_gbps');
    const vfs = ctx.vms.map((vm) => ctx.nic.addFunction(`vf${vm.index}`, true, ctx.queuePairs, iotlb, rate));
    ctx.nic.route = (pkt) => {
      const vf = vfs[pkt.vm]!;
      return vf.queues[pkt.queue % vf.queues.length]!;
    };
    for (const vm of ctx.vms) attachAssignedFunction(ctx, vm, vfs[vm.index]!);
    if (standby !== null) pairWithStandby(ctx, standby);
    if (ctx.timeline !== null) registerFunctionReset(ctx, vfs);
    ctx.onFinish.push((extra) => {
      extra['iotlb.misses'] = iotlb?.misses ?? 0;
      extra['iotlb.hits'] = iotlb?.hits ?? 0;
    });
  },
});
