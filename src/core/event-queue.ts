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
 * A slot holds the callback, its argument and the event's insertion sequence number; the
 * heap holds (time, slot) pairs and reads the sequence number through the slot on ties.
 *
 * Handles: an event's handle is its sequence number, unique for the queue's lifetime, so
 * a stale handle (its event ran or was cancelled) can never hit a later event. A small
 * integer up to 2^31 pushes, it never needs a heap number (the old slot + generation
 * handles passed 2^31 after a slot's 32nd reuse, and so were boxed whenever a call
 * returning one was not inlined). cancel() finds the slot through a direct-mapped table
 * indexed by the low bits of the sequence number, sized to at least four times the slot
 * capacity; an event still pending when its table entry is taken over, HANDLE_SPAN
 * pushes later, moves to a Map (rare: it must outlive ~4 x capacity later pushes). The
 * slot's stored sequence number confirms every match. Cancellation is lazy: the slot's
 * callback is cleared and the entry is dropped when it reaches the front or is moved.
 */
import { AS_DOUBLE } from './time.js';

export type EventFn<A = any> = (arg: A) => void;

/** Opaque handle returned by push(); pass it to cancel(). */
export type EventHandle = number;

/** What run() drives: the simulator's clock, event count and stop flag. */
export interface RunClock {
  nowPs: number;
  eventsProcessed: number;
  stopRequested: boolean;
}

const SLOT_LIMIT = 1 << 26; // 67M pending events at most

/** Heap size above which the ladder takes over, and the pending count below which it gives back. */
const HEAP_HIGH = 512;
const LADDER_LOW = 128;
const MAX_BUCKETS = 1 << 20;
/** Target number of pending events per bucket at the front of a new rung. */
const EVENTS_PER_BUCKET = 2;
/** Buckets per pending event in a new rung (the rung then spans about 8 median distances). */
const BUCKETS_PER_EVENT = 2;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Handle table entries per slot of capacity (a power of two), and its least size. */
const HANDLE_TABLE_PER_SLOT = 4;
const HANDLE_TABLE_MIN = 4096;

/**
 * An array of n copies of value with packed elements. Built by push: Array.from({ length })
 * with a mapping function takes about 65 us for 1,025 entries (it iterates generically),
 * which was most of the cost of a new simulator and so of a short run.
 */
function packedArray<T>(n: number, value: T): T[] {
  const a: T[] = [];
  for (let i = 0; i < n; i++) a.push(value);
  return a;
}

export class EventQueue {
  // The heap: (time, slot) pairs; ties are broken by slotSeq[slot].
  private heapTime: Float64Array;
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

  // Slots. Slot 0 is never used: handle table entries start there, and its sequence
  // number (-1) matches no handle.
  private slotFn: (EventFn | null)[];
  private slotArg: unknown[];
  /** Insertion sequence number (= handle) of the event in the slot, kept after it leaves. */
  private slotSeq: Float64Array;
  /** Time of an event waiting in a bucket or the top list (heap entries keep theirs in heapTime). */
  private slotTime: Float64Array;
  private slotNext: Int32Array;
  private freeSlots: Int32Array;
  private freeCount: number;
  private capacity: number;

  // Handles: sequence number -> slot.
  private handleSlot: Int32Array;
  private handleMask: number;
  /** Pending events whose handleSlot entry a later push took over. */
  private readonly farHandles = new Map<number, number>();

  private nextSeq = 0;
  /** Cancelled events still holding a slot (dropped lazily). */
  private cancelledCount = 0;
  private readonly sample = new Float64Array(65);

  /** Time of the next pushAtNextTime() [ps]. */
  nextTimePs = AS_DOUBLE;

  /** Callback and argument of the entry last returned by popInto(). */
  poppedFn: EventFn | null = null;
  poppedArg: unknown = undefined;
  poppedTimePs = AS_DOUBLE;

  constructor(initialCapacity = 1024) {
    this.rungStartPs = 0;
    this.poppedTimePs = 0;
    this.nextTimePs = 0;
    const cap = Math.max(16, (initialCapacity | 0) + 1);
    this.capacity = cap;
    this.heapTime = new Float64Array(cap);
    this.heapSlot = new Int32Array(cap);
    this.topSlots = new Int32Array(cap);
    // Packed arrays (pushed, not new Array(n).fill()): loads need no hole check.
    this.slotFn = packedArray(cap, null);
    this.slotArg = packedArray(cap, undefined);
    this.slotSeq = new Float64Array(cap).fill(-1);
    this.slotTime = new Float64Array(cap);
    this.slotNext = new Int32Array(cap);
    this.freeSlots = new Int32Array(cap);
    // Slot 0 stays out of the free list; the lowest slots are taken first.
    this.freeCount = 0;
    for (let i = cap - 1; i >= 1; i--) this.freeSlots[this.freeCount++] = i;
    this.handleSlot = new Int32Array(0);
    this.handleMask = 0;
    this.buildHandleTable();
  }

