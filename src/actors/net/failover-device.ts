/**
 * The guest's net_failover master device (Linux drivers/net/net_failover.c, QEMU
 * docs/system/virtio-net-failover.rst): the application sends through it and it hands the
 * frames to the primary (a VF) while the primary is there, to the standby (virtio-net)
 * otherwise. Frames already in a device's rings finish there; what either device receives
 * goes up to the application.
 */
import type { GuestVcpu } from '../host/guest-vcpu.js';
import type { NetDevice } from './guest-app.js';
import type { Packet } from './messages.js';

export class FailoverDevice implements NetDevice {
  /** The primary carries the traffic (false while it is unplugged). */
  isPrimaryActive = true;
  /** Switches between the two devices. */
  switches = 0;

  constructor(
    readonly primary: NetDevice,
    readonly standby: NetDevice,
  ) {
    if (primary.queuePairs !== standby.queuePairs) throw new Error(`failover: the primary has ${primary.queuePairs} queue pairs, the standby ${standby.queuePairs}`);
  }

  get queuePairs(): number {
    return this.primary.queuePairs;
  }

  get txQueueLen(): number {
    return this.isPrimaryActive ? this.primary.txQueueLen : this.standby.txQueueLen;
  }

  private get active(): NetDevice {
    return this.isPrimaryActive ? this.primary : this.standby;
  }

  canSend(queue: number): boolean {
    return this.active.canSend(queue);
  }

  send(vcpu: GuestVcpu, pkt: Packet, isMore: boolean, extraPs: number, fn: () => void): void {
    this.active.send(vcpu, pkt, isMore, extraPs, fn);
  }

  set onReceive(fn: (pkt: Packet, atPs: number) => void) {
    this.primary.onReceive = fn;
    this.standby.onReceive = fn;
  }

  get onReceive(): (pkt: Packet, atPs: number) => void {
    return this.primary.onReceive;
  }

  set onTxSpace(fn: (queue: number) => void) {
    this.primary.onTxSpace = fn;
    this.standby.onTxSpace = fn;
  }

  get onTxSpace(): (queue: number) => void {
    return this.primary.onTxSpace;
  }

  /** The primary goes (unplug requested) or comes back (plugged again); senders waiting for room retry. */
  setPrimary(isActive: boolean): void {
    if (isActive === this.isPrimaryActive) return;
    this.isPrimaryActive = isActive;
    this.switches++;
    for (let q = 0; q < this.queuePairs; q++) if (this.active.canSend(q)) this.onTxSpace(q);
  }
}
