/**
 * Ssd: closed forms for the QD1 latency of reads and writes, each throughput ceiling
 * (dies, controller, channels, PCIe link) made to bind in turn, the write buffer (a burst
 * at DMA speed, a sustained stream at the program rate, occupancy within capacity), NVMe
 * interrupt coalescing, exactly-once completion with bounded queues, determinism, and
 * the P4510 spec-sheet ceilings from the default parameters.
 */
import { describe, expect, it } from 'vitest';
import { BlkRequest, STATUS_OK } from '../../../src/actors/block/request.js';
import { CQE_BYTES, SQE_BYTES, Ssd, ssdCostsOf, type NvmeQueuePair, type SsdCosts, type SsdStats } from '../../../src/actors/block/ssd.js';
import { NIC_PARAMS } from '../../../src/calibration/nic.js';
import { ParamRegistry } from '../../../src/calibration/param.js';
import { STORAGE_PARAMS } from '../../../src/calibration/storage.js';
import { RandomStreams } from '../../../src/core/random.js';
import { Simulator } from '../../../src/core/simulator.js';
import { PS_PER_S, us } from '../../../src/core/time.js';
import { InputError } from '../../../src/util/input-error.js';

const registry = new ParamRegistry([...NIC_PARAMS, ...STORAGE_PARAMS]);

function costsOf(overrides: Record<string, unknown> = {}): SsdCosts {
  return ssdCostsOf(registry.resolve(overrides));
}

/** Link time of a DMA of `bytes`: payload plus TLP overhead, at the link rate [ps]. */
function wire(c: SsdCosts, bytes: number): number {
  return (bytes + Math.ceil(bytes / c.linkMaxPayloadBytes) * c.linkTlpOverheadBytes) * c.linkPsPerByte;
}

/** QD1 read of `bytes` within one page: fetch, controller, tR, channel, data and CQE to the host. */
function readQd1Ps(c: SsdCosts, bytes: number): number {
  return (
    c.dmaReadPs + wire(c, SQE_BYTES) + c.controllerPs + c.readMeanPs + bytes * c.channelPsPerByte +
    wire(c, bytes) + wire(c, CQE_BYTES) + c.dmaWritePs
  );
}

/** QD1 write: fetch, controller, data read from the host into the buffer, CQE. */
function writeQd1Ps(c: SsdCosts, bytes: number): number {
  return c.dmaReadPs + wire(c, SQE_BYTES) + c.controllerPs + c.dmaReadPs + wire(c, bytes) + wire(c, CQE_BYTES) + c.dmaWritePs;
}

interface RunOptions {
  costs: SsdCosts;
  /** Commands kept outstanding per queue. */
  qd: number;
  queues?: number;
  bytes: number;
  isWrite?: boolean;
  sequential?: boolean;
  warmup: number;
  ops: number;
  seed?: number;
  /** Reap on the queue's interrupt (true) or at every CQE, polled (false). */
  isInterruptDriven?: boolean;
  /** Called at every completion (after the reap). */
  onComplete?: (ssd: Ssd, req: BlkRequest) => void;
}

interface RunResult {
  ssd: Ssd;
  /** Completions per second over the measured ops. */
  iops: number;
  /** Latency of each measured op, doorbell to reap [ps]. */
  latencies: number[];
  /** Completion time of each measured op [ps]. */
  doneAt: number[];
  /** ssd.stats() over the measured window. */
  stats: SsdStats;
}

