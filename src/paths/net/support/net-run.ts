/**
 * The run harness every network path shares. It builds what all paths have in common
 * (simulator, counters, stage tracker, host CPU with thread placement, the host NIC, the
 * wire, the peer, the VMs' vCPUs and applications), lets the path wire its own device,
 * back end and interrupt plumbing (NetPathDef.build), runs until `warmup_ops + ops`
 * ops have finished, and assembles the RunResult.
 *
 * Ops: the first warmup_ops finished ops (completed or dropped) are discarded; counters
 * and CPU accounting restart when the measurement window opens, and the per-op ratios
 * of the summary are window counts over ops completed in the window.
 */
import { bool, num, psOf, str, type ParamValues } from '../../../calibration/param.js';
import type { RandomStreams, Rng } from '../../../core/random.js';
import type { Simulator } from '../../../core/simulator.js';
import { PS_PER_S, type TimePs } from '../../../core/time.js';
import type { ActorEnv } from '../../../actors/host/env.js';
import { GuestApp, type NetDevice, type OpHooks } from '../../../actors/net/guest-app.js';
import type { GuestVcpu } from '../../../actors/host/guest-vcpu.js';
import type { Packet } from '../../../actors/net/messages.js';
import { Nic } from '../../../actors/net/nic.js';
import { Peer } from '../../../actors/net/peer.js';
import type { LocalPeer } from '../../../actors/net/local-peer.js';
import type { Counters } from '../../../metrics/counters.js';
import type { RunResult } from '../../../metrics/run-result.js';
import type { HostCpu, HostThread, ThreadOptions } from '../../../primitives/host-cpu.js';
import type { StageTracker } from '../../../primitives/stage-tracker.js';
import { InputError } from '../../../util/input-error.js';
import { toNetSpec, type WorkloadInput } from '../../../workloads/index.js';
import { ArrivalProcess, type NetWorkloadSpec } from '../../../workloads/net-common.js';
import type { PathModel, PathRunInput } from '../../index.js';
import { buildHostRun, checkHostInput, type HostRun, type HostVm } from '../../host-run.js';
import type { Timeline } from '../../../timeline/timeline.js';
import type { TimelineRecorder } from '../../../metrics/timeline-recorder.js';
import { gsoPayloadBytes, nicCosts, peerCosts, resolveOffloads, type Offloads } from './costs.js';
import { OpLedger } from './op-ledger.js';
import { netFaultsOf, wireNetFaults } from './faults.js';
import { migrationStreamOnNic } from './migration-stream.js';
import { runToEnd } from '../../../util/run-progress.js';
import { TIMELINE_STALL_S, timelineResult, wireTimeline } from '../../timeline-run.js';
import { qemuMigrationParts, registerMigration, type MigrationParts } from '../../migration-run.js';
import { TraceCollector } from '../../../metrics/trace-collector.js';

/** One VM of the run. */
export interface VmContext extends HostVm {
  /** Set by the path: the guest's network device (null in net-pvp: the guest forwards, no application). */
  device: NetDevice | null;
  /** Set by the path in net-pvp: the guest's polling forwarder. */
  forwarder: unknown;
  app: GuestApp | null;
}

/** Extra run details for tests and reports (not written to the CSV files). */
export interface NetRunDetails {
  opsCreated: number;
  opsCompletedTotal: number;
  opsDroppedTotal: number;
  /** Ops that finished after the run had its count (same event), not counted above. */
  opsFinishedAfterStop: number;
  /** Calls of the drop port (every drop point reports through it). */
  dropReports: number;
  duplicateCompletions: number;
  backwardMarks: number;
  /** Per-VM ops completed and frame bytes in the measurement window. */
  perVm: { opsCompleted: number; bytesCompleted: number }[];
  /** Ops completed in the window per flow, VM by VM (vm * flows + flow). */
  perFlow: number[];
  /** Anything the path wants to expose (ring statistics, drops by point). */
  extra: Record<string, number>;
  /** Invariant violations found by the path's own checks. */
  violations: string[];
}

export interface NetRunResult extends RunResult {
  details: NetRunDetails;
}

