/**
 * A bounded FIFO (growable ring buffer) for queues that are not virtqueues: NIC
 * descriptor rings, the tap queue, a socket send queue. push() returns false when full.
 */
export class Fifo<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;
  /** Items refused because the queue was full. */
  refused = 0;
  maxLength = 0;

  constructor(
    readonly capacity: number = Infinity,
    initial = 16,
  ) {
    this.items = new Array<T | undefined>(Math.max(2, Math.min(initial, Number.isFinite(capacity) ? capacity : initial)));
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
    this.items[(this.head + this.count) % this.items.length] = item;
    this.count++;
    if (this.count > this.maxLength) this.maxLength = this.count;
    return true;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    return item;
  }

  private grow(): void {
    const n = this.items.length;
    const next = new Array<T | undefined>(n * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % n];
    this.items = next;
    this.head = 0;
  }
}
