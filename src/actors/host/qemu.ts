/**
 * A QEMU process's main loop (util/main-loop.c, util/aio-posix.c, util/async.c): one thread
 * that sleeps in ppoll on all its fds (ioeventfds, taps, timers, the bottom-half
 * notifier). When something is ready it wakes (a host wake-up), pays one loop iteration,
 * takes the big lock (BQL) and dispatches as aio_dispatch does:
 * 1. aio_bh_poll: the bottom halves scheduled before the iteration, newest first
 *    (aio_bh_enqueue inserts at the head of ctx->bh_list, aio_bh_dequeue takes the head;
 *    the list is moved aside first, so a BH scheduled meanwhile, including by itself,
 *    waits for the next iteration);
 * 2. the fd handlers whose fds the poll found ready, each once, in the order they became
 *    ready (as fdmon-epoll and fdmon-io_uring report them; first come, first served).
 * Handlers may run several steps (device code) and schedule bottom halves or make fds
 * ready, which run in the next iteration. So a bottom half that keeps rescheduling itself
 * (a full TX burst) shares the loop with every other queue's handlers, and the queue
 * whose kick came last is flushed first in the next round.
 *
 * The BQL is shared with the VM's vCPU threads during heavy exits (Kvm.heavyExit), so
 * device work in the main loop and register emulation on vCPUs never overlap.
 */
import type { HostThread } from '../../primitives/host-cpu.js';
import type { Mutex } from '../../primitives/mutex.js';

/** An fd handler or bottom half of the main loop. */
export interface MainLoopHandler {
  readonly name: string;
  /** The fd is readable / the bottom half is scheduled (BH_PENDING). */
  isReady: boolean;
  /** A bottom half (qemu_bh_schedule) rather than an fd handler. */
  readonly isBh?: boolean;
  /** Runs on the main-loop thread with the BQL held; calls done() when finished. */
  run(loop: QemuMainLoop, done: () => void): void;
}

export class QemuMainLoop {
  /** fd handlers that became ready since the last poll, in that order (reused). */
  private readonly readyFds: MainLoopHandler[] = [];
  private readyFdCount = 0;
  /** Bottom halves scheduled since the last aio_bh_poll, oldest first (reused). */
  private readonly scheduledBhs: MainLoopHandler[] = [];
  private scheduledCount = 0;
  /** This iteration's work: its BH slice newest first, then the ready fd handlers (reused). */
  private readonly due: MainLoopHandler[] = [];
  private dueCount = 0;
  private dueNext = 0;
  private readonly afterHandlerFn = (): void => this.dispatch();
  private readonly lockedFn = (): void => this.dispatch();
  private readonly iterationFn = (): void => {
    this.takeDue();
    this.bql.acquire(this.thread, this.lockedFn, undefined);
  };
  iterations = 0;
  dispatched = 0;

  constructor(
    readonly name: string,
    readonly thread: HostThread,
    readonly bql: Mutex,
    private readonly iterationPs: number,
  ) {
    thread.onRun = () => this.iterate();
  }

  /**
   * An fd became readable, or a bottom half was scheduled (aio_notify): wake the loop. A
   * handler takes part in the loop once notified; one already pending is served by the
   * one call it has queued (an fd readable again before it is served, a BH rescheduled).
   */
  notify(handler: MainLoopHandler): void {
    if (handler.isReady) return; // already pending
    if (handler.isBh === true) this.scheduledBhs[this.scheduledCount++] = handler;
    else this.readyFds[this.readyFdCount++] = handler;
    handler.isReady = true;
    this.thread.wake();
  }

  private iterate(): void {
    if (this.scheduledCount === 0 && this.readyFdCount === 0) {
      this.thread.idle();
      return;
    }
    this.iterations++;
    // ppoll returns (after the wake-up, if the loop slept), fds are checked; then
    // qemu_mutex_lock_iothread. The iteration's work is what is ready at the end of that.
    this.thread.exec(this.iterationPs, this.iterationFn, undefined);
  }

  /** Takes this iteration's work: the BH slice (newest first), then the ready fds. */
  private takeDue(): void {
    const due = this.due;
    let n = 0;
    const bhs = this.scheduledBhs;
    for (let i = this.scheduledCount - 1; i >= 0; i--) {
      due[n++] = bhs[i]!;
      bhs[i] = undefined as unknown as MainLoopHandler;
    }
    this.scheduledCount = 0;
    const fds = this.readyFds;
    for (let i = 0; i < this.readyFdCount; i++) {
      due[n++] = fds[i]!;
      fds[i] = undefined as unknown as MainLoopHandler;
    }
    this.readyFdCount = 0;
    this.dueCount = n;
    this.dueNext = 0;
  }

  private dispatch(): void {
    const due = this.due;
    while (this.dueNext < this.dueCount) {
      const h = due[this.dueNext]!;
      due[this.dueNext++] = undefined as unknown as MainLoopHandler;
      // (every entry is pending: notify queues a handler only when it is not)
      h.isReady = false;
      this.dispatched++;
      h.run(this, this.afterHandlerFn);
      return;
    }
    // nothing left in this iteration: unlock and poll again
    this.bql.release(this.thread);
    this.iterate();
  }
}
