/**
 * QEMU pre-copy live migration (src/actors/host/migration.ts) at engine level: no path,
 * a HostCpu with the migration thread(s), the dedicated link. Mechanism checks first,
 * then the published cases of research/migration-faults.md s2, each with how its setup
 * maps onto the parameters.
 */
import { describe, expect, it } from 'vitest';
import { params } from '../../src/calibration/index.js';
import { deriveStream } from '../../src/core/random.js';
import { Simulator } from '../../src/core/simulator.js';
import { PS_PER_MS, PS_PER_S, ms, ns, seconds, us } from '../../src/core/time.js';
import { Migration, PAGE_BYTES, PAGE_HEADER_BYTES, type MigrationHooks } from '../../src/actors/host/migration.js';
import { Counters } from '../../src/metrics/counters.js';
import { TimelineRecorder, type MigrationSample } from '../../src/metrics/timeline-recorder.js';
import { HostCpu } from '../../src/primitives/host-cpu.js';

interface Setup {
  hooks?: MigrationHooks;
  multifdCores?: number[];
  ioPoolPages?: number;
  /** A CPU hog on the migration thread's core (core 0). */
  hog?: boolean;
}

function setup(over: Record<string, unknown>, s: Setup = {}) {
  const sim = new Simulator();
  const cpu = new HostCpu(sim, {
    ctxSwitchPs: ns(1500),
    slicePs: us(3000),
    wakeupGranularityPs: us(1000),
    counters: new Counters(),
    jitterCv: 0,
    stream: (name) => deriveStream(1, 0, name),
  });
  const recorder = new TimelineRecorder(ms(1000));
  const throttles: number[] = [];
  const hooks: MigrationHooks = { throttle: (f) => throttles.push(f), ...s.hooks };
  const m = new Migration({
    sim, cpu, params: params.resolve(over), hooks, recorder, core: 0,
    ...(s.multifdCores ? { multifdCores: s.multifdCores } : {}),
    ...(s.ioPoolPages !== undefined ? { ioPoolPages: s.ioPoolPages } : {}),
  });
  if (s.hog) {
    const hog = cpu.addThread({ name: 'hog', core: 0, idleMode: 'sleep', wakeupPs: us(3) });
    const spin = (): void => hog.exec(ms(1), spin, undefined);
    hog.onRun = spin;
    cpu.start(hog);
  }
  return { sim, cpu, m, recorder, throttles };
}

/** Runs a migration started at 0 until it is done or the horizon passes. */
function migrate(over: Record<string, unknown>, horizonS: number, s: Setup = {}) {
  const r = setup(over, s);
  r.m.start();
  const stopAtDone = (): void => {
    if (r.m.isFinished) r.sim.stop();
    else r.sim.post(ms(100), stopAtDone);
  };
  r.sim.post(0, stopAtDone); // (a hog never lets the queue empty: stop when done)
  r.sim.run({ untilPs: seconds(horizonS) });
  return r;
}

const totalS = (m: Migration): number => m.totalPs / PS_PER_S;
const downtimeMs = (m: Migration): number => m.downtimePs / PS_PER_MS;
const GIB = 2 ** 30;

