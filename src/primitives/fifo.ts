/**
 * A bounded FIFO (growable ring buffer) for queues that are not virtqueues: NIC
 * descriptor rings, the tap queue, a socket send queue. push() returns false when full.
 */
export class Fifo<T> {
  private items: (T | undefined)[];
  /** items.length - 1; the length is a power of two. */
  private mask: number;
  private head = 0;
  private count = 0;
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

  get length(): number {
    return this.count;
  }
  get isEmpty(): boolean {
    return this.count === 0;
  }
  get isFull(): boolean {
    return this.count >= this.capacity;
  }
  get space(): number {
    return this.capacity - this.count;
  }

  push(item: T): boolean {
    if (this.count >= this.capacity) {
      this.refused++;
      return false;
    }
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & this.mask] = item;
    this.count++;
    if (this.count > this.maxLength) this.maxLength = this.count;
    return true;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  peekLast(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.head + this.count - 1) & this.mask];
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    return item;
  }

  private grow(): void {
    const n = this.items.length;
    const next = new Array<T | undefined>(n * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) & this.mask];
    this.items = next;
    this.mask = n * 2 - 1;
    this.head = 0;
  }
}
