/**
 * vhost-kernel for block (io-paths.md C.3): the guest's virtio-scsi kicks (ioeventfd) a
 * vhost-scsi worker thread in the host kernel, which hands each command to the LIO target
 * core and its iblock backstore (the host block layer and NVMe driver); completions come
 * back through LIO's completion work on the same worker, which signals the guest through
 * irqfd. QEMU only sets the device up. One worker per device (vhost-scsi's default; a
 * worker per virtqueue is `worker_per_virtqueue`, not modelled).
 */
import { num, psOf } from '../../calibration/param.js';
import { VhostScsi } from '../../actors/block/vhost-scsi.js';
import type { BlockPathDef } from './support/block-run.js';
import { makeVirtioBlk, virtioBlkConfig } from './support/virtio-blk.js';

export const vhostKernelBlockPath: BlockPathDef = {
  name: 'vhost-kernel',
  description: 'virtio-scsi with the vhost-scsi kernel worker and LIO (iblock backstore): ioeventfd kicks, irqfd interrupts',
  isVirtual: true,
  validate(p, spec) {
    virtioBlkConfig(p, 'vhost-scsi', spec);
  },
  build(ctx) {
    const p = ctx.params;
    const cfg = virtioBlkConfig(p, 'vhost-scsi');
    const tracker = ctx.host.tracker;
    const stages = {
      backend: tracker.define('backend.submit', 'vhost-scsi'),
      device: tracker.define('host.io', 'host-blk'),
      complete: tracker.define('backend.complete', 'vhost-scsi'),
    };
    const costs = {
      perRequestPs: psOf(p, 'vhost.scsi_per_cmd_ns'),
      perCompletionPs: psOf(p, 'vhost.scsi_per_completion_ns'),
      signalPs: psOf(p, 'kvm.irq_route_ns'),
      weight: num(p, 'vhost.scsi_weight'),
    };
    const workers: VhostScsi[] = [];
    for (const vm of ctx.vms) {
      const kvm = vm.kvm!;
      const thread = ctx.host.addHostThread({ name: `${vm.name}/vhost-scsi`, idleMode: 'sleep', wakeupPs: psOf(p, 'host.wakeup_ns') });
      ctx.starters.push(() => ctx.host.cpu.start(thread));
      let worker: VhostScsi | null = null;
      const eventfds: (() => void)[] = [];
      const { driver, vqs } = makeVirtioBlk(
        ctx,
        vm,
        cfg,
        true,
        (vcpu, q, fn, arg) => {
          const eventfd = eventfds[q] ?? (eventfds[q] = kickOf(worker!, q));
          kvm.ioeventfdKick(vcpu, eventfd, cfg.notifyReason, fn, arg);
        },
        (q, handler) => kvm.vector(`${vm.name}/scsivq${q}`, ctx.vcpuOfQueue(vm, q), 'msi', handler),
      );
      worker = new VhostScsi(ctx.host.env, `${vm.name}/vhost-scsi`, thread, vqs, ctx.hostBlock(), costs, stages, (q) => kvm.deliverMsi(driver.vectors[q]!));
      workers.push(worker);
    }
    // while a migration runs, the worker logs each completion's used element and a read's pages
    const logPs = psOf(p, 'vhost.log_page_ns') * ctx.migration.ioPagesPerOp;
    ctx.migration.setLogging = (isOn) => {
      for (const w of workers) w.logPerCompletionPs = isOn ? logPs : 0;
    };
    ctx.migration.vhostQueues = cfg.queues;
    ctx.onFinish.push((extra) => {
      extra['vhost.signals'] = workers.reduce((s, w) => s + w.signals, 0);
      extra['vhost.runs'] = workers.reduce((s, w) => s + w.runs, 0);
    });
  },
};

function kickOf(w: VhostScsi, q: number): () => void {
  return () => w.kick(q);
}
