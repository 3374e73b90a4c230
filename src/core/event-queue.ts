/**
 * Pending-event set ordered by (timePs, insertion sequence): events at equal times leave
 * first-in first-out (pinned by test/core/event-queue.test.ts and simulator.test.ts).
 *
 * Structure: a binary min-heap keyed (time, seq) holds every event earlier than
 * `heapLimitPs`. While few events are pending that limit is +Infinity and the heap is the
 * whole queue. When the heap grows past HEAP_HIGH the queue switches to a one-rung
 * ladder queue (Tang, Goh and Thng, ACM TOMACS 2005, simplified): events beyond the
 * heap's horizon wait either in one of `bucketCount` time buckets of width `widthPs`
 * (unsorted lists in insertion order) or, beyond the rung, in an unsorted "top" list.
 * When the heap empties, the next non-empty bucket is pushed into it; when the rung is
 * used up, it is rebuilt from the top list: the bucket width is the power of two at or
 * above 4 x (median distance to the earliest pending event) / (pending count), taken on
 * an evenly spaced sample (so a far outlier, such as a stop timer, stays in the top list
 * instead of stretching the buckets). Each event is then handled O(1) times in
 * expectation and the heap stays small, so 10^4-10^5 pending events cost little more
 * than a few. A bucket that gets every event (all at one time, say) simply makes a big
 * heap: the worst case is a heap.
 *
 * Invariants: heap times < heapLimitPs <= bucket times < rungEndPs <= top times; bucket b
 * holds times in [rungStartPs + b*widthPs, rungStartPs + (b+1)*widthPs). Times must be
 * non-decreasing across pops (pushes never precede the last popped time): the simulator
 * guarantees it. The ordering never depends on the bucket width, only the speed does.
 *
 * Memory is struct-of-arrays over typed arrays, so pushing and popping allocate nothing.
 * A slot holds the callback, its argument and a generation counter; a handle is
 * slot + generation * SLOT_LIMIT, so a stale handle (its event already ran or was
 * cancelled) never touches a reused slot, unless that slot was reused exactly a multiple
 * of GEN_LIMIT = 2^26 times in between. Cancellation is lazy: the slot's callback is
 * cleared and the entry is dropped when it reaches the front or is moved.
 * Handles soon exceed 2^31, so they are heap numbers when a call returning one is not
 * inlined: hot code that ignores the handle should not return it from a closure.
 */
import { AS_DOUBLE } from './time.js';

export type EventFn<A = any> = (arg: A) => void;

/** Opaque handle returned by push(); pass it to cancel(). */
export type EventHandle = number;

const SLOT_LIMIT = 1 << 26; // 67M pending events at most
const GEN_LIMIT = 1 << 26; // handles stay below 2^52

