/**
 * Full emulation for block (io-paths.md A.3): an IDE disk with bus-master DMA emulated by
 * QEMU. Every register access is a heavy exit to QEMU on the vCPU thread (big lock held);
 * the bus-master start submits the I/O through QEMU's file back end; the completion
 * reaches QEMU's main loop, which raises the INTx line; the guest's interrupt handler
 * makes four more register exits and the IOAPIC EOI exits. One command at a time.
 */
import { num, psOf } from '../../calibration/param.js';
import { GuestIde } from '../../actors/block/guest-ide.js';
import { QemuIde } from '../../actors/block/qemu-ide.js';
import { refuseHipriOnIde, type BlockPathDef } from './support/block-run.js';
import { qemuAioOf, qemuMainLoopOf } from './virtio-qemu.js';

export const emulatedBlockPath: BlockPathDef = {
  name: 'emulated',
  description: 'an IDE disk with bus-master DMA emulated in QEMU: every register access exits to user space',
  isVirtual: true,
  validate: refuseHipriOnIde,
  build(ctx) {
    const p = ctx.params;
    const tracker = ctx.host.tracker;
    const stages = { device: tracker.define('host.io', 'host-blk'), complete: tracker.define('backend.complete', 'qemu-main') };
    for (const vm of ctx.vms) {
      const kvm = vm.kvm!;
      const loop = qemuMainLoopOf(ctx, vm);
      const aio = qemuAioOf(ctx, vm);
      let vector = null as unknown as ReturnType<typeof kvm.vector>;
      const dev = new QemuIde(
        ctx.host.env,
        `${vm.name}/ide`,
        aio,
        loop,
        { regPs: psOf(p, 'qemu.ide_reg_ns'), dmaPs: psOf(p, 'qemu.ide_dma_ns'), irqRaisePs: psOf(p, 'host.syscall_ns') + psOf(p, 'kvm.irq_route_ns') },
        stages,
        () => kvm.raiseIntx(vector),
      );
      for (const v of vm.vcpus) dev.attachVcpu(v);
      const driver = new GuestIde(
        `${vm.name}/ata-piix`,
        dev,
        { queuePs: psOf(p, 'guest.ide_queue_ns'), taskfileWrites: num(p, 'guest.ide_taskfile_writes') },
        (vcpu, reason, handler, fn) => kvm.heavyExit(vcpu, reason, handler, fn, undefined),
      );
      vector = kvm.vector(`${vm.name}/ide-irq`, vm.vcpus[0]!, 'intx', () => driver.onIrq(0));
      ctx.setDriver(vm, driver);
    }
  },
};
