/**
 * The ops of a block run: it hands out each I/O's request (recycled from finished
 * ones), records each I/O's completion exactly once with its status, discards the first
 * warm-up I/Os, opens the measurement window and stops the simulation when the window
 * has its I/Os. A second completion of one I/O is counted (a modelling bug if non-zero).
 */
import type { Simulator } from '../../../core/simulator.js';
import { AS_DOUBLE } from '../../../core/time.js';
import { BlkRequest, STATUS_OK } from '../../../actors/block/request.js';
import { LatencyRecorder } from '../../../metrics/latency-recorder.js';
import type { StageTracker } from '../../../primitives/stage-tracker.js';

export class BlkLedger {
  readonly latency = new LatencyRecorder();
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
  onWindowStart: () => void = () => {};
  /** 1 per op id that has ended. */
  private opState = new Uint8Array(1024);
  private readonly free: BlkRequest[] = [];

  constructor(
    private readonly sim: Simulator,
    private readonly tracker: StageTracker,
    vmCount: number,
    private readonly warmupOps: number,
    private readonly targetOps: number,
  ) {
    this.perVm = Array.from({ length: vmCount }, () => ({ opsCompleted: 0, bytesCompleted: 0 }));
    this.isMeasuring = warmupOps === 0;
    this.bytesCompleted = this.windowStartPs = this.lastFinishPs = 0;
    tracker.keepTail(Math.ceil(targetOps / 100));
  }

  get isDone(): boolean {
    return this.measuredFinished >= this.targetOps;
  }

  startMeasuring(): void {
    this.isMeasuring = true;
    this.windowStartPs = this.sim.nowPs;
    this.onWindowStart();
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
        this.latency.record(atPs - req.issuedPs);
        this.bytesCompleted += req.bytes;
        const v = this.perVm[req.vm]!;
        v.opsCompleted++;
        v.bytesCompleted += req.bytes;
      } else {
        this.failed++;
      }
    }
    this.tracker.end(req, measured && isOk, atPs - req.issuedPs);
    this.free.push(req);
    if (!this.isMeasuring && this.finished >= this.warmupOps) this.startMeasuring();
    if (this.isDone) this.sim.stop();
  }
}
