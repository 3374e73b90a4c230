/**
 * A virtqueue: the shared-memory ring between a guest driver and a device back end
 * (OASIS virtio 1.1 s2.6 split, s2.7 packed), with notification suppression in both
 * directions.
 *
 * Indexes are free-running 16-bit counters as in the spec, so the event-index test
 * vring_need_event(event, new, old) = (u16)(new - event - 1) < (u16)(new - old) behaves
 * exactly as in Linux (virtio_ring.c, vhost.c), QEMU (virtio.c) and DPDK (vhost.h),
 * including the stale-index "disable" of EVENT_IDX mode that lets one notification
 * through per 65,536 buffers.
 *
 * Driver side: add() publishes a buffer (one slot with indirect descriptors, else one
 * per segment); kickPrepare() says whether the device wants a kick; getUsed() reclaims;
 * disableCb()/enableCb()/enableCbDelayed() steer used-buffer notifications (NAPI).
 * Device side: pop() consumes available buffers, pushUsed() returns them,
 * shouldNotify() says whether the driver wants an interrupt; disableNotify() and
 * enableNotify() (which returns true if work slipped in: the re-check) steer kicks.
 *
 * onAvail is the polling hook: called when the driver publishes into a ring the device
 * has fully consumed, so a polling device (PMD, busy loop) can notice it without an
 * event per empty poll.
 */
import { AS_DOUBLE } from '../core/time.js';
import type { Counters } from '../metrics/counters.js';

export interface VirtqueueOptions {
  name: string;
  /** Descriptors (slots). Split rings need a power of two. */
  size: number;
  isPacked: boolean;
  hasIndirect: boolean;
  hasEventIdx: boolean;
  /** Cost of one ring cache line moving between cores [ps]. */
  cachelinePs: number;
  counters: Counters;
  /** The simulation clock, for used entries published ahead of time (pushUsedAt). */
  clock?: { readonly nowPs: number };
}

const U16 = 0xffff;

/** (u16)(newIdx - event - 1) < (u16)(newIdx - old): the virtio event-index crossing test. */
export function vringNeedEvent(event: number, newIdx: number, old: number): boolean {
  return ((newIdx - event - 1) & U16) < ((newIdx - old) & U16);
}

export class Virtqueue<T> {
  readonly name: string;
  readonly size: number;
  readonly isPacked: boolean;
  readonly hasIndirect: boolean;
  readonly hasEventIdx: boolean;
  private readonly cachelinePs: number;
  private readonly counters: Counters;

  // Published buffers awaiting the device, in avail order.
  private readonly availItems: (T | undefined)[];
  private readonly availSlots: Int32Array;
  // Used entries awaiting the driver.
  private readonly usedItems: (T | undefined)[];
  private readonly usedSlots: Int32Array;
  /**
   * Storage position of a free-running index: idx & mask, with the storage a power of two
   * at least `size` long, so any `size` consecutive indexes get distinct positions (a
   * bit mask instead of an integer division per access; packed rings need not be powers
   * of two).
   */
  private readonly mask: number;

  /** Driver's avail index (free running, u16 semantics by masking). */
  availIdx = 0;
  /** Device's next avail index to consume. */
  lastAvailIdx = 0;
  /** Device's used index. */
  usedIdx = 0;
  /**
   * Used index as the driver sees it: entries pushed with a future visibility time (by a
   * back end that computes its work ahead, time-stamping its effects) appear at that time.
   */
  private visibleUsedIdx = 0;
  private readonly usedAt: Float64Array;
  /** Driver's next used index to reclaim. */
  lastUsedIdx = 0;
  /** Free descriptor slots. */
  freeSlots: number;
  /** Slots of the last popped buffer (device side). */
  poppedSlots = 0;