describe('migration: mechanism', () => {
  it('an idle guest takes memory / max-bandwidth, with a downtime under the limit', () => {
    const { m, sim } = migrate({}, 100); // 4 GiB, all pages non-zero, 128 MiB/s
    expect(m.isFinished).toBe(true);
    const expected = (4 * GIB) / (128 * 2 ** 20); // 32 s
    expect(totalS(m)).toBeGreaterThan(expected * 0.9);
    expect(totalS(m)).toBeLessThan(expected * 1.1);
    expect(downtimeMs(m)).toBeGreaterThan(0);
    expect(downtimeMs(m)).toBeLessThan(300);
    expect(m.iterations).toBe(3); // setup sync, end of the pass, the final sync
    expect(m.normalPagesSent).toBe(m.totalPages);
    // coarse events: a few per 100 ms window, not one per page
    expect(sim.eventsProcessed).toBeLessThan(5000);
  });

  it('zero pages cost a scan and a header, not the page', () => {
    const { m } = migrate({ 'vm.zero_page_fraction': 0.9 }, 100);
    expect(m.zeroPagesSent).toBe(Math.round(0.9 * m.totalPages));
    expect(totalS(m)).toBeLessThan(32 * 0.2); // ~10 % of the bytes, plus the scan
  });

  it('bytes sent are the pages, their headers and the device state (conservation)', () => {
    const { m } = migrate({ 'vm.zero_page_fraction': 0.5, 'vm.dirty_rate_pages_per_s': 5000 }, 200, { hooks: { deviceStateBytes: () => 12345 } });
    expect(m.isFinished).toBe(true);
    expect(m.headerBytesSent).toBe(m.normalPagesSent * PAGE_HEADER_BYTES + m.zeroPagesSent * 9);
    expect(m.stateBytesSent).toBe(262144 + 12345);
    expect(m.bytesSent).toBe(m.normalPagesSent * PAGE_BYTES + m.headerBytesSent + m.stateBytesSent);
    // every page once, and the dirtied ones again
    expect(m.pagesSent).toBeGreaterThan(m.totalPages);
  });

  it('passes grow as the dirty rate approaches the bandwidth', () => {
    // 128 MiB/s moves 32,768 pages/s; the application writes over 1 GiB
    const its = [0, 8000, 16000, 24000].map((r) => {
      const { m } = migrate({ 'vm.dirty_rate_pages_per_s': r }, 2000);
      expect(m.isFinished).toBe(true);
      return m.iterations;
    });
    for (let i = 1; i < its.length; i++) expect(its[i]!).toBeGreaterThan(its[i - 1]!);
  });

  const hot = { 'vm.dirty_rate_pages_per_s': 60000, 'vm.dirty_working_set_gib': 2 };

  it('pre-copy does not converge when the guest dirties faster than the link sends, and QEMU has no cap', () => {
    const { m, recorder } = migrate(hot, 600);
    expect(m.isFinished).toBe(false);
    expect(m.phase).toBe('precopy');
    expect(m.iterations).toBeGreaterThan(10);
    m.reportUnfinished();
    recorder.finish(seconds(600));
    const sum = recorder.summary();
    expect(sum.pagesTransferred).toBe(m.pagesSent);
    expect(Number.isNaN(sum.migrationTotalMs)).toBe(true);
  });

  it('auto-converge throttles 20, 30, 40 ... % and then converges', () => {
    const { m, throttles, recorder } = migrate({ ...hot, 'migration.auto_converge': true }, 600);
    expect(m.isFinished).toBe(true);
    expect(throttles.length).toBeGreaterThanOrEqual(3);
    const applied = throttles.slice(0, -1);
    expect(applied[0]).toBe(0.2);
    for (let i = 1; i < applied.length; i++) expect(applied[i]).toBeCloseTo(applied[i - 1]! + 0.1, 9);
    expect(throttles.at(-1)).toBe(0); // cpu_throttle_stop at the switchover
    expect(m.throttle).toBe(0);
    recorder.finish(m.endPs);
    expect(recorder.summary().migrationTotalMs).toBeCloseTo(m.totalPs / PS_PER_MS, 6);
    expect(recorder.summary().migrationDowntimeMs).toBeCloseTo(m.downtimePs / PS_PER_MS, 6);
  });

  it('postcopy switches after the first pass and pulls the rest; the missing fraction falls to 0', () => {
    const r = setup({ ...hot, 'migration.postcopy': true });
    const missing: number[] = [];
    let faultsDone = 0;
    r.m.start();
    const probe = (): void => {
      if (r.m.phase === 'postcopy') {
        missing.push(r.m.missingFraction());
        r.m.postcopyFault(8, () => faultsDone++);
      }
      if (!r.m.isFinished) r.sim.post(ms(50), probe);
    };
    r.sim.post(0, probe);
    r.sim.run({ untilPs: seconds(600) });
    expect(r.m.isFinished).toBe(true);
    expect(r.m.iterations).toBe(3); // setup, end of pass 1, postcopy's sync
    expect(missing[0]!).toBeGreaterThan(0);
    expect(r.m.missingFraction()).toBe(0);
    for (let i = 1; i < missing.length; i++) expect(missing[i]!).toBeLessThanOrEqual(missing[i - 1]!);
    expect(faultsDone).toBeGreaterThan(0);
    expect(r.m.downtimePs).toBeGreaterThan(0);
    expect(r.m.resumePs).toBeLessThan(r.m.endPs); // the guest ran before the last page arrived
  });

  it('downtime includes the time the harness takes to stop the guest (block drain)', () => {
    const drainPs = ms(50);
    const base = migrate({}, 100).m;
    const holder: { sim?: Simulator } = {};
    const r = setup({}, { hooks: { stopVm: (done) => holder.sim!.post(drainPs, done) } });
    holder.sim = r.sim;
    r.m.start();
    r.sim.run({ untilPs: seconds(100) });
    expect(r.m.isFinished).toBe(true);
    // (plus the migration thread's wake-up, 3.5 us, to run the final sync)
    expect(downtimeMs(r.m) - downtimeMs(base)).toBeGreaterThanOrEqual(50);
    expect(downtimeMs(r.m) - downtimeMs(base)).toBeLessThan(50.1);
  });

  it('pages the I/O path writes are sent again', () => {
    const quiet = migrate({}, 100).m;
    const r = setup({}, { ioPoolPages: 4096 });
    r.m.start();
    const io = (): void => {
      r.m.ioWrote(64);
      if (!r.m.isFinished) r.sim.post(ms(1), io);
    };
    r.sim.post(0, io);
    r.sim.run({ untilPs: seconds(100) });
    expect(r.m.isFinished).toBe(true);
    // at most the pool's 4096 pages per sync: more than the quiet guest, not more than a pool per pass
    expect(r.m.normalPagesSent).toBeGreaterThan(quiet.normalPagesSent);
    expect(r.m.normalPagesSent - quiet.normalPagesSent).toBeLessThanOrEqual(4096 * (r.m.iterations - 1));
  });

  it('throughput comes from the send threads and their cores: multifd scales, a shared core does not', () => {
    const fast = { 'migration.max_bandwidth_mibps': 100000, 'migration.link_gbps': 400 };
    const one = migrate(fast, 100).m;
    const four = migrate({ ...fast, 'migration.multifd_channels': 4 }, 100, { multifdCores: [1, 2, 3, 4] }).m;
    const fourOnOneCore = migrate({ ...fast, 'migration.multifd_channels': 4 }, 100, { multifdCores: [1] }).m;
    const contended = migrate(fast, 100, { hog: true }).m;
    const rateMiBps = (m: Migration): number => (m.totalPages * PAGE_BYTES) / 2 ** 20 / totalS(m);
    // one thread: about 1617 MiB/s (migration.send_ns_per_kib)
    expect(rateMiBps(one)).toBeGreaterThan(1617 * 0.9);
    expect(rateMiBps(one)).toBeLessThan(1617 * 1.05);
    expect(rateMiBps(four) / rateMiBps(one)).toBeGreaterThan(3.3);
    expect(rateMiBps(fourOnOneCore) / rateMiBps(one)).toBeLessThan(1.1);
    const ratio = rateMiBps(one) / rateMiBps(contended);
    expect(ratio).toBeGreaterThan(1.7);
    expect(ratio).toBeLessThan(2.3);
  });

  it('the link bounds throughput when it is slower than the thread', () => {
    const m = migrate({ 'migration.max_bandwidth_mibps': 100000, 'migration.link_gbps': 5 }, 100).m;
    const payloadBps = (5e9 / 8) * (1448 / 1538);
    expect(totalS(m)).toBeGreaterThan((m.totalPages * (PAGE_BYTES + 8)) / payloadBps);
    expect(totalS(m)).toBeLessThan(((m.totalPages * (PAGE_BYTES + 8)) / payloadBps) * 1.05);
  });

  it('reports progress to the timeline recorder per window', () => {
    const { m, recorder } = migrate({ 'vm.dirty_rate_pages_per_s': 5000 }, 100);
    recorder.finish(m.endPs + seconds(1));
    const samples = recorder.rows.map((row) => row.migration).filter((s): s is MigrationSample => s !== null);
    expect(samples.length).toBeGreaterThan(20);
    expect(samples[0]!.phase).toBe('precopy');
    expect(samples.at(-1)!.phase).toBe('done');
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.pagesSent).toBeGreaterThanOrEqual(samples[i - 1]!.pagesSent);
  });

  it('is deterministic', () => {
    const a = migrate({ ...hot, 'migration.auto_converge': true, 'migration.multifd_channels': 2 }, 600, { multifdCores: [1, 2] });
    const b = migrate({ ...hot, 'migration.auto_converge': true, 'migration.multifd_channels': 2 }, 600, { multifdCores: [1, 2] });
    expect([a.m.totalPs, a.m.downtimePs, a.m.pagesSent, a.m.bytesSent, a.m.iterations, a.sim.eventsProcessed]).toEqual([
      b.m.totalPs, b.m.downtimePs, b.m.pagesSent, b.m.bytesSent, b.m.iterations, b.sim.eventsProcessed,
    ]);
  });
});

