/**
 * Wiring shared by the two full-emulation paths: an e1000 device model per VM (in QEMU or
 * inside the hypervisor), the guest e1000 driver on the VM's first vCPU, its INTx vector,
 * and the host stack with one tap per VM. e1000 has a single queue pair.
 */
import { num } from '../../../calibration/param.js';
import { GuestE1000, type RegisterExit } from '../../../actors/net/guest-e1000.js';
import { E1000Device, type E1000Costs } from '../../../actors/net/qemu-e1000.js';
import type { HostStack } from './host-stack.js';
import { psOf } from '../../../calibration/param.js';
import type { NetContext, VmContext } from './net-run.js';

export function e1000Costs(ctx: NetContext, stack: HostStack, isInKernel: boolean): E1000Costs {
  const p = ctx.params;
  const syscallPs = psOf(p, 'host.syscall_ns');
  const routePs = psOf(p, 'kvm.irq_route_ns');
  return {
    isInKernel,
    txPerPktPs: psOf(p, 'qemu.e1000_tx_per_pkt_ns'),
    rxPerPktPs: psOf(p, 'qemu.e1000_rx_per_pkt_ns'),
    regPs: psOf(p, 'qemu.e1000_reg_ns'),
    syscallPs,
    hostTxPs: stack.txCostPs,
    irqRaisePs: isInKernel ? routePs : syscallPs + routePs,
    itrPs: psOf(p, 'e1000.itr_ns'),
    ringSize: num(p, 'e1000.ring_size'),
    tapReadLimit: num(p, 'qemu.tap_read_limit'),
  };
}

export function attachE1000(ctx: NetContext, vm: VmContext, stack: HostStack, costs: E1000Costs, regExit: RegisterExit): E1000Device {
  const kvm = vm.kvm!;
  const actor = costs.isInKernel ? 'vmm-e1000' : 'qemu-e1000';
  const dev = new E1000Device(
    ctx.env,
    `${vm.name}/e1000`,
    costs,
    { backendTx: ctx.tracker.define('backend.tx', actor), backendRx: ctx.tracker.define('backend.rx', actor) },
    stack.tap(vm.index, 0),
    (pkt, atPs) => stack.hostNet.transmit(pkt, atPs),
  );
  const vcpu = vm.vcpus[0]!;
  const p = ctx.params;
  const driver = new GuestE1000(
    ctx.env,
    `${vm.name}/e1000-driver`,
    dev,
    vcpu,
    {
      xmitPs: psOf(p, 'guest.e1000_xmit_ns'),
      rxPs: psOf(p, 'guest.e1000_rx_ns'),
      reclaimPs: psOf(p, 'guest.tx_reclaim_ns'),
      napiBudget: num(p, 'guest.napi_budget'),
      stackPs: ctx.spec.guestStackPs,
      ringSize: costs.ringSize,
      txQueueLen: num(p, 'guest.txqueuelen_packets'),
      isGro: ctx.offloads.isGuestGro,
      tcpMessageBytes: ctx.spec.tcp?.messageBytes ?? 0,
    },
    {
      guestTx: ctx.tracker.define('guest.tx', 'guest-vcpu'),
      irq: ctx.tracker.define('irq+wake', 'kvm'),
      guestRx: ctx.tracker.define('guest.rx', 'guest-vcpu'),
    },
    regExit,
  );
  const vector = kvm.vector(`${vm.name}/e1000-intx`, vcpu, 'intx', () => driver.interrupt());
  dev.raiseLine = (delayPs) => kvm.raiseIntx(vector, delayPs);
  vm.device = driver;
  ctx.onFinish.push((extra) => {
    extra[`${vm.name}.e1000.interrupts`] = dev.interruptsRaised;
    extra[`${vm.name}.e1000.spurious`] = driver.spuriousInterrupts;
  });
  return dev;
}