  // Kick suppression, written by the device.
  private deviceWantsKicks = true; // !VRING_USED_F_NO_NOTIFY
  private availEvent = 0;
  private kickOldIdx = 0;
  // Interrupt suppression, written by the driver.
  private driverWantsIrq = true; // !VRING_AVAIL_F_NO_INTERRUPT
  private usedEvent = 0;
  private signalledUsed = 0;
  private isSignalledValid = false;

  /** Device-side polling hook: the driver published into a fully consumed ring. */
  onAvail: (() => void) | null = null;
  /** Polling hook of the driver side: a used entry was pushed, visible at visibleAtPs. */
  onUsed: ((visibleAtPs: number) => void) | null = null;
  /**
   * Device notification for entries published ahead of time (pushUsed with a future
   * visibility): the device checks the driver's event index when the entries become
   * visible, so when the driver changes it before then (re-enables callbacks), the check
   * is made again and, if it now calls for one, the notification goes at that time.
   */
  lateNotify: ((delayPs: number) => void) | null = null;

  // Statistics (also fed to the run's Counters).
  kicksSent = 0;
  kicksSuppressed = 0;
  notifiesSent = 0;
  notifiesSuppressed = 0;
  maxOutstanding = 0;
  completed = 0;

  constructor(options: VirtqueueOptions) {
    const n = options.size;
    if (!(Number.isInteger(n) && n >= 2 && n <= 32768)) {
      throw new RangeError(`virtqueue ${options.name}: size must be an integer in [2, 32768], got ${n}`);
    }
    if (!options.isPacked && (n & (n - 1)) !== 0) {
      throw new RangeError(`virtqueue ${options.name}: a split ring size must be a power of two, got ${n}`);
    }
    this.name = options.name;
    this.size = n;
    this.isPacked = options.isPacked;
    this.hasIndirect = options.hasIndirect;
    this.hasEventIdx = options.hasEventIdx;
    this.cachelinePs = options.cachelinePs;
    this.counters = options.counters;
    let cap = 2;
    while (cap < n) cap *= 2;
    this.mask = cap - 1;
    this.availItems = new Array<T | undefined>(cap).fill(undefined);
    this.availSlots = new Int32Array(cap);
    this.usedItems = new Array<T | undefined>(cap).fill(undefined);
    this.usedSlots = new Int32Array(cap);
    this.usedAt = new Float64Array(cap);
    this.freeSlots = n;
    this.clock = options.clock ?? null;
    this.driverTimePs = 0;
  }

  private readonly clock: { readonly nowPs: number } | null;
  /** The driver's logical time, when it runs ahead of the clock (a wake-up in progress). */
  private driverTimePs = AS_DOUBLE;

  /** Makes the ring look as it does at time t to the driver (t may be ahead of the clock). */
  observeAt(t: number): void {
    if (t > this.driverTimePs) this.driverTimePs = t;
    if (this.visibleUsedIdx !== this.usedIdx) this.sync();
  }

  private sync(): void {
    if (this.visibleUsedIdx === this.usedIdx) return;
    if (this.clock === null) {
      this.visibleUsedIdx = this.usedIdx; // no clock: every entry is visible
      return;
    }
    // (no `clock === null ? Infinity : max`: merged with the constant, the time would be
    // boxed in a new heap number at every call)
    const now = Math.max(this.clock.nowPs, this.driverTimePs);
    while (this.visibleUsedIdx < this.usedIdx && this.usedAt[this.visibleUsedIdx & this.mask]! <= now) this.visibleUsedIdx++;
  }

  /** Slots a buffer of this many segments takes. */
  slotsFor(segments: number): number {
    return this.hasIndirect && segments > 1 ? 1 : segments;
  }

  // ---------------------------------------------------------------- driver side

  /** True when a buffer of this many segments (units of them: see add) fits. */
  canAdd(segments: number, units = 1): boolean {
    return this.freeSlots >= units * this.slotsFor(segments) && this.availIdx - this.lastUsedIdx < this.size;
  }