  /** Number of events that will still run (cancelled ones excluded). */
  get size(): number {
    return this.capacity - 1 - this.freeCount - this.cancelledCount;
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
      this.dropCancelled(slot);
    }
  }

  /** Adds fn(arg) at timePs; returns a handle for cancel(). */
  push<A>(timePs: number, fn: EventFn<A>, arg: A): EventHandle {
    this.nextTimePs = timePs;
    return this.pushAtNextTime(fn, arg);
  }

  /**
   * push() at the time the caller has just stored in nextTimePs. The time travels in a
   * field, not an argument: a double argument is boxed in a new heap number whenever the
   * compiler does not inline the call, a store into a double field is not.
   */
  pushAtNextTime<A>(fn: EventFn<A>, arg: A): EventHandle {
    const slot = this.insertAtNextTime(fn, arg);
    const seq = this.nextSeq - 1;
    this.takeHandle(seq, slot);
    return seq;
  }

  /**
   * pushAtNextTime() for an event that will never be cancelled: it gets no handle, so
   * its handle-table entry is neither written nor checked (about a twentieth of the
   * engine's work per event). Its order among equal times is the same as push()'s.
   */
  postAtNextTime<A>(fn: EventFn<A>, arg: A): void {
    this.insertAtNextTime(fn, arg);
  }

  /** Puts fn(arg) at nextTimePs in a free slot with the next sequence number; returns the slot. */
  private insertAtNextTime<A>(fn: EventFn<A>, arg: A): number {
    if (this.freeCount === 0) this.grow();
    const slot = this.freeSlots[--this.freeCount]!;
    this.slotFn[slot] = fn as EventFn;
    this.slotArg[slot] = arg;
    this.slotSeq[slot] = this.nextSeq++;
    const timePs = this.nextTimePs;
    if (timePs < this.heapLimitPs) {
      // Sift up with a hole: move parents down until the new key fits. The new event has
      // the largest sequence number, so it goes below every parent at its time.
      const time = this.heapTime, slots = this.heapSlot;
      let i = this.heapSize++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        const pt = time[p]!;
        if (pt <= timePs) break;
        time[i] = pt;
        slots[i] = slots[p]!;
        i = p;
      }
      time[i] = timePs;
      slots[i] = slot;
      if (this.heapSize > HEAP_HIGH) this.checkSpill();
    } else {
      this.slotTime[slot] = timePs;
      this.pushLadder(slot);
    }
    return slot;
  }

  /** Points the handle table entry of seq at slot; a pending event it held moves to the map. */
  private takeHandle(seq: number, slot: number): void {
    const entry = seq & this.handleMask;
    const previous = this.handleSlot[entry]!;
    this.handleSlot[entry] = slot;
    if (this.slotSeq[previous] === seq - this.handleMask - 1) this.keepFar(previous);
  }

  private checkSpill(): void {
    if (this.heapSize > HEAP_HIGH && this.heapLimitPs === Infinity) this.spillHeap();
  }

  /** Cancels a pending event; false when it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    if (!(handle >= 0 && handle < this.nextSeq)) return false;
    let slot = this.handleSlot[handle & this.handleMask]!;
    if (this.slotSeq[slot] !== handle) {
      const far = this.farHandles.get(handle);
      if (far === undefined || this.slotSeq[far] !== handle) return false;
      slot = far;
    }
    if (this.slotFn[slot] === null) return false;
    this.slotFn[slot] = null;
    this.slotArg[slot] = undefined;
    this.cancelledCount++;
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
      const fn = this.slotFn[slot] as EventFn | null;
      if (fn === null) {
        this.removeTop();
        this.dropCancelled(slot);
        continue;
      }
      const timePs = this.heapTime[0]!;
      if (timePs > limitPs) return false;
      this.poppedFn = fn;
      this.poppedArg = this.slotArg[slot];
      this.poppedTimePs = timePs;
      this.removeTop();
      this.slotFn[slot] = null;
      this.slotArg[slot] = undefined;
      this.freeSlots[this.freeCount++] = slot;
      return true;
    }
  }

  /**
   * The simulator's event loop: runs events in order until the queue is empty or
   * clock.stopRequested is set, advancing clock.nowPs and clock.eventsProcessed (the
   * caller counts the events run from it: arithmetic after the loop would meet its first
   * use in the loop's on-stack-replaced code and deoptimize it at the end of every run).
   */
  runAll(clock: RunClock): void {
    for (;;) {
      if (this.heapSize === 0 && !this.refill()) return;
      const slot = this.heapSlot[0]!;
      const fn = this.slotFn[slot] as EventFn | null;
      if (fn === null) {
        this.removeTop();
        this.dropCancelled(slot);
        continue;
      }
      const arg = this.slotArg[slot];
      clock.nowPs = this.heapTime[0]!;
      this.removeTop();
      this.slotFn[slot] = null;
      this.slotArg[slot] = undefined;
      this.freeSlots[this.freeCount++] = slot;
      clock.eventsProcessed++;
      fn(arg);
      if (clock.stopRequested === true) return; // a reference compare, not a generic truth test
    }
  }

  /**
   * runAll() that also stops before the first event later than untilPs and after
   * maxEvents events (counted from clock.eventsProcessed).
   */
  runLimited(clock: RunClock, untilPs: number, maxEvents: number): void {
    const last = clock.eventsProcessed + maxEvents;
    while (clock.eventsProcessed < last) {
      if (this.heapSize === 0 && !this.refill()) return;
      const slot = this.heapSlot[0]!;
      const fn = this.slotFn[slot] as EventFn | null;
      if (fn === null) {
        this.removeTop();
        this.dropCancelled(slot);
        continue;
      }
      const timePs = this.heapTime[0]!;
      if (timePs > untilPs) return;
      const arg = this.slotArg[slot];
      clock.nowPs = timePs;
      this.removeTop();
      this.slotFn[slot] = null;
      this.slotArg[slot] = undefined;
      this.freeSlots[this.freeCount++] = slot;
      clock.eventsProcessed++;
      fn(arg);
      if (clock.stopRequested === true) return;
    }
  }

  /** Frees the slot of a cancelled entry that has left the heap, bucket or top list. */
  private dropCancelled(slot: number): void {
    this.cancelledCount--;
    this.freeSlots[this.freeCount++] = slot;
  }

  /**
   * Keeps the handle of the event in `slot`, if still pending, when its handle table
   * entry is taken over. (Out of line: the check of the slot's callback would otherwise
   * meet its first use, and deoptimize the caller, only after HANDLE_TABLE_MIN pushes.)
   */
  private keepFar(slot: number): void {
    if (this.slotFn[slot] === null) return;
    const far = this.farHandles;
    if (far.size >= HANDLE_TABLE_MIN && far.size >= 2 * this.size) {
      // Forget entries whose event has run or been cancelled.
      for (const [seq, s] of far) if (this.slotSeq[s] !== seq || this.slotFn[s] === null) far.delete(seq);
    }
    far.set(this.slotSeq[slot]!, slot);
  }

  /** (Re)builds the handle table for the current capacity from the pending events. */
  private buildHandleTable(): void {
    let n = HANDLE_TABLE_MIN;
    while (n < HANDLE_TABLE_PER_SLOT * this.capacity) n *= 2;
    const table = new Int32Array(n); // every entry starts at slot 0, which matches no handle
    const mask = n - 1;
    const seqs = this.slotSeq;
    for (let s = 1; s < this.capacity; s++) {
      if (this.slotFn[s] === null) continue;
      const seq = seqs[s]!;
      const entry = seq & mask;
      const other = table[entry]!;
      if (other === 0) {
        table[entry] = s;
      } else if (seqs[other]! < seq) {
        this.farHandles.set(seqs[other]!, other);
        table[entry] = s;
      } else {
        this.farHandles.set(seq, s);
      }
    }
    this.handleSlot = table;
    this.handleMask = mask;
  }

  /** Puts an event at or beyond heapLimitPs (its time in slotTime) into a bucket or the top list. */
  private pushLadder(slot: number): void {
    const timePs = this.slotTime[slot]!;
    if (timePs < this.rungEndPs) {
      this.bucketAppend(Math.floor((timePs - this.rungStartPs) * this.invWidth), slot);
    } else {
      this.topSlots[this.topCount++] = slot;
    }
  }

  private heapPush(timePs: number, slot: number): void {
    // Sift up with a hole: move parents down until the new key fits.
    const time = this.heapTime, slots = this.heapSlot, seqs = this.slotSeq;
    const seq = seqs[slot]!;
    let i = this.heapSize++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = time[p]!;
      if (pt < timePs || (pt === timePs && seqs[slots[p]!]! < seq)) break;
      time[i] = pt;
      slots[i] = slots[p]!;
      i = p;
    }
    time[i] = timePs;
    slots[i] = slot;
  }

  private removeTop(): void {
    const n = --this.heapSize;
    if (n === 0) return;
    const time = this.heapTime, slots = this.heapSlot;
    const lastTime = time[n]!, lastSlot = slots[n]!;
    // Sift down with a hole from the root.
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let ct = time[c]!;
      const r = c + 1;
      if (r < n) {
        const rt = time[r]!;
        if (rt < ct || (rt === ct && this.slotSeq[slots[r]!]! < this.slotSeq[slots[c]!]!)) {
          c = r;
          ct = rt;
        }
      }
      if (lastTime < ct || (lastTime === ct && this.slotSeq[lastSlot]! < this.slotSeq[slots[c]!]!)) break;
      time[i] = ct;
      slots[i] = slots[c]!;
      i = c;
    }
    time[i] = lastTime;
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
          if (this.slotFn[slot] === null) this.dropCancelled(slot);
          else this.heapPush(this.slotTime[slot]!, slot);
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
        this.dropCancelled(slot);
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
        this.heapPush(times[slot]!, slot);
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
      if (t < heapLimit) this.heapPush(t, slot);
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
    this.heapSlot = i32(this.heapSlot);
    this.topSlots = i32(this.topSlots);
    this.slotSeq = f64(this.slotSeq);
    this.slotSeq.fill(-1, old);
    this.slotTime = f64(this.slotTime);
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
    if (HANDLE_TABLE_PER_SLOT * cap > this.handleMask + 1) this.buildHandleTable();
  }
}
