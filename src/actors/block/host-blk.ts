/**
 * The host kernel's block layer and device driver under a back end that does its I/O
 * through the host kernel (QEMU's aio engines, LIO's iblock, a thread-pool worker):
 * submit_bio -> blk-mq -> nvme_queue_rq and the SQ doorbell, on the submitting thread's
 * CPU, into the NVMe queue pair of that CPU (the nvme driver gives each CPU a queue and
 * makes its interrupt affine to it); the completion interrupt runs nvme_irq on that CPU
 * in interrupt context, ends each request (blk_mq_end_request, bio_endio) and tells its
 * submitter (an aio or io_uring completion with its eventfd, a woken worker, LIO).
 *
 * A RAM disk (brd) has no queue and no interrupt: the submitter copies the data inline
 * and the I/O is complete when submit_bio returns.
 */
import { Fifo } from '../../primitives/fifo.js';
import type { HostThread } from '../../primitives/host-cpu.js';
import type { ActorEnv } from '../host/env.js';
import type { RamDisk } from './ram-disk.js';
import type { BlkRequest } from './request.js';
import type { NvmeQueuePair, Ssd } from './ssd.js';

export interface HostBlkCosts {
  /** submit_bio through nvme_queue_rq and the doorbell, per I/O [ps]. */
  submitPs: number;
  /** Per completion in nvme_irq: CQE, blk_mq_end_request, bio_endio, the submitter's notification [ps]. */
  completePs: number;
  /** Entering the interrupt handler [ps]. */
  irqEntryPs: number;
}

/** One NVMe queue pair with its interrupt-context thread. */
class HostQueue {
  readonly reaped: BlkRequest[] = [];
  reapedCount = 0;
  /** Requests that found the submission queue full (blk-mq holds them until a tag frees). */
  readonly overflow = new Fifo<BlkRequest>();
  constructor(
    readonly layer: HostBlockLayer,
    readonly pair: NvmeQueuePair,
    readonly irq: HostThread,
  ) {}
}

function irqStepDone(q: HostQueue): void {
  q.layer.deliver(q);
}

export class HostBlockLayer {
  private readonly queueOfThread = new Map<HostThread, HostQueue>();
  private readonly queues: HostQueue[] = [];
  submitted = 0;

  constructor(
    readonly env: ActorEnv,
    readonly name: string,
    readonly device: Ssd | RamDisk,
    private readonly costs: HostBlkCosts,
    /** Makes the interrupt-context thread of a queue on a core. */
    private readonly makeIrqThread: (name: string, core: number) => HostThread,
  ) {
    this.isRam = 'isSynchronous' in device;
  }

  /** A RAM disk: served inline by the submitter. */
  readonly isRam: boolean;

  /**
   * Declares a thread that submits I/O: it gets the NVMe queue of its core, whose
   * interrupt thread is made on that core the first time (at build time, or at a vCPU's
   * first exit that submits).
   */
  attach(thread: HostThread): void {
    if (this.isRam || this.queueOfThread.has(thread)) return;
    const ssd = this.device as Ssd;
    const core = thread.coreIndex;
    const index = core % ssd.queues.length;
    let q = this.queues.find((x) => x.pair.index === index);
    if (q === undefined) {
      const irq = this.makeIrqThread(`host/nvme-q${index}`, core);
      q = new HostQueue(this, ssd.queues[index]!, irq);
      const hq = q;
      irq.onRun = () => this.runIrq(hq, this.costs.irqEntryPs);
      const counters = this.env.counters;
      q.pair.onInterrupt = () => {
        counters.interrupts++;
        irq.wake();
      };
      this.queues.push(q);
    }
    this.queueOfThread.set(thread, q);
  }

  /** CPU time the submitting thread spends on req (a RAM disk's copy included) [ps]. */
  costPs(req: BlkRequest): number {
    if (this.isRam) return this.costs.submitPs + (this.device as RamDisk).serviceCostPs(req);
    return this.costs.submitPs;
  }

  /** Submits req (at the end of the step that paid costPs); the client hears of its completion. */
  submit(req: BlkRequest, thread: HostThread): void {
    this.submitted++;
    if (this.isRam) {
      req.hostClient!.hostDone(req);
      return;
    }
    const q = this.queueOfThread.get(thread);
    if (q === undefined) throw new Error(`${this.name}: thread ${thread.name} submits without attach()`);
    const ssd = this.device as Ssd;
    if (q.overflow.length === 0 && ssd.canSubmit(q.pair)) ssd.submit(q.pair, req);
    else q.overflow.push(req);
  }

  /** The handler's pass over the CQ (entryPs: entering the handler, on its first pass). */
  private runIrq(q: HostQueue, entryPs: number): void {
    const ssd = this.device as Ssd;
    let n = 0;
    for (let r = ssd.reap(q.pair); r !== undefined; r = ssd.reap(q.pair)) q.reaped[n++] = r;
    q.reapedCount = n;
    if (n === 0) {
      q.irq.idle();
      return;
    }
    q.irq.exec(entryPs + n * this.costs.completePs, irqStepDone, q);
  }

  /** @internal Ends the reaped requests and tells their submitters; then looks again. */
  deliver(q: HostQueue): void {
    const out = q.reaped;
    const n = q.reapedCount;
    q.reapedCount = 0;
    for (let i = 0; i < n; i++) {
      const req = out[i]!;
      req.hostClient!.hostDone(req);
    }
    const ssd = this.device as Ssd;
    while (q.overflow.length !== 0 && ssd.canSubmit(q.pair)) ssd.submit(q.pair, q.overflow.shift()!);
    this.runIrq(q, 0);
  }
}
