/**
 * vhost-kernel (io-paths.md s4, path C): QEMU only sets up; the data path is guest ->
 * KVM (ioeventfd) -> vhost-net worker -> tun/bridge -> NIC, and back through the host
 * NIC's softirq, the tap, the worker and irqfd, all in the host kernel. One worker (and
 * one tap queue) per queue pair.
 */
import { bool, num, psOf } from '../../calibration/param.js';
import { VhostWorker } from '../../actors/net/vhost-worker.js';
import { rxBufBytesOf } from './support/costs.js';
import { buildHostStack, finishHostStack } from './support/host-stack.js';
import { netPath, type NetPathDef } from './support/net-run.js';
import { makeVirtioDevice, virtioConfig } from './support/virtio.js';

export const vhostKernelDef: NetPathDef = {
  name: 'vhost-kernel',
  description: 'virtio-net with the vhost-net kernel worker: ioeventfd kicks, irqfd interrupts, tap + bridge',
  isVirtual: true,
  offloads: (p) => ({ tso: bool(p, 'virtio.host_tso'), guestTso: bool(p, 'virtio.guest_tso') }),
  hasHostStack: true,
  validate(p) {
    virtioConfig(p, 'vhost-kernel');
  },
  build(ctx) {
    const p = ctx.params;
    const cfg = virtioConfig(p, 'vhost-kernel');
    const stack = buildHostStack(ctx, cfg.queuePairs);
    const stages = {
      backendTx: ctx.tracker.define('backend.tx', 'vhost-worker'),
      backendRx: ctx.tracker.define('backend.rx', 'vhost-worker'),
    };
    const costs = {
      perPktPs: psOf(p, 'vhost.per_pkt_ns'),
      hostTxPs: stack.txCostPs,
      pktWeight: num(p, 'vhost.pkt_weight'),
      byteWeight: num(p, 'vhost.byte_weight'),
      batch: num(p, 'vhost.batch'),
      busyloopPs: psOf(p, 'vhost.busyloop_us'),
      signalPs: psOf(p, 'kvm.irq_route_ns'),
      rxBufBytes: rxBufBytesOf(p, ctx.spec, ctx.offloads),
    };
    const workers: VhostWorker[] = [];
    for (const vm of ctx.vms) {
      const kvm = vm.kvm!;
      const vmWorkers: VhostWorker[] = [];
      const eventfds: (() => void)[] = [];
      const dev = makeVirtioDevice(
        ctx,
        vm,
        cfg,
        (vcpu, vq, fn) => {
          // one eventfd per virtqueue, made at its first kick (the workers exist by then)
          let eventfd = eventfds[vq];
          if (eventfd === undefined) {
            const w = vmWorkers[vq >> 1]!;
            eventfd = (vq & 1) === 1 ? () => w.kickTx() : () => w.kickRx();
            eventfds[vq] = eventfd;
          }
          kvm.ioeventfdKick(vcpu, eventfd, cfg.notifyReason, fn, undefined);
        },
        (vq, vcpu, handler) => kvm.vector(`${vm.name}/vq${vq}`, vcpu, 'msi', handler),
      );
      for (let q = 0; q < cfg.queuePairs; q++) {
        const thread = ctx.addHostThread({ name: `${vm.name}/vhost${q}`, idleMode: 'sleep', wakeupPs: psOf(p, 'host.wakeup_ns') });
        const w = new VhostWorker(
          ctx.env,
          `${vm.name}/vhost${q}`,
          thread,
          dev.txqs[q]!,
          dev.rxqs[q]!,
          stack.tap(vm.index, q),
          costs,
          stages,
          (pkt, atPs) => stack.hostNet.transmit(pkt, atPs),
          (isTx, delayPs) => kvm.deliverMsi(dev.driver.vectorOf(2 * q + (isTx ? 1 : 0)), delayPs),
        );
        w.onDrop = ctx.drop;
        vmWorkers.push(w);
        workers.push(w);
        ctx.starters.push(() => ctx.cpu.start(thread));
      }
    }
    finishHostStack(stack);
    // while a migration runs, every worker logs the pages it writes (VHOST_F_LOG_ALL)
    const logPagePs = psOf(p, 'vhost.log_page_ns');
    ctx.migration.setLogging = (isOn) => {
      for (const w of workers) w.logPagePs = isOn ? logPagePs : 0;
    };
    ctx.migration.vhostQueues = 2 * cfg.queuePairs;
    ctx.onFinish.push((extra) => {
      extra['vhost.signals'] = workers.reduce((s, w) => s + w.signals, 0);
      extra['vhost.runs'] = workers.reduce((s, w) => s + w.runs, 0);
    });
  },
};

export const vhostKernelPath = netPath(vhostKernelDef);