  /**
   * Publishes a buffer (descriptors, avail entry, avail idx after a barrier). `units` > 1
   * stands for that many buffers of one op published together (the frames a guest's GSO
   * cut from one packet): they take units x the slots, under one entry of the model.
   */
  add(item: T, segments: number, units = 1): void {
    const slots = units * this.slotsFor(segments);
    if (slots > this.freeSlots || this.availIdx - this.lastUsedIdx >= this.size) {
      throw new Error(`virtqueue ${this.name}: add to a full ring`);
    }
    if (slots > this.size) throw new Error(`virtqueue ${this.name}: a buffer of ${slots} slots never fits`);
    const pos = this.availIdx & this.mask;
    this.availItems[pos] = item;
    this.availSlots[pos] = slots;
    this.freeSlots -= slots;
    const wasDrained = this.availIdx === this.lastAvailIdx;
    this.availIdx++;
    const outstanding = this.availIdx - this.lastUsedIdx;
    if (outstanding > this.maxOutstanding) this.maxOutstanding = outstanding;
    if (wasDrained && this.onAvail !== null) this.onAvail();
  }

  /**
   * virtqueue_kick_prepare: true if the device asked to be notified of the buffers
   * published since the previous call. Counts the kick as sent or suppressed.
   */
  kickPrepare(): boolean {
    const newIdx = this.availIdx;
    const old = this.kickOldIdx;
    this.kickOldIdx = newIdx;
    if (newIdx === old) return false;
    const need = this.hasEventIdx ? vringNeedEvent(this.availEvent, newIdx, old) : this.deviceWantsKicks;
    if (need) {
      this.kicksSent++;
      this.counters.kicks++;
    } else {
      this.kicksSuppressed++;
      this.counters.kicksSuppressed++;
    }
    return need;
  }

  /** Used entries the driver has not reclaimed. */
  get usedPending(): number {
    this.sync();
    return this.visibleUsedIdx - this.lastUsedIdx;
  }

  /** Buffers published and not yet reclaimed by the driver. */
  get outstanding(): number {
    return this.availIdx - this.lastUsedIdx;
  }

  /** virtqueue_get_buf: reclaims the next used entry (undefined when none). */
  getUsed(): T | undefined {
    if (this.lastUsedIdx === this.visibleUsedIdx) {
      if (this.visibleUsedIdx === this.usedIdx) return undefined;
      this.sync();
      if (this.lastUsedIdx === this.visibleUsedIdx) return undefined;
    }
    const pos = this.lastUsedIdx & this.mask;
    const item = this.usedItems[pos];
    this.usedItems[pos] = undefined;
    this.freeSlots += this.usedSlots[pos]!;
    this.lastUsedIdx++;
    // With callbacks on, Linux moves used_event along as it consumes (virtqueue_get_buf_ctx_split).
    if (this.driverWantsIrq && this.hasEventIdx) this.usedEvent = this.lastUsedIdx & U16;
    return item;
  }

  /** virtqueue_disable_cb: stop used-buffer notifications (EVENT_IDX: a stale used_event of 0). */
  disableCb(): void {
    if (!this.driverWantsIrq) return;
    this.driverWantsIrq = false;
    if (this.hasEventIdx) this.usedEvent = 0;
  }

  /** virtqueue_enable_cb: re-enables notifications; true if used entries are already pending (re-check). */
  enableCb(): boolean {
    this.driverWantsIrq = true;
    if (this.hasEventIdx) this.usedEvent = this.lastUsedIdx & U16;
    if (this.visibleUsedIdx !== this.usedIdx) {
      this.sync();
      this.recheckPending();
    }
    return this.visibleUsedIdx !== this.lastUsedIdx;
  }

