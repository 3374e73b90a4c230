/**
 * bare-metal (io-paths.md s8, path G): the application and a native NIC driver run on a
 * host core; the NIC's MSI-X is a host interrupt on that core (iommu=pt: no DMA
 * translation). The baseline every virtualized path converges to.
 */
import { bool, psOf } from '../../calibration/param.js';
import { IrqVector } from '../../actors/host/guest-vcpu.js';
import { GuestNicDriver } from '../../actors/net/guest-nic-driver.js';
import { nicDriverCosts } from './support/costs.js';
import { netPath } from './support/net-run.js';

export const bareMetalPath = netPath({
  name: 'bare-metal',
  description: 'native driver on a host core, NIC MSI-X as host interrupts (baseline)',
  isVirtual: false,
  offloads: (p) => ({ tso: bool(p, 'nic.tso'), guestTso: false }),
  build(ctx) {
    const vm = ctx.vms[0]!;
    const pf = ctx.nic.addFunction('pf', false, ctx.queuePairs, null);
    ctx.nic.route = (pkt) => pf.queues[pkt.queue % pf.queues.length]!;
    const stages = {
      guestTx: ctx.tracker.define('guest.tx', 'guest-vcpu'),
      irq: ctx.tracker.define('irq+wake', 'host'),
      guestRx: ctx.tracker.define('guest.rx', 'guest-vcpu'),
    };
    const txStage = ctx.tracker.define('nic.tx', 'nic');
    const rxStage = ctx.tracker.define('nic.rx', 'nic');
    for (const q of pf.queues) {
      q.txStage = txStage;
      q.rxStage = rxStage;
      q.onDrop = ctx.drop;
    }
    const hostIrqPs = psOf(ctx.params, 'host.irq_ns');
    vm.device = new GuestNicDriver(
      ctx.env,
      'host/ixgbe',
      pf.queues,
      (q) => ctx.vcpuOfQueue(vm, q),
      nicDriverCosts(ctx.params, ctx.spec, ctx.offloads),
      stages,
      (q, vcpu, handler) => {
        const v = new IrqVector(`host/q${q}`, vcpu, handler, hostIrqPs);
        pf.queues[q]!.onIrq = () => {
          ctx.counters.interrupts++;
          vcpu.raiseIrq(v);
        };
        return v;
      },
    );
  },
});
