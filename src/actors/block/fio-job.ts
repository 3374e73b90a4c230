/**
 * One fio job in the guest (on bare metal: on the host): an application task on its
 * vCPU that keeps `iodepth` I/Os in flight (closed loop) or issues them at `rate_iops`
 * (open loop, still at most iodepth in flight), through its I/O engine:
 * - psync: one pread/pwrite syscall per I/O, which sleeps until the I/O completes;
 * - libaio: io_submit per batch of iodepth_batch_submit I/Os, io_getevents per reap;
 * - io_uring: io_uring_enter per batch, completions read from the CQ ring (one enter
 *   submits and waits); with hipri (IOPOLL) the task polls the driver's completion
 *   queue instead of sleeping, so the I/O raises no interrupt.
 * An I/O's latency is fio's lat: from its submission step to the reap that sees it.
 */
import type { Rng } from '../../core/random.js';
import { AS_DOUBLE } from '../../core/time.js';
import { Fifo } from '../../primitives/fifo.js';
import type { GuestTask, GuestVcpu } from '../host/guest-vcpu.js';
import type { ActorEnv } from '../host/env.js';
import { SECTOR_BYTES, type BlkRequest } from './request.js';
import type { GuestBlockLayer } from './guest-blk-mq.js';
import type { BlkWorkloadSpec } from '../../workloads/blk.js';

export interface FioCosts {
  /** fio's own work per I/O: pick offset, fill io_u, account [ps]. */
  perIoPs: number;
  /** A guest syscall entry and exit [ps]. */
  syscallPs: number;
  /** Engine work per I/O in the kernel: aio/io_uring submission or pread setup, and reaping [ps]. */
  engineSubmitPs: number;
  engineReapPs: number;
  /** One iteration of a polling reap (io_uring IOPOLL: blk_poll on the hardware queue) [ps]. */
  pollPs: number;
}

export interface FioHooks {
  /** A new request of this VM, its stage record begun. */
  newOp(vm: number): BlkRequest;
  /** The application saw req complete at atPs. */
  complete(req: BlkRequest, atPs: number): void;
}

export interface FioStages {
  submit: number;
  reap: number;
}

function afterReapStep(job: FioJob): void {
  job.afterReapStep();
}
function afterPollStep(job: FioJob): void {
  job.afterPollStep();
}
function submitted(job: FioJob): void {
  job.markSubmitted();
  job.yieldCpu();
}
function arrival(job: FioJob): void {
  job.arrive();
}

export class FioJob implements GuestTask {
  isQueued = false;
  /** I/Os submitted and not yet reaped. */
  inflight = 0;
  /** Open loop: arrivals not yet submitted. */
  private backlog = 0;
  private readonly completions = new Fifo<BlkRequest>();
  private readonly batch: BlkRequest[] = [];
  /** Op ids of the batch being submitted (a request that completes and is recycled meanwhile is not stamped). */
  private readonly batchIds: number[] = [];
  private batchCount = 0;
  private nextSector = AS_DOUBLE;
  private readonly regionSectors: number;
  private readonly blockSectors: number;
  private readonly baseSector: number;
  private readonly isOpen: boolean;
  private readonly meanGapPs: number;
  /** CPU time of the step in flight (a request's service in the stage it ends) [ps]. */
  private stepPs = AS_DOUBLE;
  /** The hardware queue a polling job reaps (its vCPU's). */
  hwq = 0;
  /** Completions the reap step in flight takes. */
  private reapCount = 0;

  constructor(
    readonly env: ActorEnv,
    readonly vm: number,
    readonly index: number,
    readonly vcpu: GuestVcpu,
    private readonly spec: BlkWorkloadSpec,
    private readonly blk: GuestBlockLayer,
    private readonly costs: FioCosts,
    private readonly hooks: FioHooks,
    private readonly stages: FioStages,
    private readonly rng: Rng,
  ) {
    this.blockSectors = spec.blockBytes / SECTOR_BYTES;
    this.regionSectors = spec.regionBytes / SECTOR_BYTES;
    // each job addresses its own region, as fio's per-job files do
    this.baseSector = index * this.regionSectors;
    this.nextSector = this.stepPs = 0;
    this.isOpen = spec.ratePerJob !== null;
    this.meanGapPs = spec.ratePerJob !== null ? 1e12 / spec.ratePerJob : 0;
  }

  start(): void {
    if (this.isOpen) this.env.sim.post(Math.round(this.rng() * this.meanGapPs), arrival, this);
    else this.vcpu.scheduleApp(this);
  }