/**
 * QEMU commit 7ca1dfad95 "Force auto-convegence of live migration" (C. Vinod, 2013;
 * qemu.googlesource.com/qemu/+/7ca1dfad952d8a8655b32e78623edcc38a51b14a): a 20-vCPU,
 * 256 GB Java warehouse guest (~80 % busy), "migrate speed set to 20Gb", downtime limit
 * 4 s. Its `info migrate` counters give every input:
 * - total ram 268,444,224 KiB -> vm.memory_gib;
 * - duplicate (zero) pages 64,946,416 of 67,111,056 in the auto-converge run, nearly all
 *   from the first pass -> vm.zero_page_fraction 0.968;
 * - the application writes the non-zero rest -> vm.dirty_working_set_gib (8.3 GiB);
 * - "dirty pages rate: 67551 pages" -> vm.dirty_rate_pages_per_s;
 * - 20 Gb/s -> migration.link_gbps 20 and max-bandwidth 20 Gb/s (2384 MiB/s);
 * - per-page costs of that QEMU 1.5 migration thread, solved from the two runs' counters
 *   (t = normal x a + duplicate x b): 1,487.5 s = 95,750,218 a + 65,461,532 b and
 *   241.2 s = 7,044,971 a + 64,946,416 b give a = 14.04 us per non-zero page
 *   (send_ns_per_kib 3509) and b = 2.19 us per zero page (zero_scan_ns_per_kib 548).
 *   This lumps that era's bitmap syncs into the page costs (sync cost stays the default).
 * With today's default costs (604 and 40 ns/KiB) the same guest converges in ~18 s
 * without auto-converge: the 2013 result reflects the 2013 thread's speed.
 */