  /** Entries still invisible whose device check ran before the driver's event changed: check again. */
  private recheckPending(): void {
    if (this.visibleUsedIdx === this.usedIdx || this.lateNotify === null) return;
    const last = this.usedIdx;
    const need = this.hasEventIdx ? vringNeedEvent(this.usedEvent, last & U16, this.visibleUsedIdx & U16) : this.driverWantsIrq;
    if (!need) return;
    this.notifiesSent++;
    this.signalledUsed = last & U16;
    this.isSignalledValid = true;
    const atPs = this.usedAt[(last - 1) & this.mask]!;
    const now = this.clock === null ? 0 : this.clock.nowPs;
    this.lateNotify(atPs > now ? atPs - now : 0);
  }

  /**
   * virtqueue_enable_cb_delayed: notify only after 3/4 of the outstanding buffers are used.
   * True if that many are already used (re-check).
   */
  enableCbDelayed(): boolean {
    this.driverWantsIrq = true;
    const bufs = Math.floor(((this.availIdx - this.lastUsedIdx) & U16) * 3 / 4);
    if (this.hasEventIdx) this.usedEvent = (this.lastUsedIdx + bufs) & U16;
    if (this.visibleUsedIdx !== this.usedIdx) {
      this.sync();
      this.recheckPending();
    }
    return this.visibleUsedIdx - this.lastUsedIdx > bufs;
  }

  get isCbEnabled(): boolean {
    return this.driverWantsIrq;
  }

  // ---------------------------------------------------------------- device side

  /** Available buffers not yet consumed by the device. */
  get availPending(): number {
    return this.availIdx - this.lastAvailIdx;
  }

  /** Consumes the next available buffer; its slot count is left in poppedSlots. */
  pop(): T | undefined {
    if (this.lastAvailIdx === this.availIdx) return undefined;
    const pos = this.lastAvailIdx & this.mask;
    const item = this.availItems[pos];
    this.availItems[pos] = undefined;
    this.poppedSlots = this.availSlots[pos]!;
    this.lastAvailIdx++;
    return item;
  }

  /**
   * Returns a used buffer (its `slots` slots free when the driver reclaims it). One used
   * entry per popped buffer; a packet spread over several mergeable receive buffers
   * pushes itself once and a continuation entry (null) for each further buffer.
   */
  pushUsed(item: T, slots: number, visibleAtPs = -Infinity): void {
    if (this.usedIdx >= this.lastAvailIdx) {
      throw new Error(`virtqueue ${this.name}: used entry for a buffer never popped`);
    }
    const pos = this.usedIdx & this.mask;
    this.usedItems[pos] = item;
    this.usedSlots[pos] = slots;
    this.usedAt[pos] = visibleAtPs;
    const wasVisible = this.visibleUsedIdx === this.usedIdx;
    this.usedIdx++;
    this.completed++;
    if (wasVisible && visibleAtPs === -Infinity) this.visibleUsedIdx = this.usedIdx;
    if (this.onUsed !== null) this.onUsed(visibleAtPs);
  }

  /**
   * vhost_notify / virtio_should_notify: true if the driver wants a notification for the
   * used entries pushed since the last check. Counts it as sent or suppressed.
   */
  shouldNotify(): boolean {
    const newIdx = this.usedIdx & U16;
    let need: boolean;
    if (!this.hasEventIdx) {
      need = this.driverWantsIrq;
    } else {
      const old = this.signalledUsed;
      const wasValid = this.isSignalledValid;
      this.signalledUsed = newIdx;
      this.isSignalledValid = true;
      need = !wasValid || vringNeedEvent(this.usedEvent, newIdx, old);
    }
    if (need) {
      this.notifiesSent++;
    } else {
      this.notifiesSuppressed++;
      this.counters.interruptsSuppressed++;
    }
    return need;
  }

  /** Device stops wanting kicks (EVENT_IDX: leaves avail_event stale; else NO_NOTIFY). */
  disableNotify(): void {
    this.deviceWantsKicks = false;
  }

