/**
 * The other end of the connection as a process on the host itself (netperf's netserver,
 * an iperf3 server or client on the host), reached through the tap and the host bridge
 * instead of the NIC and the wire: the usual set-up of KVM and Firecracker measurements
 * "between host and guest".
 *
 * One thread per flow (a netserver per connection), a host thread like any other: it
 * sleeps in recv and pays the host's wake-up; it competes for cores. Per message it makes
 * the syscalls and copies a socket application makes and runs the host TCP/IP stack
 * (the workload's peer_stack_ns for request/response, the guest's stack cost for streams:
 * the same kind of kernel on both ends) plus the bridge and tun
 * (hostnet.tx_per_pkt_ns) on the way back to the VM's tap.
 * - server (net-rr): receive the request, answer with the response after peer_app_ns.
 * - sink (net-tx): receive; the op completes when the data is in the application.
 * - generator (net-rx): send at the arrival process's times, or as fast as its core
 *   allows when saturating; a full tap drops the frame (tun's queue).
 */
import type { Rng } from '../../core/random.js';
import { Fifo } from '../../primitives/fifo.js';
import type { HostThread, ThreadOptions } from '../../primitives/host-cpu.js';
import { ArrivalProcess, type NetWorkloadSpec } from '../../workloads/net-common.js';
import { socketCostPs, type ActorEnv } from '../host/env.js';
import { copyBytesOf, unitsOf, type Packet, type PacketPort } from './messages.js';
import { SendWindow } from './send-window.js';

export interface LocalPeerCosts {
  syscallPs: number;
  /** Host TCP/IP stack per message per direction [ps]. */
  stackPs: number;
  /** tun + bridge toward the VM's tap, per frame [ps]. */
  hostTxPs: number;
  wakeupPs: number;
  /** Bulk TCP-like mode: the application's read/write size [bytes] (0: not that mode). */
  tcpMessageBytes: number;
  /** Extra work to put a packet into a VM's tap (segmenting what the guest cannot take merged) [ps]. */
  toTapCostPs: (pkt: Packet) => number;
}

export interface LocalPeerHooks {
  newOp(vm: number, flow: number): Packet | null;
  complete(pkt: Packet, atPs: number): void;
}

class LocalFlow {
  readonly inbox = new Fifo<Packet>();
  pkt: Packet | null = null;
  costPs = 0;
  isSaturating = false;
  /** Frames the generator has ready to send (arrivals not yet handled). */
  pendingSends = 0;
  /** Bulk TCP-like sender: ops in flight, and whether it waits for the window. */
  readonly window = new SendWindow();
  constructor(
    readonly peer: LocalPeer,
    readonly vm: number,
    readonly flow: number,
    readonly thread: HostThread,
    readonly arrivals: ArrivalProcess | null,
  ) {}
}

function stepDone(f: LocalFlow): void {
  f.peer.stepDone(f);
}

export class LocalPeer {
  private readonly flows: LocalFlow[] = [];
  private readonly mode: 'server' | 'sink' | 'generator';
  /** Workload figures read per message, hoisted from the spec. */
  private readonly flowsPerVm: number;
  private readonly hasPeerApp: boolean;
  /** Stage id of the peer's work (set by the harness). */
  stage = -1;
  messages = 0;

  constructor(
    private readonly env: ActorEnv,
    private readonly spec: NetWorkloadSpec,
    private readonly costs: LocalPeerCosts,
    private readonly hooks: LocalPeerHooks,
    /** Toward the VM: into its tap (tun's queue; dropped when full). */
    private readonly toTap: PacketPort,
    private readonly addThread: (options: Omit<ThreadOptions, 'core'>) => HostThread,
    private readonly rng: Rng,
  ) {
    this.mode = spec.kind === 'net-rr' ? 'server' : spec.kind === 'net-tx' ? 'sink' : 'generator';
    this.flowsPerVm = spec.flows;
    this.hasPeerApp = spec.peerApp.mean !== 0;
  }

  addFlow(vm: number, flow: number, arrivals: ArrivalProcess | null): void {
    const thread = this.addThread({ name: `host/peer-vm${vm}-f${flow}`, idleMode: 'sleep', wakeupPs: this.costs.wakeupPs });
    const f = new LocalFlow(this, vm, flow, thread, arrivals);
    f.window.limit = this.windowOpsValue;
    thread.onRun = () => this.loop(f);
    this.flows.push(f);
  }

