/**
 * emulated-vmm (io-paths.md s2.A.4; design.md: emulation "in the hypervisor"): the same
 * guest e1000 driver, but the device model lives in the hypervisor, as in VMware's VMM /
 * ESX vmkernel: register accesses are in-kernel I/O exits (no return to user space, no
 * BQL), frames move between guest memory and the host stack with one copy each way and
 * no syscalls, a kernel worker reads the tap, and INTx is injected in kernel.
 */
import { psOf } from '../../calibration/param.js';
import { attachKernelReceiver } from '../../actors/net/qemu-e1000.js';
import { attachE1000, e1000Costs } from './support/e1000.js';
import { buildHostStack, finishHostStack } from './support/host-stack.js';
import { netPath } from './support/net-run.js';

export const emulatedVmmPath = netPath({
  name: 'emulated-vmm',
  description: 'e1000 emulated inside the hypervisor: in-kernel I/O exits, one copy each way, in-kernel INTx',
  isVirtual: true,
  offloads: () => ({ tso: true, guestTso: false }),
  hasHostStack: true,
  build(ctx) {
    const p = ctx.params;
    const stack = buildHostStack(ctx, 1);
    const costs = e1000Costs(ctx, stack, true);
    for (const vm of ctx.vms) {
      const kvm = vm.kvm!;
      const dev = attachE1000(ctx, vm, stack, costs, (vcpu, reason, handler, fn) => kvm.kernelIoExit(vcpu, reason, handler, fn, undefined));
      const thread = ctx.addHostThread({ name: `${vm.name}/vmm-net`, idleMode: 'sleep', wakeupPs: psOf(p, 'host.wakeup_ns') });
      attachKernelReceiver(dev, thread);
      ctx.starters.push(() => ctx.cpu.start(thread));
    }
    finishHostStack(stack);
  },
});
