/**
 * Pending-event set: a binary min-heap keyed (timePs, insertion sequence), so events at
 * equal times leave first-in first-out (pinned by test/core/event-queue.test.ts).
 *
 * Layout is struct-of-arrays over typed arrays so that pushing and popping allocate
 * nothing: the heap holds (time, seq, slot) triples; a slot holds the callback, its
 * argument and a generation counter. A handle is slot + generation * SLOT_LIMIT, so a
 * stale handle (its event already ran or was cancelled) never touches a reused slot.
 * Cancellation is lazy: the slot's callback is cleared and the entry skipped on pop.
 */
export type EventFn<A = any> = (arg: A) => void;

/** Opaque handle returned by push(); pass it to cancel(). */
export type EventHandle = number;

const SLOT_LIMIT = 1 << 26; // 67M pending events at most
const GEN_LIMIT = 1 << 26; // handles stay below 2^52

export class EventQueue {
  private heapTime: Float64Array;
  private heapSeq: Float64Array;
  private heapSlot: Int32Array;
  private heapSize = 0;

  private slotFn: (EventFn | null)[];
  private slotArg: unknown[];
  private slotGen: Int32Array;
  private freeSlots: Int32Array;
  private freeCount: number;
  private capacity: number;

  private nextSeq = 0;
  private liveCount = 0;

  /** Callback and argument of the entry last returned by popInto(). */
  poppedFn: EventFn | null = null;
  poppedArg: unknown = undefined;
  poppedTimePs = 0;

  constructor(initialCapacity = 1024) {
    const cap = Math.max(16, initialCapacity | 0);
    this.capacity = cap;
    this.heapTime = new Float64Array(cap);
    this.heapSeq = new Float64Array(cap);
    this.heapSlot = new Int32Array(cap);
    this.slotFn = new Array<EventFn | null>(cap).fill(null);
    this.slotArg = new Array<unknown>(cap).fill(undefined);
    this.slotGen = new Int32Array(cap);
    this.freeSlots = new Int32Array(cap);
    for (let i = 0; i < cap; i++) this.freeSlots[i] = cap - 1 - i;
    this.freeCount = cap;
  }

  /** Number of events that will still run (cancelled ones excluded). */
  get size(): number {
    return this.liveCount;
  }

  /** Time of the earliest live event, or Infinity when none is pending. */
  peekTime(): number {
    this.dropCancelledTop();
    return this.heapSize === 0 ? Infinity : this.heapTime[0]!;
  }

  push<A>(timePs: number, fn: EventFn<A>, arg: A): EventHandle {
    if (this.freeCount === 0) this.grow();
    const slot = this.freeSlots[--this.freeCount]!;
    this.slotFn[slot] = fn as EventFn;
    this.slotArg[slot] = arg;
    this.liveCount++;

    // Sift up with a hole: move parents down until the new key fits.
    const seq = this.nextSeq++;
    const time = this.heapTime, seqs = this.heapSeq, slots = this.heapSlot;
    let i = this.heapSize++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = time[p]!;
      if (pt < timePs || (pt === timePs && seqs[p]! < seq)) break;
      time[i] = pt;
      seqs[i] = seqs[p]!;
      slots[i] = slots[p]!;
      i = p;
    }
    time[i] = timePs;
    seqs[i] = seq;
    slots[i] = slot;
    return slot + this.slotGen[slot]! * SLOT_LIMIT;
  }

  /** Cancels a pending event; false when it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    const slot = handle % SLOT_LIMIT;
    const gen = (handle - slot) / SLOT_LIMIT;
    if (slot >= this.capacity || this.slotGen[slot] !== gen || this.slotFn[slot] === null) return false;
    this.slotFn[slot] = null;
    this.slotArg[slot] = undefined;
    this.liveCount--;
    return true;
  }

  /**
   * Removes the earliest live event and leaves it in poppedFn/poppedArg/poppedTimePs.
   * Returns false when the queue is empty.
   */
  popInto(): boolean {
    for (;;) {
      if (this.heapSize === 0) return false;
      const slot = this.heapSlot[0]!;
      const timePs = this.heapTime[0]!;
      this.removeTop();
      const fn = this.slotFn[slot]!;
      const arg = this.slotArg[slot];
      this.releaseSlot(slot);
      if (fn === null) continue; // cancelled
      this.liveCount--;
      this.poppedFn = fn;
      this.poppedArg = arg;
      this.poppedTimePs = timePs;
      return true;
    }
  }

  private dropCancelledTop(): void {
    while (this.heapSize > 0 && this.slotFn[this.heapSlot[0]!] === null) {
      const slot = this.heapSlot[0]!;
      this.removeTop();
      this.releaseSlot(slot);
    }
  }

  private releaseSlot(slot: number): void {
    this.slotFn[slot] = null;
    this.slotArg[slot] = undefined;
    const gen = this.slotGen[slot]! + 1;
    this.slotGen[slot] = gen === GEN_LIMIT ? 0 : gen;
    this.freeSlots[this.freeCount++] = slot;
  }

  private removeTop(): void {
    const n = --this.heapSize;
    if (n === 0) return;
    const time = this.heapTime, seqs = this.heapSeq, slots = this.heapSlot;
    const lastTime = time[n]!, lastSeq = seqs[n]!, lastSlot = slots[n]!;
    // Sift down with a hole from the root.
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let ct = time[c]!, cs = seqs[c]!;
      const r = c + 1;
      if (r < n) {
        const rt = time[r]!;
        if (rt < ct || (rt === ct && seqs[r]! < cs)) {
          c = r;
          ct = rt;
          cs = seqs[r]!;
        }
      }
      if (lastTime < ct || (lastTime === ct && lastSeq < cs)) break;
      time[i] = ct;
      seqs[i] = cs;
      slots[i] = slots[c]!;
      i = c;
    }
    time[i] = lastTime;
    seqs[i] = lastSeq;
    slots[i] = lastSlot;
  }

  private grow(): void {
    const old = this.capacity;
    const cap = old * 2;
    if (cap > SLOT_LIMIT) throw new Error(`event queue: more than ${SLOT_LIMIT} pending events`);
    const t = new Float64Array(cap); t.set(this.heapTime); this.heapTime = t;
    const s = new Float64Array(cap); s.set(this.heapSeq); this.heapSeq = s;
    const h = new Int32Array(cap); h.set(this.heapSlot); this.heapSlot = h;
    const g = new Int32Array(cap); g.set(this.slotGen); this.slotGen = g;
    for (let i = old; i < cap; i++) {
      this.slotFn.push(null);
      this.slotArg.push(undefined);
    }
    const f = new Int32Array(cap);
    f.set(this.freeSlots.subarray(0, this.freeCount));
    for (let i = cap - 1; i >= old; i--) f[this.freeCount++] = i;
    this.freeSlots = f;
    this.capacity = cap;
  }
}
