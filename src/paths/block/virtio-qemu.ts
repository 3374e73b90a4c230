/**
 * virtio-blk with QEMU as back end (io-paths.md B.3): the guest kicks (ioeventfd: a light
 * exit) the device in QEMU's main loop, under the big lock, or in an IOThread with
 * adaptive polling (qemu.blk_iothread); QEMU submits the batch through its file back
 * end's engine (qemu.aio: threads, native, io_uring) to the host block layer and NVMe
 * driver; the completion comes back through the engine's eventfd, QEMU pushes the used
 * entries and signals the guest (KVM_SIGNAL_MSI or irqfd: a syscall). With
 * virtio.ioeventfd off the kick is a heavy exit and the vCPU thread runs the handler.
 */
import { bool, num, psOf, str } from '../../calibration/param.js';
import type { GuestVcpu } from '../../actors/host/guest-vcpu.js';
import { QemuMainLoop } from '../../actors/host/qemu.js';
import { QemuAio, type AioEngine } from '../../actors/block/qemu-aio.js';
import { QemuVirtioBlk } from '../../actors/block/qemu-virtio-blk.js';
import { InputError } from '../../util/input-error.js';
import type { BlockContext, BlockPathDef, BlockVm } from './support/block-run.js';
import { makeVirtioBlk, virtioBlkConfig } from './support/virtio-blk.js';
import { buildIscsi, checkIscsi, defineIscsiStages, isIscsiBackend } from './support/iscsi.js';
import type { IscsiInitiator } from '../../actors/block/iscsi-initiator.js';
import { registerIscsiDisconnect } from './support/faults.js';

/** QEMU's file back end (engine, pool) for a VM. */
export function qemuAioOf(ctx: BlockContext, vm: BlockVm): QemuAio {
  const p = ctx.params;
  const engine = str(p, 'qemu.aio') as AioEngine;
  return new QemuAio(
    ctx.host.env,
    `${vm.name}/qemu-aio`,
    engine,
    ctx.hostBlock(),
    {
      perRequestPs: psOf(p, engine === 'io_uring' ? 'qemu.uring_per_req_ns' : 'qemu.aio_per_req_ns'),
      poolWakePs: psOf(p, 'qemu.pool_wake_ns'),
      workerReturnPs: psOf(p, 'qemu.pool_return_ns'),
      perCompletionPs: psOf(p, engine === 'io_uring' ? 'qemu.uring_per_completion_ns' : 'qemu.aio_per_completion_ns'),
      // no more workers than I/Os the VM can have in flight (QEMU starts them on demand)
      poolSize: Math.min(num(p, 'qemu.pool_size'), ctx.spec.iodepth * ctx.spec.jobs),
    },
    engine === 'threads' ? (name) => ctx.host.addHostThread({ name, idleMode: 'sleep', wakeupPs: psOf(p, 'host.wakeup_ns') }) : null,
  );
}

/** A VM's QEMU main loop, started at time 0. */
export function qemuMainLoopOf(ctx: BlockContext, vm: BlockVm): QemuMainLoop {
  const p = ctx.params;
  const thread = ctx.host.addHostThread({ name: `${vm.name}/qemu-main`, idleMode: 'sleep', wakeupPs: psOf(p, 'host.wakeup_ns') });
  ctx.starters.push(() => ctx.host.cpu.start(thread));
  return new QemuMainLoop(`${vm.name}/qemu-main`, thread, vm.bql, psOf(p, 'qemu.main_loop_iter_ns'));
}

