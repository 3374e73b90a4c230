/**
 * The guest's block layer (Linux blk-mq, block/blk-mq.c): one hardware queue per vCPU
 * where the driver offers several (CPU i submits to queue i mod queues), a tag per
 * request the hardware queue can hold (a request without a tag waits in the software
 * queue until a completion frees one), and plugging: the I/Os of one submission batch
 * are held on a plug list, where an I/O adjacent to the previous one (same direction,
 * within the merge limit) is merged into it (blk_attempt_plug_merge), and the batch is
 * handed to the driver with one notification at the end (bd->last, commit_rqs).
 *
 * Completion: the driver's interrupt handler (or a polling reaper) reaps the hardware
 * queue with interrupts disabled, completes each request (blk_mq_end_request: the
 * request and every I/O merged into it end, each once), re-enables and re-checks,
 * then dispatches requests that were waiting for tags.
 */
import { Fifo } from '../../primitives/fifo.js';
import type { ActorEnv } from '../host/env.js';
import type { GuestTask, GuestVcpu } from '../host/guest-vcpu.js';
import { SECTOR_BYTES, STATUS_OK, type BlkRequest } from './request.js';

/** A guest block driver (virtio-blk, virtio-scsi, NVMe, IDE) as blk-mq sees it. */
export interface BlkDriver {
  readonly queueCount: number;
  /** Requests a hardware queue holds at once (its tags). */
  depth(hwq: number): number;
  /** Largest request the driver takes in one piece [bytes] (the plug merges no further). */
  readonly maxRequestBytes: number;
  /** Whether req fits on the ring now (a ring without indirect descriptors can fill before its tags run out). */
  canQueue(hwq: number, req: BlkRequest): boolean;
  /** Guest CPU time to put req on the hardware queue's ring (descriptors, SQE) [ps]. */
  queueCostPs(hwq: number, req: BlkRequest): number;
  /** Puts req on the ring (at the end of the step that paid queueCostPs). */
  queueRq(hwq: number, req: BlkRequest): void;
  /** Tells the device about what queueRq added (kick, doorbell): steps on vcpu, then fn(arg). */
  commit<A>(vcpu: GuestVcpu, hwq: number, fn: (arg: A) => void, arg: A): void;
  /** Interrupt acknowledgement before reaping (IDE status registers): steps on vcpu, then fn(arg). */
  ack<A>(vcpu: GuestVcpu, hwq: number, fn: (arg: A) => void, arg: A): void;
  /** The driver looks at the queue at atPs (its vCPU's time, which may be ahead of the clock). */
  observeAt(hwq: number, atPs: number): void;
  /** Writes the requests the device completed to out from index 0 on; returns how many. */
  reap(hwq: number, out: BlkRequest[]): number;
  /** Guest CPU time to reap n completions [ps]. */
  reapCostPs(hwq: number, n: number): number;
  disableIrq(hwq: number): void;
  /** Re-enables the queue's interrupt; true if completions are already pending (the re-check). */
  enableIrq(hwq: number): boolean;
  /** Set by the block layer: the hardware queue's interrupt handler. */
  onIrq: (hwq: number) => void;
}

export interface BlkMqCosts {
  /** bio allocation, tag, plug and request set-up per I/O [ps]. */
  submitPs: number;
  /** Ending a request: blk_mq_end_request, bio_endio, the aio/io_uring completion event [ps]. */
  completePs: number;
  /** Largest merged request [bytes] (max_sectors_kb). */
  maxMergeBytes: number;
}

/** Who hears of a completed I/O: the fio job that issued it. */
export interface BlkCompletionSink {
  completed(req: BlkRequest): void;
}

export interface BlkMqStages {
  /** Submission through the block layer and driver up to the notification. */
  queue: number;
  /** From the device's completion to the request ended in the guest (interrupt, wake-up, reap). */
  complete: number;
}