  /** Device wants kicks again; true if buffers are already available (the re-check). */
  enableNotify(): boolean {
    this.deviceWantsKicks = true;
    // avail_event = the avail index the device has seen (QEMU's shadow_avail_idx, vhost's
    // avail_idx), not the next buffer it will consume: a device waiting for more buffers
    // than are posted must be kicked by the next one added
    if (this.hasEventIdx) this.availEvent = this.availIdx & U16;
    return this.availIdx !== this.lastAvailIdx;
  }

  get isNotifyEnabled(): boolean {
    return this.deviceWantsKicks;
  }

  // ---------------------------------------------------------------- costs

  /**
   * Ring cache-line cost of the device handling n buffers of `slots` descriptors each in
   * one batch [ps]. Split ring: per buffer its descriptors (4 per line), avail entry (32
   * per line) and used entry (8 per line); per batch the avail and used index lines.
   * Packed ring: per buffer its descriptors only (read, then overwritten in place); per
   * batch the driver's event-suppression line (VS1.1 s2.7). Lines are amortized over the
   * batch, so batching lowers the per-buffer cost as on real rings.
   */
  deviceCostPs(n: number, slots = 1): number {
    if (n <= 0) return 0;
    const perBuffer = this.isPacked ? slots / 4 : slots / 4 + 1 / 32 + 1 / 8;
    const perBatch = this.isPacked ? 1 : 2;
    return Math.round((n * perBuffer + perBatch) * this.cachelinePs);
  }

  /**
   * Ring cache-line cost of the driver publishing n buffers of `slots` descriptors each
   * and later reclaiming them [ps]; the batch lines (avail index, used index; packed:
   * event structure) are paid when the buffers end a batch (no xmit_more behind them).
   */
  driverCostPs(n: number, slots: number, isLastOfBatch: boolean): number {
    const perBuffer = this.isPacked ? slots / 2 : slots / 4 + 1 / 32 + 1 / 8;
    const perBatch = isLastOfBatch ? (this.isPacked ? 1 : 2) : 0;
    return Math.round((n * perBuffer + perBatch) * this.cachelinePs);
  }

  /** Checks invariant 11.3-1 (ring bounds); throws with the offending numbers. */
  checkBounds(): void {
    const outstanding = this.availIdx - this.lastUsedIdx;
    if (outstanding < 0 || outstanding > this.size) {
      throw new Error(`virtqueue ${this.name}: outstanding ${outstanding} outside [0, ${this.size}]`);
    }
    if (this.lastAvailIdx > this.availIdx || this.usedIdx > this.lastAvailIdx || this.lastUsedIdx > this.visibleUsedIdx || this.visibleUsedIdx > this.usedIdx) {
      throw new Error(
        `virtqueue ${this.name}: index order broken (avail ${this.availIdx}, lastAvail ${this.lastAvailIdx}, used ${this.usedIdx}, lastUsed ${this.lastUsedIdx})`,
      );
    }
    if (this.freeSlots < 0 || this.freeSlots > this.size) {
      throw new Error(`virtqueue ${this.name}: free slots ${this.freeSlots} outside [0, ${this.size}]`);
    }
  }
}

/**
 * A run's end: each ring's bound check (a violation is a message, not a throw) and its
 * kick and notification counts, into a run's details.
 */
export function reportVirtqueues(qs: readonly Virtqueue<unknown>[], extra: Record<string, number>, violations: string[]): void {
  for (const q of qs) {
    try {
      q.checkBounds();
    } catch (e) {
      violations.push((e as Error).message);
    }
    extra[`${q.name}.kicks`] = q.kicksSent;
    extra[`${q.name}.kicks_suppressed`] = q.kicksSuppressed;
    extra[`${q.name}.notifies`] = q.notifiesSent;
    extra[`${q.name}.notifies_suppressed`] = q.notifiesSuppressed;
    extra[`${q.name}.max_outstanding`] = q.maxOutstanding;
  }
}