export interface NetContext {
  sim: Simulator;
  env: ActorEnv;
  params: ParamValues;
  spec: NetWorkloadSpec;
  counters: Counters;
  tracker: StageTracker;
  cpu: HostCpu;
  streams: RandomStreams;
  vms: VmContext[];
  nic: Nic;
  peer: Peer;
  queuePairs: number;
  vcpusPerVm: number;
  hooks: OpHooks;
  /** Creates a host thread, placing it on a core (host.pinning, host.cores). */
  addHostThread(options: Omit<ThreadOptions, 'core'>): HostThread;
  /** A dropped packet of VM vm (closed-loop clients reopen the transaction). */
  drop(pkt: Packet, atPs: TimePs): void;
  /** An op lost to a timeline fault (a stream's frame in an outage): dropped, and counted as lost. */
  loseOp(pkt: Packet, atPs: TimePs): void;
  /** Run-end statistics the path adds to details.extra. */
  onFinish: ((extra: Record<string, number>, violations: string[]) => void)[];
  /** The peer is a process on this host (peer.location host), not across the wire. */
  isLocalPeer: boolean;
  /** Offloads in effect (bulk TCP-like streams): see resolveOffloads. */
  offloads: Offloads;
  /** The host-local peer, when peer.location is host (set by the host stack). */
  localPeer: LocalPeer | null;
  /** Called after the applications have started (a host-local peer's generators). */
  afterStart: (() => void)[];
  /** Threads to start at time 0 (back ends); vCPUs and the peer are started by the harness. */
  starters: (() => void)[];
  /** vCPU of a queue pair's interrupts / of a flow (same mapping). */
  vcpuOfQueue(vm: VmContext, q: number): GuestVcpu;
  /** The run's timeline (register the actions the path can do with timeline.on) and recorder; null without one. */
  timeline: Timeline | null;
  recorder: TimelineRecorder | null;
  /** The shared host parts (simulator, CPU, VMs). */
  host: HostRun;
  /** What the path adds to a live migration (its build sets the fields it has). */
  migration: MigrationParts;
}

export interface NetPathDef {
  name: string;
  description: string;
  /** Guests run under KVM (false: bare metal). */
  isVirtual: boolean;
  /** Its back end hands frames to the host stack (tap, bridge): a host-local peer is possible. */
  hasHostStack?: boolean;
  /** The workloads it runs (default: net-rr, net-tx, net-rx). */
  workloads?: readonly string[];
  /**
   * What the guest's device offers: segmentation of the guest's TSO packets, and delivery
   * of merged packets to the guest (virtio GUEST_TSO). Default: neither.
   */
  offloads?(p: ParamValues): { tso: boolean; guestTso: boolean };
  /** Checks parameter combinations; throws InputError naming the parameter. */
  validate?(p: ParamValues, spec: NetWorkloadSpec): void;
  /** Wires the path: devices, back ends, NIC functions and receive routing. */
  build(ctx: NetContext): void;
}

export const NET_WORKLOADS = ['net-rr', 'net-tx', 'net-rx'] as const;

/** Wraps a path definition as a registry PathModel. */
export function netPath(def: NetPathDef): PathModel {
  return {
    name: def.name,
    description: def.description,
    workloads: def.workloads ?? NET_WORKLOADS,
    check: (params, workload) => {
      checkNetInput(def, params, workload);
    },
    setUp: (input) => {
      setUpNetRun(def, input);
    },
    run: (input) => runNetPath(def, input),
  };
}

/**
 * The set-up checks of a network path, shared by PathModel.check (plan time) and the run:
 * the workload kind, VMs on bare metal, the path's own validate() and host.pinning.
 */
function checkNetInput(def: NetPathDef, p: ParamValues, workload: WorkloadInput): NetWorkloadSpec {
  const spec = toNetSpec(workload);
  const kinds = def.workloads ?? NET_WORKLOADS;
  if (!spec || !kinds.includes(spec.kind)) throw new InputError(`workload.kind: path ${def.name} runs ${kinds.join(', ')}, not ${workload.kind}`);
  checkHostInput(p, def.isVirtual);
  def.validate?.(p, spec);
  if (str(p, 'peer.location') === 'host' && !def.hasHostStack) {
    throw new InputError(
      `params.peer.location: "host" needs a path whose back end hands frames to the host stack (virtio-qemu, vhost-kernel, emulated, emulated-vmm); ${def.name} does not (use remote)`,
    );
  }
  return spec;
}

export function runNetPath(def: NetPathDef, input: PathRunInput): NetRunResult {
  return setUpNetRun(def, input)();
}

