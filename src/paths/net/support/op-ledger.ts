/**
 * The ops of a network run: it creates each op's packet (recycled from finished ops),
 * records each op's end exactly once (completed or dropped), discards the first
 * warm-up ops, opens the measurement window, and stops the simulation when the window
 * has its ops.
 *
 * A class rather than closures over `let` variables: the harness calls newOp and
 * finish once per op, and V8 compiles a captured `let` as a context slot with a
 * not-yet-initialized check at every access and no type of its own (a counter is
 * re-checked as a small integer at every increment), where a field has a known
 * representation. (finish: 1,131 instructions per vhost-user request as a closure,
 * 1,056 here; most of it is the stage tracker's sum and the latency record.)
 */
import type { Rng } from '../../../core/random.js';
import type { Simulator } from '../../../core/simulator.js';
import { AS_DOUBLE } from '../../../core/time.js';
import { Packet, TCP_FRAME_OVERHEAD_BYTES } from '../../../actors/net/messages.js';
import { LatencyRecorder } from '../../../metrics/latency-recorder.js';
import type { StageTracker } from '../../../primitives/stage-tracker.js';
import { fixedFrameBytes, sampleFrameBytes, type NetWorkloadSpec } from '../../../workloads/net-common.js';

export class OpLedger {
  /** Latencies of the ops completed in the window. */
  readonly latency = new LatencyRecorder();
  /** Per-VM ops completed and frame bytes in the window. */
  readonly perVm: { opsCompleted: number; bytesCompleted: number }[];
  /** Ops completed in the window per flow, VM by VM (index vm * flows + flow): fairness checks. */
  readonly perFlowOps: Float64Array;
  /** Ops created; finished (completed or dropped) before the stop, and how. */
  created = 0;
  finished = 0;
  completedTotal = 0;
  droppedTotal = 0;
  /** Ends reported twice for one op (a modelling bug if non-zero). */
  duplicates = 0;
  /** Ops that ended after the run had its count (same event), not counted above. */
  afterStop = 0;
  /** Ops ended in the window: all, completed, dropped; frame bytes of the completed. */
  measuredFinished = 0;
  completed = 0;
  dropped = 0;
  bytesCompleted = AS_DOUBLE;
  isMeasuring: boolean;
  /** Start of the measurement window [ps]. */
  windowStartPs = AS_DOUBLE;
  /** When the last op ended [ps]. */
  lastFinishPs = AS_DOUBLE;
  /** Called when the window opens (the harness resets its counters). */
  onWindowStart: () => void = () => {};
  /** Told of every counted end (warm-up included): a run with a timeline records it over time. */
  observer: ((atPs: number, latencyPs: number, isCompleted: boolean, finished: number, isLost: boolean) => void) | null = null;

  /** 1 per op id that has ended. */
  private opState = new Uint8Array(1024);
  /** Packets of finished ops, reused by newOp (see Packet: they stay out of the young generation). */
  private readonly freePackets: Packet[] = [];
  private freeCount = 0;
  private readonly isRr: boolean;
  private readonly flows: number;
  private readonly warmupOps: number;
  private readonly targetOps: number;
  /** Constant frame sizes, resolved once (they draw nothing from the stream); -1 if drawn. */
  private readonly fixedRequestBytes: number;
  private readonly fixedResponseBytes: number;

  constructor(
    private readonly sim: Simulator,
    private readonly tracker: StageTracker,
    private readonly spec: NetWorkloadSpec,
    vmCount: number,
    /** Draws frame sizes that follow a distribution. */
    private readonly sizeRng: Rng,
  ) {
    this.perVm = Array.from({ length: vmCount }, () => ({ opsCompleted: 0, bytesCompleted: 0 }));
    this.perFlowOps = new Float64Array(vmCount * spec.flows);
    this.flows = spec.flows;
    this.isRr = spec.kind === 'net-rr';
    this.warmupOps = spec.warmupOps;
    this.targetOps = spec.ops;
    this.isMeasuring = spec.warmupOps === 0;
    this.fixedRequestBytes = fixedFrameBytes(spec.frameBytes);
    this.fixedResponseBytes = this.isRr ? fixedFrameBytes(spec.responseBytes) : -1;
    this.bytesCompleted = this.windowStartPs = this.lastFinishPs = 0;
    tracker.keepTail(Math.ceil(spec.ops / 100)); // the slowest 1% of the measured ops
  }

  /** True once the window has all its ops (the run then stops). */
  get isDone(): boolean {
    return this.measuredFinished >= this.targetOps;
  }