  /** Open loop: the next I/O is due (Poisson arrivals per job, or evenly spaced with a linear rate). */
  arrive(): void {
    this.backlog++;
    const gap = this.spec.isLinearRate ? this.meanGapPs : -Math.log(1 - this.rng()) * this.meanGapPs;
    this.env.sim.post(Math.max(1, Math.round(gap)), arrival, this);
    this.vcpu.scheduleApp(this);
  }

  /** The submitting call returned: the batch's I/Os are submitted (fio's slat ends here). */
  markSubmitted(): void {
    const now = this.env.sim.nowPs;
    const b = this.batch;
    const ids = this.batchIds;
    for (let i = 0; i < this.batchCount; i++) {
      const req = b[i]!;
      if (req.id === ids[i]) req.submittedPs = now;
    }
    this.batchCount = 0;
  }

  /** The block layer completed req (from its completion context): wake the job to reap it. */
  completed(req: BlkRequest): void {
    this.completions.push(req);
    if (!this.spec.isPolled) this.vcpu.scheduleApp(this);
  }

  private get canSubmit(): number {
    const room = this.spec.iodepth - this.inflight;
    const want = this.isOpen ? Math.min(this.backlog, room) : room;
    return want < this.spec.submitBatch ? want : this.spec.submitBatch;
  }

  /**
   * fio's loop (backend.c do_io): submit while the queue has room, and only when it is
   * full (or nothing is left to submit) reap the completions that are in.
   */
  run(vcpu: GuestVcpu): void {
    const k = this.canSubmit;
    if (k > 0) {
      this.makeBatch(k);
      const c = this.costs;
      // the syscall and the block layer's plug run as one step
      this.blk.submit(vcpu, this.batch, k, submitted, this, c.syscallPs + k * (c.perIoPs + c.engineSubmitPs), this.stages.submit);
      return;
    }
    const n = this.completions.length;
    if (n > 0) {
      // libaio's io_getevents is a syscall; io_uring reads its CQ ring, psync's pread returns
      const c = this.costs;
      const sys = this.spec.engine === 'io_uring' ? 0 : this.spec.engine === 'psync' ? 0 : c.syscallPs;
      this.stepPs = sys + n * (c.engineReapPs + c.perIoPs);
      this.reapCount = n; // (completions that arrive during the step wait for the next reap)
      vcpu.exec(this.stepPs, afterReapStep, this);
      return;
    }
    if (this.spec.isPolled && this.inflight > 0) {
      vcpu.exec(this.costs.pollPs, afterPollStep, this);
      return;
    }
    vcpu.done();
  }

  private makeBatch(k: number): void {
    const spec = this.spec;
    const now = this.env.sim.nowPs;
    for (let i = 0; i < k; i++) {
      const req = this.hooks.newOp(this.vm);
      req.job = this.index;
      req.isWrite = spec.readFraction >= 1 ? false : spec.readFraction <= 0 ? true : this.rng() >= spec.readFraction;
      req.bytes = spec.blockBytes;
      if (spec.isRandom) {
        const blocks = this.regionSectors / this.blockSectors;
        req.sector = this.baseSector + Math.floor(this.rng() * blocks) * this.blockSectors;
      } else {
        req.sector = this.baseSector + this.nextSector;
        this.nextSector += this.blockSectors;
        if (this.nextSector + this.blockSectors > this.regionSectors) this.nextSector = 0;
      }
      req.issuedPs = now;
      req.submittedPs = -1;
      this.batch[i] = req;
      this.batchIds[i] = req.id;
    }
    this.batchCount = k;
    this.inflight += k;
    if (this.isOpen) this.backlog -= k;
  }

  /** @internal */
  afterReapStep(): void {
    const now = this.env.sim.nowPs;
    const q = this.completions;
    const tracker = this.env.tracker;
    for (let k = this.reapCount; k > 0; k--) {
      const req = q.shift()!;
      this.inflight--;
      tracker.mark(req, this.stages.reap, this.stepPs);
      this.hooks.complete(req, now);
    }
    this.yieldCpu();
  }

  /**
   * Between syscalls the vCPU's loop runs (interrupts and softirq work first, as a real
   * interrupt would preempt the task), then this task again: it reaps or submits more.
   */
  yieldCpu(): void {
    const vcpu = this.vcpu;
    if (!vcpu.hasUrgentWork) {
      this.run(vcpu); // nothing else wants the vCPU: go on (no pass through its loop)
      return;
    }
    vcpu.scheduleApp(this);
    vcpu.done();
  }

  /** @internal */
  afterPollStep(): void {
    this.vcpu.noteWorkStart();
    this.blk.poll(this.hwq, this.vcpu.workStartAtPs);
    this.yieldCpu();
  }
}