/**
 * Builds a run (actors, threads, first events) without simulating; returns what simulates
 * it and assembles its result. Planning calls it alone, so that a set-up error is bad input
 * found before any task runs (scenario/setup-check.ts).
 */
export function setUpNetRun(def: NetPathDef, input: PathRunInput): () => NetRunResult {
  const p = input.params;
  const spec = checkNetInput(def, p, input.workload);
  const vmCount = num(p, 'host.vms');
  const vcpusPerVm = num(p, 'vm.vcpus');
  const queuePairs = num(p, 'vm.queue_pairs');

  const host = buildHostRun(p, input.seed, input.replication, {
    isVirtual: def.isVirtual,
    isExplained: input.isExplained === true,
    timeline: input.timeline,
    // a guest running a DPDK forwarder (net-pvp) polls and never halts
    vcpusPoll: spec.kind === 'net-pvp',
    pollPickupPs: spec.kind === 'net-pvp' ? Math.round(psOf(p, 'dpdk.poll_iter_ns') / 2) : Math.round(psOf(p, 'kvm.exit_light_ns') / 2),
  });
  const { sim, streams, counters, tracker, env, exits, cpu, addHostThread } = host;

  // ---- op accounting
  const ledger = new OpLedger(sim, tracker, spec, vmCount, streams.stream('workload/sizes'));
  const offloads = resolveOffloads(def, p);
  if (spec.tcp !== null) {
    const mss = spec.tcp.mssBytes;
    const gsoPayload = gsoPayloadBytes(mss);
    // the guest sends 64 KiB packets with TSO or GSO, MSS-sized ones without; the peer
    // (a bare-metal sender with TSO) sends 64 KiB packets as trains of frames
    if (spec.kind === 'net-tx') ledger.setTcpSegment(offloads.isGuestAggregating ? gsoPayload : mss, mss, false);
    else ledger.setTcpSegment(gsoPayload, mss, true);
  }
  const appRng = streams.stream('workload/app');
  let dropCalls = 0;
  let guestIrqsAtStart = 0;
  const guestIrqs = host.guestIrqs;
  ledger.onWindowStart = () => {
    guestIrqsAtStart = guestIrqs();
    counters.reset();
    exits.reset();
    cpu.resetStats();
  };
  // A bulk TCP-like stream is window-limited: a delivered (or lost) op opens the sender's
  // window again (the ACK's own trip is not modelled).
  const isTcp = spec.tcp !== null;
  const ack = (pkt: Packet): void => {
    if (spec.kind === 'net-tx') vms[pkt.vm]?.app?.acked(pkt.flow);
    else peerAck?.(pkt.vm, pkt.flow);
  };
  let peerAck: ((vm: number, flow: number) => void) | null = null;
  const hooks: OpHooks = {
    newOp: (vm, flow, queue) => ledger.newOp(vm, flow, queue),
    complete: isTcp
      ? (pkt, atPs) => {
          ack(pkt);
          ledger.finish(pkt, atPs, true);
        }
      : (pkt, atPs) => ledger.finish(pkt, atPs, true),
    drop: isTcp
      ? (pkt, atPs) => {
          ack(pkt);
          ledger.finish(pkt, atPs, false);
        }
      : (pkt, atPs) => ledger.finish(pkt, atPs, false),
  };
  /** An op lost to a timeline fault: it ends as dropped, counted as lost (ops_lost) by the timeline. */
  const loseOp = (pkt: Packet, atPs: number): void => {
    if (isTcp) ack(pkt);
    ledger.finish(pkt, atPs, false, true);
  };

  // ---- host NIC, wire and peer
  let peer: Peer | null = null;
  const nic = new Nic(env, 'nic', nicCosts(p), psOf(p, 'wire.latency_ns'), (pkt, atPs) => peer!.receive(pkt, atPs));
  peer = new Peer(env, num(p, 'host.jitter_cv'), spec, peerCosts(p), {
    newOp: (vm, flow) => hooks.newOp(vm, flow, flow % (vms[vm]!.device?.queuePairs ?? queuePairs)),
    complete: hooks.complete,
  }, (pkt, atPs) => nic.receive(pkt, atPs), streams.stream('peer/app'));

  const vms: VmContext[] = host.vms.map((vm) => ({ ...vm, device: null, forwarder: null, app: null }));

  const onFinish: NetContext['onFinish'] = [];
  const starters: NetContext['starters'] = [];
  const afterStart: NetContext['afterStart'] = [];
  const isLocalPeer = str(p, 'peer.location') === 'host';
  const ctx: NetContext = {
    sim, env, params: p, spec, counters, tracker, cpu, streams, vms, nic, peer, queuePairs, vcpusPerVm, hooks,
    addHostThread,
    drop: (pkt, atPs) => {
      dropCalls++;
      const app = vms[pkt.vm]?.app;
      if (app) app.lost(pkt, atPs);
      else hooks.drop(pkt, atPs);
    },
    loseOp,
    onFinish,
    starters,
    afterStart,
    isLocalPeer,
    offloads,
    localPeer: null,
    vcpuOfQueue: (vm, q) => vm.vcpus[q % vm.vcpus.length]!,
    timeline: host.timeline,
    recorder: host.recorder,
    host,
    migration: qemuMigrationParts(netIoPagesPerOp(spec), RX_RING_BUFFERS * queuePairs * vmCount * netIoPagesPerOp(spec)),
  };
  const wireOut = tracker.define('wire', 'wire');
  peer.stageWire = wireOut;
  peer.stagePeer = tracker.define('peer', 'peer');
  nic.wireStage = tracker.define('wire', 'wire');

  def.build(ctx);
  if (ctx.timeline !== null) wireNetFaults(ctx);

  for (const vm of vms) {
    if (spec.kind === 'net-pvp') {
      if (vm.forwarder === null) throw new Error(`path ${def.name} built no forwarder for ${vm.name}`);
      continue;
    }
    if (vm.device === null) throw new Error(`path ${def.name} built no device for ${vm.name}`);
    const app = new GuestApp(env, vm.index, spec, vm.device, (f) => ctx.vcpuOfQueue(vm, f), hooks, appRng);
    // qdisc drops go through the drop port, like every other drop point
    app.onDrop = ctx.drop;
    vm.app = app;
    onFinish.push((extra) => {
      extra[`${vm.name}/guest.qdisc_drops`] = app.qdiscDrops;
      extra[`${vm.name}/guest.max_backlog`] = app.maxBacklog();
    });
  }
  // the windows of bulk TCP-like flows, in ops of the stream's packet size
  if (spec.tcp !== null) {
    const windowOps = Math.max(1, Math.floor(spec.tcp.windowBytes / ledger.tcpPayloadBytes));
    for (const vm of vms) if (vm.app !== null) vm.app.windowOps = windowOps;
    peer.windowOps = windowOps;
    if (ctx.localPeer !== null) ctx.localPeer.windowOps = windowOps;
    const local = ctx.localPeer;
    peerAck = local !== null ? (vm, flow) => local.acked(vm, flow) : (vm, flow) => peer.acked(vm, flow);
  }
  if (!isLocalPeer) addPeerFlows(ctx, 'peer', (vm, f, arrivals) => peer.addFlow(vm, f, arrivals)); // (else the host stack made its own peer)

  // a run in which no op has ended for a minute of simulated time is stuck: other
  // tenants' threads stop so that it ends with its error
  const STALL_PS = (host.timeline !== null ? TIMELINE_STALL_S : 60) * PS_PER_S;
  cpu.isAlive = () => sim.nowPs - ledger.lastFinishPs < STALL_PS;

  if (def.isVirtual && host.timeline?.actions().has('migrate') === true) {
    const parts = ctx.migration;
    if (!isLocalPeer) {
      // from the stop to the resume the VM is on neither host for the network: frames to
      // and from it are lost (its TCP retransmits them after the switch)
      const faults = netFaultsOf(ctx);
      faults.wireGate();
      const { onStop, onResume } = parts;
      parts.onStop = () => {
        faults.stopVm(0);
        onStop?.();
      };
      parts.onResume = () => {
        faults.resumeVm(0);
        onResume?.();
      };
    }
    if (str(p, 'migration.link') === 'host-nic') {
      if (isLocalPeer) parts.blocker = 'migration.link host-nic puts the stream on the host NIC, and with peer.location host the guest\'s traffic never reaches it; use migration.link dedicated';
      else parts.send = migrationStreamOnNic(ctx);
    }
  }
  if (def.isVirtual) registerMigration(host, p, ctx.migration);
  else host.timeline?.refuse('migrate', 'bare metal has no VM to migrate');
  // every action's handler is registered by now (the path's build, the harness's own)
  const startTimeline = wireTimeline(host, ledger, def.name, spec.kind);

  // last before the first op begins: every stage, thread and ring exists
  const trace = input.trace ? new TraceCollector(tracker, cpu, sim, spec.warmupOps, spec.ops, input.trace, `${def.name} ${spec.kind} seed ${input.seed} replication ${input.replication}`) : null;
  tracker.observer = trace;

  host.start();
  for (const s of starters) s();
  for (const vm of vms) vm.app?.start();
  peer.start();
  for (const s of afterStart) s();
  startTimeline?.();
  if (ledger.isMeasuring) ledger.startMeasuring();

  return (): NetRunResult => {
    runToEnd(sim, () => ledger.finished);
    if (!ledger.isDone) {
      throw new Error(
        `path ${def.name}: the run stopped after ${ledger.finished} of ${spec.warmupOps + spec.ops} ops with no events left (a lost wake-up or a stuck ring)`,
      );
    }

    // ---- results
    const windowPs = sim.nowPs - ledger.windowStartPs;
    exits.flushInto(counters);
    const extra: Record<string, number> = {};
    const violations: string[] = [];
    for (const f of onFinish) f(extra, violations);
    extra['guest.interrupts_taken'] = guestIrqs() - guestIrqsAtStart;
    host.addExtra(extra);
    extra['nic.rx_drops'] = nic.functions.reduce((s, fn) => s + fn.queues.reduce((a, q) => a + q.rxDrops, 0), 0);
    extra['nic.port_busy_fraction'] = windowPs > 0 ? nic.port.busyPs / sim.nowPs : 0;
    return {
      opsCompleted: ledger.completed,
      opsDropped: ledger.dropped,
      windowPs,
      bytesCompleted: ledger.bytesCompleted,
      latency: ledger.latency,
      counters,
      hostCpuCores: cpu.hostCores(),
      stages: tracker.rows(ledger.completed),
      cpu: cpu.rows(),
      eventsProcessed: sim.eventsProcessed,
      ...(trace ? { trace: trace.render() } : {}),
      ...timelineResult(host),
      details: {
        opsCreated: ledger.created,
        opsCompletedTotal: ledger.completedTotal,
        opsDroppedTotal: ledger.droppedTotal,
        opsFinishedAfterStop: ledger.afterStop,
        dropReports: dropCalls,
        duplicateCompletions: ledger.duplicates,
        backwardMarks: tracker.backwardMarks,
        perVm: ledger.perVm,
        perFlow: Array.from(ledger.perFlowOps),
        extra,
        violations,
      },
    };
  };
}