const VINOD = {
  'vm.memory_gib': 268444224 / 1048576,
  'vm.zero_page_fraction': 64946416 / 67111056,
  'vm.dirty_working_set_gib': (1 - 64946416 / 67111056) * (268444224 / 1048576),
  'vm.dirty_rate_pages_per_s': 67551,
  'migration.link_gbps': 20,
  'migration.max_bandwidth_mibps': 20e9 / 8 / 2 ** 20,
  'migration.downtime_limit_ms': 4000,
  'migration.send_ns_per_kib': 3509,
  'migration.zero_scan_ns_per_kib': 548,
};

describe('migration: published cases', () => {
  it('auto-converge commit, without auto-converge: still running at 1,487 s', () => {
    const { m, sim } = migrate(VINOD, 1487.5);
    expect(m.isFinished).toBe(false);
    expect(m.phase).toBe('precopy');
    // published: 383,749,347 KiB (393 GB) transferred by then; the model sends ~372 GB
    expect(m.bytesSent / 1e9).toBeGreaterThan(393 * 0.85);
    expect(m.bytesSent / 1e9).toBeLessThan(393 * 1.1);
    // a 1,500 s migration costs ~10^5 events (QEMU's sync storm near the threshold included)
    expect(sim.eventsProcessed).toBeLessThan(300_000);
  });

  it('auto-converge commit, with auto-converge: done in ~241 s, ~28 GB sent; downtime below the published 6.37 s', () => {
    const { m, throttles } = migrate({ ...VINOD, 'migration.auto_converge': true }, 1487.5);
    expect(m.isFinished).toBe(true);
    expect(totalS(m)).toBeGreaterThan(241 * 0.9); // model: 247 s
    expect(totalS(m)).toBeLessThan(241 * 1.1);
    // published "transferred ram: 28235307 kbytes" = 28.9 GB; model: 31.2 GB
    expect(m.bytesSent / 1e9).toBeGreaterThan(28.9 * 0.9);
    expect(m.bytesSent / 1e9).toBeLessThan(28.9 * 1.15);
    expect(throttles.slice(0, 2)).toEqual([0.2, 0.3]);
    // GAP, documented: the model's downtime is ~4.6 s (about the 4 s limit: pending at the
    // stop <= threshold, sent at the thread's speed), the commit's 6.37 s. 2013 QEMU's
    // final 256 GB bitmap sync walked page by page (cost unknown; the default
    // migration.sync_ns_per_gib is today's word-wise sync) and its threshold used a
    // bandwidth measured with the syncs inside. Not tuned away.
    expect(downtimeMs(m)).toBeGreaterThan(4000);
    expect(downtimeMs(m)).toBeLessThan(5200);
  });

  it('auto-converge commit with today\'s default thread costs converges without auto-converge (contrast)', () => {
    const modern = { ...VINOD, 'migration.send_ns_per_kib': 604, 'migration.zero_scan_ns_per_kib': 40 };
    const { m } = migrate(modern, 1487.5);
    expect(m.isFinished).toBe(true);
    expect(totalS(m)).toBeLessThan(60);
  });

  /**
   * P. Xu, "[PATCH v7 00/10] KVM: Dirty ring support (QEMU part)", qemu-devel, May 2021:
   * 24 GB guest, 8 vCPUs, 10 GbE, 800 MB/s random dirtying over 20 GB; bitmap (not dirty
   * ring) total time mean 55 s over 6 runs (48-70 s). Mapping: vm.memory_gib 24e9 B;
   * vm.dirty_working_set_gib 20e9 B; 800e6 B/s = 195,313 pages/s; the memory outside
   * the 20 GB minus ~0.5 GB of guest OS is zero (vm.zero_page_fraction 0.146, an
   * estimate); link 10 Gb/s with max-bandwidth raised to it (the cover letter does not
   * give it; at the 128 MiB/s default it could not converge); defaults otherwise (300 ms
   * limit, one migration thread).
   */
  it('P. Xu bitmap case: converges; GAP: ~39 s against the published 48-70 s', () => {
    const { m } = migrate({
      'vm.memory_gib': 24e9 / GIB,
      'vm.dirty_working_set_gib': 20e9 / GIB,
      'vm.dirty_rate_pages_per_s': 800e6 / 4096,
      'vm.zero_page_fraction': 0.146,
      'migration.link_gbps': 10,
      'migration.max_bandwidth_mibps': 10e9 / 8 / 2 ** 20,
    }, 300);
    expect(m.isFinished).toBe(true);
    // GAP, documented: the model sends at the 10 GbE line's TCP payload rate (1.17 GB/s;
    // one thread at migration.send_ns_per_kib, 1617 MiB/s from cloud-hypervisor PR #7669,
    // is faster than the link) and finishes in ~39 s, below the published range. The
    // sources conflict: 55 s implies an effective ~0.95 GB/s per pass (a thread at about
    // 1 us/KiB reproduces 55 s), slower than the analogue's per-connection rate; what
    // slowed Xu's thread (write-protect faults, the sync's KVM_GET_DIRTY_LOG under the
    // BQL, TCP) is not measured. Not tuned away.
    expect(totalS(m)).toBeGreaterThan(35);
    expect(totalS(m)).toBeLessThan(45);
    expect(downtimeMs(m)).toBeLessThan(400);
  });

  /**
   * OPNFV kvmfornfv docs/userguide/live_migration.userguide.rst (QEMU 2.4, 10 GbE X540,
   * downtime limit 10 ms): an idle 8 GiB guest, total 401 ms, downtime 9 ms (after their
   * optimisations). Mapping: vm.memory_gib 8; idle (no dirtying); mostly zero pages,
   * vm.zero_page_fraction 0.99 (an estimate: a minimal idle CentOS uses ~80 MB); link
   * 10 Gb/s and max-bandwidth raised to it; downtime limit 10 ms.
   * Note: migration.zero_scan_ns_per_kib was derived from this figure, so the total is
   * a consistency check, not an independent prediction; the downtime is one. The page's
   * QEMU command line shows -m 1G, its text 8 GiB.
   */
  it('OPNFV idle 8 GiB guest at 10 GbE: total ~401 ms, downtime ~9 ms', () => {
    const { m } = migrate({
      'vm.memory_gib': 8,
      'vm.zero_page_fraction': 0.99,
      'migration.link_gbps': 10,
      'migration.max_bandwidth_mibps': 10e9 / 8 / 2 ** 20,
      'migration.downtime_limit_ms': 10,
    }, 100);
    expect(m.isFinished).toBe(true);
    expect(totalS(m) * 1000).toBeGreaterThan(401 * 0.85); // model: ~390 ms
    expect(totalS(m) * 1000).toBeLessThan(401 * 1.15);
    expect(downtimeMs(m)).toBeGreaterThan(4); // model: ~6 ms (sync, device state, destination load)
    expect(downtimeMs(m)).toBeLessThan(12);
  });
});
