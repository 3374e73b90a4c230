/**
 * Link: propagation latency, serialization at a bit rate with a shared transmitter,
 * order of delivery, framing overhead and option checks.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { ns, us } from '../../src/core/time.js';
import { Link } from '../../src/primitives/link.js';

describe('Link', () => {
  it('delivers after the latency alone when no rate is given, in send order', () => {
    const sim = new Simulator();
    const got: [string, number][] = [];
    const link = new Link<string>(sim, (m) => got.push([m, sim.nowPs]), { latencyPs: ns(300) });
    sim.at(0, () => {
      expect(link.send('a', 1500)).toBe(ns(300));
      link.send('b', 1500);
    }, undefined);
    sim.at(ns(100), () => link.send('c'), undefined);
    sim.run();
    expect(got).toEqual([['a', ns(300)], ['b', ns(300)], ['c', ns(400)]]);
    expect(link.psPerByte).toBe(0);
  });

  it('serializes at the bit rate: a 64-byte frame takes 5.12 ns at 100 Gb/s', () => {
    const sim = new Simulator();
    const got: number[] = [];
    const link = new Link<number>(sim, () => got.push(sim.nowPs), { latencyPs: ns(10), rateGbps: 100 });
    expect(link.psPerByte).toBe(80);
    sim.at(0, () => link.send(1, 64), undefined);
    sim.run();
    expect(got).toEqual([ns(5.12) + ns(10)]);
  });

  it('queues messages behind the transmitter and counts its busy time', () => {
    const sim = new Simulator();
    const got: [number, number][] = [];
    // 8 Gb/s is 1 ns per byte.
    const link = new Link<number>(sim, (m) => got.push([m, sim.nowPs]), { latencyPs: us(1), rateGbps: 8 });
    sim.at(0, () => {
      link.send(1, 100);
      link.send(2, 50);
      expect(link.transmitterFreeAtPs).toBe(ns(150));
    }, undefined);
    // Sent after the transmitter went idle: no queueing.
    sim.at(ns(400), () => link.send(3, 10), undefined);
    sim.run();
    expect(got).toEqual([
      [1, ns(100) + us(1)],
      [2, ns(150) + us(1)],
      [3, ns(410) + us(1)],
    ]);
    expect(link.busyPs).toBe(ns(160));
    expect(link.sent).toBe(3);
  });

  it('adds framing bytes on the wire', () => {
    const sim = new Simulator();
    const got: number[] = [];
    // Ethernet: 64-byte frame plus 20 bytes of preamble and inter-frame gap = 84 bytes.
    const link = new Link<number>(sim, () => got.push(sim.nowPs), {
      latencyPs: 0,
      rateGbps: 10,
      wireBytes: (b) => b + 20,
    });
    sim.at(0, () => link.send(0, 64), undefined);
    sim.run();
    expect(got).toEqual([ns(67.2)]);
  });

  it('rejects a negative latency and a non-positive rate', () => {
    const sim = new Simulator();
    expect(() => new Link(sim, () => {}, { latencyPs: -1 })).toThrow(RangeError);
    expect(() => new Link(sim, () => {}, { latencyPs: 0, rateGbps: 0 })).toThrow(RangeError);
    expect(() => new Link(sim, () => {}, { latencyPs: 0, rateGbps: -5 })).toThrow(RangeError);
  });
});