/** A submission in progress on one vCPU (one chain per vCPU at a time). */
interface SubmitState {
  layer: GuestBlockLayer;
  vcpu: GuestVcpu | null;
  hwq: number;
  dispatch: BlkRequest[];
  count: number;
  /** CPU time of the plug step [ps]. */
  stepPs: number;
  /** The caller's own work run in the same step before the plug (a syscall), and its stage (-1: none). */
  leadPs: number;
  leadStage: number;
  /** The submitted batch (merged I/Os included), for the lead stage's marks. */
  batch: readonly BlkRequest[];
  batchCount: number;
  /** Requests of the batch that found no tag: they join the waiting list at the step's end. */
  deferred: BlkRequest[];
  deferredCount: number;
  fn: (arg: any) => void;
  arg: unknown;
}

function afterPlug(st: SubmitState): void {
  st.layer.publish(st);
}
function afterCommit(st: SubmitState): void {
  const fn = st.fn;
  const arg = st.arg;
  st.arg = undefined;
  fn(arg);
}

/** Per hardware queue: its tags, waiting requests and completion task. */
class HwQueue implements GuestTask {
  isQueued = false;
  tagsFree: number;
  readonly waiting = new Fifo<BlkRequest>();
  readonly reaped: BlkRequest[] = [];
  reapedCount = 0;
  /** CPU time of the last reap step [ps] (0 for a polling reaper's). */
  reapPs = 0;
  /** Submission scratch of this queue's completion context (dispatching waiting requests). */
  readonly dispatchState: SubmitState;
  constructor(
    readonly layer: GuestBlockLayer,
    readonly index: number,
    depth: number,
  ) {
    this.tagsFree = depth;
    this.dispatchState = { layer, vcpu: null, hwq: index, dispatch: [], count: 0, stepPs: 0, leadPs: 0, leadStage: -1, batch: [], batchCount: 0, deferred: [], deferredCount: 0, fn: noop, arg: undefined };
  }
  run(vcpu: GuestVcpu): void {
    this.layer.runCompletion(this, vcpu);
  }
}

function noop(): void {}
function ackDone(q: HwQueue): void {
  q.layer.reapStep(q);
}
function reapDone(q: HwQueue): void {
  q.layer.afterReap(q);
}
function dispatchDone(q: HwQueue): void {
  q.layer.dispatchWaitingDone(q);
}

export class GuestBlockLayer {
  readonly queues: HwQueue[] = [];
  private readonly submitStates: SubmitState[] = [];
  /** Requests a polling reaper took (apart from the queues' own lists). */
  private readonly polled: BlkRequest[] = [];
  /** Completion sinks by job index (fio jobs of this VM). */
  sinks: BlkCompletionSink[] = [];
  /** Statistics. */
  merges = 0;
  tagWaits = 0;
  /** Largest request the plug builds: the merge limit or the driver's, whichever is less [bytes]. */
  private readonly maxMergeBytes: number;
  /** Times the ring was full with tags left (requests requeued). */
  ringFull = 0;

  constructor(
    readonly env: ActorEnv,
    readonly name: string,
    readonly driver: BlkDriver,
    private readonly vcpuOfQueue: (hwq: number) => GuestVcpu,
    private readonly costs: BlkMqCosts,
    private readonly stages: BlkMqStages,
  ) {
    for (let q = 0; q < driver.queueCount; q++) this.queues.push(new HwQueue(this, q, driver.depth(q)));
    this.maxMergeBytes = Math.min(costs.maxMergeBytes, driver.maxRequestBytes);
    driver.onIrq = (hwq) => this.onIrq(hwq);
  }

  /** The hardware queue a vCPU submits to. */
  hwqOf(vcpu: GuestVcpu): number {
    return vcpu.index % this.queues.length;
  }

