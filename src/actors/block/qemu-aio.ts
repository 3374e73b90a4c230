/**
 * QEMU's file back end (block/file-posix.c) with its three I/O engines, as a QEMU thread
 * (IOThread, main loop, or a vCPU thread inside an exit) uses them:
 * - aio=threads (block/thread-pool.c): each request goes to a worker thread of the pool
 *   (qemu_sem_post wakes one; at most 64 workers), which makes a blocking preadv/pwritev
 *   and, when the host kernel completes it, wakes, schedules the completion bottom half
 *   and notifies the AioContext (an eventfd write);
 * - aio=native (block/linux-aio.c): io_submit of the batch (one syscall), completions
 *   signalled through the aio eventfd; QEMU reads the completion ring in user space
 *   (qemu_laio_process_completions) after reading the eventfd;
 * - aio=io_uring (block/io_uring.c): io_uring_enter for the batch, completions in the CQ
 *   ring with a registered eventfd.
 * With cache=none (O_DIRECT) the host block layer DMAs into the guest's pages: no copy.
 */
import { Fifo } from '../../primitives/fifo.js';
import type { HostThread } from '../../primitives/host-cpu.js';
import type { ActorEnv } from '../host/env.js';
import type { HostBlockLayer } from './host-blk.js';
import type { BlkRequest, HostBlockClient } from './request.js';

export type AioEngine = 'threads' | 'native' | 'io_uring';

export interface AioCosts {
  /** Per request prepared for the kernel (iocb / SQE set-up, kernel-side aio submission) [ps]. */
  perRequestPs: number;
  /** Waking a pool worker (qemu_sem_post, futex wake) [ps]. */
  poolWakePs: number;
  /** A worker's return: completion BH scheduled and the AioContext notified [ps]. */
  workerReturnPs: number;
  /** Per completion read from the ring (io_event / CQE) [ps]. */
  perCompletionPs: number;
  /** Pool workers at most (thread-pool max_threads). */
  poolSize: number;
}

/** The QEMU thread that uses the engine: told when completions are ready for it. */
export interface AioOwner {
  aioReady(): void;
}

/**
 * What QEMU's virtio-blk device asks of its block back end: the file back end (QemuAio)
 * or the iSCSI driver (IscsiInitiator).
 */
export interface QemuBlockEngine {
  owner: AioOwner | null;
  /** Completed requests the owner has not taken yet. */
  readonly done: Fifo<BlkRequest>;
  batches: number;
  attachSubmitter(thread: HostThread): void;
  submitCostPs(reqs: readonly BlkRequest[], n: number): number;
  submit(reqs: readonly BlkRequest[], n: number, thread: HostThread): void;
  reapCostPs(n: number): number;
  countReap(): void;
  /**
   * Event-loop work of the back end's own (libiscsi's socket fd handler: PDUs to write or
   * read) that runs on the owner's thread before completions are taken; absent for files.
   */
  service?: {
    hasWork(): boolean;
    run(runner: EngineRunner, done: () => void): void;
  };
}

/** A thread that runs an engine's steps (an IOThread, the main loop, a vCPU inside an exit). */
export interface EngineRunner {
  exec<A>(ps: number, fn: (arg: A) => void, arg: A): void;
}

/** A thread-pool worker: one blocking request at a time. */
class PoolWorker {
  current: BlkRequest | null = null;
  isDone = false;
  constructor(
    readonly aio: QemuAio,
    readonly index: number,
    readonly thread: HostThread,
  ) {
    thread.onRun = () => aio.runWorker(this);
  }
}

function workerSubmitted(w: PoolWorker): void {
  w.aio.workerSubmitted(w);
}
function workerReturned(w: PoolWorker): void {
  w.aio.workerReturned(w);
}

export class QemuAio implements HostBlockClient, QemuBlockEngine {
  /** Completed requests the owner has not taken yet. */
  readonly done = new Fifo<BlkRequest>();
  private readonly poolQueue = new Fifo<BlkRequest>();
  private readonly workers: PoolWorker[] = [];
  private readonly idleWorkers: PoolWorker[] = [];
  owner: AioOwner | null = null;
  batches = 0;

