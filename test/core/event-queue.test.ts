/**
 * The pending-event set: (time, insertion) order, cancellation with stale handles,
 * and a differential check against a plain sorted-array model under random operations.
 */
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/core/event-queue.js';
import { deriveStream } from '../../src/core/random.js';

/** Pops everything, returning the arguments in pop order. */
function drain(q: EventQueue): { time: number; arg: unknown }[] {
  const out: { time: number; arg: unknown }[] = [];
  while (q.popInto()) out.push({ time: q.poppedTimePs, arg: q.poppedArg });
  return out;
}

const noop = (): void => {};

describe('EventQueue', () => {
  it('pops equal-time events first-in first-out', () => {
    const q = new EventQueue(16);
    for (let i = 0; i < 1000; i++) q.push(42, noop, i);
    const out = drain(q);
    expect(out.map((e) => e.arg)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(out.every((e) => e.time === 42)).toBe(true);
  });

  it('orders by time first, then by insertion among ties', () => {
    const q = new EventQueue(16);
    const rng = deriveStream(7, 0, 'test/eq/ties');
    const pushed: { time: number; seq: number }[] = [];
    for (let i = 0; i < 5000; i++) {
      const time = Math.floor(rng() * 50); // many ties
      q.push(time, noop, i);
      pushed.push({ time, seq: i });
    }
    const expected = [...pushed].sort((a, b) => a.time - b.time || a.seq - b.seq).map((e) => e.seq);
    expect(drain(q).map((e) => e.arg)).toEqual(expected);
  });

  it('pops 100,000 pending events in sorted (time, insertion) order', () => {
    const q = new EventQueue();
    const rng = deriveStream(1, 0, 'test/eq/100k');
    const n = 100_000;
    const times = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      times[i] = Math.floor(rng() * 1e9) * (rng() < 0.1 ? 1000 : 1); // wide spread, some ties
      q.push(times[i]!, noop, i);
    }
    expect(q.size).toBe(n);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => times[a]! - times[b]! || a - b);
    const out = drain(q);
    expect(out.length).toBe(n);
    let mismatches = 0;
    for (let i = 0; i < n; i++) if (out[i]!.arg !== order[i]) mismatches++;
    expect(mismatches).toBe(0);
    expect(q.size).toBe(0);
  });

  it('cancels a pending event once; it never pops', () => {
    const q = new EventQueue();
    const a = q.push(10, noop, 'a');
    q.push(20, noop, 'b');
    expect(q.cancel(a)).toBe(true);
    expect(q.cancel(a)).toBe(false);
    expect(q.size).toBe(1);
    expect(q.peekTime()).toBe(20);
    expect(drain(q).map((e) => e.arg)).toEqual(['b']);
  });

  it('ignores stale handles after their slot is reused', () => {
    const q = new EventQueue(16);
    const a = q.push(1, noop, 'a');
    expect(drain(q).map((e) => e.arg)).toEqual(['a']);
    // 'a' ran: its slot is free and the next pushes may reuse it.
    const later = Array.from({ length: 32 }, (_, i) => q.push(2 + i, noop, `b${i}`));
    expect(q.cancel(a)).toBe(false);
    expect(q.size).toBe(32);
    // A cancelled handle stays dead after its slot is reused, too.
    expect(q.cancel(later[0]!)).toBe(true);
    drain(q);
    const c = q.push(100, noop, 'c');
    expect(q.cancel(later[0]!)).toBe(false);
    expect(drain(q).map((e) => e.arg)).toEqual(['c']);
    expect(q.cancel(c)).toBe(false);
  });

  it('cancels an event that outlived its handle-table entry, and never a later event by a stale handle', () => {
    // One long-lived event, then 100,000 short ones through a queue of 16 slots: the long
    // one's table entry is taken over many times (the table has 4096 entries), and every
    // slot is reused thousands of times.
    const q = new EventQueue(16);
    const ran: unknown[] = [];
    const log = (x: unknown): void => {
      ran.push(x);
    };
    const far = q.push(1e12, log, 'far');
    const early = q.push(0, log, 'early');
    expect(q.popInto()).toBe(true);
    let last = -1;
    let bad = 0; // plain checks in the loop (expect() per step is slow)
    for (let i = 0; i < 100_000; i++) {
      const h = q.push(i + 1, log, i);
      if (!(Number.isInteger(h) && h > last && h < 2 ** 31)) bad++; // small integers, never reused
      last = h;
      if (!q.popInto()) bad++;
      if (q.cancel(h)) bad++; // ran already
      if (q.cancel(early)) bad++;
    }
    expect(bad).toBe(0);
    expect(ran.length).toBe(0); // popInto() hands events over; it does not run them
    expect(q.size).toBe(1);
    expect(q.cancel(far)).toBe(true);
    expect(q.cancel(far)).toBe(false);
    expect(q.size).toBe(0);
    expect(q.popInto()).toBe(false);
  });

  it('never cancels a posted event by a stale handle, and keeps older handles cancellable among posts', () => {
    // Posted events take slots and sequence numbers but no handle-table entries.
    const q = new EventQueue(16);
    const far = q.push(1e12, noop, 'far');
    const stale: number[] = [];
    for (let i = 0; i < 64; i++) stale.push(q.push(i, noop, -1));
    while (q.size > 1) q.popInto();
    let bad = 0;
    for (let i = 0; i < 20_000; i++) {
      q.nextTimePs = 1000 + i;
      q.postAtNextTime(noop, i);
      if (i % 3 === 0) {
        // a cancellable event between the posts, cancelled at once
        if (!q.cancel(q.push(1000 + i, noop, 'x'))) bad++;
      }
      for (const h of stale) if (q.cancel(h)) bad++;
      if (!q.popInto() || q.poppedArg !== i) bad++;
    }
    expect(bad).toBe(0);
    expect(q.size).toBe(1);
    expect(q.cancel(far)).toBe(true);
    expect(q.popInto()).toBe(false);
  });

  it('keeps handles valid while the queue grows (the handle table is rebuilt)', () => {
    const q = new EventQueue(16);
    const handles = Array.from({ length: 50_000 }, (_, i) => q.push(1000 + i, noop, i));
    // Cancel every third event, then drain: the rest run in order.
    for (let i = 0; i < handles.length; i += 3) expect(q.cancel(handles[i]!)).toBe(true);
    for (let i = 0; i < handles.length; i += 3) expect(q.cancel(handles[i]!)).toBe(false);
    const out = drain(q).map((e) => e.arg as number);
    expect(out.length).toBe(50_000 - Math.ceil(50_000 / 3));
    expect(out.every((v, k) => v % 3 !== 0 && (k === 0 || v > out[k - 1]!))).toBe(true);
  });

  it('switches to the ladder for many pending events and back to the heap when few remain', () => {
    const q = new EventQueue(16);
    const rng = deriveStream(2, 0, 'test/eq/modes');
    for (let i = 0; i < 10; i++) q.push(Math.floor(rng() * 1e6), noop, i);
    expect(q.isLadder).toBe(false);
    for (let i = 10; i < 10_000; i++) q.push(Math.floor(rng() * 1e6), noop, i);
    expect(q.peekTime()).toBeLessThan(Infinity);
    expect(q.isLadder).toBe(true);
    let last = -1;
    let n = 0;
    while (q.popInto()) {
      expect(q.poppedTimePs).toBeGreaterThanOrEqual(last);
      last = q.poppedTimePs;
      n++;
    }
    expect(n).toBe(10_000);
    expect(q.isLadder).toBe(false);
    // Hold model on the ladder: each pop schedules one later event, as simulation does.
    for (let i = 0; i < 5000; i++) q.push(last + Math.floor(rng() * 1e7), noop, i);
    for (let i = 0; i < 50_000; i++) {
      expect(q.popInto()).toBe(true);
      expect(q.poppedTimePs).toBeGreaterThanOrEqual(last);
      last = q.poppedTimePs;
      q.push(last + Math.floor(-1e7 * Math.log(1 - rng())), noop, i);
    }
    expect(q.isLadder).toBe(true);
    expect(q.size).toBe(5000);
  });

  it('keeps working when pending events grow far beyond the initial capacity', () => {
    const q = new EventQueue(16);
    for (let i = 0; i < 10_000; i++) q.push(10_000 - i, noop, i);
    const out = drain(q);
    expect(out.map((e) => e.time)).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
  });

  it('matches a sorted-list model under random pushes, posts, pops and cancels', () => {
    // Monotone use, as the simulator does: pushes never go before the last popped time.
    // Phases of growth and shrinkage cross the heap/ladder switch both ways; the spreads
    // go from all-ties to far outliers.
    for (const spread of [1, 1000, 1e6, 1e12]) {
      const q = new EventQueue(16);
      const rng = deriveStream(3, 0, `test/eq/model/${spread}`);
      type Entry = { time: number; seq: number; handle: number; live: boolean };
      // The model: live entries sorted by (time, seq); the newest entry has the largest seq.
      const live: Entry[] = [];
      const all: Entry[] = [];
      let now = 0;
      let seq = 0;
      let pops = 0;
      // Plain comparisons in the loop (expect() per step is slow); the first mismatch is kept.
      let mismatch = '';
      const check = (what: string, got: unknown, want: unknown): void => {
        if (mismatch === '' && got !== want) mismatch = `step ${pops}: ${what}: got ${String(got)}, want ${String(want)}`;
      };
      for (let step = 0; step < 60_000; step++) {
        const phase = Math.floor(step / 10_000) % 2; // grow, then shrink
        const r = rng();
        if (r < (phase === 0 ? 0.6 : 0.35)) {
          const u = rng();
          const delay = u < 0.1 ? 0 : u < 0.97 ? Math.floor(rng() * spread) : Math.floor(rng() * spread * 1000);
          const e: Entry = { time: now + delay, seq: seq++, handle: 0, live: true };
          // A third of the events are posted: no handle, never cancelled, same order.
          const isPosted = rng() < 1 / 3;
          if (isPosted) {
            q.nextTimePs = e.time;
            q.postAtNextTime(noop, e.seq);
          } else {
            e.handle = q.push(e.time, noop, e.seq);
          }
          let i = live.length;
          while (i > 0 && live[i - 1]!.time > e.time) i--;
          live.splice(i, 0, e);
          if (!isPosted) all.push(e);
        } else if (r < 0.7 && all.length > 0) {
          const e = all[Math.floor(rng() * all.length)]!;
          check('cancel', q.cancel(e.handle), e.live);
          if (e.live) {
            e.live = false;
            live.splice(live.indexOf(e), 1);
          }
        } else {
          check('peekTime', q.peekTime(), live.length > 0 ? live[0]!.time : Infinity);
          const ok = q.popInto();
          check('popInto', ok, live.length > 0);
          if (ok) {
            const e = live.shift()!;
            e.live = false;
            pops++;
            check('popped seq', q.poppedArg, e.seq);
            check('popped time', q.poppedTimePs, e.time);
            now = e.time;
          }
        }
        check('size', q.size, live.length);
        if (all.length > 4000) all.splice(0, 2000);
      }
      expect(mismatch).toBe('');
      expect(pops).toBeGreaterThan(15_000);
    }
  });
});