  /**
   * Submits a batch of I/Os from vcpu's current step chain (io_submit, io_uring_enter,
   * pread): plug, merge, take tags, hand them to the driver, notify once; then fn(arg).
   * leadPs of the caller's own work (the syscall that submits) runs in the same step,
   * first, and ends the requests' leadStage (one step instead of two: a step is an event).
   */
  submit<A>(vcpu: GuestVcpu, batch: readonly BlkRequest[], n: number, fn: (arg: A) => void, arg: A, leadPs = 0, leadStage = -1): void {
    const hwq = this.hwqOf(vcpu);
    const q = this.queues[hwq]!;
    let st = this.submitStates[vcpu.index];
    if (st === undefined) {
      st = { layer: this, vcpu, hwq, dispatch: [], count: 0, stepPs: 0, leadPs: 0, leadStage: -1, batch: [], batchCount: 0, deferred: [], deferredCount: 0, fn: noop, arg: undefined };
      this.submitStates[vcpu.index] = st;
    }
    st.hwq = hwq;
    st.fn = fn;
    st.arg = arg;
    st.count = 0;
    st.leadPs = leadPs;
    st.leadStage = leadStage;
    st.batch = batch;
    st.batchCount = n;
    let cost = 0;
    let prev: BlkRequest | null = null;
    let prevBytes = 0;
    const maxMerge = this.maxMergeBytes;
    st.deferredCount = 0;
    for (let i = 0; i < n; i++) {
      const req = batch[i]!;
      req.hwq = hwq;
      cost += this.costs.submitPs;
      // blk_attempt_plug_merge: back-merge into the previous request of the plug
      if (prev !== null && prev.isWrite === req.isWrite && prev.sector + prevBytes / SECTOR_BYTES === req.sector && prevBytes + req.bytes <= maxMerge) {
        prev.merged.push(req);
        prevBytes += req.bytes;
        this.merges++;
        continue;
      }
      if (q.tagsFree > 0 && q.waiting.length === 0) {
        q.tagsFree--;
        st.dispatch[st.count++] = req;
        prev = req;
        prevBytes = req.bytes;
      } else {
        // no tag: it waits, from the end of this step (before, no other CPU may send it on)
        st.deferred[st.deferredCount++] = req;
        this.tagWaits++;
        prev = null;
      }
    }
    for (let i = 0; i < st.count; i++) cost += this.driver.queueCostPs(hwq, st.dispatch[i]!);
    st.stepPs = cost;
    vcpu.exec(leadPs + cost, afterPlug, st);
  }

  /** @internal Puts the plugged requests on the ring and notifies the device. */
  publish(st: SubmitState): void {
    const d = this.driver;
    const tracker = this.env.tracker;
    const lead = st.leadStage;
    if (lead >= 0) {
      // the caller's part of the step ended stepPs before its end (merged I/Os included)
      st.leadStage = -1;
      const at = this.env.sim.nowPs - st.stepPs;
      const m = st.batch;
      for (let i = 0; i < st.batchCount; i++) tracker.markAt(m[i]!, lead, st.leadPs, at);
    }
    const q = this.queues[st.hwq]!;
    let queued = 0;
    for (let i = 0; i < st.count; i++) {
      const req = st.dispatch[i]!;
      if (!d.canQueue(st.hwq, req)) {
        // ring full (BLK_STS_DEV_RESOURCE): the request gives its tag back and waits, in order
        this.requeue(q, st.dispatch, i, st.count);
        break;
      }
      // (marked first: a polling back end may take it from the ring inside queueRq)
      tracker.mark(req, this.stages.queue, st.stepPs);
      d.queueRq(st.hwq, req);
      queued++;
    }
    for (let i = 0; i < st.deferredCount; i++) {
      const req = st.deferred[i]!;
      if (q.tagsFree > 0 && q.waiting.length === 0 && d.canQueue(st.hwq, req)) {
        // a completion freed a tag during the step: it goes now (its ring work on the next step)
        q.tagsFree--;
        st.vcpu!.charge(d.queueCostPs(st.hwq, req));
        tracker.mark(req, this.stages.queue, 0);
        d.queueRq(st.hwq, req);
        queued++;
      } else {
        q.waiting.push(req);
      }
    }
    st.deferredCount = 0;
    if (queued === 0) afterCommit(st);
    else d.commit(st.vcpu!, st.hwq, afterCommit, st);
  }

  /** Puts reqs[from..to) back at the head of the waiting list, in order, with their tags freed. */
  private requeue(q: HwQueue, reqs: BlkRequest[], from: number, to: number): void {
    this.ringFull++;
    for (let i = to - 1; i >= from; i--) {
      q.waiting.unshift(reqs[i]!);
      q.tagsFree++;
    }
  }

