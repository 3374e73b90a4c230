import { describe, expect, it } from 'vitest';
import { Simulator } from '../../../src/core/simulator.js';
import { ns } from '../../../src/core/time.js';
import { Packet } from '../../../src/actors/net/messages.js';
import { WirePort, wireTimePs, type PortSource } from '../../../src/actors/net/nic.js';
import { Fifo } from '../../../src/primitives/fifo.js';
import { Iotlb } from '../../../src/primitives/iotlb.js';
import { IrqModerator } from '../../../src/primitives/irq-moderator.js';

const pkt = (id: number, bytes: number) => new Packet(id, 0, 0, 0, bytes, bytes, 0);

class Source implements PortSource {
  readonly ready = new Fifo<Packet>();
  nextAllowedPs = 0;
  rateLimitGbps = 0;
  needsSentEvent = true;
  sent = 0;
  onSent(): void {
    this.sent++;
  }
}

describe('wire and port', () => {
  it('a frame occupies (bytes + 20) x 8 bits at line rate (calibration.md s4.2)', () => {
    expect(wireTimePs(64, 10)).toBe(ns(67.2));
    expect(wireTimePs(1518, 10)).toBe(ns(1230.4));
    expect(wireTimePs(64, 100)).toBe(6720);
  });

  it('serves ready sources round-robin at line rate and delivers after the wire latency', () => {
    const sim = new Simulator();
    const arrivals: [number, number][] = [];
    const port = new WirePort(sim, 'p', 10, ns(100), (p, at) => arrivals.push([p.id, at]));
    const a = new Source();
    const b = new Source();
    port.addSource(a);
    port.addSource(b);
    for (let i = 0; i < 3; i++) a.ready.push(pkt(i, 64));
    for (let i = 10; i < 13; i++) b.ready.push(pkt(i, 64));
    port.kick();
    sim.run();
    expect(arrivals.map((x) => x[0])).toEqual([0, 10, 1, 11, 2, 12]);
    arrivals.forEach(([, at], i) => expect(at).toBe((i + 1) * ns(67.2) + ns(100)));
    expect(a.sent + b.sent).toBe(6);
  });

  it('a rate-limited source is paced at its own rate', () => {
    const sim = new Simulator();
    const times: number[] = [];
    const port = new WirePort(sim, 'p', 10, 0, (_p, at) => times.push(at));
    const s = new Source();
    s.rateLimitGbps = 1;
    port.addSource(s);
    for (let i = 0; i < 4; i++) s.ready.push(pkt(i, 1500));
    port.kick();
    sim.run();
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    for (const g of gaps) expect(g).toBe(wireTimePs(1500, 1)); // 10x the line-rate time
  });
});

describe('IOTLB', () => {
  it('hits within its reach, misses when a cyclic working set exceeds it (pcie-bench window effect)', () => {
    const small = new Iotlb(128, 4, 300_000);
    for (let round = 0; round < 3; round++) for (let i = 0; i < 64; i++) small.translate(i * 4096, 64); // 256 KiB
    expect(small.misses).toBe(64); // cold misses only
    const big = new Iotlb(128, 4, 300_000);
    for (let round = 0; round < 3; round++) for (let i = 0; i < 256; i++) big.translate(i * 4096, 64); // 1 MiB
    expect(big.misses).toBe(3 * 256); // every access misses
    const huge = new Iotlb(128, 2048, 300_000);
    for (let round = 0; round < 3; round++) for (let i = 0; i < 256; i++) huge.translate(i * 4096, 64);
    expect(huge.misses).toBe(1); // one 2 MiB page
  });

  it('a buffer spanning two pages needs two translations', () => {
    const t = new Iotlb(16, 4, 1000);
    expect(t.translate(4096 - 32, 64)).toBe(2000);
    expect(t.translate(4096 - 32, 64)).toBe(0);
  });
});

describe('interrupt moderation', () => {
  it('fires at once after a quiet period, merges causes within the window', () => {
    const sim = new Simulator();
    const fired: number[] = [];
    const m = new IrqModerator(sim, ns(10_000), () => fired.push(sim.nowPs));
    m.trigger(); // t=0: fires
    sim.at(ns(1000), () => m.trigger(), undefined); // within the window: deferred to 10 us
    sim.at(ns(2000), () => m.trigger(), undefined); // merged
    sim.at(ns(30_000), () => m.trigger(), undefined); // quiet again: at once
    sim.run();
    expect(fired).toEqual([0, ns(10_000), ns(30_000)]);
    expect(m.merged).toBe(1);
  });
});
