/**
 * The remote peer across the wire: a bare-metal host with its own NIC.
 *
 * - `server` (net-rr): per flow a server thread on its own core. A request's frame passes
 *   the peer NIC (pipeline, DMA write), interrupts the sleeping core (C-state exit), and
 *   the thread runs interrupt entry, receive stack, application and transmit stack, then
 *   posts the response; the NIC fetches it by DMA and the port sends it back.
 * - `sink` (net-tx): a traffic analyser; an op completes when its last bit arrives.
 * - `generator` (net-rx): a traffic generator (no CPU limit, like a hardware tester):
 *   frames leave at the arrival process's times, or back to back at line rate.
 */
import type { Rng } from '../core/random.js';
import { Fifo } from '../primitives/fifo.js';
import type { HostCpu, HostThread } from '../primitives/host-cpu.js';
import { ArrivalProcess, sampleFrameBytes, type NetWorkloadSpec } from '../workloads/net-common.js';
import type { ActorEnv } from './env.js';
import type { Packet, PacketPort } from './messages.js';
import { WirePort, type PortSource } from './nic.js';

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
  nextAllowedPs = 0;
  rateLimitGbps = 0;
  onSent: (pkt: Packet) => void = () => {};
}

interface PeerFlow {
  vm: number;
  flow: number;
  source: PeerSource;
  thread: HostThread | null;
  requests: Fifo<Packet>;
  fetching: Fifo<Packet>;
  lastReadyPs: number;
  arrivals: ArrivalProcess | null;
  isBusy: boolean;
  /** The request being served and its CPU time. */
  current: Packet | null;
  servicePs: number;
  afterServe: () => void;
}

function flowFetched(f: PeerFlow & { port: WirePort }): void {
  f.source.ready.push(f.fetching.shift()!);
  f.port.kick();
}

export class Peer {
  readonly port: WirePort;
  private readonly flows: (PeerFlow & { port: WirePort })[] = [];
  private readonly arriving = new Fifo<Packet>();
  private readonly arriveFn = (): void => this.requestArrived();
  /** Stage ids, set by the path. */
  stagePeer = -1;
  stageWire = -1;

  constructor(
    private readonly env: ActorEnv,
    private readonly cpu: HostCpu,
    private readonly spec: NetWorkloadSpec,
    private readonly costs: PeerCosts,
    private readonly hooks: PeerHooks,
    /** Toward the host NIC. */
    deliver: PacketPort,
    private readonly rng: Rng,
  ) {
    this.port = new WirePort(env.sim, 'peer/port', costs.lineRateGbps, costs.wireLatencyPs, deliver);
    this.modeValue = spec.kind === 'net-rr' ? 'server' : spec.kind === 'net-tx' ? 'sink' : 'generator';
  }

  get mode(): 'server' | 'sink' | 'generator' {
    return this.modeValue;
  }
  private readonly modeValue: 'server' | 'sink' | 'generator';

  /** Declares a flow (VM, flow index within the VM); ids are dense in declaration order. */
  addFlow(vm: number, flow: number, arrivals: ArrivalProcess | null): number {
    const id = this.flows.length;
    const source = new PeerSource();
    const f: PeerFlow & { port: WirePort } = {
      vm, flow, source, thread: null as HostThread | null, requests: new Fifo<Packet>(), fetching: new Fifo<Packet>(),
      lastReadyPs: 0, arrivals, isBusy: false, port: this.port, current: null, servicePs: 0, afterServe: () => {},
    };
    f.afterServe = () => this.respond(f);
    this.port.addSource(source);
    if (this.mode === 'server') {
      const t = this.cpu.addThread({ name: `peer/server${id}`, core: id, idleMode: 'sleep', wakeupPs: this.costs.idleExitPs, isHost: false });
      t.onRun = () => this.serve(f);
      f.thread = t;
      this.cpu.start(t);
    }
    if (this.mode === 'generator') {
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
    if (this.mode !== 'generator') return;
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

  private generate(f: PeerFlow & { port: WirePort }): void {
    const pkt = this.hooks.newOp(f.vm, f.flow);
    if (pkt === null) return;
    f.source.ready.push(pkt);
    this.port.kick();
  }

  /** A frame from the host arrives (last bit) at atPs. */
  receive(pkt: Packet, atPs: number): void {
    if (this.stageWire >= 0) this.env.tracker.markAt(pkt, this.stageWire, 0, atPs);
    if (this.mode === 'sink') {
      this.hooks.complete(pkt, atPs);
      return;
    }
    if (this.mode !== 'server') throw new Error('peer: a generator received a frame');
    const c = this.costs;
    const visiblePs = atPs + c.pipelinePs + c.dmaWritePs;
    const f = this.flows[this.flowIndex(pkt)]!;
    if (f.thread!.isIdle && f.requests.isEmpty) {
      // The server sleeps: it wakes when the frame is in memory (no arrival event needed).
      f.requests.push(pkt);
      f.thread!.wake(visiblePs - this.env.sim.nowPs);
      return;
    }
    this.arriving.push(pkt);
    this.env.sim.schedule(visiblePs - this.env.sim.nowPs, this.arriveFn, undefined);
  }

  private requestArrived(): void {
    const pkt = this.arriving.shift()!;
    const f = this.flows[this.flowIndex(pkt)]!;
    f.requests.push(pkt);
    f.thread!.wake();
  }

  private flowIndex(pkt: Packet): number {
    // flows are declared VM by VM, flow by flow
    return pkt.vm * this.spec.flows + pkt.flow;
  }

  private serve(f: PeerFlow & { port: WirePort }): void {
    const pkt = f.requests.shift();
    if (pkt === undefined) {
      f.thread!.idle();
      return;
    }
    const c = this.costs;
    const t = f.thread!;
    const app = this.spec.peerApp.mean === 0 ? 0 : Math.round(this.spec.peerApp.sample(this.rng));
    const cpuPs = t.jitter(c.irqPs + c.rxPs + this.spec.peerStackPs) + app + t.jitter(this.spec.peerStackPs + c.xmitPs) + c.doorbellPs;
    f.current = pkt;
    f.servicePs = cpuPs;
    t.exec(cpuPs, f.afterServe, undefined);
  }

  private respond(f: PeerFlow & { port: WirePort }): void {
    const pkt = f.current!;
    f.current = null;
    if (this.stagePeer >= 0) this.env.tracker.mark(pkt, this.stagePeer, f.servicePs);
    pkt.isResponse = true;
    pkt.bytes = pkt.responseBytes;
    const c = this.costs;
    const now = this.env.sim.nowPs;
    let readyPs = now + 2 * c.dmaReadPs + Math.round((Math.max(0, pkt.bytes - 64) / 1024) * c.dmaReadPsPerKib) + c.pipelinePs;
    if (readyPs < f.lastReadyPs) readyPs = f.lastReadyPs;
    f.lastReadyPs = readyPs;
    if (f.fetching.isEmpty && this.port.canReserve) {
      this.port.reserve(f.source, pkt, readyPs);
      this.serve(f);
      return;
    }
    f.fetching.push(pkt);
    this.env.sim.schedule(readyPs - now, flowFetched, f);
    this.serve(f);
  }

  /** Frame size for the generator's next op [bytes]. */
  frameBytes(): number {
    return sampleFrameBytes(this.spec.frameBytes, this.rng);
  }
}