  constructor(
    readonly env: ActorEnv,
    readonly name: string,
    readonly engine: AioEngine,
    private readonly host: HostBlockLayer,
    private readonly costs: AioCosts,
    /** Makes a pool worker's thread (aio=threads), at build time. */
    makeWorkerThread: ((name: string) => HostThread) | null,
  ) {
    if (engine === 'threads') {
      if (makeWorkerThread === null) throw new Error(`${name}: aio=threads needs worker threads`);
      for (let i = 0; i < costs.poolSize; i++) {
        const w = new PoolWorker(this, i, makeWorkerThread(`${name}/worker${i}`));
        host.attach(w.thread);
        this.workers.push(w);
      }
      for (let i = this.workers.length - 1; i >= 0; i--) this.idleWorkers.push(this.workers[i]!);
    }
  }

  /** A thread that submits with this engine (native, io_uring) gets its host queue. */
  attachSubmitter(thread: HostThread): void {
    if (this.engine !== 'threads') this.host.attach(thread);
  }

  /** CPU time of submitting reqs[0..n) in one batch on the owner's thread [ps]. */
  submitCostPs(reqs: readonly BlkRequest[], n: number): number {
    const c = this.costs;
    if (this.engine === 'threads') return n * c.poolWakePs;
    let ps = this.env.syscallPs; // io_submit / io_uring_enter
    for (let i = 0; i < n; i++) ps += c.perRequestPs + this.host.costPs(reqs[i]!);
    return ps;
  }

  /** Submits reqs[0..n) (at the end of the step that paid submitCostPs) from thread. */
  submit(reqs: readonly BlkRequest[], n: number, thread: HostThread): void {
    this.batches++;
    const counters = this.env.counters;
    if (this.engine === 'threads') {
      for (let i = 0; i < n; i++) {
        const req = reqs[i]!;
        req.hostClient = this;
        this.poolQueue.push(req);
        const w = this.idleWorkers.pop();
        if (w !== undefined) {
          counters.syscalls++; // futex wake
          w.thread.wake();
        }
      }
      return;
    }
    counters.syscalls++;
    for (let i = 0; i < n; i++) {
      const req = reqs[i]!;
      req.hostClient = this;
      this.host.submit(req, thread);
    }
  }

  /** CPU time for the owner to take n completions: the eventfd read and the ring entries [ps]. */
  reapCostPs(n: number): number {
    return this.env.syscallPs + n * this.costs.perCompletionPs;
  }

  /** Counts the owner's eventfd read (made with reapCostPs). */
  countReap(): void {
    this.env.counters.syscalls++;
  }

  hostDone(req: BlkRequest): void {
    if (this.engine === 'threads') {
      const w = this.workers[req.tag]!;
      w.isDone = true;
      w.thread.wake();
      return;
    }
    this.complete(req);
  }

  private complete(req: BlkRequest): void {
    const wasEmpty = this.done.length === 0;
    this.done.push(req);
    if (wasEmpty) this.owner!.aioReady();
  }

  /** @internal A pool worker's loop. */
  runWorker(w: PoolWorker): void {
    if (w.isDone) {
      w.isDone = false;
      w.thread.exec(this.costs.workerReturnPs, workerReturned, w);
      return;
    }
    const req = this.poolQueue.shift();
    if (req === undefined) {
      this.idleWorkers.push(w);
      w.thread.idle();
      return;
    }
    req.tag = w.index;
    w.current = req;
    // preadv/pwritev: the syscall and the host block layer's submission, then it sleeps
    w.thread.exec(this.env.syscallPs + this.host.costPs(req), workerSubmitted, w);
  }

  /** @internal */
  workerSubmitted(w: PoolWorker): void {
    this.env.counters.syscalls++;
    this.host.submit(w.current!, w.thread);
    w.thread.idle(); // blocked in the syscall until the I/O completes
  }

  /** @internal */
  workerReturned(w: PoolWorker): void {
    const req = w.current!;
    w.current = null;
    this.env.counters.syscalls++; // the eventfd write that notifies the AioContext
    this.complete(req);
    this.runWorker(w);
  }
}
