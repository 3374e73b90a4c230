/**
 * A QEMU process's main loop (util/main-loop.c): one thread that sleeps in ppoll on all
 * its fds (ioeventfds, taps, timers, the bottom-half notifier). When something is ready
 * it wakes (a host wake-up), pays one loop iteration, takes the big lock (BQL) and
 * dispatches every ready handler in turn; handlers may run several steps (device code)
 * and schedule bottom halves or mark other handlers ready, which run in a further
 * iteration before the thread releases the BQL and sleeps again.
 *
 * The BQL is shared with the VM's vCPU threads during heavy exits (Kvm.heavyExit), so
 * device work in the main loop and register emulation on vCPUs never overlap.
 */
import type { HostThread } from '../primitives/host-cpu.js';
import type { Mutex } from '../primitives/mutex.js';
import type { ActorEnv } from './env.js';

/** An fd handler, bottom half or timer of the main loop. */
export interface MainLoopHandler {
  readonly name: string;
  isReady: boolean;
  /** Runs on the main-loop thread with the BQL held; calls done() when finished. */
  run(loop: QemuMainLoop, done: () => void): void;
}

export class QemuMainLoop {
  private readonly handlers: MainLoopHandler[] = [];
  private isHoldingBql = false;
  private readonly afterHandlerFn = (): void => this.dispatch();
  private readonly lockedFn = (): void => {
    this.isHoldingBql = true;
    this.dispatch();
  };
  private readonly iterationFn = (): void => this.bql.acquire(this.thread, this.lockedFn, undefined);
  iterations = 0;
  dispatched = 0;

  constructor(
    private readonly env: ActorEnv,
    readonly name: string,
    readonly thread: HostThread,
    readonly bql: Mutex,
    private readonly iterationPs: number,
  ) {
    thread.onRun = () => this.iterate();
  }

  add(handler: MainLoopHandler): void {
    this.handlers.push(handler);
  }

  /** An fd became readable, a BH was scheduled or a timer fired: wake the loop. */
  notify(handler: MainLoopHandler): void {
    handler.isReady = true;
    this.thread.wake();
  }

  private iterate(): void {
    if (!this.handlers.some((h) => h.isReady)) {
      this.thread.idle();
      return;
    }
    this.iterations++;
    // ppoll returns, fds are checked; then qemu_mutex_lock_iothread
    this.thread.exec(this.iterationPs, this.iterationFn, undefined);
  }

  private dispatch(): void {
    for (const h of this.handlers) {
      if (h.isReady) {
        h.isReady = false;
        this.dispatched++;
        h.run(this, this.afterHandlerFn);
        return;
      }
    }
    // nothing left in this iteration: unlock and poll again
    this.isHoldingBql = false;
    this.bql.release(this.thread);
    this.iterate();
  }

  get holdsBql(): boolean {
    return this.isHoldingBql;
  }

  get envRef(): ActorEnv {
    return this.env;
  }
}
