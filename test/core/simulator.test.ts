/**
 * The simulator's contract: FIFO among equal times (pinned), cancellation, the three
 * ways a run ends (time, event count, empty queue), stop(), independence of instances,
 * and rejection of bad delays.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { ns, us } from '../../src/core/time.js';

describe('Simulator', () => {
  it('runs equal-time events first-in first-out, including ones scheduled while running', () => {
    const sim = new Simulator();
    const order: string[] = [];
    const log = (name: string): void => {
      order.push(name);
    };
    sim.schedule(ns(5), log, 'a');
    sim.schedule(ns(5), (x: string) => {
      order.push(x);
      // Scheduled at the current time: runs after the events already pending at it.
      sim.schedule(0, log, 'b-child');
    }, 'b');
    sim.schedule(ns(5), log, 'c');
    sim.schedule(ns(1), log, 'first');
    sim.at(ns(5), log, 'd');
    sim.run();
    expect(order).toEqual(['first', 'a', 'b', 'c', 'd', 'b-child']);
    expect(sim.nowPs).toBe(ns(5));
  });

  it('orders posted events with scheduled ones: equal times first-in first-out across both', () => {
    const sim = new Simulator();
    const order: string[] = [];
    const log = (name: string): void => {
      order.push(name);
    };
    sim.post(ns(5), log, 'a');
    sim.schedule(ns(5), (x: string) => {
      order.push(x);
      sim.post(0, log, 'b-child-post');
      sim.schedule(0, log, 'b-child');
    }, 'b');
    sim.post(ns(5), log, 'c');
    sim.post(ns(1), log, 'first');
    sim.at(ns(5), log, 'd');
    expect(sim.pending).toBe(5);
    sim.run();
    expect(order).toEqual(['first', 'a', 'b', 'c', 'd', 'b-child-post', 'b-child']);
    expect(sim.eventsProcessed).toBe(7);
  });

  it('cancels a pending event: it does not run, pending drops, a second cancel is false', () => {
    const sim = new Simulator();
    const ran: number[] = [];
    const h1 = sim.schedule(ns(1), (x: number) => ran.push(x), 1);
    sim.schedule(ns(2), (x: number) => ran.push(x), 2);
    expect(sim.pending).toBe(2);
    expect(sim.cancel(h1)).toBe(true);
    expect(sim.pending).toBe(1);
    expect(sim.peekTimePs()).toBe(ns(2));
    expect(sim.cancel(h1)).toBe(false);
    sim.run();
    expect(ran).toEqual([2]);
    expect(sim.eventsProcessed).toBe(1);
  });

  it('lets an event cancel another event due at the same time', () => {
    const sim = new Simulator();
    const ran: string[] = [];
    let victim = -1;
    sim.schedule(ns(3), () => {
      ran.push('killer');
      expect(sim.cancel(victim)).toBe(true);
    });
    victim = sim.schedule(ns(3), () => ran.push('victim'));
    sim.run();
    expect(ran).toEqual(['killer']);
  });

  it('returns false for a handle whose event already ran, even after its slot is reused', () => {
    const sim = new Simulator(16);
    const stale = sim.schedule(ns(1), () => {});
    sim.run();
    let ran = 0;
    for (let i = 0; i < 100; i++) sim.schedule(ns(1), () => ran++);
    expect(sim.cancel(stale)).toBe(false);
    sim.run();
    expect(ran).toBe(100);
  });

  it('runs until a time: events at that time run, later ones wait, the clock ends there', () => {
    const sim = new Simulator();
    const ran: number[] = [];
    for (const t of [1, 2, 3, 4, 5]) sim.at(us(t), (x: number) => ran.push(x), t);
    expect(sim.run({ untilPs: us(3) })).toBe(3);
    expect(ran).toEqual([1, 2, 3]);
    expect(sim.nowPs).toBe(us(3));
    expect(sim.pending).toBe(2);
    expect(sim.run({ untilPs: us(3.5) })).toBe(0);
    expect(sim.nowPs).toBe(us(3.5));
    sim.run();
    expect(ran).toEqual([1, 2, 3, 4, 5]);
    expect(sim.nowPs).toBe(us(5));
    expect(sim.eventsProcessed).toBe(5);
  });

  it('advances the clock to untilPs when the queue empties earlier', () => {
    const sim = new Simulator();
    sim.at(us(1), () => {});
    sim.run({ untilPs: us(10) });
    expect(sim.nowPs).toBe(us(10));
  });

  it('runs a given number of events, then resumes where it stopped', () => {
    const sim = new Simulator();
    let count = 0;
    const tick = (): void => {
      count++;
      sim.schedule(ns(1), tick);
    };
    sim.schedule(0, tick);
    expect(sim.run({ maxEvents: 1000 })).toBe(1000);
    expect(count).toBe(1000);
    expect(sim.nowPs).toBe(ns(999));
    expect(sim.run({ maxEvents: 10 })).toBe(10);
    expect(sim.eventsProcessed).toBe(1010);
    expect(sim.pending).toBe(1);
  });

  it('runs until the queue is empty', () => {
    const sim = new Simulator();
    let n = 0;
    const chain = (left: number): void => {
      n++;
      if (left > 0) sim.schedule(ns(2), chain, left - 1);
    };
    sim.schedule(0, chain, 99);
    expect(sim.run()).toBe(100);
    expect(n).toBe(100);
    expect(sim.pending).toBe(0);
    expect(sim.peekTimePs()).toBe(Infinity);
    expect(sim.nowPs).toBe(ns(198));
  });

  it('stop() ends the run after the current event; run() resumes', () => {
    const sim = new Simulator();
    const ran: number[] = [];
    for (let i = 0; i < 10; i++) {
      sim.at(ns(i), (x: number) => {
        ran.push(x);
        if (x === 3) sim.stop();
      }, i);
    }
    expect(sim.run()).toBe(4);
    expect(ran).toEqual([0, 1, 2, 3]);
    expect(sim.nowPs).toBe(ns(3));
    // A stop() left over from the previous run does not end the next one.
    expect(sim.run({ untilPs: ns(5) })).toBe(2);
    expect(sim.run()).toBe(4);
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('keeps two simulators independent when run side by side', () => {
    const a = new Simulator();
    const b = new Simulator();
    const seenA: number[] = [];
    const seenB: number[] = [];
    const tickA = (k: number): void => {
      seenA.push(a.nowPs);
      if (k > 0) a.schedule(ns(3), tickA, k - 1);
    };
    const tickB = (k: number): void => {
      seenB.push(b.nowPs);
      if (k > 0) b.schedule(ns(7), tickB, k - 1);
    };
    a.schedule(0, tickA, 9);
    b.schedule(0, tickB, 9);
    // Interleave: a few events of one, then of the other.
    while (a.pending + b.pending > 0) {
      a.run({ maxEvents: 3 });
      b.run({ maxEvents: 2 });
    }
    expect(seenA).toEqual(Array.from({ length: 10 }, (_, i) => ns(3 * i)));
    expect(seenB).toEqual(Array.from({ length: 10 }, (_, i) => ns(7 * i)));
    expect(a.eventsProcessed).toBe(10);
    expect(b.eventsProcessed).toBe(10);
    expect(a.nowPs).toBe(ns(27));
    expect(b.nowPs).toBe(ns(63));
  });

  it('rejects negative, fractional, NaN and infinite delays, and times in the past', () => {
    const sim = new Simulator();
    for (const bad of [-1, 0.5, 1.5, NaN, Infinity, -Infinity]) {
      expect(() => sim.schedule(bad, () => {})).toThrow(/^schedule: delay must be a non-negative integer/);
      expect(() => sim.post(bad, () => {})).toThrow(/^post: delay must be a non-negative integer/);
    }
    sim.at(ns(10), () => {});
    sim.run();
    expect(() => sim.at(ns(9), () => {}, undefined)).toThrow(RangeError);
    expect(() => sim.at(ns(10) + 0.25, () => {}, undefined)).toThrow(RangeError);
    expect(sim.pending).toBe(0);
    // Valid calls still work after the rejected ones.
    sim.schedule(0, () => {});
    expect(sim.run()).toBe(1);
  });

  it('passes the argument through to the handler', () => {
    const sim = new Simulator();
    const got: unknown[] = [];
    const obj = { k: 1 };
    sim.schedule(1, (x: unknown) => got.push(x), obj);
    sim.schedule(2, (x: unknown) => got.push(x), 17);
    sim.schedule(3, (x: unknown) => got.push(x));
    sim.run();
    expect(got).toEqual([obj, 17, undefined]);
    expect(got[0]).toBe(obj);
  });
});
