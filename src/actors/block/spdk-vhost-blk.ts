/**
 * SPDK's vhost-user-blk target (lib/vhost/vhost_blk.c) on one reactor: a thread that
 * polls its core all the time. The guest never kicks: SPDK sets VRING_USED_F_NO_NOTIFY
 * on its rings and masks EVENT_IDX out of the features, so both directions use the flag
 * bits. Each poll takes at most 32 requests per virtqueue (SPDK_VHOST_VQ_MAX_SUBMISSIONS),
 * turns their descriptors into iovecs into guest memory, and submits them through the
 * bdev layer to its user-space NVMe driver (bdev_nvme): commands with PRPs on the guest
 * buffers and one SQ doorbell per batch; the device DMAs into guest RAM. The same poll
 * reaps the NVMe completion queue (no interrupt), writes each status, pushes the used
 * entries (with the inflight bookkeeping of the shared log), and signals the guest through
 * the callfd (an eventfd write, a syscall) unless the driver set VRING_AVAIL_F_NO_INTERRUPT.
 * Optional interrupt coalescing (vhost_session_vq_used_signal): above `threshold` IOPS on
 * a virtqueue, a signal waits delay_base x (rate - threshold) / threshold, gathering the
 * completions of that time.
 * A malloc (RAM) bdev copies on the reactor instead of using a device.
 *
 * A run with a timeline keeps the inflight region (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD,
 * the vhost-user spec's "Inflight I/O tracking"): a request is logged when fetched from
 * the avail ring and cleared when its used entry is pushed (SPDK: set_inflight_desc on
 * fetch, clr_inflight_desc after the used update). The process can die (crash: what it
 * holds is abandoned) and start again (resume: what the region logged is resubmitted, in
 * fetch order, or failed); see paths/block/support/faults.ts.
 */
import { Fifo } from '../../primitives/fifo.js';
import type { HostThread } from '../../primitives/host-cpu.js';
import type { Virtqueue } from '../../primitives/virtqueue.js';
import type { ActorEnv } from '../host/env.js';
import type { RamDisk } from './ram-disk.js';
import type { BlkRequest } from './request.js';
import type { NvmeQueuePair, Ssd } from './ssd.js';

export interface SpdkCosts {
  /** Per request: descriptor to iovec, bdev I/O, NVMe command with PRPs [ps]. */
  perRequestPs: number;
  /** Per completion: CQE, bdev completion, status byte, used entry, inflight log [ps]. */
  perCompletionPs: number;
  /** An MMIO doorbell write from user space [ps]. */
  doorbellPs: number;
  /** The callfd write's routing in KVM (the syscall is the env's) [ps]. */
  signalRoutePs: number;
  /** Requests per virtqueue per poll (SPDK_VHOST_VQ_MAX_SUBMISSIONS). */
  maxPerPoll: number;
  /** Coalescing: delay base (0: off) [ps] and the IOPS threshold per virtqueue, checked every statsPeriodPs. */
  coalesceDelayPs: number;
  coalesceIops: number;
  statsPeriodPs: number;
}

export interface SpdkStages {
  backend: number;
  device: number;
  complete: number;
}

function delayedSignal(r: SpdkReactor): void {
  r.signalDue();
}

export class SpdkReactor {
  // Scratch lists with counts of their own (setting an array's length is a runtime call).
  private readonly batch: BlkRequest[] = [];
  private readonly reaped: BlkRequest[] = [];
  private readonly ramDone = new Fifo<BlkRequest>();
  /** Requests waiting for room in the NVMe submission queue. */
  private readonly overflow = new Fifo<BlkRequest>();
  /** Virtqueues with used entries not yet decided on, and coalesced signals pending. */
  private dirtyCount = 0;
  private dueCount = 0;
  private vq = 0;
  /** Per virtqueue: completions since the last rate check, the rate seen, and a delayed signal pending. */
  private readonly ioCount: number[];
  private readonly rateIops: number[];
  /** Per virtqueue: when a coalesced signal is due [ps]; -1 when none waits. */
  private readonly signalDueAt: number[];

