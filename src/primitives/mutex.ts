/**
 * A sleeping lock between host threads (QEMU's big lock, BQL): FIFO hand-off. A thread
 * that finds it taken blocks (its core is free for others) and is woken, paying its
 * wake-up latency, when the lock is handed to it.
 */
import { Fifo } from './fifo.js';
import type { HostThread } from './host-cpu.js';

export class Mutex {
  private owner: HostThread | null = null;
  /** Blocked threads in arrival order (a ring: an array emptied by length = 0 reallocated at every contention). */
  private readonly waiters = new Fifo<HostThread>();
  /** Acquisitions, and those that had to wait. */
  acquisitions = 0;
  contended = 0;

  constructor(readonly name: string) {}

  get isHeld(): boolean {
    return this.owner !== null;
  }

  get holder(): HostThread | null {
    return this.owner;
  }

  /** Takes the lock for `thread` and runs fn(arg): now if free, else after a hand-off. */
  acquire<A>(thread: HostThread, fn: (arg: A) => void, arg: A): void {
    this.acquisitions++;
    if (this.owner === null) {
      this.owner = thread;
      fn(arg);
      return;
    }
    if (this.owner === thread) throw new Error(`mutex ${this.name}: ${thread.name} acquires it twice`);
    this.contended++;
    this.waiters.push(thread);
    thread.block(fn, arg);
  }

  /** Releases the lock; the first waiter gets it and is woken. */
  release(thread: HostThread): void {
    if (this.owner !== thread) throw new Error(`mutex ${this.name}: released by ${thread.name}, held by ${this.owner?.name ?? 'nobody'}`);
    const next = this.waiters.shift();
    if (next !== undefined) {
      this.owner = next;
      next.unblock();
    } else {
      this.owner = null;
    }
  }
}
