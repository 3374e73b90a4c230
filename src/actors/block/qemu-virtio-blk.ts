/**
 * QEMU's virtio-blk device (hw/block/virtio-blk.c) over its file back end (QemuAio).
 * Where it runs:
 * - an IOThread (`iothread=`): its own thread, woken by the ioeventfd of a kick or the
 *   engine's completion eventfd; when idle it first polls for up to poll-max-ns
 *   (util/aio-posix.c adaptive polling) with the virtqueues' notifications disabled
 *   (the guest's kicks are suppressed meanwhile: no exits), then re-enables them and
 *   sleeps;
 * - the main loop (no iothread): each virtqueue's ioeventfd and the engine's eventfd are
 *   fd handlers of QEMU's main loop, run under the big lock;
 * - with ioeventfd off, a kick is a heavy exit and the vCPU thread runs the handler
 *   inside it, holding the big lock.
 * virtio_blk_handle_vq disables notifications, pops every request, merges adjacent ones
 * (request-merging, at most 32 per merged I/O), submits the batch with one engine call,
 * re-enables notifications and re-checks. Completions write the status byte, push the
 * used entries and notify the guest once per virtqueue per batch when the driver asks
 * for it (irqfd from an IOThread, KVM_SIGNAL_MSI from the main loop: both a syscall).
 */
import type { HostThread } from '../../primitives/host-cpu.js';
import type { Virtqueue } from '../../primitives/virtqueue.js';
import type { MainLoopHandler, QemuMainLoop } from '../host/qemu.js';
import type { ActorEnv } from '../host/env.js';
import type { GuestVcpu } from '../host/guest-vcpu.js';
import type { AioOwner, QemuBlockEngine } from './qemu-aio.js';
import { SECTOR_BYTES, type BlkRequest } from './request.js';

export interface QemuBlkCosts {
  /** virtqueue_pop (map the guest buffers), request parsing, and virtqueue_push per request [ps]. */
  perRequestPs: number;
  /** Largest merged I/O: requests and bytes (virtio_blk_submit_multireq: 32, IOV_MAX). */
  mergeMaxRequests: number;
  mergeMaxBytes: number;
  /** Merging on (request-merging=on). */
  isMerging: boolean;
  /** Signalling the guest: the syscall (irqfd write or KVM_SIGNAL_MSI) and KVM's routing [ps]. */
  notifyPs: number;
  /** IOThread adaptive polling window (poll-max-ns); 0: no polling [ps]. */
  pollWindowPs: number;
}

export interface QemuBlkStages {
  /** From the kick (or poll) to the I/O submitted to the host. */
  backend: number;
  /** The host's I/O: block layer, device, completion interrupt (-1: the back end marks its own stages). */
  device: number;
  /** From the host completion to the used entry pushed and the guest notified. */
  complete: number;
}

/** Anything that runs steps: a host thread, or a vCPU inside an exit. */
interface Runner {
  exec<A>(ps: number, fn: (arg: A) => void, arg: A): void;
}

/** One pass of the device's work on one runner (reused). */
class Pass {
  runner: Runner = null as unknown as Runner;
  thread: HostThread = null as unknown as HostThread;
  vq = 0;
  /** Requests popped (heads after merging in heads[0..headCount)). */
  readonly popped: BlkRequest[] = [];
  readonly heads: BlkRequest[] = [];
  headCount = 0;
  readonly reaped: BlkRequest[] = [];
  readonly toNotify: number[] = [];
  /** CPU time of the step in flight [ps]. */
  stepPs = 0;
  done: () => void = noop;
  /** Where runCompletions goes on after the back end's own event-loop work (made once). */
  serviceDone: () => void = noop;
  readonly afterService = (): void => this.dev.completionsAfterService(this);
  constructor(readonly dev: QemuVirtioBlk) {}
}

