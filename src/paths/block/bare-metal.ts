/**
 * Bare metal for block (io-paths.md s8): fio on the host, its NVMe driver writing the
 * submission entries and the doorbell itself, the SSD's MSI-X taken on the submitting
 * CPU (or its completions polled). No exits, no copies (O_DIRECT), no host syscalls
 * beyond the application's own.
 */
import { IrqVector } from '../../actors/host/guest-vcpu.js';
import { num, psOf } from '../../calibration/param.js';
import type { BlockPathDef } from './support/block-run.js';
import { attachNvme } from './support/nvme.js';

export const bareMetalBlockPath: BlockPathDef = {
  name: 'bare-metal',
  description: 'the host NVMe driver: doorbell and MSI-X straight to and from the SSD (the baseline)',
  isVirtual: false,
  diskKinds: ['nvme'],
  build(ctx) {
    const irqPs = psOf(ctx.params, 'host.irq_ns');
    const vm = ctx.vms[0]!;
    attachNvme(ctx, vm, 0, num(ctx.params, 'ssd.queues'), (name, vcpu, handler) => {
      const vector = new IrqVector(name, vcpu, handler, irqPs);
      const counters = ctx.host.counters;
      return {
        vector,
        raise: () => {
          counters.interrupts++;
          vcpu.raiseIrq(vector);
        },
      };
    });
  },
};