export const virtioQemuBlockPath: BlockPathDef = {
  name: 'virtio-qemu',
  description: 'virtio-blk served by QEMU (main loop or IOThread) over its file back end (aio threads, native, io_uring)',
  isVirtual: true,
  backends: ['local', 'iscsi'],
  validate(p, spec) {
    virtioBlkConfig(p, 'qemu', spec);
    checkIscsi(p);
    if (bool(p, 'qemu.blk_iothread') && !bool(p, 'virtio.ioeventfd')) {
      throw new InputError('params.virtio.ioeventfd: an IOThread needs ioeventfd (QEMU: "ioeventfd is required for iothread"); set it true or qemu.blk_iothread false');
    }
  },
  build(ctx) {
    const p = ctx.params;
    const cfg = virtioBlkConfig(p, 'qemu');
    const isIoeventfd = bool(p, 'virtio.ioeventfd');
    const isIothread = bool(p, 'qemu.blk_iothread');
    const actor = isIothread ? 'qemu-iothread' : 'qemu-main';
    const isIscsi = isIscsiBackend(p);
    const backendStage = ctx.host.tracker.define('backend.submit', actor);
    // the iSCSI back end marks its own stages between submission and completion
    const iscsiStages = isIscsi ? defineIscsiStages(ctx, actor) : null;
    const stages = {
      backend: backendStage,
      device: isIscsi ? -1 : ctx.host.tracker.define('host.io', 'host-blk'),
      complete: ctx.host.tracker.define('backend.complete', actor),
    };
    const iscsi = iscsiStages !== null ? buildIscsi(ctx, iscsiStages) : null;
    const costs = {
      perRequestPs: psOf(p, 'qemu.blk_per_req_ns'),
      mergeMaxRequests: num(p, 'qemu.blk_merge_max'),
      mergeMaxBytes: num(p, 'guest.blk_max_merge_kib') * 1024,
      isMerging: bool(p, 'qemu.blk_merge'),
      notifyPs: psOf(p, 'host.syscall_ns') + psOf(p, 'kvm.irq_route_ns'),
      // libiscsi's fd handler has no io_poll: it disables the AioContext's polling (aio-posix.c poll_disable_cnt)
      pollWindowPs: isIothread && !isIscsi ? psOf(p, 'qemu.blk_poll_max_ns') : 0,
    };
    const devices: QemuVirtioBlk[] = [];
    for (const vm of ctx.vms) {
      const kvm = vm.kvm!;
      // the device lives in the IOThread or in the main loop (the model has no other main-loop work)
      const loop = isIothread ? null : qemuMainLoopOf(ctx, vm);
      let iothread = null;
      if (isIothread) {
        iothread = ctx.host.addHostThread({ name: `${vm.name}/iothread0`, idleMode: 'sleep', wakeupPs: psOf(p, 'host.wakeup_ns'), pollPickupPs: psOf(p, 'qemu.bh_ns') });
        const t = iothread;
        ctx.starters.push(() => ctx.host.cpu.start(t));
      }
      const aio = iscsi !== null ? iscsi.initiators[vm.index]! : qemuAioOf(ctx, vm);
      let dev: QemuVirtioBlk | null = null;
      // per virtqueue, made once: a closure inside the kick port would be allocated per kick
      const eventfds: (() => void)[] = [];
      const exitHandlers: ((vcpu: GuestVcpu, done: () => void) => void)[] = [];
      const heavyReason = cfg.isLegacy ? 'pio-notify' : 'mmio-notify';
      const { driver, vqs } = makeVirtioBlk(
        ctx,
        vm,
        cfg,
        false,
        (vcpu, q, fn, arg) => {
          if (isIoeventfd) {
            const eventfd = eventfds[q] ?? (eventfds[q] = kickOf(dev!, q));
            kvm.ioeventfdKick(vcpu, eventfd, cfg.notifyReason, fn, arg);
          } else {
            const handler = exitHandlers[q] ?? (exitHandlers[q] = exitHandlerOf(dev!, q));
            kvm.heavyExit(vcpu, heavyReason, handler, fn, arg);
          }
        },
        (q, handler) => kvm.vector(`${vm.name}/blkvq${q}`, ctx.vcpuOfQueue(vm, q), 'msi', handler),
      );
      dev = new QemuVirtioBlk(ctx.host.env, `${vm.name}/virtio-blk`, vqs, aio, costs, stages, iothread, loop, (q) =>
        kvm.deliverMsi(driver.vectors[q]!),
      );
      devices.push(dev);
    }
    if (iscsi !== null) registerIscsiDisconnect(ctx, iscsi);
    ctx.onFinish.push((extra) => {
      extra['qemu.blk_handled'] = devices.reduce((s, d) => s + d.handled, 0);
      extra['qemu.blk_merges'] = devices.reduce((s, d) => s + d.merges, 0);
      extra['qemu.blk_notifies'] = devices.reduce((s, d) => s + d.notifies, 0);
      extra['qemu.aio_batches'] = devices.reduce((s, d) => s + d.aio.batches, 0);
      extra['qemu.bql_contended'] = ctx.vms.reduce((s, vm) => s + vm.bql.contended, 0);
      if (iscsi !== null) {
        extra['iscsi.window_waits'] = iscsi.initiators.reduce((s: number, i: IscsiInitiator) => s + i.windowWaits, 0);
        extra['iscsi.commands'] = iscsi.target.commands;
        extra['iscsi.r2ts'] = iscsi.target.r2tsSent;
        extra['iscsi.pdus'] = iscsi.tcp.pdus;
        extra['iscsi.tcp_segments'] = iscsi.tcp.segments;
      }
    });
  },
};

function kickOf(dev: QemuVirtioBlk, q: number): () => void {
  return () => dev.kick(q);
}

function exitHandlerOf(dev: QemuVirtioBlk, q: number): (vcpu: GuestVcpu, done: () => void) => void {
  return (vcpu, done) => dev.handleInExit(vcpu, q, done);
}