function noop(): void {}
/** Reads first, then writes, each by sector (the order virtio_blk_submit_multireq merges in). */
function byDirectionAndSector(a: BlkRequest, b: BlkRequest): number {
  return a.isWrite === b.isWrite ? a.sector - b.sector : a.isWrite ? 1 : -1;
}
function poppedStep(pass: Pass): void {
  pass.dev.afterPop(pass);
}
function completedStep(pass: Pass): void {
  pass.dev.afterComplete(pass);
}
function notifiedStep(pass: Pass): void {
  pass.dev.afterNotify(pass);
}
function pollEnd(dev: QemuVirtioBlk): void {
  dev.pollEnd();
}

export class QemuVirtioBlk implements AioOwner {
  /** Per virtqueue: a kick arrived (its ioeventfd is readable). */
  private readonly kicked: boolean[];
  private isAioReady = false;
  private readonly pass: Pass;
  /** Passes run on vCPUs inside exits (ioeventfd off), by vCPU index. */
  private readonly exitPasses: Pass[] = [];
  private readonly vqHandlers: MainLoopHandler[] = [];
  private readonly aioHandler: MainLoopHandler | null = null;
  handled = 0;
  merges = 0;
  notifies = 0;

  constructor(
    readonly env: ActorEnv,
    readonly name: string,
    readonly vqs: Virtqueue<BlkRequest>[],
    readonly aio: QemuBlockEngine,
    private readonly costs: QemuBlkCosts,
    private readonly stages: QemuBlkStages,
    /** The IOThread, or null when the device lives in the main loop. */
    private readonly iothread: HostThread | null,
    private readonly mainLoop: QemuMainLoop | null,
    /** Raises the guest's interrupt of a virtqueue (cost paid by the caller). */
    private readonly raise: (vq: number) => void,
  ) {
    this.kicked = vqs.map(() => false);
    this.pass = new Pass(this);
    aio.owner = this;
    if (iothread !== null) {
      this.pass.thread = iothread;
      this.pass.runner = iothread;
      iothread.onRun = () => this.loop();
      aio.attachSubmitter(iothread);
      for (const vq of vqs) vq.onAvail = () => this.polledAvail();
    } else if (mainLoop !== null) {
      this.pass.thread = mainLoop.thread;
      this.pass.runner = mainLoop.thread;
      aio.attachSubmitter(mainLoop.thread);
      vqs.forEach((_, q) => {
        this.vqHandlers.push({ name: `${name}/vq${q}`, isReady: false, run: (_loop, done) => this.runVq(q, done) });
      });
      this.aioHandler = { name: `${name}/aio`, isReady: false, run: (_loop, done) => this.runCompletions(this.pass, done) };
    } else {
      throw new Error(`${name}: needs an IOThread or the main loop`);
    }
  }

  /** The ioeventfd of virtqueue vq was signalled (the guest kicked). */
  kick(vq: number): void {
    if (this.iothread !== null) {
      this.kicked[vq] = true;
      this.iothread.wake();
    } else {
      this.mainLoop!.notify(this.vqHandlers[vq]!);
    }
  }

  /** ioeventfd off: the vCPU runs the handler inside its heavy exit (BQL held), then done(). */
  handleInExit(vcpu: GuestVcpu, vq: number, done: () => void): void {
    let pass = this.exitPasses[vcpu.index];
    if (pass === undefined) {
      pass = new Pass(this);
      pass.thread = vcpu.thread;
      pass.runner = vcpu;
      this.aio.attachSubmitter(vcpu.thread);
      this.exitPasses[vcpu.index] = pass;
    }
    this.handleVq(pass, vq, done);
  }

  aioReady(): void {
    if (this.iothread !== null) {
      this.isAioReady = true;
      this.iothread.wake();
    } else {
      this.mainLoop!.notify(this.aioHandler!);
    }
  }

  /** Adaptive polling saw a new available buffer (notifications are off meanwhile). */
  private polledAvail(): void {
    if (!this.vqs[0]!.isNotifyEnabled || this.isPolling) this.iothread!.wake();
  }

