/**
 * virtio-qemu (io-paths.md s3, path B): virtio-net emulated by QEMU in user space and
 * served by its main loop under the BQL, with a tap back end. Kicks are ioeventfd light
 * exits that wake the main loop (virtio.ioeventfd true) or heavy exits handled on the
 * vCPU thread (false); interrupts are KVM_SIGNAL_MSI ioctls from the main loop.
 * Per packet: one payload copy on transmit (writev), two on receive (read + copy into
 * guest buffers), one syscall each way.
 */
import { bool, num, psOf } from '../../calibration/param.js';
import { QemuMainLoop } from '../../actors/host/qemu.js';
import type { GuestVcpu } from '../../actors/host/guest-vcpu.js';
import { QemuVirtioQueue } from '../../actors/net/qemu-virtio-net.js';
import { rxBufBytesOf } from './support/costs.js';
import { buildHostStack, finishHostStack } from './support/host-stack.js';
import { netPath, type NetPathDef } from './support/net-run.js';
import { makeVirtioDevice, virtioConfig } from './support/virtio.js';

export const virtioQemuDef: NetPathDef = {
  name: 'virtio-qemu',
  description: 'virtio-net in QEMU user space (main loop + BQL, tap); ioeventfd kicks, KVM_SIGNAL_MSI interrupts',
  isVirtual: true,
  offloads: (p) => ({ tso: bool(p, 'virtio.host_tso'), guestTso: bool(p, 'virtio.guest_tso') }),
  hasHostStack: true,
  validate(p) {
    virtioConfig(p, 'qemu');
  },
  build(ctx) {
    const p = ctx.params;
    const cfg = virtioConfig(p, 'qemu');
    const isIoeventfd = bool(p, 'virtio.ioeventfd');
    const stack = buildHostStack(ctx, cfg.queuePairs);
    const stages = {
      backendTx: ctx.tracker.define('backend.tx', 'qemu-main'),
      backendRx: ctx.tracker.define('backend.rx', 'qemu-main'),
    };
    const syscallPs = psOf(p, 'host.syscall_ns');
    const costs = {
      perPktPs: psOf(p, 'qemu.virtio_per_pkt_ns'),
      bhPs: psOf(p, 'qemu.bh_ns'),
      txBurst: num(p, 'qemu.tx_burst'),
      tapReadLimit: num(p, 'qemu.tap_read_limit'),
      hostTxPs: stack.txCostPs,
      syscallPs,
      msiPs: syscallPs + psOf(p, 'kvm.irq_route_ns'),
      rxBufBytes: rxBufBytesOf(p, ctx.spec, ctx.offloads),
      txCopies: num(p, 'qemu.tx_copies'),
      rxCopies: num(p, 'qemu.rx_copies'),
    };
    const loops: QemuMainLoop[] = [];
    const queues: QemuVirtioQueue[] = [];
    for (const vm of ctx.vms) {
      const kvm = vm.kvm!;
      const thread = ctx.addHostThread({ name: `${vm.name}/qemu-main`, idleMode: 'sleep', wakeupPs: psOf(p, 'host.wakeup_ns') });
      const loop = new QemuMainLoop(`${vm.name}/qemu-main`, thread, vm.bql, psOf(p, 'qemu.main_loop_iter_ns'));
      loops.push(loop);
      ctx.starters.push(() => ctx.cpu.start(thread));
      const vmQueues: QemuVirtioQueue[] = [];
      const heavyReason = cfg.isLegacy ? 'pio-notify' : 'mmio-notify';
      // Per virtqueue, made at its first kick (the queues exist by then) by functions
      // outside the kick port: a closure written inside it would make V8 allocate the
      // port's context at every kick.
      const eventfds: (() => void)[] = [];
      const notifyHandlers: NotifyHandler[] = [];
      const dev = makeVirtioDevice(
        ctx,
        vm,
        cfg,
        (vcpu, vq, fn) => {
          if (isIoeventfd) {
            const eventfd = eventfds[vq] ?? (eventfds[vq] = eventfdOf(vmQueues[vq >> 1]!, vq));
            kvm.ioeventfdKick(vcpu, eventfd, cfg.notifyReason, fn, undefined);
          } else {
            // K2: KVM_EXIT_MMIO/IO to QEMU on the vCPU thread; the notify handler runs under the BQL
            const handler = notifyHandlers[vq] ?? (notifyHandlers[vq] = notifyHandlerOf(vmQueues[vq >> 1]!, vq, costs.bhPs));
            kvm.heavyExit(vcpu, heavyReason, handler, fn, undefined);
          }
        },
        (vq, vcpu, handler) => kvm.vector(`${vm.name}/vq${vq}`, vcpu, 'msi', handler),
      );
      for (let q = 0; q < cfg.queuePairs; q++) {
        const vq = new QemuVirtioQueue(
          ctx.env,
          `${vm.name}/virtio-net/q${q}`,
          loop,
          dev.txqs[q]!,
          dev.rxqs[q]!,
          stack.tap(vm.index, q),
          costs,
          stages,
          (pkt, atPs) => stack.hostNet.transmit(pkt, atPs),
          (isTx, delayPs) => kvm.deliverMsi(dev.driver.vectorOf(2 * q + (isTx ? 1 : 0)), delayPs),
        );
        vmQueues.push(vq);
        queues.push(vq);
      }
    }
    finishHostStack(stack);
    ctx.onFinish.push((extra) => {
      extra['qemu.iterations'] = loops.reduce((s, l) => s + l.iterations, 0);
      extra['qemu.msi_ioctls'] = queues.reduce((s, q) => s + q.msiIoctls, 0);
      extra['qemu.bql_contended'] = ctx.vms.reduce((s, vm) => s + vm.bql.contended, 0);
    });
  },
};

export const virtioQemuPath = netPath(virtioQemuDef);

/** QEMU's notify handler for a heavy exit, run on the vCPU thread under the BQL. */
type NotifyHandler = (vcpu: GuestVcpu, done: () => void) => void;

/** The ioeventfd of virtqueue vq (odd: transmit) of queue pair q. */
function eventfdOf(q: QemuVirtioQueue, vq: number): () => void {
  return (vq & 1) === 1 ? () => q.kickTx() : () => q.kickRx();
}

/** The notify handler of virtqueue vq: a TX kick flushes now; an RX kick schedules the bottom half. */
function notifyHandlerOf(q: QemuVirtioQueue, vq: number, bhPs: number): NotifyHandler {
  if ((vq & 1) === 1) return (v, done) => v.exec(q.txKickWork(), done, undefined);
  return (v, done) => {
    q.kickRx();
    v.exec(bhPs, done, undefined);
  };
}
