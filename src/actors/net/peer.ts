/**
 * The remote peer across the wire: a bare-metal host with its own NIC.
 *
 * - `server` (net-rr): per flow a server on its own core. A request's frame passes the
 *   peer NIC (pipeline, DMA write), interrupts the core (a C-state exit if it was idle),
 *   and the server runs interrupt entry, receive stack, application and transmit stack,
 *   then posts the response; the NIC fetches it by DMA and the port sends it back.
 *   Requests of a flow are served one after the other. The peer is outside the system
 *   under test, so its server is a single-server queue computed when the request
 *   arrives (its busy-until time), not a thread: the times are the same and it costs no
 *   event.
 * - `sink` (net-tx): a traffic analyser; an op completes when its last bit arrives.
 * - `generator` (net-rx): a traffic generator (no CPU limit, like a hardware tester):
 *   frames leave at the arrival process's times, or back to back at line rate.
 * - `loop` (net-pvp): a generator that also receives its frames back (TRex in CSIT); an
 *   op completes when it returns, plus the tester's own timestamping latency
 *   (peer.tester_latency_ns).
 */
import type { Rng } from '../../core/random.js';
import { AS_DOUBLE } from '../../core/time.js';
import { Fifo } from '../../primitives/fifo.js';
import { ArrivalProcess, sampleFrameBytes, type NetWorkloadSpec } from '../../workloads/net-common.js';
import type { ActorEnv } from '../host/env.js';
import type { Packet, PacketPort } from './messages.js';
import { WirePort, type PortSource } from './nic.js';
import { SendWindow } from './send-window.js';
import { idleGovernorFor, type IdleGovernor, type IdleState } from '../../primitives/idle-governor.js';

export interface PeerCosts {
  lineRateGbps: number;
  wireLatencyPs: number;
  pipelinePs: number;
  dmaReadPs: number;
  dmaReadPsPerKib: number;
  dmaWritePs: number;
  doorbellPs: number;
  irqPs: number;
  xmitPs: number;
  rxPs: number;
  idleExitPs: number;
  /** The peer core's idle states (its C-state choice works like the host's). */
  idleStates: readonly IdleState[];
  /** Extra time after a cache-flushing idle state [ps]. */
  coldCachePs: number;
  /** A software tester's timestamping latency, added to what it measures [ps]. */
  testerLatencyPs: number;
}

/** What the peer needs from the run: new ops (generator) and their completion. */
export interface PeerHooks {
  /** Creates the next op of a flow (generator mode); null when the run has enough. */
  newOp(vm: number, flow: number): Packet | null;
  /** An op completed at atPs. */
  complete(pkt: Packet, atPs: number): void;
}

class PeerSource implements PortSource {
  readonly ready = new Fifo<Packet>();
  needsSentEvent = false;
  nextAllowedPs = AS_DOUBLE;
  rateLimitGbps = 0;
  onSent: (pkt: Packet) => void = () => {};
  constructor() {
    this.nextAllowedPs = 0;
  }
}

interface PeerFlow {
  vm: number;
  flow: number;
  source: PeerSource;
  arrivals: ArrivalProcess | null;
  /** The server is busy until then [ps]. */
  busyUntilPs: number;
  /** xorshift32 state for cost jitter (a typed array: the 32-bit state is never boxed). */
  jitterBits: Int32Array;
  /** The server core's idle-state choice (null: C1 only). */
  governor: IdleGovernor | null;
  /** Bulk TCP-like sender: its window (ops in flight, and whether it waits for the window to open). */
  window: SendWindow;
}

export class Peer {
  readonly port: WirePort;
  private readonly flows: PeerFlow[] = [];
  private readonly jitterSpread: number;
  /** Workload figures read per request, hoisted from the spec. */
  private readonly flowsPerVm: number;
  private readonly peerStackPs: number;
  private readonly hasPeerApp: boolean;
  /** Stage ids, set by the path. */
  stagePeer = -1;
  stageWire = -1;

  constructor(
    private readonly env: ActorEnv,
    jitterCv: number,
    private readonly spec: NetWorkloadSpec,
    private readonly costs: PeerCosts,
    private readonly hooks: PeerHooks,
    /** Toward the host NIC. */
    deliver: PacketPort,
    private readonly rng: Rng,
  ) {
    this.port = new WirePort(env.sim, 'peer/port', costs.lineRateGbps, costs.wireLatencyPs, deliver);
    this.modeValue = spec.kind === 'net-rr' ? 'server' : spec.kind === 'net-tx' ? 'sink' : spec.kind === 'net-pvp' ? 'loop' : 'generator';
    this.jitterSpread = jitterCv * Math.sqrt(3);
    this.flowsPerVm = spec.flows;
    this.peerStackPs = spec.peerStackPs;
    this.hasPeerApp = spec.peerApp.mean !== 0;
  }

  private jitter(f: PeerFlow, ps: number): number {
    if (this.jitterSpread === 0) return ps;
    const bits = f.jitterBits;
    let x = bits[0]!;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bits[0] = x;
    return Math.round(ps * (1 + this.jitterSpread * (2 * ((x >>> 0) / 4294967296) - 1)));
  }

  get mode(): 'server' | 'sink' | 'generator' | 'loop' {
    return this.modeValue;
  }
  private readonly modeValue: 'server' | 'sink' | 'generator' | 'loop';