  /** Per virtqueue: used entries pushed since its last signal decision. */
  private readonly dirty: boolean[];
  private lastStatsPs = 0;
  /**
   * The inflight region: requests fetched and not yet used, in fetch (counter) order; null
   * in a run without a timeline (nothing can make use of it).
   */
  inflight: Set<BlkRequest> | null = null;
  /** The process is dead (between a crash and the rings' restart): it polls nothing. */
  isDown = false;
  private restartWork: { resubmit: readonly BlkRequest[]; fail: readonly BlkRequest[] } | null = null;
  /** Failures a restart had yet to report when the process died again. */
  private readonly carriedFail: BlkRequest[] = [];
  polls = 0;
  signals = 0;
  signalsCoalesced = 0;

  /**
   * While a migration logs dirty pages (vhost-user LOG_SHMFD): per completion, logging the
   * request's descriptors, its used element and used->idx, and a read's data pages (SPDK
   * vhost used-ring enqueue path, migration-faults.md s1.4) [ps]; 0 otherwise.
   */
  logPerCompletionPs = 0;

  constructor(
    readonly env: ActorEnv,
    readonly name: string,
    readonly thread: HostThread,
    readonly vqs: Virtqueue<BlkRequest>[],
    private readonly ssd: Ssd | null,
    private readonly queue: NvmeQueuePair | null,
    private readonly ram: RamDisk | null,
    private readonly costs: SpdkCosts,
    private readonly stages: SpdkStages,
    /** Raises the guest's interrupt of a virtqueue, delayPs from now (the callfd write's end). */
    private readonly raise: (vq: number, delayPs: number) => void,
  ) {
    this.ioCount = vqs.map(() => 0);
    this.rateIops = vqs.map(() => 0);
    this.signalDueAt = vqs.map(() => -1);
    this.dirty = vqs.map(() => false);
    thread.onRun = () => this.poll();
    vqs.forEach((vq, q) => {
      vq.disableNotify(); // VRING_USED_F_NO_NOTIFY: the reactor polls
      vq.onAvail = () => thread.wake();
      // used entries are published ahead of time; a late check signals then
      vq.lateNotify = (delayPs) => {
        this.signals++;
        this.env.counters.syscalls++;
        this.raise(q, delayPs + this.env.syscallPs + costs.signalRoutePs);
      };
    });
    if (queue !== null) {
      queue.onInterrupt = null; // polled completion queue
      queue.onCqe = () => thread.wake();
    }
  }

  /**
   * One reactor iteration, its work computed ahead (execAhead: no event per step): the
   * NVMe completions first (bdev_nvme's poller), then each virtqueue's available requests
   * (at most maxPerPoll per queue), submitted with one doorbell at the step's end; again
   * while there was work, then keep polling.
   */
  private poll(): void {
    if (this.isDown) {
      this.thread.idle();
      return;
    }
    if (this.restartWork !== null) this.restart(this.restartWork.resubmit, this.restartWork.fail);
    for (;;) {
      this.polls++;
      if (this.dirtyCount !== 0 || this.dueCount !== 0) this.signalAll();
      const out = this.reaped;
      let n = 0;
      const ssd = this.ssd;
      if (ssd !== null) {
        const queue = this.queue!;
        for (let r = ssd.reap(queue); r !== undefined; r = ssd.reap(queue)) out[n++] = r;
        const o = this.overflow;
        while (o.length !== 0 && ssd.canSubmit(queue)) ssd.submit(queue, o.shift()!);
      }
      const ram = this.ramDone;
      while (ram.length !== 0) out[n++] = ram.shift()!;
      if (n > 0) this.complete(n);
      let more = false;
      for (let k = 0; k < this.vqs.length; k++) {
        const q = (this.vq + k) % this.vqs.length;
        this.submitFrom(q);
        if (this.vqs[q]!.availPending !== 0) more = true; // its per-poll limit left some
      }
      this.vq = this.vq + 1 === this.vqs.length ? 0 : this.vq + 1;
      // again only for what this pass left: a malloc bdev's completions, requests past the limit
      if (!more && ram.length === 0) break;
    }
    this.thread.idle(); // a poller keeps polling: the time counts as polling
  }