/**
 * A peer's flows, one per (VM, flow), each with its arrival process when the peer
 * generates an open-loop stream (net-rx, net-pvp), drawn from `${prefix}/arrivals/vm/flow`.
 */
export function addPeerFlows(ctx: NetContext, prefix: string, addFlow: (vm: number, flow: number, arrivals: ArrivalProcess | null) => void): void {
  const spec = ctx.spec;
  const a = spec.arrival;
  const isOpen = (spec.kind === 'net-rx' || spec.kind === 'net-pvp') && a.kind !== 'closed' && a.kind !== 'saturate';
  for (const vm of ctx.vms) {
    for (let f = 0; f < spec.flows; f++) {
      addFlow(vm.index, f, isOpen ? new ArrivalProcess(a, ctx.streams.stream(`${prefix}/arrivals/${vm.index}/${f}`), 1 / spec.flows) : null);
    }
  }
}

/** A random stream for an actor of the path. */
export function streamOf(ctx: NetContext, name: string): Rng {
  return ctx.streams.stream(name);
}

export { bool, num, str };

/** Receive buffers a queue keeps posted (a virtio ring of 256): the pool the frames land in again and again. */
const RX_RING_BUFFERS = 256;

/**
 * Guest pages the network I/O writes per op (a migration's dirty pages): a received frame's
 * buffer pages and its used-ring element; a sent one writes only the used ring.
 */
function netIoPagesPerOp(spec: NetWorkloadSpec): number {
  const pages = (bytes: number): number => Math.ceil(bytes / 4096);
  if (spec.kind === 'net-tx') return 1;
  if (spec.kind === 'net-rr') return pages(spec.responseBytes.mean) + 1;
  // a bulk TCP-like op is one GSO packet of up to 64 KiB
  return pages(spec.tcp !== null ? Math.min(65536, spec.tcp.windowBytes) : spec.frameBytes.mean) + 1;
}