/** A closed loop: each queue keeps qd commands outstanding; warmup ops, then ops measured. */
function run(o: RunOptions): RunResult {
  const sim = new Simulator();
  const streams = new RandomStreams(o.seed ?? 1, 0);
  const ssd = new Ssd(sim, 'ssd0', o.costs, streams.stream('ssd'), o.queues ?? 1);
  const addr = streams.stream('address');
  const total = o.warmup + o.ops;
  const sectorsPerOp = o.bytes / 512;
  let cursor = 0;
  let issued = 0;
  let completed = 0;
  let t0 = 0;
  let t1 = 0;
  let stats: SsdStats | undefined;
  const latencies: number[] = [];
  const doneAt: number[] = [];
  const submit = (q: NvmeQueuePair, req: BlkRequest): void => {
    req.reset(issued++);
    req.isWrite = o.isWrite ?? false;
    req.bytes = o.bytes;
    if (o.sequential) {
      req.sector = cursor;
      cursor += sectorsPerOp;
    } else {
      // aligned to the request size, anywhere in 1 TiB
      req.sector = Math.floor(addr() * (2 ** 31 / sectorsPerOp)) * sectorsPerOp;
    }
    req.issuedPs = sim.nowPs;
    ssd.submit(q, req);
  };
  for (const q of ssd.queues) {
    const reapAll = (): void => {
      for (let r = ssd.reap(q); r !== undefined; r = ssd.reap(q)) {
        completed++;
        if (completed > o.warmup) {
          latencies.push(sim.nowPs - r.issuedPs);
          doneAt.push(sim.nowPs);
        }
        if (completed === o.warmup) {
          t0 = sim.nowPs;
          ssd.resetStats();
        }
        if (completed === total) {
          t1 = sim.nowPs;
          stats = ssd.stats();
        }
        o.onComplete?.(ssd, r);
        if (issued < total) submit(q, r);
      }
    };
    if (o.isInterruptDriven) q.onInterrupt = reapAll;
    else q.onCqe = reapAll;
    for (let k = 0; k < o.qd && issued < total; k++) submit(q, new BlkRequest());
  }
  sim.run();
  expect(completed).toBe(total);
  return { ssd, iops: (o.ops * PS_PER_S) / (t1 - t0), latencies, doneAt, stats: stats! };
}

