/**
 * A bounded FIFO (growable ring buffer) for queues that are not virtqueues: NIC
 * descriptor rings, the tap queue, a socket send queue. push() returns false when full.
 *
 * `length` is a plain field (read it, never write it): hot callers test
 * `q.length === 0` without a getter call, which matters before the JIT has optimized
 * them (the first thousands of simulated requests of every run).
 */
export class Fifo<T> {
  private items: (T | undefined)[];
  /** items.length - 1; the length is a power of two. */
  private mask: number;
  private head = 0;
  /** Items queued (read-only for users). */
  length = 0;
  /** Items refused because the queue was full. */
  refused = 0;
  maxLength = 0;

  constructor(
    readonly capacity: number = Infinity,
    initial = 16,
  ) {
    let n = 2;
    const want = Math.min(initial, Number.isFinite(capacity) ? capacity : initial);
    while (n < want) n *= 2;
    this.items = new Array<T | undefined>(n);
    this.mask = n - 1;
  }

  get isEmpty(): boolean {
    return this.length === 0;
  }
  get isFull(): boolean {
    return this.length >= this.capacity;
  }
  get space(): number {
    return this.capacity - this.length;
  }

  push(item: T): boolean {
    const count = this.length;
    if (count >= this.capacity) {
      this.refused++;
      return false;
    }
    if (count === this.items.length) this.grow();
    this.items[(this.head + count) & this.mask] = item;
    this.length = count + 1;
    if (count >= this.maxLength) this.maxLength = count + 1;
    return true;
  }

  /** Puts item first in line, ahead of everything queued; false when full. */
  unshift(item: T): boolean {
    const count = this.length;
    if (count >= this.capacity) {
      this.refused++;
      return false;
    }
    if (count === this.items.length) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.items[this.head] = item;
    this.length = count + 1;
    if (count >= this.maxLength) this.maxLength = count + 1;
    return true;
  }

  peek(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.head];
  }

  /** The i-th item from the head (0 is the next to shift); undefined past the end. */
  at(i: number): T | undefined {
    return i >= 0 && i < this.length ? this.items[(this.head + i) & this.mask] : undefined;
  }

  peekLast(): T | undefined {
    return this.length === 0 ? undefined : this.items[(this.head + this.length - 1) & this.mask];
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const head = this.head;
    const item = this.items[head];
    this.items[head] = undefined;
    this.head = (head + 1) & this.mask;
    this.length--;
    return item;
  }

  private grow(): void {
    const n = this.items.length;
    const next = new Array<T | undefined>(n * 2);
    for (let i = 0; i < this.length; i++) next[i] = this.items[(this.head + i) & this.mask];
    this.items = next;
    this.mask = n * 2 - 1;
    this.head = 0;
  }
}