/** Heap size above which the ladder takes over, and the pending count below which it gives back. */
const HEAP_HIGH = 512;
const LADDER_LOW = 128;
const MAX_BUCKETS = 1 << 20;
/** Target number of pending events per bucket at the front of a new rung. */
const EVENTS_PER_BUCKET = 2;
/** Buckets per pending event in a new rung (the rung then spans about 8 median distances). */
const BUCKETS_PER_EVENT = 2;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export class EventQueue {
  // The heap: (time, seq, slot) triples.
  private heapTime: Float64Array;
  private heapSeq: Float64Array;
  private heapSlot: Int32Array;
  private heapSize = 0;
  /** Every event earlier than this is in the heap [ps]. */
  private heapLimitPs = Infinity;

  // The rung: buckets of linked slots (slotNext), in insertion order.
  private bucketHead = new Int32Array(0);
  private bucketTail = new Int32Array(0);
  private bucketCount = 0;
  /** Index of the bucket last moved into the heap. */
  private bucketCursor = 0;
  private rungStartPs = AS_DOUBLE;
  private widthPs = 1;
  /** 1 / widthPs, exact: widths are powers of two, so bucket indices are exact products. */
  private invWidth = 1;
  private rungEndPs = Infinity;

  // The top: unsorted slots at or after rungEndPs.
  private topSlots: Int32Array;
  private topCount = 0;

  // Slots.
  private slotFn: (EventFn | null)[];
  private slotArg: unknown[];
  private slotGen: Int32Array;
  private slotTime: Float64Array;
  private slotSeq: Float64Array;
  private slotNext: Int32Array;
  private freeSlots: Int32Array;
  private freeCount: number;
  private capacity: number;

  private nextSeq = 0;
  private liveCount = 0;
  private readonly sample = new Float64Array(65);

  /** Callback and argument of the entry last returned by popInto(). */
  poppedFn: EventFn | null = null;
  poppedArg: unknown = undefined;
  poppedTimePs = AS_DOUBLE;

  constructor(initialCapacity = 1024) {
    this.rungStartPs = 0;
    this.poppedTimePs = 0;
    const cap = Math.max(16, initialCapacity | 0);
    this.capacity = cap;
    this.heapTime = new Float64Array(cap);
    this.heapSeq = new Float64Array(cap);
    this.heapSlot = new Int32Array(cap);
    this.topSlots = new Int32Array(cap);
    this.slotFn = new Array<EventFn | null>(cap).fill(null);
    this.slotArg = new Array<unknown>(cap).fill(undefined);
    this.slotGen = new Int32Array(cap);
    this.slotTime = new Float64Array(cap);
    this.slotSeq = new Float64Array(cap);
    this.slotNext = new Int32Array(cap);
    this.freeSlots = new Int32Array(cap);
    for (let i = 0; i < cap; i++) this.freeSlots[i] = cap - 1 - i;
    this.freeCount = cap;
  }

  /** Number of events that will still run (cancelled ones excluded). */
  get size(): number {
    return this.liveCount;
  }

  /** True while the ladder (buckets and top list) holds part of the events; false in plain heap mode. */
  get isLadder(): boolean {
    return this.heapLimitPs !== Infinity;
  }

  /** Time of the earliest live event, or Infinity when none is pending. */
  peekTime(): number {
    for (;;) {
      if (this.heapSize === 0 && !this.refill()) return Infinity;
      const slot = this.heapSlot[0]!;
      if (this.slotFn[slot] !== null) return this.heapTime[0]!;
      this.removeTop();
      this.releaseSlot(slot);
    }
  }

  /** Adds fn(arg) at timePs; returns a handle for cancel(). */
  push<A>(timePs: number, fn: EventFn<A>, arg: A): EventHandle {
    if (this.freeCount === 0) this.grow();
    const slot = this.freeSlots[--this.freeCount]!;
    this.slotFn[slot] = fn as EventFn;
    this.slotArg[slot] = arg;
    this.liveCount++;
    const seq = this.nextSeq++;
    if (timePs < this.heapLimitPs) {
      this.heapPush(timePs, seq, slot);
      if (this.heapSize > HEAP_HIGH && this.heapLimitPs === Infinity) this.spillHeap();
    } else {
      this.slotTime[slot] = timePs;
      this.slotSeq[slot] = seq;
      if (timePs < this.rungEndPs) {
        this.bucketAppend(Math.floor((timePs - this.rungStartPs) * this.invWidth), slot);
      } else {
        this.topSlots[this.topCount++] = slot;
      }
    }
    return slot + this.slotGen[slot]! * SLOT_LIMIT;
  }

  /** Cancels a pending event; false when it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    const slot = handle % SLOT_LIMIT;
    const gen = (handle - slot) / SLOT_LIMIT;
    if (!(slot >= 0 && slot < this.capacity) || this.slotGen[slot] !== gen || this.slotFn[slot] === null) return false;
    this.slotFn[slot] = null;
    this.slotArg[slot] = undefined;
    this.liveCount--;
    return true;
  }

  /**
   * Removes the earliest live event if its time is at most limitPs, leaving it in
   * poppedFn/poppedArg/poppedTimePs. Returns false when the queue is empty or the
   * earliest event is later than limitPs (it then stays queued).
   */
  popInto(limitPs = Infinity): boolean {
    for (;;) {
      if (this.heapSize === 0 && !this.refill()) return false;
      const slot = this.heapSlot[0]!;
      const fn = this.slotFn[slot]!;
      if (fn !== null) {
        const timePs = this.heapTime[0]!;
        if (timePs > limitPs) return false;
        this.poppedFn = fn;
        this.poppedArg = this.slotArg[slot];
        this.poppedTimePs = timePs;
        this.liveCount--;
      }
      this.removeTop();
      this.releaseSlot(slot);
      if (fn !== null) return true;
    }
  }

  private releaseSlot(slot: number): void {
    this.slotFn[slot] = null;
    this.slotArg[slot] = undefined;
    const gen = this.slotGen[slot]! + 1;
    this.slotGen[slot] = gen === GEN_LIMIT ? 0 : gen;
    this.freeSlots[this.freeCount++] = slot;
  }

  private heapPush(timePs: number, seq: number, slot: number): void {
    // Sift up with a hole: move parents down until the new key fits.
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

  private bucketAppend(bucket: number, slot: number): void {
    this.slotNext[slot] = -1;
    const tail = this.bucketTail[bucket]!;
    if (tail === -1) this.bucketHead[bucket] = slot;
    else this.slotNext[tail] = slot;
    this.bucketTail[bucket] = slot;
  }

  /**
   * Refills the empty heap from the next non-empty bucket, rebuilding the rung from the
   * top list when it is used up. Returns false when nothing is pending.
   */
  private refill(): boolean {
    for (;;) {
      while (this.bucketCursor + 1 < this.bucketCount) {
        const b = ++this.bucketCursor;
        this.heapLimitPs = this.rungStartPs + (b + 1) * this.widthPs;
        let slot = this.bucketHead[b]!;
        if (slot === -1) continue;
        this.bucketHead[b] = -1;
        this.bucketTail[b] = -1;
        while (slot !== -1) {
          const next = this.slotNext[slot]!;
          if (this.slotFn[slot] === null) this.releaseSlot(slot);
          else this.heapPush(this.slotTime[slot]!, this.slotSeq[slot]!, slot);
          slot = next;
        }
        if (this.heapSize > 0) return true;
      }
      if (this.topCount === 0) {
        // Nothing pending: back to plain heap mode.
        this.bucketCount = 0;
        this.bucketCursor = 0;
        this.heapLimitPs = Infinity;
        this.rungEndPs = Infinity;
        return false;
      }
      this.rebuildRung();
      if (this.heapSize > 0) return true;
    }
  }

  /** Moves the whole heap to the top list and leaves the heap empty (ladder mode). */
  private spillHeap(): void {
    const n = this.heapSize;
    for (let i = 0; i < n; i++) {
      const slot = this.heapSlot[i]!;
      this.slotTime[slot] = this.heapTime[i]!;
      this.slotSeq[slot] = this.heapSeq[i]!;
      this.topSlots[this.topCount++] = slot;
    }
    this.heapSize = 0;
    this.bucketCount = 0;
    this.bucketCursor = 0;
    this.heapLimitPs = -Infinity;
    this.rungEndPs = -Infinity;
  }

  /** Builds a new rung from the top list (the heap is empty and the old rung used up). */
  private rebuildRung(): void {
    const top = this.topSlots, times = this.slotTime;
    // Drop cancelled entries; find the earliest time.
    let n = 0;
    let minPs = Infinity;
    for (let i = 0; i < this.topCount; i++) {
      const slot = top[i]!;
      if (this.slotFn[slot] === null) {
        this.releaseSlot(slot);
        continue;
      }
      top[n++] = slot;
      const t = times[slot]!;
      if (t < minPs) minPs = t;
    }
    this.topCount = n;
    if (n === 0) return;
    if (n <= LADDER_LOW) {
      // Few events left: the heap alone is faster.
      for (let i = 0; i < n; i++) {
        const slot = top[i]!;
        this.heapPush(times[slot]!, this.slotSeq[slot]!, slot);
      }
      this.topCount = 0;
      this.bucketCount = 0;
      this.bucketCursor = 0;
      this.heapLimitPs = Infinity;
      this.rungEndPs = Infinity;
      return;
    }
    // Width from the median distance to the earliest event, on an evenly spaced sample:
    // about EVENTS_PER_BUCKET pending events per bucket at the front. An outlier far in
    // the future (a stop timer) does not stretch the buckets; it stays in the top list.
    const k = Math.min(n, this.sample.length);
    const stride = n / k;
    for (let i = 0; i < k; i++) this.sample[i] = times[top[Math.floor(i * stride)]!]! - minPs;
    const s = this.sample.subarray(0, k).sort();
    const median = s[k >> 1]!;
    // A power of two at or above the target width, so t * (1 / width) is exact.
    let width = 2 ** Math.max(0, Math.ceil(Math.log2((EVENTS_PER_BUCKET * median) / (n / 2))));
    let buckets = Math.min(BUCKETS_PER_EVENT * n, MAX_BUCKETS);
    if (minPs + buckets * width > MAX_SAFE) {
      buckets = Math.max(1, Math.floor((MAX_SAFE - minPs) / width));
      if (minPs + buckets * width > MAX_SAFE) width = 1;
    }
    if (this.bucketHead.length < buckets) {
      this.bucketHead = new Int32Array(buckets);
      this.bucketTail = new Int32Array(buckets);
    }
    this.bucketHead.fill(-1, 0, buckets);
    this.bucketTail.fill(-1, 0, buckets);
    this.bucketCount = buckets;
    this.rungStartPs = minPs;
    this.widthPs = width;
    this.invWidth = 1 / width;
    this.rungEndPs = minPs + buckets * width;
    // Bucket 0 goes straight into the heap; the rest into buckets or back to the top.
    this.bucketCursor = 0;
    this.heapLimitPs = minPs + width;
    const heapLimit = this.heapLimitPs, rungEnd = this.rungEndPs;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const slot = top[i]!;
      const t = times[slot]!;
      if (t < heapLimit) this.heapPush(t, this.slotSeq[slot]!, slot);
      else if (t < rungEnd) this.bucketAppend(Math.floor((t - minPs) * this.invWidth), slot);
      else top[kept++] = slot;
    }
    this.topCount = kept;
  }

  private grow(): void {
    const old = this.capacity;
    const cap = old * 2;
    if (cap > SLOT_LIMIT) throw new Error(`event queue: more than ${SLOT_LIMIT} pending events`);
    const f64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.heapTime = f64(this.heapTime);
    this.heapSeq = f64(this.heapSeq);
    this.heapSlot = i32(this.heapSlot);
    this.topSlots = i32(this.topSlots);
    this.slotGen = i32(this.slotGen);
    this.slotTime = f64(this.slotTime);
    this.slotSeq = f64(this.slotSeq);
    this.slotNext = i32(this.slotNext);
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
