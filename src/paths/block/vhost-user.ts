/**
 * vhost-user for block (io-paths.md D.3): SPDK's vhost-user-blk target, one reactor per
 * VM polling its core, reads the virtqueues in shared memory (the guest never kicks),
 * drives the SSD with its user-space NVMe driver (a queue pair of its own, polled: no
 * interrupt) or serves a malloc bdev, and signals the guest through the callfd (irqfd).
 */
import { num, psOf, str } from '../../calibration/param.js';
import { InputError } from '../../util/input-error.js';
import { RamDisk } from '../../actors/block/ram-disk.js';
import { SpdkReactor } from '../../actors/block/spdk-vhost-blk.js';
import type { Ssd } from '../../actors/block/ssd.js';
import type { BlockPathDef } from './support/block-run.js';
import { makeVirtioBlk, virtioBlkConfig } from './support/virtio-blk.js';
import { registerBackendRestart } from './support/faults.js';

export const vhostUserBlockPath: BlockPathDef = {
  name: 'vhost-user',
  description: 'SPDK vhost-user-blk: a reactor polling the virtqueues and its user-space NVMe queue; no guest kicks',
  isVirtual: true,
  validate(p, spec) {
    virtioBlkConfig(p, 'spdk', spec);
    if (str(p, 'disk.kind') === 'nvme' && num(p, 'host.vms') > num(p, 'ssd.queues')) {
      throw new InputError(`params.host.vms: each VM's SPDK reactor takes an NVMe queue pair of its own; the SSD has ${num(p, 'ssd.queues')} (ssd.queues)`);
    }
  },
  build(ctx) {
    const p = ctx.params;
    const cfg = virtioBlkConfig(p, 'spdk');
    const tracker = ctx.host.tracker;
    const stages = {
      backend: tracker.define('backend.submit', 'spdk-reactor'),
      device: tracker.define('device', 'ssd'),
      complete: tracker.define('backend.complete', 'spdk-reactor'),
    };
    const costs = {
      perRequestPs: psOf(p, 'spdk.per_io_ns'),
      perCompletionPs: psOf(p, 'spdk.per_completion_ns'),
      doorbellPs: psOf(p, 'guest.mmio_write_ns'),
      signalRoutePs: psOf(p, 'kvm.irq_route_ns'),
      maxPerPoll: num(p, 'spdk.max_per_poll'),
      coalesceDelayPs: psOf(p, 'spdk.coalesce_delay_us'),
      coalesceIops: num(p, 'spdk.coalesce_iops'),
      statsPeriodPs: psOf(p, 'spdk.coalesce_period_ms'),
    };
    const reactors: SpdkReactor[] = [];
    const disk = ctx.disk;
    const ram = disk instanceof RamDisk ? disk : null;
    const ssd = ram === null ? (disk as Ssd) : null;
    for (const vm of ctx.vms) {
      const kvm = vm.kvm!;
      const thread = ctx.host.addHostThread({
        name: `${vm.name}/spdk-reactor`,
        idleMode: 'poll',
        wakeupPs: psOf(p, 'host.wakeup_ns'),
        // an empty poll of its pollers is a DPDK-like iteration: half of one to notice work
        pollPickupPs: Math.round(psOf(p, 'dpdk.poll_iter_ns') / 2),
      });
      ctx.starters.push(() => ctx.host.cpu.start(thread));
      const { driver, vqs } = makeVirtioBlk(
        ctx,
        vm,
        cfg,
        false,
        // the reactor set NO_NOTIFY: kick_prepare never says yes, so this port is not used
        (_vcpu, _q, fn, arg) => fn(arg),
        (q, handler) => kvm.vector(`${vm.name}/blkvq${q}`, ctx.vcpuOfQueue(vm, q), 'msi', handler),
      );
      // the reactor's own NVMe queue pair, from the top of the controller's queues
      const queue = ssd !== null ? ssd.queues[ssd.queues.length - 1 - vm.index]! : null;
      reactors.push(
        new SpdkReactor(ctx.host.env, `${vm.name}/spdk`, thread, vqs, ssd, queue, ram, costs, stages, (q, delayPs) => kvm.deliverMsi(driver.vectors[q]!, delayPs)),
      );
    }
    // while a migration runs, each completion logs its descriptors (about 3), used element,
    // used->idx and a read's data pages
    const logPs = psOf(p, 'spdk.log_page_ns') * (ctx.migration.ioPagesPerOp + 4);
    ctx.migration.setLogging = (isOn) => {
      for (const r of reactors) r.logPerCompletionPs = isOn ? logPs : 0;
    };
    ctx.migration.vhostQueues = cfg.queues;
    registerBackendRestart(ctx, reactors);
    ctx.onFinish.push((extra) => {
      extra['spdk.polls'] = reactors.reduce((s, r) => s + r.polls, 0);
      extra['spdk.signals'] = reactors.reduce((s, r) => s + r.signals, 0);
      extra['spdk.signals_coalesced'] = reactors.reduce((s, r) => s + r.signalsCoalesced, 0);
    });
  },
};