  private isPolling = false;

  // ---------------------------------------------------------------- IOThread

  private loop(): void {
    const pass = this.pass;
    this.isPolling = false;
    if (this.isAioReady || this.aio.done.length !== 0) {
      this.isAioReady = false;
      this.runCompletions(pass, this.loopFn);
      return;
    }
    for (let q = 0; q < this.vqs.length; q++) {
      const vq = this.vqs[q]!;
      if (this.kicked[q] || vq.availPending > 0) {
        this.kicked[q] = false;
        this.handleVq(pass, q, this.loopFn);
        return;
      }
    }
    const window = this.costs.pollWindowPs;
    if (window > 0) {
      // poll phase: notifications off; io_poll_end re-enables them if nothing came
      for (const vq of this.vqs) vq.disableNotify();
      this.isPolling = true;
      this.pollEndPs = this.env.sim.nowPs + window;
      this.env.sim.post(window, pollEnd, this);
    }
    this.iothread!.idle(window);
  }

  /** When the current poll window ends [ps] (an earlier window's timer finds it later and does nothing). */
  private pollEndPs = -1;
  private readonly loopFn = (): void => this.loop();

  /** @internal The poll window ran out: notifications back on, with the re-check. */
  pollEnd(): void {
    if (this.env.sim.nowPs !== this.pollEndPs || !this.isPolling) return;
    this.isPolling = false;
    let more = false;
    for (const vq of this.vqs) if (vq.enableNotify()) more = true;
    if (more) this.iothread!.wake();
  }

  // ---------------------------------------------------------------- main loop

  private runVq(q: number, done: () => void): void {
    this.handleVq(this.pass, q, done);
  }

  // ---------------------------------------------------------------- the device's work

  private handleVq(pass: Pass, q: number, done: () => void): void {
    const vq = this.vqs[q]!;
    this.isPolling = false;
    vq.disableNotify();
    pass.vq = q;
    pass.done = done;
    const popped = pass.popped;
    let n = 0;
    for (let r = vq.pop(); r !== undefined; r = vq.pop()) {
      r.ringSlots = vq.poppedSlots;
      popped[n++] = r;
    }
    popped.length = n;
    if (n === 0) {
      if (vq.enableNotify()) {
        this.handleVq(pass, q, done);
        return;
      }
      done();
      return;
    }
    this.handled += n;
    this.mergeBatch(pass);
    const c = this.costs;
    pass.stepPs = n * c.perRequestPs + vq.deviceCostPs(n) + this.aio.submitCostPs(pass.heads, pass.headCount);
    pass.runner.exec(pass.stepPs, poppedStep, pass);
  }

  /** virtio_blk_submit_multireq: sort by sector, merge runs of adjacent same-direction requests. */
  private mergeBatch(pass: Pass): void {
    const reqs = pass.popped;
    const heads = pass.heads;
    const c = this.costs;
    if (!c.isMerging || reqs.length < 2) {
      for (let i = 0; i < reqs.length; i++) heads[i] = reqs[i]!;
      pass.headCount = reqs.length;
      return;
    }
    reqs.sort(byDirectionAndSector);
    let h = 0;
    let head = reqs[0]!;
    let count = 1;
    let end = head.sector + head.totalBytes / SECTOR_BYTES;
    let bytes = head.totalBytes;
    heads[h++] = head;
    for (let i = 1; i < reqs.length; i++) {
      const r = reqs[i]!;
      const rb = r.totalBytes;
      if (r.isWrite === head.isWrite && r.sector === end && count < c.mergeMaxRequests && bytes + rb <= c.mergeMaxBytes) {
        head.backendMerged.push(r);
        this.merges++;
        count++;
        end += rb / SECTOR_BYTES;
        bytes += rb;
        continue;
      }
      head = r;
      count = 1;
      end = r.sector + rb / SECTOR_BYTES;
      bytes = rb;
      heads[h++] = head;
    }
    pass.headCount = h;
  }

