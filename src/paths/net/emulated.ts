/**
 * emulated (io-paths.md s2, path A): the guest's e1000 driver against QEMU's e1000
 * model. Every register access is a heavy exit into QEMU under the BQL; transmit runs in
 * the TDT exit on the vCPU thread (copy into QEMU's buffer, writev to the tap); receive
 * runs in the main loop (read from the tap, copy into the guest ring); interrupts are
 * legacy INTx through KVM_IRQ_LINE, throttled by the e1000 mitigation timer.
 */
import { psOf } from '../../calibration/param.js';
import { QemuMainLoop, type MainLoopHandler } from '../../actors/host/qemu.js';
import { attachE1000, e1000Costs } from './support/e1000.js';
import { buildHostStack, finishHostStack } from './support/host-stack.js';
import { netPath } from './support/net-run.js';

export const emulatedPath = netPath({
  name: 'emulated',
  description: 'e1000 emulated by QEMU: heavy exits per register access, tap, INTx',
  isVirtual: true,
  // QEMU's e1000 takes TSO context descriptors and segments in the device model
  offloads: () => ({ tso: true, guestTso: false }),
  hasHostStack: true,
  build(ctx) {
    const p = ctx.params;
    const stack = buildHostStack(ctx, 1);
    const costs = e1000Costs(ctx, stack, false);
    for (const vm of ctx.vms) {
      const kvm = vm.kvm!;
      const thread = ctx.addHostThread({ name: `${vm.name}/qemu-main`, idleMode: 'sleep', wakeupPs: psOf(p, 'host.wakeup_ns') });
      const loop = new QemuMainLoop(`${vm.name}/qemu-main`, thread, vm.bql, psOf(p, 'qemu.main_loop_iter_ns'));
      ctx.starters.push(() => ctx.cpu.start(thread));
      const dev = attachE1000(ctx, vm, stack, costs, (vcpu, reason, handler, fn) => kvm.heavyExit(vcpu, reason, handler, fn, undefined));
      const tapHandler: MainLoopHandler = {
        name: `${vm.name}/tap`,
        isReady: false,
        run: (l, done) => dev.receiveFrames(l.thread, done),
      };
      dev.onTapReady = () => loop.notify(tapHandler);
    }
    finishHostStack(stack);
  },
});
