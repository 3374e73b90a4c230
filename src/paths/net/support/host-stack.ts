/**
 * The host side shared by the paths whose back end hands frames to the host kernel
 * (virtio-qemu, vhost-kernel, emulated, emulated-vmm): the host NIC's PF with one queue
 * per VM queue pair (RSS aligned with the VMs' queues), a softirq thread per queue, the
 * bridge, and a tap queue per VM queue pair.
 */
import { num } from '../../../calibration/param.js';
import { HostNet, type Tap } from '../../../actors/net/host-net.js';
import { LocalPeer } from '../../../actors/net/local-peer.js';
import type { Packet } from '../../../actors/net/messages.js';
import { psOf } from '../../../calibration/param.js';
import { addPeerFlows, type NetContext } from './net-run.js';

export interface HostStack {
  hostNet: HostNet;
  /** tap of (vm, queue pair). */
  tap(vm: number, q: number): Tap;
  /** Host stack transmit cost the sender pays for a packet [ps] (HostNet.txCostPs). */
  txCostPs: (pkt: Packet) => number;
}

export function buildHostStack(ctx: NetContext, queuePairs: number): HostStack {
  const p = ctx.params;
  const hostNet = new HostNet(
    ctx.env,
    {
      rxPerPktPs: psOf(p, 'hostnet.rx_per_pkt_ns'),
      rxPerFramePs: psOf(p, 'hostnet.rx_per_frame_ns'),
      txPerPktPs: psOf(p, 'hostnet.tx_per_pkt_ns'),
      gsoPerFramePs: psOf(p, 'hostnet.gso_per_frame_ns'),
      // a local peer's TCP/IP receive runs in the sender's context (tun_get_user -> netif_rx)
      localRxPs: ctx.isLocalPeer ? localPeerStackPs(ctx.spec) : 0,
      isHostGro: ctx.offloads.isHostGro,
      isGuestTso: ctx.offloads.isGuestTso,
      isNicTso: ctx.offloads.isNicTso,
      txCleanPs: psOf(p, 'hostnet.tx_clean_ns'),
      irqPs: psOf(p, 'host.irq_ns'),
      napiBudget: num(p, 'hostnet.napi_budget'),
      softirqPackets: num(p, 'hostnet.softirq_packets'),
      softirqPs: psOf(p, 'hostnet.softirq_time_us'),
      tapQueue: num(p, 'hostnet.tap_queue'),
      qdiscQueue: 1000,
    },
    ctx.drop,
  );
  hostNet.rxStage = ctx.tracker.define('hostnet.rx', 'host-softirq');
  const n = ctx.vms.length * queuePairs;
  const pf = ctx.nic.addFunction('pf', false, n, null);
  const txStage = ctx.tracker.define('nic.tx', 'nic');
  const rxStage = ctx.tracker.define('nic.rx', 'nic');
  const taps: Tap[] = [];
  for (let i = 0; i < n; i++) {
    const q = pf.queues[i]!;
    q.txStage = txStage;
    q.rxStage = rxStage;
    q.onDrop = ctx.drop;
  }
  for (const vm of ctx.vms) for (let q = 0; q < queuePairs; q++) taps.push(hostNet.addTap(`${vm.name}/tap${q}`));
  const index = (vm: number, q: number): number => vm * queuePairs + (q % queuePairs);
  ctx.nic.route = (pkt) => pf.queues[index(pkt.vm, pkt.queue)]!;
  hostNet.tapOf = (pkt) => taps[index(pkt.vm, pkt.queue)]!;
  hostNet.queueOf = (pkt) => index(pkt.vm, pkt.queue);
  // softirq threads are created after the back-end threads (placement order), see finish()
  const stack: HostStack = {
    hostNet,
    tap: (vm, q) => taps[index(vm, q)]!,
    txCostPs: (pkt) => hostNet.txCostPs(pkt),
  };
  (stack as HostStack & { finish: () => void }).finish = () => {
    for (let i = 0; i < n; i++) {
      // interrupt context on the core the queue's IRQ is affine to
      const thread = ctx.addHostThread({ name: `host/softirq${i}`, idleMode: 'sleep', wakeupPs: psOf(p, 'host.idle_exit_ns'), isIrq: true });
      hostNet.addQueue(pf.queues[i]!, thread);
      ctx.starters.push(() => ctx.cpu.start(thread));
    }
  };
  if (ctx.isLocalPeer) attachLocalPeer(ctx, hostNet);
  ctx.onFinish.push((extra) => {
    extra['hostnet.qdisc_drops'] = hostNet.qdiscDrops;
    extra['hostnet.tap_drops'] = hostNet.tapDrops;
    extra['hostnet.polls'] = hostNet.polls;
    extra['hostnet.ksoftirqd_deferrals'] = hostNet.deferrals;
  });
  return stack;
}

/** The local peer's TCP/IP time per message: a server's in net-rr, a stream end's (as the guest's) otherwise [ps]. */
function localPeerStackPs(spec: NetContext['spec']): number {
  return spec.kind === 'net-rr' ? spec.peerStackPs : spec.guestStackPs;
}

/** peer.location host: the VMs' peer is a process on this host, behind the bridge. */
function attachLocalPeer(ctx: NetContext, hostNet: HostNet): void {
  const p = ctx.params;
  const spec = ctx.spec;
  const peer = new LocalPeer(
    ctx.env,
    spec,
    {
      syscallPs: psOf(p, 'host.syscall_ns'),
      // (its receive-side TCP/IP runs in the sender's context: HostNet.localRxPs)
      stackPs: localPeerStackPs(spec),
      hostTxPs: psOf(p, 'hostnet.tx_per_pkt_ns'),
      wakeupPs: psOf(p, 'host.wakeup_ns'),
      tcpMessageBytes: spec.tcp?.messageBytes ?? 0,
      toTapCostPs: (pkt) => hostNet.toTapCostPs(pkt),
    },
    {
      newOp: (vm, flow) => ctx.hooks.newOp(vm, flow, flow % ctx.vms[vm]!.device!.queuePairs),
      complete: ctx.hooks.complete,
    },
    (pkt, atPs) => hostNet.toTap(pkt, atPs),
    ctx.addHostThread,
    ctx.streams.stream('host-peer/app'),
  );
  peer.stage = ctx.tracker.define('peer', 'host-peer');
  ctx.localPeer = peer;
  hostNet.localDelivery = (pkt, atPs) => peer.receive(pkt, atPs);
  addPeerFlows(ctx, 'host-peer', (vm, f, arrivals) => peer.addFlow(vm, f, arrivals));
  // (the generators start after the VMs' devices exist)
  ctx.afterStart.push(() => peer.start());
  ctx.onFinish.push((extra) => {
    extra['host-peer.messages'] = peer.messages;
  });
}

/** Creates the softirq threads (after the back-end threads, so those get the next cores). */
export function finishHostStack(stack: HostStack): void {
  (stack as HostStack & { finish: () => void }).finish();
}