  /** Threads start idle; generators start sending. */
  start(): void {
    for (const f of this.flows) {
      f.thread.cpu.start(f.thread);
      if (this.mode !== 'generator') continue;
      if (f.arrivals === null) {
        f.isSaturating = true;
        f.thread.wake();
      } else {
        const arrivals = f.arrivals;
        const gen = (): void => {
          f.pendingSends++;
          f.thread.wake();
          this.env.sim.at(Math.max(this.env.sim.nowPs, arrivals.next()), gen, undefined);
        };
        this.env.sim.at(arrivals.next(), gen, undefined);
      }
    }
  }

  /** Ops a bulk TCP-like flow may have in flight; Infinity otherwise. */
  get windowOps(): number {
    return this.windowOpsValue;
  }
  set windowOps(ops: number) {
    this.windowOpsValue = ops;
    for (const f of this.flows) f.window.limit = ops;
  }
  private windowOpsValue = Infinity;

  /** An op of (vm, flow) was delivered or lost: a window-limited sender may send again. */
  acked(vm: number, flow: number): void {
    const f = this.flows[vm * this.flowsPerVm + flow];
    if (f === undefined) return;
    if (f.window.release()) f.thread.wake();
  }

  /** A frame from a VM's back end reaches the host stack at atPs (bridge, local delivery). */
  receive(pkt: Packet, atPs: number): void {
    const f = this.flows[pkt.vm * this.flowsPerVm + pkt.flow]!;
    f.inbox.push(pkt);
    const now = this.env.sim.nowPs;
    f.thread.wake(atPs > now ? atPs - now : 0);
  }

  private loop(f: LocalFlow): void {
    const c = this.costs;
    const thread = f.thread;
    if (this.mode === 'generator') {
      if (!f.isSaturating && f.pendingSends === 0) {
        thread.idle();
        return;
      }
      if (!f.window.canSend()) {
        thread.idle(); // waits for the window to open
        return;
      }
      const pkt = this.hooks.newOp(f.vm, f.flow);
      if (pkt === null) {
        f.isSaturating = false;
        f.pendingSends = 0;
        thread.idle();
        return;
      }
      if (!f.isSaturating) f.pendingSends--;
      f.window.sent();
      f.pkt = pkt;
      if (pkt.frames > 1) pkt.isSegmented = false; // the host's stack sends it as one GSO packet
      // send(): syscall, copy into an skb, TCP/IP, bridge and tun toward the tap
      f.costPs = thread.jitter(this.socketPs(pkt, pkt.bytes) + c.stackPs + c.hostTxPs * unitsOf(pkt) + c.toTapCostPs(pkt));
      thread.exec(f.costPs, stepDone, f);
      return;
    }
    const pkt = f.inbox.shift();
    if (pkt === undefined) {
      thread.idle();
      return;
    }
    f.pkt = pkt;
    // recv(): syscall, copy to the application (its TCP/IP receive ran in the sender's
    // context: netif_rx raised the softirq there)
    let cost = this.socketPs(pkt, pkt.bytes);
    if (this.mode === 'server') {
      const app = this.hasPeerApp ? Math.round(this.spec.peerApp.sample(this.rng)) : 0;
      // the response: send(), TCP/IP, bridge and tun
      cost += app + this.socketPs(pkt, pkt.responseBytes) + c.stackPs + c.hostTxPs;
    }
    f.costPs = thread.jitter(cost);
    thread.exec(f.costPs, stepDone, f);
  }

  /** A send or recv of pkt: the syscalls (one per message of a bulk stream) and the copy [ps]. */
  private socketPs(pkt: Packet, bytes: number): number {
    const c = this.costs;
    if (pkt.payloadBytes > 0) return socketCostPs(this.env, pkt.payloadBytes, c.tcpMessageBytes, c.syscallPs);
    return c.syscallPs + this.env.copyPs(copyBytesOf(bytes));
  }

  /** @internal A message's work on the flow's thread is done. */
  stepDone(f: LocalFlow): void {
    const pkt = f.pkt!;
    f.pkt = null;
    this.messages++;
    const now = this.env.sim.nowPs;
    if (this.stage >= 0) this.env.tracker.markAt(pkt, this.stage, f.costPs, now);
    if (this.mode === 'sink') {
      this.hooks.complete(pkt, now);
    } else {
      if (this.mode === 'server') {
        pkt.isResponse = true;
        pkt.bytes = pkt.responseBytes;
      }
      this.toTap(pkt, now);
    }
    this.loop(f);
  }
}