  private onIrq(hwq: number): void {
    const q = this.queues[hwq]!;
    this.vcpuOfQueue(hwq).scheduleSoftirq(q);
  }

  /** @internal The completion task of a hardware queue (interrupt bottom half). */
  runCompletion(q: HwQueue, vcpu: GuestVcpu): void {
    q.dispatchState.vcpu = vcpu;
    this.driver.ack(vcpu, q.index, ackDone, q);
  }

  /** @internal */
  reapStep(q: HwQueue): void {
    const d = this.driver;
    const vcpu = q.dispatchState.vcpu!;
    vcpu.noteWorkStart();
    d.observeAt(q.index, vcpu.workStartAtPs);
    d.disableIrq(q.index);
    const n = d.reap(q.index, q.reaped);
    q.reapedCount = n;
    if (n === 0) {
      this.afterReap(q);
      return;
    }
    let ends = 0;
    for (let i = 0; i < n; i++) ends += 1 + q.reaped[i]!.merged.length;
    q.reapPs = d.reapCostPs(q.index, n) + ends * this.costs.completePs;
    q.dispatchState.vcpu!.exec(q.reapPs, reapDone, q);
  }

  /** @internal Ends the reaped requests, re-checks, then dispatches what waited for tags. */
  afterReap(q: HwQueue): void {
    this.endReaped(q);
    if (this.driver.enableIrq(q.index)) {
      this.runCompletion(q, q.dispatchState.vcpu!); // completions slipped in: reap again
      return;
    }
    this.dispatchWaiting(q);
  }

  private endReaped(q: HwQueue): void {
    const atPs = this.env.sim.nowPs;
    const out = q.reaped;
    const tracker = this.env.tracker;
    const n = q.reapedCount;
    q.reapedCount = 0;
    for (let i = 0; i < n; i++) {
      const req = out[i]!;
      q.tagsFree++;
      this.end(req, tracker, q.reapPs, atPs);
      const m = req.merged;
      for (let j = 0; j < m.length; j++) this.end(m[j]!, tracker, q.reapPs, atPs);
    }
  }

  private end(req: BlkRequest, tracker: ActorEnv['tracker'], servicePs: number, atPs: number): void {
    if (req.status < STATUS_OK) req.status = STATUS_OK;
    tracker.markAt(req, this.stages.complete, servicePs, atPs);
    this.sinks[req.job]!.completed(req);
  }

  /**
   * A polling reaper (io_uring IOPOLL) on hwq: reaps and ends what the device completed;
   * returns the number of requests ended. Waiting requests go out from the queue's task.
   */
  poll(hwq: number, atPs: number): number {
    const q = this.queues[hwq]!;
    this.driver.observeAt(hwq, atPs);
    // (its own list: another vCPU's completion task may be reaping this queue meanwhile)
    const out = this.polled;
    const n = this.driver.reap(hwq, out);
    const tracker = this.env.tracker;
    for (let i = 0; i < n; i++) {
      const req = out[i]!;
      q.tagsFree++;
      this.end(req, tracker, 0, atPs);
      const m = req.merged;
      for (let j = 0; j < m.length; j++) this.end(m[j]!, tracker, 0, atPs);
    }
    if (q.waiting.length !== 0 && q.tagsFree > 0) this.vcpuOfQueue(hwq).scheduleSoftirq(q);
    return n;
  }

  private dispatchWaiting(q: HwQueue): void {
    const st = q.dispatchState;
    const vcpu = st.vcpu!;
    if (q.waiting.length === 0 || q.tagsFree === 0) {
      vcpu.done();
      return;
    }
    st.count = 0;
    let cost = 0;
    while (q.waiting.length !== 0 && q.tagsFree > 0) {
      const req = q.waiting.shift()!;
      q.tagsFree--;
      st.dispatch[st.count++] = req;
      cost += this.driver.queueCostPs(q.index, req);
    }
    st.fn = dispatchDone;
    st.arg = q;
    st.stepPs = cost;
    vcpu.exec(cost, afterPlug, st);
  }

  /** @internal */
  dispatchWaitingDone(q: HwQueue): void {
    q.dispatchState.vcpu!.done();
  }
}