  /** Takes up to maxPerPoll requests from virtqueue q and submits them. */
  private submitFrom(q: number): void {
    const vq = this.vqs[q]!;
    if (vq.availPending === 0) return;
    const batch = this.batch;
    const ram = this.ram;
    let m = 0;
    let ps = ram !== null ? 0 : this.costs.doorbellPs; // (a malloc bdev rings no doorbell)
    while (m < this.costs.maxPerPoll) {
      const r = vq.pop();
      if (r === undefined) break;
      r.ringSlots = vq.poppedSlots;
      if (this.inflight !== null) this.inflight.add(r); // rte_vhost_set_inflight_desc_split
      ps += this.costs.perRequestPs + (ram !== null ? ram.serviceCostPs(r) : 0);
      batch[m++] = r;
    }
    ps += vq.deviceCostPs(m);
    const thread = this.thread;
    thread.execAhead(ps);
    const end = thread.aheadEndPs;
    const tracker = this.env.tracker;
    const stage = this.stages.backend;
    for (let i = 0; i < m; i++) {
      const r = batch[i]!;
      tracker.markAt(r, stage, ps, end);
      if (ram !== null) this.ramDone.push(r);
      else if (this.overflow.length === 0 && this.ssd!.canSubmit(this.queue!)) this.ssd!.submit(this.queue!, r, end);
      else this.overflow.push(r); // SQ full: bdev_nvme queues it until a completion frees an entry
    }
  }

  /**
   * The completions reaped, computed ahead (execAhead: no event): their used entries are
   * published visible at the work's end, and the callfd decisions follow (a virtqueue
   * whose driver re-enables interrupts before then is signalled late, by lateNotify).
   */
  private complete(n: number): void {
    const out = this.reaped;
    const thread = this.thread;
    let cost = n * this.costs.perCompletionPs + this.vqs[0]!.deviceCostPs(n);
    if (this.logPerCompletionPs !== 0) cost += n * this.logPerCompletionPs;
    thread.execAhead(cost);
    const end = thread.aheadEndPs;
    const tracker = this.env.tracker;
    const inflight = this.inflight;
    for (let i = 0; i < n; i++) {
      const r = out[i]!;
      if (inflight !== null) inflight.delete(r); // cleared after the used ring's update
      tracker.markAt(r, this.stages.device, 0, end - cost);
      tracker.markAt(r, this.stages.complete, cost, end);
      this.vqs[r.hwq]!.pushUsed(r, r.ringSlots, end);
      this.ioCount[r.hwq]!++;
      if (!this.dirty[r.hwq]) {
        this.dirty[r.hwq] = true;
        this.dirtyCount++;
      }
    }
    this.signalAll();
  }

  /**
   * Signals the virtqueues whose used entries wait for a decision (or whose coalesced
   * signal is due): each callfd write is computed ahead on the reactor (execAhead: no
   * event of its own) and the interrupt leaves when it ends.
   */
  private signalAll(): void {
    const c = this.costs;
    const now = this.env.sim.nowPs;
    if (c.coalesceDelayPs > 0 && now - this.lastStatsPs >= c.statsPeriodPs) {
      const secs = (now - this.lastStatsPs) / 1e12;
      for (let q = 0; q < this.vqs.length; q++) {
        this.rateIops[q] = this.ioCount[q]! / secs;
        this.ioCount[q] = 0;
      }
      this.lastStatsPs = now;
    }
    for (let q = 0; q < this.vqs.length; q++) {
      const due = this.signalDueAt[q]!;
      if (due > now || (due < 0 && !this.dirty[q])) continue;
      const rate = this.rateIops[q]!;
      if (due < 0 && c.coalesceDelayPs > 0 && rate > c.coalesceIops) {
        // coalescing: this virtqueue's signal waits, gathering completions
        const delay = Math.round((c.coalesceDelayPs * (rate - c.coalesceIops)) / c.coalesceIops);
        this.signalDueAt[q] = now + delay;
        this.dueCount++;
        this.signalsCoalesced++;
        this.env.sim.post(delay, delayedSignal, this);
        continue;
      }
      if (due >= 0) {
        this.signalDueAt[q] = -1;
        this.dueCount--;
      }
      if (this.dirty[q]) {
        this.dirty[q] = false;
        this.dirtyCount--;
      }
      if (this.vqs[q]!.shouldNotify()) {
        this.signals++;
        this.env.counters.syscalls++;
        this.thread.execAhead(this.env.syscallPs + c.signalRoutePs);
        this.raise(q, this.thread.aheadEndPs - now);
      }
    }
  }