  /** Declares a flow (VM, flow index within the VM); ids are dense in declaration order. */
  addFlow(vm: number, flow: number, arrivals: ArrivalProcess | null): number {
    const id = this.flows.length;
    const source = new PeerSource();
    const governor = idleGovernorFor(this.costs.idleStates, this.costs.coldCachePs);
    const f: PeerFlow = { vm, flow, source, arrivals, busyUntilPs: AS_DOUBLE, jitterBits: new Int32Array(1), governor, window: new SendWindow() };
    f.window.limit = this.windowOpsValue;
    // a double from the start (times pass 2^31 ps): no representation change later
    f.busyUntilPs = 0;
    f.jitterBits[0] = Math.floor(this.rng() * 0xffffffff) | 1;
    this.port.addSource(source);
    if (this.mode === 'generator' || this.mode === 'loop') {
      source.needsSentEvent = true;
      source.onSent = () => {
        if (f.arrivals === null) this.generate(f); // saturating: the next frame right behind
      };
    }
    this.flows.push(f);
    return id;
  }

  /** Starts the generators (call once after wiring). */
  start(): void {
    if (this.mode !== 'generator' && this.mode !== 'loop') return;
    for (const f of this.flows) {
      if (f.arrivals === null) {
        this.generate(f);
      } else {
        const gen = (): void => {
          this.generate(f);
          this.env.sim.at(Math.max(this.env.sim.nowPs, f.arrivals!.next()), gen, undefined);
        };
        this.env.sim.at(f.arrivals.next(), gen, undefined);
      }
    }
  }

  /** Ops a bulk TCP-like flow may have in flight (its window); Infinity otherwise. */
  get windowOps(): number {
    return this.windowOpsValue;
  }
  set windowOps(ops: number) {
    this.windowOpsValue = ops;
    for (const f of this.flows) f.window.limit = ops;
  }
  private windowOpsValue = Infinity;

  /** An op of (vm, flow) was delivered or lost: a window-limited flow may send again. */
  acked(vm: number, flow: number): void {
    const f = this.flows[vm * this.flowsPerVm + flow];
    if (f === undefined) return;
    if (f.window.release()) this.generate(f);
  }

  private generate(f: PeerFlow): void {
    if (!f.window.canSend()) return; // waits for the window to open
    const pkt = this.hooks.newOp(f.vm, f.flow);
    if (pkt === null) return;
    f.window.sent();
    f.source.ready.push(pkt);
    this.port.kick();
  }

  /** A frame from the host arrives (last bit) at atPs. */
  receive(pkt: Packet, atPs: number): void {
    if (this.stageWire >= 0) this.env.tracker.markAt(pkt, this.stageWire, 0, atPs);
    const mode = this.modeValue;
    if (mode === 'sink') {
      this.hooks.complete(pkt, atPs);
      return;
    }
    if (mode === 'loop') {
      const at = atPs + this.costs.testerLatencyPs;
      if (this.stagePeer >= 0) this.env.tracker.markAt(pkt, this.stagePeer, 0, at);
      this.hooks.complete(pkt, at);
      return;
    }
    if (mode !== 'server') throw new Error('peer: a generator received a frame');
    const c = this.costs;
    const f = this.flows[pkt.vm * this.flowsPerVm + pkt.flow]!; // flows are declared VM by VM
    const visiblePs = atPs + c.pipelinePs + c.dmaWritePs;
    // an idle core leaves its C-state first; a busy server takes the request after the last
    let startPs: number;
    if (visiblePs >= f.busyUntilPs) {
      startPs = visiblePs + c.idleExitPs;
      const g = f.governor;
      if (g !== null) {
        g.enter(f.busyUntilPs);
        startPs += g.exit(visiblePs);
      }
    } else {
      startPs = f.busyUntilPs;
    }
    const app = this.hasPeerApp ? Math.round(this.spec.peerApp.sample(this.rng)) : 0;
    const cpuPs = this.jitter(f, c.irqPs + c.rxPs + this.peerStackPs) + app + this.jitter(f, this.peerStackPs + c.xmitPs) + c.doorbellPs;
    const endPs = startPs + cpuPs;
    f.busyUntilPs = endPs;
    if (this.stagePeer >= 0) this.env.tracker.markAt(pkt, this.stagePeer, cpuPs, endPs);
    pkt.isResponse = true;
    pkt.bytes = pkt.responseBytes;
    const readyPs = endPs + 2 * c.dmaReadPs + Math.round((Math.max(0, pkt.bytes - 64) / 1024) * c.dmaReadPsPerKib) + c.pipelinePs;
    // the peer's port carries responses only, in the order they are computed
    this.port.reserve(f.source, pkt, readyPs);
  }

  /**
   * TCP sends a response again (its frame was lost and the server's retransmission timer
   * fired): the stack's transmit and the NIC's fetch, from now (the timer's softirq; the
   * server's queue is not charged).
   */
  resend(pkt: Packet): void {
    const c = this.costs;
    const f = this.flows[pkt.vm * this.flowsPerVm + pkt.flow]!;
    const readyPs = this.env.sim.nowPs + c.xmitPs + c.doorbellPs + 2 * c.dmaReadPs + Math.round((Math.max(0, pkt.bytes - 64) / 1024) * c.dmaReadPsPerKib) + c.pipelinePs;
    this.port.reserve(f.source, pkt, readyPs);
  }

  /** Frame size for the generator's next op [bytes]. */
  frameBytes(): number {
    return sampleFrameBytes(this.spec.frameBytes, this.rng);
  }
}