  /** Opens the measurement window now. */
  startMeasuring(): void {
    this.isMeasuring = true;
    this.windowStartPs = this.sim.nowPs;
    this.onWindowStart();
  }

  /** A new op of VM vm, flow and queue, created now, with its request (and response) size. */
  newOp(vm: number, flow: number, queue: number): Packet {
    const spec = this.spec;
    const bytes = this.fixedRequestBytes >= 0 ? this.fixedRequestBytes : sampleFrameBytes(spec.frameBytes, this.sizeRng);
    const resp = !this.isRr
      ? bytes
      : this.fixedResponseBytes >= 0
        ? this.fixedResponseBytes
        : sampleFrameBytes(spec.responseBytes, this.sizeRng);
    let pkt: Packet;
    if (this.freeCount === 0) pkt = new Packet(this.created++, vm, flow, queue, bytes, resp, this.sim.nowPs);
    else {
      pkt = this.freePackets[--this.freeCount]!;
      pkt.reset(this.created++, vm, flow, queue, bytes, resp, this.sim.nowPs);
    }
    if (this.tcpFrames > 1) {
      // a bulk TCP-like op: one TSO/GSO packet of several frames
      pkt.frames = this.tcpFrames;
      pkt.payloadBytes = this.tcpPayload;
      pkt.bytes = pkt.requestBytes = pkt.responseBytes = this.tcpBytes;
      pkt.isSegmented = this.isTcpOnWire;
    } else if (this.tcpPayload > 0) {
      pkt.payloadBytes = this.tcpPayload;
    }
    this.tracker.begin(pkt);
    return pkt;
  }

  // Bulk TCP-like ops (spec.tcp): payload, frames and wire bytes of each op, and whether
  // it starts as frames on the wire (the peer sends it) or as one packet in a stack.
  private tcpPayload = 0;
  private tcpFrames = 1;
  private tcpBytes = 0;
  private isTcpOnWire = true;

  /** Payload of a bulk TCP-like op [bytes] (0: not that mode). */
  get tcpPayloadBytes(): number {
    return this.tcpPayload;
  }

  /** Sets the size of bulk TCP-like ops: `payload` bytes cut into MSS frames. */
  setTcpSegment(payload: number, mss: number, isOnWire: boolean): void {
    this.tcpPayload = payload;
    this.tcpFrames = Math.ceil(payload / mss);
    this.tcpBytes = payload + this.tcpFrames * TCP_FRAME_OVERHEAD_BYTES;
    this.isTcpOnWire = isOnWire;
  }

  /**
   * The op of pkt ended at atPs, completed or dropped (isLost: dropped because of a
   * timeline fault, which the observer counts as lost). Only its first end counts.
   */
  finish(pkt: Packet, atPs: number, isCompleted: boolean, isLost = false): void {
    const id = pkt.id;
    if (id >= this.opState.length) this.growOpState(id);
    const opState = this.opState;
    if (opState[id] !== 0) {
      this.duplicates++;
      return;
    }
    opState[id] = 1;
    if (this.isDone) {
      // the run has its ops; frames still landing in the same event are not counted
      this.afterStop++;
      this.tracker.end(pkt, false);
      this.freePackets[this.freeCount++] = pkt;
      return;
    }
    this.finished++;
    this.lastFinishPs = atPs;
    if (isCompleted) this.completedTotal++;
    else this.droppedTotal++;
    const measured = this.isMeasuring;
    if (measured) {
      this.measuredFinished++;
      if (isCompleted) {
        this.completed++;
        this.latency.record(atPs - pkt.createdPs);
        // (a bulk TCP-like op counts its TCP payload, as iperf does)
        const bytes = this.isRr ? pkt.requestBytes + pkt.responseBytes : pkt.payloadBytes > 0 ? pkt.payloadBytes : pkt.requestBytes;
        this.bytesCompleted += bytes;
        const v = this.perVm[pkt.vm]!;
        v.opsCompleted++;
        v.bytesCompleted += bytes;
        this.perFlowOps[pkt.vm * this.flows + pkt.flow]! += 1;
      } else {
        this.dropped++;
      }
    }
    this.tracker.end(pkt, measured && isCompleted, atPs - pkt.createdPs);
    if (this.observer !== null) this.observer(atPs, atPs - pkt.createdPs, isCompleted, this.finished, isLost);
    this.freePackets[this.freeCount++] = pkt;
    if (!this.isMeasuring && this.finished >= this.warmupOps) this.startMeasuring();
    if (this.isDone) this.sim.stop();
  }

  private growOpState(id: number): void {
    const grown = new Uint8Array(Math.max(this.opState.length * 2, id + 1));
    grown.set(this.opState);
    this.opState = grown;
  }
}
