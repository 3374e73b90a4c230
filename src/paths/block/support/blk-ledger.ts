/**
 * The ops of a block run: it hands out each I/O's request (recycled from finished
 * ones), records each I/O's completion exactly once with its status, discards the first
 * warm-up I/Os (and warm-up time), opens the measurement window and stops the simulation
 * when the window has its I/Os or its time (runtime). A second completion of one I/O is
 * counted (a modelling bug if non-zero). Besides the end-to-end latency it keeps, per
 * direction, fio's three latencies: slat (issue to the submitting call's return), clat
 * (from there to the reap) and lat (both).
 */
import type { Simulator } from '../../../core/simulator.js';
import { AS_DOUBLE } from '../../../core/time.js';
import { BlkRequest, STATUS_FAULT, STATUS_OK } from '../../../actors/block/request.js';
import { LatencyRecorder } from '../../../metrics/latency-recorder.js';
import type { StageTracker } from '../../../primitives/stage-tracker.js';

export class BlkLedger {
  readonly latency = new LatencyRecorder();
  /** Per direction (0 read, 1 write): fio's lat, clat and slat of the measured I/Os. */
  readonly lat = [new LatencyRecorder(), new LatencyRecorder()] as const;
  readonly clat = [new LatencyRecorder(), new LatencyRecorder()] as const;
  readonly slat = [new LatencyRecorder(), new LatencyRecorder()] as const;
  /** Bytes of the measured I/Os per direction (0 read, 1 write). */
  readonly bytesByDirection = [0, 0];
  readonly perVm: { opsCompleted: number; bytesCompleted: number }[];
  created = 0;
  finished = 0;
  completedTotal = 0;
  /** I/Os that ended with an error status. */
  failedTotal = 0;
  duplicates = 0;
  afterStop = 0;
  measuredFinished = 0;
  completed = 0;
  failed = 0;
  reads = 0;
  writes = 0;
  bytesCompleted = AS_DOUBLE;
  isMeasuring: boolean;
  windowStartPs = AS_DOUBLE;
  lastFinishPs = AS_DOUBLE;
  /** The window's time limit ran out (runtime): the run is done whatever its I/O count. */
  isTimeUp = false;
  onWindowStart: () => void = () => {};
  /** Told of every counted end (warm-up included): a run with a timeline records it over time (isLost: it failed because of a fault). */
  observer: ((atPs: number, latencyPs: number, isOk: boolean, finished: number, isLost: boolean) => void) | null = null;
  /** 1 per op id that has ended. */
  private opState = new Uint8Array(1024);
  private readonly free: BlkRequest[] = [];

  constructor(
    private readonly sim: Simulator,
    private readonly tracker: StageTracker,
    vmCount: number,
    private readonly warmupOps: number,
    private readonly targetOps: number,
    /** Warm-up time [ps]: the window opens no earlier. */
    private readonly warmupPs = 0,
    /** Limit on the window [ps]; null: none. */
    private readonly runtimePs: number | null = null,
    /** Keep fio's latencies per direction (lat, clat, slat) too. */
    private readonly keepsFio = false,
  ) {
    this.perVm = Array.from({ length: vmCount }, () => ({ opsCompleted: 0, bytesCompleted: 0 }));
    this.isMeasuring = warmupOps === 0 && warmupPs === 0;
    this.bytesCompleted = this.windowStartPs = this.lastFinishPs = 0;
    tracker.keepTail(Math.ceil(targetOps / 100));
    // the warm-up time's end opens the window if the warm-up I/Os are done by then
    if (warmupPs > 0) sim.post(warmupPs, warmupTimeEnds, this);
  }

  get isDone(): boolean {
    return this.measuredFinished >= this.targetOps || this.isTimeUp;
  }

  startMeasuring(): void {
    this.isMeasuring = true;
    this.windowStartPs = this.sim.nowPs;
    if (this.runtimePs !== null) this.sim.post(this.runtimePs, runtimeEnds, this);
    this.onWindowStart();
  }

  /** @internal */
  warmupTimeEnds(): void {
    if (!this.isMeasuring && this.finished >= this.warmupOps) this.startMeasuring();
  }

  /** @internal The window's time is up: the run ends here. */
  runtimeEnds(): void {
    if (this.isDone) return;
    this.isTimeUp = true;
    this.sim.stop();
  }

  /** A new I/O of VM vm, its stage record begun now. */
  newOp(vm: number): BlkRequest {
    const req = this.free.length !== 0 ? this.free.pop()! : new BlkRequest();
    req.reset(this.created++);
    req.vm = vm;
    req.stampPs = this.sim.nowPs;
    this.tracker.begin(req);
    return req;
  }

  /** The application saw req complete at atPs. Only its first completion counts. */
  finish(req: BlkRequest, atPs: number): void {
    const id = req.id;
    if (id >= this.opState.length) {
      const grown = new Uint8Array(Math.max(this.opState.length * 2, id + 1));
      grown.set(this.opState);
      this.opState = grown;
    }
    if (this.opState[id] !== 0) {
      this.duplicates++;
      return;
    }
    this.opState[id] = 1;
    if (this.isDone) {
      this.afterStop++;
      this.tracker.end(req, false);
      this.free.push(req);
      return;
    }
    const isOk = req.status === STATUS_OK;
    this.finished++;
    this.lastFinishPs = atPs;
    if (isOk) this.completedTotal++;
    else this.failedTotal++;
    const measured = this.isMeasuring;
    if (measured) {
      this.measuredFinished++;
      if (isOk) {
        this.completed++;
        if (req.isWrite) this.writes++;
        else this.reads++;
        const latPs = atPs - req.issuedPs;
        this.latency.record(latPs);
        if (this.keepsFio) {
          // (an I/O that completed before its submitting call returned: all slat, no clat)
          const sub = req.submittedPs >= 0 && req.submittedPs <= atPs ? req.submittedPs : atPs;
          const d = req.isWrite ? 1 : 0;
          this.lat[d].record(latPs);
          this.clat[d].record(atPs - sub);
          this.slat[d].record(sub - req.issuedPs);
          this.bytesByDirection[d]! += req.bytes;
        }
        this.bytesCompleted += req.bytes;
        const v = this.perVm[req.vm]!;
        v.opsCompleted++;
        v.bytesCompleted += req.bytes;
      } else {
        this.failed++;
      }
    }
    this.tracker.end(req, measured && isOk, atPs - req.issuedPs);
    if (this.observer !== null) this.observer(atPs, atPs - req.issuedPs, isOk, this.finished, req.status === STATUS_FAULT);
    this.free.push(req);
    if (!this.isMeasuring && this.finished >= this.warmupOps && atPs >= this.warmupPs) this.startMeasuring();
    if (this.isDone) this.sim.stop();
  }
}

function warmupTimeEnds(ledger: BlkLedger): void {
  ledger.warmupTimeEnds();
}
function runtimeEnds(ledger: BlkLedger): void {
  ledger.runtimeEnds();
}
