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