  /**
   * The process dies now: the requests it held (fetched from the avail ring, maybe submitted
   * to the SSD or waiting for room) are abandoned with its memory; its NVMe queue pair's
   * completions reach nobody. Returns them in fetch order (the inflight region's counters).
   */
  crash(): BlkRequest[] {
    this.isDown = true;
    // dead again before its first poll after a restart: what that restart was to resubmit is
    // still held (its failures are still to be reported: they stay for the next restart)
    const work = this.restartWork;
    this.restartWork = null;
    if (work !== null) this.carriedFail.push(...work.fail);
    const held = work !== null ? [...work.resubmit, ...this.inflight!] : [...this.inflight!];
    this.inflight!.clear();
    while (this.overflow.length !== 0) this.overflow.shift();
    while (this.ramDone.length !== 0) this.ramDone.shift();
    return held;
  }

  /**
   * The restarted process's NVMe queue pair is usable once the commands the dead one left
   * on it have ended (the controller attach drops their completions): true when none is
   * left in the device, the stale completions discarded.
   */
  dropStaleCompletions(): boolean {
    const ssd = this.ssd;
    if (ssd === null) return true;
    const queue = this.queue!;
    while (ssd.reap(queue) !== undefined) {}
    return queue.outstanding === 0;
  }

  /**
   * The rings run again (the vhost-user set-up is done): `resubmit` (the inflight region's
   * requests, in counter order) are submitted again; `fail` end with an I/O error (their
   * used entries pushed with the error status). Then the reactor polls as before.
   */
  resume(resubmit: readonly BlkRequest[], fail: readonly BlkRequest[]): void {
    this.isDown = false;
    const carried = this.carriedFail.splice(0);
    this.restartWork = { resubmit, fail: carried.length > 0 ? [...carried, ...fail] : fail };
    this.thread.wake();
  }

  /** The restart's work, done by the reactor's first poll after it (its own thread's time). */
  private restart(resubmit: readonly BlkRequest[], fail: readonly BlkRequest[]): void {
    this.restartWork = null;
    const thread = this.thread;
    const c = this.costs;
    const tracker = this.env.tracker;
    if (fail.length > 0) {
      const cost = fail.length * c.perCompletionPs + this.vqs[0]!.deviceCostPs(fail.length);
      thread.execAhead(cost);
      const end = thread.aheadEndPs;
      for (const r of fail) {
        tracker.markAt(r, this.stages.complete, cost, end);
        this.vqs[r.hwq]!.pushUsed(r, r.ringSlots, end);
        if (!this.dirty[r.hwq]) {
          this.dirty[r.hwq] = true;
          this.dirtyCount++;
        }
      }
    }
    if (resubmit.length > 0) {
      const ram = this.ram;
      let ps = ram !== null ? 0 : c.doorbellPs;
      for (const r of resubmit) ps += c.perRequestPs + (ram !== null ? ram.serviceCostPs(r) : 0);
      thread.execAhead(ps);
      const end = thread.aheadEndPs;
      for (const r of resubmit) {
        this.inflight!.add(r);
        tracker.markAt(r, this.stages.backend, ps, end);
        if (ram !== null) this.ramDone.push(r);
        else if (this.overflow.length === 0 && this.ssd!.canSubmit(this.queue!)) this.ssd!.submit(this.queue!, r, end);
        else this.overflow.push(r);
      }
    }
  }

  /** @internal A coalesced signal is due: the poll loop sends it. */
  signalDue(): void {
    this.thread.wake();
  }
}
