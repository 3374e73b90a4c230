/**
 * virtio-net failover for an SR-IOV VF (QEMU docs/system/virtio-net-failover.rst,
 * migration-faults.md s1.6): each VM also has a standby virtio-net device whose back end
 * (failover.standby) sits on the PF; the guest's net_failover device sends through the VF
 * while it is plugged. For a migration, QEMU asks the guest to unplug the VF and waits in
 * wait-unplug, polling every 250 ms (qemu_savevm_wait_unplug); traffic moves to the
 * standby, and the migration runs over virtio (its dirty logging included). After the
 * switch the destination plugs a VF back and traffic returns to it.
 */
import { psOf, str } from '../../../calibration/param.js';
import { FailoverDevice } from '../../../actors/net/failover-device.js';
import type { NetDevice } from '../../../actors/net/guest-app.js';
import type { NicQueue } from '../../../actors/net/nic.js';
import type { Packet } from '../../../actors/net/messages.js';
import type { MigrationParts } from '../../migration-run.js';
import { vhostKernelDef } from '../vhost-kernel.js';
import { virtioQemuDef } from '../virtio-qemu.js';
import type { NetContext } from './net-run.js';

/** qemu_savevm_wait_unplug's poll period (qemu_sem_timedwait(..., 250)). */
const UNPLUG_POLL_MS = 250;

export interface Standby {
  devices: NetDevice[];
  route: (pkt: Packet) => NicQueue;
  parts: MigrationParts;
}

/** Builds the standby virtio-net devices (before the VFs): their devices, receive route and migration parts. */
export function buildStandby(ctx: NetContext): Standby {
  const def = str(ctx.params, 'failover.standby') === 'virtio-qemu' ? virtioQemuDef : vhostKernelDef;
  def.validate?.(ctx.params, ctx.spec);
  def.build(ctx);
  const devices = ctx.vms.map((vm) => vm.device!);
  return { devices, route: ctx.nic.route, parts: ctx.migration };
}

/** After the VFs are attached: pairs each VM's VF with its standby under a failover device. */
export function pairWithStandby(ctx: NetContext, standby: Standby): void {
  const sim = ctx.sim;
  const p = ctx.params;
  const vfRoute = ctx.nic.route;
  const masters = ctx.vms.map((vm) => {
    const fo = new FailoverDevice(vm.device!, standby.devices[vm.index]!);
    vm.device = fo;
    return fo;
  });
  ctx.nic.route = (pkt) => (masters[pkt.vm]!.isPrimaryActive ? vfRoute(pkt) : standby.route(pkt));
  const master = masters[0]!;
  const unplugPs = psOf(p, 'failover.unplug_ms');
  const replugPs = psOf(p, 'failover.replug_ms');
  const pollPs = UNPLUG_POLL_MS * 1_000_000_000;
  ctx.migration = {
    ...standby.parts,
    beforeStart: (start) => {
      // the guest stops using the VF at the unplug request; QEMU sees the unplug done at its next poll
      master.setPrimary(false);
      sim.post(Math.ceil(unplugPs / pollPs) * pollPs, start);
    },
    onResume: () => {
      standby.parts.onResume?.();
      sim.post(replugPs, () => master.setPrimary(true));
    },
  };
  ctx.onFinish.push((extra) => {
    extra['failover.switches'] = masters.reduce((s, m) => s + m.switches, 0);
  });
}
