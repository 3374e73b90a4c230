/**
 * vhost-user (io-paths.md s5, path D): a DPDK PMD maps guest memory and polls the
 * virtqueues and the physical NIC (bound to vfio-pci, mbufs on 2 MiB hugepages) from
 * dedicated cores. Guest kicks stay disabled, so transmitting costs no exit; the PMD
 * signals the guest through the call eventfd (KVM irqfd) only when the guest asked.
 */
import { bool, num, psOf } from '../../calibration/param.js';
import { DpdkPoller } from '../../actors/net/dpdk-poller.js';
import { Iotlb } from '../../primitives/iotlb.js';
import { dpdkCosts, rxBufBytesOf } from './support/costs.js';
import { netPath } from './support/net-run.js';
import { registerBackendRestart } from './support/faults.js';
import { GuestVirtioPmd } from '../../actors/net/guest-virtio-pmd.js';
import { InputError } from '../../util/input-error.js';
import { makeVirtioDevice, makeVirtqueues, virtioConfig } from './support/virtio.js';
import { NET_WORKLOADS } from './support/net-run.js';

export const vhostUserPath = netPath({
  name: 'vhost-user',
  description: 'virtio-net served by a polling DPDK PMD (OVS-DPDK style); no guest kicks, irqfd calls',
  isVirtual: true,
  // OVS-DPDK offers TSO to the guest only with userspace-tso-enable
  offloads: (p) => ({ tso: bool(p, 'virtio.host_tso') && bool(p, 'dpdk.tso'), guestTso: bool(p, 'virtio.guest_tso') && bool(p, 'dpdk.tso') }),
  workloads: [...NET_WORKLOADS, 'net-pvp'],
  validate(p, spec) {
    const cfg = virtioConfig(p, 'vhost-user');
    if (spec.kind === 'net-pvp' && (cfg.queuePairs < 2 || cfg.queuePairs % 2 !== 0)) {
      throw new InputError(
        `params.vm.queue_pairs: net-pvp forwards between queue pair q and its partner q xor 1, so it needs an even number of at least 2 (the two ports of a PVP VM), got ${cfg.queuePairs}${cfg.isLegacy ? ' (virtio 0.95 has one)' : ''}`,
      );
    }
  },
  build(ctx) {
    const p = ctx.params;
    const cfg = virtioConfig(p, 'vhost-user');
    const pollIterPs = psOf(p, 'dpdk.poll_iter_ns');
    const pmds: DpdkPoller[] = [];
    const stages = {
      backendTx: ctx.tracker.define('backend.tx', 'dpdk-pmd'),
      backendRx: ctx.tracker.define('backend.rx', 'dpdk-pmd'),
    };
    const hostPmdCosts = dpdkCosts(p, rxBufBytesOf(p, ctx.spec, ctx.offloads));
    for (let i = 0; i < num(p, 'dpdk.pmd_cores'); i++) {
      const thread = ctx.addHostThread({
        name: `dpdk/pmd${i}`,
        idleMode: 'poll',
        wakeupPs: 0,
        pollPickupPs: Math.round(pollIterPs / 2),
      });
      const pmd = new DpdkPoller(ctx.env, thread, hostPmdCosts, stages);
      pmd.onDrop = ctx.drop;
      pmds.push(pmd);
      ctx.starters.push(() => ctx.cpu.start(thread));
    }
    const iotlb = bool(p, 'iommu.enabled') ? new Iotlb(num(p, 'iommu.iotlb_entries'), 2048, psOf(p, 'iommu.miss_ns')) : null;
    const pf = ctx.nic.addFunction('pf', false, ctx.vms.length * cfg.queuePairs, iotlb);
    ctx.nic.route = (pkt) => pf.queues[pkt.vm * cfg.queuePairs + (pkt.queue % cfg.queuePairs)]!;
    const txStage = ctx.tracker.define('nic.tx', 'nic');
    const rxStage = ctx.tracker.define('nic.rx', 'nic');
    for (const q of pf.queues) {
      q.txStage = txStage;
      q.rxStage = rxStage;
      q.onDrop = ctx.drop;
    }
    let next = 0;
    const isPvp = ctx.spec.kind === 'net-pvp';
    const fwdStage = isPvp ? ctx.tracker.define('guest.fwd', 'guest-pmd') : -1;
    const forwarders: GuestVirtioPmd[] = [];
    for (const vm of ctx.vms) {
      const kvm = vm.kvm!;
      if (isPvp) {
        // the guest runs a DPDK forwarder on its vCPUs: no virtio-net driver, no interrupts
        const { rxqs, txqs } = makeVirtqueues(ctx, vm, cfg);
        const fwd = new GuestVirtioPmd(
          ctx.env,
          rxqs,
          txqs,
          hostPmdCosts, // the same DPDK code in the guest
          () => {}, // the PMD disabled kicks; a stray one would exit to a fd nobody reads
          vm.vcpus.map((v) => v.thread),
        );
        fwd.stage = fwdStage;
        fwd.onDrop = ctx.drop;
        vm.forwarder = fwd;
        forwarders.push(fwd);
        for (let q = 0; q < cfg.queuePairs; q++) {
          const pmd = pmds[next++ % pmds.length]!;
          pmd.addPort({ name: `${vm.name}/q${q}`, txq: txqs[q]!, rxq: rxqs[q]!, nicq: pf.queues[vm.index * cfg.queuePairs + q]!, call: () => {} });
        }
        continue;
      }
      const dev = makeVirtioDevice(
        ctx,
        vm,
        cfg,
        // Kicks are disabled by the PMD; a stray one (EVENT_IDX wrap) exits to a fd nobody reads.
        (vcpu, _vq, fn) => kvm.ioeventfdKick(vcpu, () => {}, cfg.notifyReason, fn, undefined),
        (vq, vcpu, handler) => kvm.vector(`${vm.name}/vq${vq}`, vcpu, 'msi', handler),
      );
      for (let q = 0; q < cfg.queuePairs; q++) {
        const pmd = pmds[next++ % pmds.length]!;
        const rxVector = dev.driver.vectorOf(2 * q);
        const txVector = dev.driver.vectorOf(2 * q + 1);
        pmd.addPort({
          name: `${vm.name}/q${q}`,
          txq: dev.txqs[q]!,
          rxq: dev.rxqs[q]!,
          nicq: pf.queues[vm.index * cfg.queuePairs + q]!,
          call: (isTx, delayPs) => kvm.deliverMsi(isTx ? txVector : rxVector, delayPs),
        });
      }
    }
    // while a migration runs, the PMDs log what they write into the shared bitmap (LOG_SHMFD)
    const logPagePs = psOf(p, 'dpdk.log_page_ns');
    const logFlushPs = psOf(p, 'dpdk.log_flush_ns');
    ctx.migration.setLogging = (isOn) => {
      for (const pmd of pmds) {
        pmd.logPerPagePs = isOn ? logPagePs : 0;
        pmd.logPerBurstPs = isOn ? logFlushPs : 0;
      }
    };
    ctx.migration.vhostQueues = 2 * cfg.queuePairs;
    if (ctx.timeline !== null) registerBackendRestart(ctx, pmds, pf.queues);
    ctx.onFinish.push((extra) => {
      extra['pmd.bursts'] = pmds.reduce((s, x) => s + x.bursts, 0);
      extra['pmd.packets'] = pmds.reduce((s, x) => s + x.packets, 0);
      extra['pmd.rx_drops'] = pmds.reduce((s, x) => s + x.rxDrops, 0);
      extra['pmd.tx_drops'] = pmds.reduce((s, x) => s + x.txDrops, 0);
      extra['pmd.calls'] = pmds.reduce((s, x) => s + x.calls, 0);
      extra['guest-pmd.forwarded'] = forwarders.reduce((s, x) => s + x.forwarded, 0);
      extra['guest-pmd.tx_drops'] = forwarders.reduce((s, x) => s + x.txDrops, 0);
    });
  },
});