/** Steady drain rate of full pages: every die takes a page in over its channel, then programs it [bytes/s]. */
function drainRate(c: SsdCosts): number {
  const dies = c.channels * c.diesPerChannel;
  return (dies * c.pageBytes * PS_PER_S) / (c.pageBytes * c.channelPsPerByte + c.programPs * c.writeAmplification);
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const relErr = (measured: number, expected: number): number => Math.abs(measured / expected - 1);

describe('Ssd: queue depth 1 latency', () => {
  it('a 4 KiB read takes fetch + controller + tR + channel + link + CQE, exactly (constant service)', () => {
    const c = costsOf({ 'ssd.read_cv': 0 });
    const r = run({ costs: c, qd: 1, bytes: 4096, warmup: 10, ops: 200 });
    const expected = readQd1Ps(c, 4096);
    for (const lat of r.latencies) expect(Math.abs(lat - expected)).toBeLessThan(8); // ps of rounding
    // and the parts add up to what the defaults say (calibration/storage.ts header): 71.5 us
    expect(expected / us(1)).toBeCloseTo(71.5, 0);
  });

  it('with a variable tR (cv 0.5) the mean latency is still the closed form', () => {
    const c = costsOf({ 'ssd.read_cv': 0.5 });
    const r = run({ costs: c, qd: 1, bytes: 4096, warmup: 10, ops: 4000 });
    expect(relErr(mean(r.latencies), readQd1Ps(c, 4096))).toBeLessThan(0.03);
    const sd = Math.sqrt(mean(r.latencies.map((x) => (x - mean(r.latencies)) ** 2)));
    // the spread is the die's: stdev of tR = 0.5 x 55 us
    expect(relErr(sd, 0.5 * c.readMeanPs)).toBeLessThan(0.08);
  });

  it('a 4 KiB write is acknowledged from the buffer: fetch + controller + data DMA + CQE', () => {
    const c = costsOf();
    const r = run({ costs: c, qd: 1, bytes: 4096, isWrite: true, warmup: 10, ops: 200 });
    const expected = writeQd1Ps(c, 4096);
    for (const lat of r.latencies) expect(Math.abs(lat - expected)).toBeLessThan(8);
    // 210 writes (840 KiB) fit in the 4 MiB buffer: none waits for the flash
    expect(r.stats.writeStalls).toBe(0);
  });

  it('a read spanning pages on different dies waits for its slowest part only (parts in parallel)', () => {
    const c = costsOf({ 'ssd.read_cv': 0 });
    const r = run({ costs: c, qd: 1, bytes: 65536, sequential: true, warmup: 2, ops: 50 });
    // 4 pages on 4 dies and 4 channels at once: one tR and one page transfer, then 64 KiB on the link
    const expected =
      c.dmaReadPs + wire(c, SQE_BYTES) + c.controllerPs + c.readMeanPs + c.pageBytes * c.channelPsPerByte +
      wire(c, 65536) + wire(c, CQE_BYTES) + c.dmaWritePs;
    for (const lat of r.latencies) expect(Math.abs(lat - expected)).toBeLessThan(16);
  });
});

describe('Ssd: random-read ceilings', () => {
  /** The four ceilings of 4 KiB random reads [commands/s]. */
  function bounds(c: SsdCosts): Record<string, number> {
    const dies = c.channels * c.diesPerChannel;
    return {
      dies: (dies * PS_PER_S) / c.readMeanPs,
      controller: (c.controllerCores * PS_PER_S) / c.controllerPs,
      channels: (c.channels * PS_PER_S) / (4096 * c.channelPsPerByte),
      link: PS_PER_S / (wire(c, 4096) + wire(c, CQE_BYTES)),
    };
  }

  const cases: [string, Record<string, unknown>][] = [
    ['dies', { 'ssd.channels': 2, 'ssd.dies_per_channel': 2, 'ssd.read_us': 50, 'ssd.read_cv': 0, 'ssd.controller_cores': 8, 'ssd.controller_ns': 100 }],
    ['controller', { 'ssd.controller_cores': 2, 'ssd.controller_ns': 5000 }],
    // few channels: with random addresses a channel of many would now and then run dry
    ['channels', { 'ssd.channels': 4, 'ssd.dies_per_channel': 18, 'ssd.channel_mbps': 20, 'ssd.controller_cores': 8, 'ssd.controller_ns': 1000 }],
    ['link', { 'ssd.pcie_gbps': 1, 'ssd.controller_cores': 8, 'ssd.controller_ns': 1000 }],
  ];

  it.each(cases)('saturate at the %s bound at queue depth 128', (binding, overrides) => {
    const c = costsOf(overrides);
    const b = bounds(c);
    const others = Object.entries(b).filter(([k]) => k !== binding).map(([, v]) => v);
    expect(Math.min(...others)).toBeGreaterThan(1.5 * b[binding]!); // it is the one that binds
    const r = run({ costs: c, qd: 128, bytes: 4096, warmup: 3000, ops: 30000 });
    expect(relErr(r.iops, b[binding]!)).toBeLessThan(0.05);
    // and the busy server is the one saturated
    const busyOf: Record<string, keyof SsdStats> = { dies: 'dieBusy', controller: 'controllerBusy', channels: 'channelBusy', link: 'linkUpBusy' };
    expect(r.stats[busyOf[binding]!]).toBeGreaterThan(0.95);
  });

  it('a lightly loaded die-bound drive is far from its ceiling at queue depth 1 (latency-bound)', () => {
    const c = costsOf();
    const r = run({ costs: c, qd: 1, bytes: 4096, warmup: 10, ops: 500 });
    expect(relErr(r.iops, PS_PER_S / mean(r.latencies))).toBeLessThan(0.01); // Little: 1 / latency
    expect(r.stats.dieBusy).toBeLessThan(0.02);
  });
});

describe('Ssd: sequential transfers', () => {
  it('128 KiB sequential reads are bound by the PCIe link (payload + TLP headers)', () => {
    const c = costsOf();
    const r = run({ costs: c, qd: 32, bytes: 131072, sequential: true, warmup: 500, ops: 5000 });
    const expected = (131072 * PS_PER_S) / (wire(c, 131072) + wire(c, CQE_BYTES)); // bytes/s
    expect(relErr(r.iops * 131072, expected)).toBeLessThan(0.03);
    expect(r.stats.linkUpBusy).toBeGreaterThan(0.97);
    expect(r.stats.dieBusy).toBeLessThan(0.5);
    // 3.94 GB/s x 256/280 = 3.6 GB/s (the P4510 spec says 3.2 GB/s: DLLPs and host limits not modelled)
    expect(expected / 1e9).toBeCloseTo(3.6, 1);
  });

  it('sustained 128 KiB sequential writes (write amplification 1) drain at dies x page / tPROG', () => {
    const c = costsOf({ 'ssd.write_amplification': 1 });
    const r = run({ costs: c, qd: 32, bytes: 131072, isWrite: true, sequential: true, warmup: 1000, ops: 6000 });
    const expected = drainRate(c); // bytes/s: 2.0 GB/s, the P4510's
    expect(relErr(r.iops * 131072, expected)).toBeLessThan(0.05);
    expect(expected / 1e9).toBeCloseTo(2.0, 1);
  });
});

describe('Ssd: write buffer', () => {
  it('a burst smaller than the buffer completes at DMA speed, far faster than the flash', () => {
    const c = costsOf({ 'ssd.controller_cores': 8, 'ssd.controller_ns': 100 });
    const sim = new Simulator();
    const ssd = new Ssd(sim, 'ssd0', c, new RandomStreams(1, 0).stream('ssd'), 1);
    const q = ssd.queues[0]!;
    const n = 256; // 1 MiB into a 4 MiB buffer
    let last = 0;
    let done = 0;
    q.onCqe = () => {
      while (ssd.reap(q) !== undefined) done++;
      last = sim.nowPs;
    };
    for (let i = 0; i < n; i++) {
      const req = new BlkRequest();
      req.reset(i);
      req.isWrite = true;
      req.bytes = 4096;
      req.sector = i * 1000;
      ssd.submit(q, req);
    }
    sim.run({ untilPs: us(400) });
    expect(done).toBe(n);
    // the host-to-device link carries the SQEs then the data back to back
    const expected = c.dmaReadPs + n * (wire(c, SQE_BYTES) + wire(c, 4096)) + wire(c, CQE_BYTES) + c.dmaWritePs;
    expect(relErr(last, expected)).toBeLessThan(0.01);
    const s = ssd.stats();
    expect(s.writeStalls).toBe(0);
    expect(s.peakBufferBytes).toBe(n * 4096);
    // the flash needs ~3 ms for the same MiB (332 MB/s)
    expect(last).toBeLessThan((n * 4096 * PS_PER_S) / drainRate(c) / 8);
    // ...and it does drain: once the flash is done the buffer is empty
    sim.run();
    expect(ssd.writeBufferBytes).toBe(0);
    expect(ssd.stats().programmedBytes).toBe(n * 4096);
  });

  it('a sustained random-write stream settles at the program rate, the buffer full but never over', () => {
    const c = costsOf();
    const capacity = c.writeBufferBytes;
    let maxSeen = 0;
    const r = run({
      costs: c, qd: 64, bytes: 4096, isWrite: true, warmup: 10000, ops: 40000,
      onComplete: (ssd) => {
        maxSeen = Math.max(maxSeen, ssd.writeBufferBytes);
      },
    });
    const expected = drainRate(c) / 4096;
    expect(relErr(r.iops, expected)).toBeLessThan(0.05);
    expect(r.stats.writeStalls).toBeGreaterThan(0.9 * 40000); // nearly every write waits for room
    // Little's law: 64 in flight at the program rate, ~800 us each, against 12 us unloaded
    expect(relErr(mean(r.latencies), (64 * PS_PER_S) / r.iops)).toBeLessThan(0.02);
    expect(mean(r.latencies)).toBeGreaterThan(20 * writeQd1Ps(c, 4096));
    expect(r.stats.peakBufferBytes).toBeLessThanOrEqual(capacity);
    expect(r.stats.peakBufferBytes).toBeGreaterThan(capacity - 4096);
    expect(maxSeen).toBeLessThanOrEqual(capacity);
    expect(r.stats.dieBusy).toBeGreaterThan(0.95);
    // the spec sheet's steady-state random write: 81.5K IOPS
    expect(relErr(expected, 81500)).toBeLessThan(0.02);
  });

  it('data short of a page waits for more, then goes out as a partial page after the flush time', () => {
    const c = costsOf({ 'ssd.program_cv': 0 });
    const sim = new Simulator();
    const ssd = new Ssd(sim, 'ssd0', c, new RandomStreams(1, 0).stream('ssd'), 1);
    const q = ssd.queues[0]!;
    q.onCqe = () => void ssd.reap(q);
    const write = (id: number, sector: number): void => {
      const req = new BlkRequest();
      req.reset(id);
      req.isWrite = true;
      req.bytes = 4096;
      req.sector = sector;
      ssd.submit(q, req);
    };
    write(0, 0);
    const inPs = Math.round(c.dmaReadPs + wire(c, SQE_BYTES) + c.controllerPs + c.dmaReadPs + wire(c, 4096));
    const programPs = Math.round(4096 * c.channelPsPerByte + c.programPs * c.writeAmplification);
    sim.run({ untilPs: inPs + c.partialFlushPs - 1 });
    expect(ssd.writeBufferBytes).toBe(4096);
    expect(ssd.stats().programs).toBe(0); // waiting for more data
    sim.run({ untilPs: inPs + c.partialFlushPs + programPs - 2 });
    expect(ssd.writeBufferBytes).toBe(4096); // programming
    sim.run();
    expect(sim.nowPs - (inPs + c.partialFlushPs + programPs)).toBeLessThan(3);
    expect(ssd.writeBufferBytes).toBe(0);
    expect(ssd.stats().programs).toBe(1);
    // four writes make a full page: it is programmed as soon as the last one is in
    const t0 = sim.nowPs;
    for (let i = 0; i < 4; i++) write(1 + i, 1000 + 8 * i);
    sim.run();
    expect(ssd.stats().programs).toBe(2);
    expect(ssd.stats().programmedBytes).toBe(5 * 4096);
    const fullPagePs = c.pageBytes * c.channelPsPerByte + c.programPs * c.writeAmplification;
    expect(sim.nowPs - t0 - fullPagePs).toBeLessThan(us(30)); // the data's ~15 us in, no 1 ms wait
  });

  it('at half the drain rate the dies are half busy: partial pages stay rare', () => {
    const c = costsOf();
    const sim = new Simulator();
    const ssd = new Ssd(sim, 'ssd0', c, new RandomStreams(1, 0).stream('ssd'), 1);
    const q = ssd.queues[0]!;
    const free: BlkRequest[] = [];
    q.onCqe = () => {
      for (let r = ssd.reap(q); r !== undefined; r = ssd.reap(q)) free.push(r);
    };
    const rate = drainRate(c) / 4096 / 2; // writes per second
    const gapPs = Math.round(PS_PER_S / rate);
    const total = 20000;
    let sent = 0;
    const send = (): void => {
      const req = free.pop() ?? new BlkRequest();
      req.reset(sent);
      req.isWrite = true;
      req.bytes = 4096;
      req.sector = (sent * 7919 * 8) % 2 ** 31;
      ssd.submit(q, req);
      if (++sent === 2000) ssd.resetStats();
      if (sent < total) sim.post(gapPs, send);
    };
    send();
    sim.run({ untilPs: gapPs * total });
    const s = ssd.stats();
    expect(Math.abs(s.dieBusy - 0.5)).toBeLessThan(0.05);
    expect(s.programmedBytes / s.programs).toBeGreaterThan(0.95 * c.pageBytes); // nearly all full pages
    expect(s.writeStalls).toBe(0);
  });

  it('a write larger than the whole buffer waits for it to empty, then goes in alone', () => {
    const c = costsOf({ 'ssd.write_buffer_kib': 64, 'ssd.write_amplification': 1 });
    const sim = new Simulator();
    const ssd = new Ssd(sim, 'ssd0', c, new RandomStreams(1, 0).stream('ssd'), 1);
    const q = ssd.queues[0]!;
    const order: number[] = [];
    let peak = 0;
    q.onCqe = () => {
      for (let r = ssd.reap(q); r !== undefined; r = ssd.reap(q)) order.push(r.id);
      peak = Math.max(peak, ssd.writeBufferBytes);
    };
    const sizes = [32768, 262144, 4096];
    sizes.forEach((bytes, i) => {
      const req = new BlkRequest();
      req.reset(i);
      req.isWrite = true;
      req.bytes = bytes;
      req.sector = i * 4096;
      ssd.submit(q, req);
    });
    sim.run();
    expect(order).toEqual([0, 1, 2]); // FIFO: the small write waits behind the big one
    expect(ssd.stats().writeStalls).toBe(2);
    expect(peak).toBe(262144);
    expect(ssd.writeBufferBytes).toBe(0);
  });
});

describe('Ssd: interrupt coalescing (NVMe Set Features 08h)', () => {
  it('with a threshold of k and a long aggregation time, one interrupt per k completions', () => {
    for (const k of [2, 4, 8]) {
      const c = costsOf({ 'ssd.irq_coalesce_count': k, 'ssd.irq_coalesce_us': 1000 });
      const r = run({ costs: c, qd: 64, bytes: 4096, warmup: 1000, ops: 20000, isInterruptDriven: true });
      expect(relErr(r.stats.interrupts / r.stats.completions, 1 / k)).toBeLessThan(0.02);
    }
  });

  it('a lone completion is signalled after the aggregation time', () => {
    const c = costsOf({ 'ssd.irq_coalesce_count': 4, 'ssd.irq_coalesce_us': 100, 'ssd.read_cv': 0 });
    const sim = new Simulator();
    const ssd = new Ssd(sim, 'ssd0', c, new RandomStreams(1, 0).stream('ssd'), 1);
    const q = ssd.queues[0]!;
    const cqeAt: number[] = [];
    const irqAt: number[] = [];
    q.onCqe = () => cqeAt.push(sim.nowPs);
    const req = new BlkRequest();
    let n = 0;
    const issue = (): void => {
      req.reset(n++);
      req.bytes = 4096;
      req.sector = n * 8000;
      ssd.submit(q, req);
    };
    q.onInterrupt = () => {
      irqAt.push(sim.nowPs);
      expect(ssd.reap(q)).toBe(req);
      expect(ssd.reap(q)).toBeUndefined();
      if (n < 20) issue();
    };
    issue();
    sim.run();
    expect(irqAt.length).toBe(20);
    irqAt.forEach((t, i) => expect(t - cqeAt[i]!).toBe(us(100)));
    expect(cqeAt[0]).toBe(Math.round(readQd1Ps(c, 4096)));
  });

  it('with coalescing off (threshold 0 or 1, or time 0) every CQE raises its own interrupt at once', () => {
    const settings = [
      { 'ssd.irq_coalesce_count': 0, 'ssd.irq_coalesce_us': 100 },
      { 'ssd.irq_coalesce_count': 1, 'ssd.irq_coalesce_us': 100 },
      { 'ssd.irq_coalesce_count': 8, 'ssd.irq_coalesce_us': 0 },
    ];
    for (const s of settings) {
      const c = costsOf(s);
      const sim = new Simulator();
      const ssd = new Ssd(sim, 'ssd0', c, new RandomStreams(1, 0).stream('ssd'), 1);
      const q = ssd.queues[0]!;
      const cqeAt: number[] = [];
      const irqAt: number[] = [];
      const reapedPerIrq: number[] = [];
      let issued = 0;
      const issue = (req: BlkRequest): void => {
        req.reset(issued++);
        req.bytes = 4096;
        req.sector = issued * 8000;
        ssd.submit(q, req);
      };
      q.onCqe = () => cqeAt.push(sim.nowPs);
      q.onInterrupt = () => {
        irqAt.push(sim.nowPs);
        let n = 0;
        for (let r = ssd.reap(q); r !== undefined; r = ssd.reap(q)) {
          n++;
          if (issued < 3000) issue(r);
        }
        reapedPerIrq.push(n);
      };
      for (let i = 0; i < 32; i++) issue(new BlkRequest());
      sim.run();
      expect(cqeAt.length).toBe(3000);
      expect(irqAt).toEqual(cqeAt);
      expect(reapedPerIrq.every((n) => n === 1)).toBe(true);
      expect(q.interrupts).toBe(3000);
    }
  });

  it('a polled queue (onInterrupt null) raises no interrupts, and onCqe sees every completion', () => {
    let seen = 0;
    const r = run({ costs: costsOf(), qd: 16, bytes: 4096, warmup: 0, ops: 2000, onComplete: () => seen++ });
    expect(seen).toBe(2000);
    expect(r.stats.interrupts).toBe(0);
  });
});

describe('Ssd: queues and completions', () => {
  it('every submitted command completes exactly once, on its own queue, and no SQ holds more than its depth', () => {
    const c = costsOf({
      'ssd.queue_depth': 8, 'ssd.write_buffer_kib': 64, 'ssd.irq_coalesce_count': 3, 'ssd.irq_coalesce_us': 50,
    });
    const sim = new Simulator();
    const streams = new RandomStreams(3, 0);
    const ssd = new Ssd(sim, 'ssd0', c, streams.stream('ssd'), 4);
    const rng = streams.stream('mix');
    const seen = new Map<number, number>();
    const queueOf = new Map<number, number>();
    let issued = 0;
    let throwsWhenFull = 0;
    const target = 6000;
    const fill = (q: NvmeQueuePair): void => {
      while (ssd.canSubmit(q) && issued < target) {
        const req = new BlkRequest();
        req.reset(issued++);
        req.isWrite = rng() < 0.5;
        req.bytes = 512 * (1 + Math.floor(rng() * 512)); // 512 B to 256 KiB, some beyond the buffer
        req.sector = Math.floor(rng() * 1e6);
        queueOf.set(req.id, q.index);
        ssd.submit(q, req);
        expect(q.outstanding).toBeLessThanOrEqual(q.depth);
      }
      if (!ssd.canSubmit(q)) {
        expect(() => ssd.submit(q, new BlkRequest())).toThrow(/full/);
        throwsWhenFull++;
      }
    };
    for (const q of ssd.queues) {
      q.onInterrupt = () => {
        for (let r = ssd.reap(q); r !== undefined; r = ssd.reap(q)) {
          seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
          expect(queueOf.get(r.id)).toBe(q.index);
          expect(r.status).toBe(STATUS_OK);
        }
        fill(q);
      };
      fill(q);
    }
    sim.run();
    expect(issued).toBe(target);
    expect(seen.size).toBe(target);
    for (const n of seen.values()) expect(n).toBe(1);
    for (const q of ssd.queues) {
      expect(q.outstanding).toBe(0);
      expect(q.cqLength).toBe(0);
      expect(q.depth).toBe(7); // 8 entries, one kept empty
    }
    expect(throwsWhenFull).toBeGreaterThan(100);
    expect(ssd.writeBufferBytes).toBe(0);
    const s = ssd.stats();
    expect(s.completions).toBe(target);
    expect(s.reads + s.writes).toBe(target);
    expect(s.writeStalls).toBeGreaterThan(0);
  });

  it('submit throws on a full SQ and accepts again once a CQE is reaped', () => {
    const sim = new Simulator();
    const ssd = new Ssd(sim, 'ssd0', costsOf({ 'ssd.queue_depth': 4 }), new RandomStreams(1, 0).stream('ssd'), 1);
    const q = ssd.queues[0]!;
    const mk = (i: number): BlkRequest => {
      const r = new BlkRequest();
      r.reset(i);
      r.bytes = 4096;
      r.sector = i * 8;
      return r;
    };
    for (let i = 0; i < 3; i++) ssd.submit(q, mk(i));
    expect(ssd.canSubmit(q)).toBe(false);
    expect(() => ssd.submit(q, mk(3))).toThrow(/submission queue 0 is full/);
    sim.run();
    expect(q.cqLength).toBe(3);
    expect(ssd.canSubmit(q)).toBe(false); // CQEs not reaped still hold their slots
    expect(ssd.reap(q)?.id).toBe(0);
    expect(ssd.canSubmit(q)).toBe(true);
    ssd.submit(q, mk(3));
  });

  it('asking for more queue pairs than the controller offers is an input error', () => {
    const c = costsOf({ 'ssd.queues': 4 });
    expect(() => new Ssd(new Simulator(), 'ssd0', c, new RandomStreams(1, 0).stream('ssd'), 5)).toThrow(InputError);
    expect(new Ssd(new Simulator(), 'ssd0', c, new RandomStreams(1, 0).stream('ssd'), 4).queues.length).toBe(4);
  });
});

describe('Ssd: determinism and defaults', () => {
  it('the same seed gives the same completion times; another seed does not', () => {
    const once = (seed: number): number[] =>
      run({ costs: costsOf(), qd: 16, queues: 2, bytes: 4096, warmup: 0, ops: 3000, seed }).doneAt;
    const a = once(7);
    expect(once(7)).toEqual(a);
    expect(once(8)).not.toEqual(a);
  });

  it('the default parameters give the P4510 2 TB random-read ceiling (637K IOPS) and QD1 latencies', () => {
    const c = costsOf();
    const r = run({ costs: c, qd: 128, bytes: 4096, warmup: 5000, ops: 60000 });
    expect(relErr(r.iops, 637000)).toBeLessThan(0.05);
    // spec-sheet latencies include the host stack (~5 us at QD1, fio on Linux)
    const hostPs = us(5);
    expect(relErr(readQd1Ps(c, 4096) + hostPs, us(77))).toBeLessThan(0.05);
    expect(relErr(writeQd1Ps(c, 4096) + hostPs, us(18))).toBeLessThan(0.1);
  });

  it('every storage parameter has a default within its range, a unit and a source', () => {
    for (const d of STORAGE_PARAMS) {
      expect(d.name).toMatch(/^(ssd|ramdisk)\.[a-z_]+$/);
      expect(d.source.length).toBeGreaterThan(20);
      expect(d.unit.length).toBeGreaterThan(0);
      expect(typeof d.default).toBe('number');
      const v = d.default as number;
      expect(v).toBeGreaterThanOrEqual(d.min!);
      expect(v).toBeLessThanOrEqual(d.max!);
      if (d.integer) expect(Number.isInteger(v)).toBe(true);
    }
  });
});
