/**
 * Full emulation inside the hypervisor for block (io-paths.md A.4, VMware-style): the
 * same IDE register sequence, but each access is handled in the kernel exit (no return
 * to user space, no big lock), the bus-master start submits straight to the host block
 * layer, and the completion interrupt raises the guest's INTx from the kernel.
 */
import { num, psOf } from '../../calibration/param.js';
import { GuestIde } from '../../actors/block/guest-ide.js';
import { VmmIde } from '../../actors/block/vmm-ide.js';
import { refuseHipriOnIde, type BlockPathDef } from './support/block-run.js';

export const emulatedVmmBlockPath: BlockPathDef = {
  name: 'emulated-vmm',
  description: 'an IDE disk emulated inside the hypervisor: register accesses handled in the kernel exit',
  isVirtual: true,
  validate: refuseHipriOnIde,
  build(ctx) {
    const p = ctx.params;
    const deviceStage = ctx.host.tracker.define('host.io', 'host-blk');
    const routePs = psOf(p, 'kvm.irq_route_ns');
    for (const vm of ctx.vms) {
      const kvm = vm.kvm!;
      let vector = null as unknown as ReturnType<typeof kvm.vector>;
      const host = ctx.hostBlock();
      for (const v of vm.vcpus) host.attach(v.thread);
      const dev = new VmmIde(ctx.host.env, `${vm.name}/vmm-ide`, host, { regPs: psOf(p, 'qemu.ide_reg_ns'), dmaPs: psOf(p, 'qemu.ide_dma_ns') }, deviceStage, () =>
        kvm.raiseIntx(vector, routePs),
      );
      const driver = new GuestIde(
        `${vm.name}/ata-piix`,
        dev,
        { queuePs: psOf(p, 'guest.ide_queue_ns'), taskfileWrites: num(p, 'guest.ide_taskfile_writes') },
        (vcpu, reason, handler, fn) => kvm.kernelIoExit(vcpu, reason, handler, fn, undefined),
      );
      vector = kvm.vector(`${vm.name}/ide-irq`, vm.vcpus[0]!, 'intx', () => driver.onIrq(0));
      ctx.setDriver(vm, driver);
    }
  },
};