  /** @internal The batch is parsed and merged: submit it, then re-enable and re-check. */
  afterPop(pass: Pass): void {
    const tracker = this.env.tracker;
    const st = this.stages.backend;
    const reqs = pass.popped;
    for (let i = 0; i < reqs.length; i++) tracker.mark(reqs[i]!, st, pass.stepPs);
    this.aio.submit(pass.heads, pass.headCount, pass.thread);
    const vq = this.vqs[pass.vq]!;
    // virtio_blk_handle_vq's end: notifications on again, with the re-check
    if (vq.enableNotify()) {
      this.handleVq(pass, pass.vq, pass.done);
      return;
    }
    pass.done();
  }

  /** Takes the engine's completions and pushes them to the guest. */
  private runCompletions(pass: Pass, done: () => void): void {
    const aio = this.aio;
    const service = aio.service;
    if (service !== undefined && service.hasWork()) {
      // the back end's fd handler (libiscsi: write the queue, read the socket) runs first
      pass.serviceDone = done;
      service.run(pass.runner, pass.afterService);
      return;
    }
    const out = pass.reaped;
    let n = 0;
    while (aio.done.length !== 0) {
      out[n++] = aio.done.shift()!;
    }
    out.length = n;
    pass.done = done;
    if (n === 0) {
      done();
      return;
    }
    aio.countReap();
    const tracker = this.env.tracker;
    let ends = 0;
    for (let i = 0; i < n; i++) {
      const r = out[i]!;
      const m = r.backendMerged;
      const device = this.stages.device;
      if (device >= 0) {
        tracker.mark(r, device, 0);
        for (let j = 0; j < m.length; j++) tracker.mark(m[j]!, device, 0);
      }
      ends += 1 + m.length;
    }
    const vq0 = this.vqs[0]!;
    pass.stepPs = aio.reapCostPs(n) + ends * this.costs.perRequestPs + vq0.deviceCostPs(ends);
    pass.runner.exec(pass.stepPs, completedStep, pass);
  }

  /** @internal The back end's fd handler ran: take its completions. */
  completionsAfterService(pass: Pass): void {
    this.runCompletions(pass, pass.serviceDone);
  }

  /** @internal Status bytes written: push used entries, then notify each virtqueue touched that asks. */
  afterComplete(pass: Pass): void {
    const out = pass.reaped;
    const touched = pass.toNotify;
    touched.length = 0;
    const tracker = this.env.tracker;
    const st = this.stages.complete;
    for (let i = 0; i < out.length; i++) {
      const r = out[i]!;
      this.pushUsed(r, touched, tracker, st, pass.stepPs);
      const m = r.backendMerged;
      for (let j = 0; j < m.length; j++) this.pushUsed(m[j]!, touched, tracker, st, pass.stepPs);
      out[i] = undefined as unknown as BlkRequest;
    }
    out.length = 0;
    let k = 0;
    for (let i = 0; i < touched.length; i++) {
      if (this.vqs[touched[i]!]!.shouldNotify()) touched[k++] = touched[i]!;
    }
    touched.length = k;
    if (k === 0) {
      pass.done();
      return;
    }
    pass.runner.exec(k * this.costs.notifyPs, notifiedStep, pass);
  }

  private pushUsed(r: BlkRequest, touched: number[], tracker: ActorEnv['tracker'], st: number, servicePs: number): void {
    const vq = this.vqs[r.hwq]!;
    tracker.mark(r, st, servicePs);
    vq.pushUsed(r, r.ringSlots);
    if (!touched.includes(r.hwq)) touched.push(r.hwq);
  }

  /** @internal */
  afterNotify(pass: Pass): void {
    const touched = pass.toNotify;
    for (let i = 0; i < touched.length; i++) {
      this.notifies++;
      this.env.counters.syscalls++;
      this.raise(touched[i]!);
    }
    touched.length = 0;
    pass.done();
  }
}
