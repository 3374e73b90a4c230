/**
 * The block workload's time limits (runtime_s, warmup_s), fio's linear rate_process, and
 * the figures a block run hands to fio.json: fio's slat, clat and lat per direction.
 */
import { describe, expect, it } from 'vitest';
import { StageTracker } from '../../../src/primitives/stage-tracker.js';
import { workloadSchema } from '../../../src/workloads/index.js';
import { runBlk } from './helpers.js';

const S = 1e12;

describe('runtime_s: a limit on the measurement window', () => {
  it('ends the run after runtime_s of simulated time when ops would take longer', () => {
    const r = runBlk('vhost-user', { iodepth: 4, ops: 1_000_000, warmup_ops: 0, runtime_s: 0.01 });
    expect(r.windowPs).toBe(0.01 * S);
    expect(r.opsCompleted).toBeGreaterThan(100);
    expect(r.opsCompleted).toBeLessThan(1_000_000);
    // the tail keeps the slowest 1% of what completed, not 1% of ops
    const tail = r.stages.find((s) => s.stage === 'guest.submit')!;
    expect(tail.tailMeanNs).toBeGreaterThan(0);
  });

  it('leaves a run that reaches ops first alone', () => {
    const withLimit = runBlk('bare-metal', { ops: 2000, warmup_ops: 100, runtime_s: 100 });
    const without = runBlk('bare-metal', { ops: 2000, warmup_ops: 100 });
    expect(withLimit.opsCompleted).toBe(2000);
    expect(withLimit.windowPs).toBe(without.windowPs);
    expect(withLimit.latency.mean).toBe(without.latency.mean);
  });

  it('warmup_s opens the window no earlier than that simulated time', () => {
    const r = runBlk('bare-metal', { iodepth: 2, ops: 1_000_000, warmup_ops: 0, warmup_s: 0.004, runtime_s: 0.002 }, {}, 1, true);
    expect(r.windowPs).toBe(0.002 * S);
    expect(r.fio!.endNs).toBeCloseTo(6e6, 0); // 4 ms of warm-up and 2 ms of window
  });

  it('is refused above 9000 s and rate_process without rate_iops is refused', () => {
    expect(workloadSchema.safeParse({ kind: 'blk', runtime_s: 9001 }).success).toBe(false);
    expect(workloadSchema.safeParse({ kind: 'blk', rate_process: 'linear' }).success).toBe(false);
    expect(workloadSchema.safeParse({ kind: 'blk', rate_iops: 10, rate_process: 'linear' }).success).toBe(true);
  });
});

describe('StageTracker.limitTail', () => {
  it('keeps the slowest n of the tail store, whatever their order of arrival', () => {
    const clock = { nowPs: 0 };
    const t = new StageTracker(clock);
    const stage = t.define('only', 'x');
    t.keepTail(10);
    // 20 requests whose time in the stage is their latency: 7, 14, ..., in a shuffled order
    const lat = Array.from({ length: 20 }, (_, i) => ((i * 7) % 20) + 1);
    for (const l of lat) {
      const op = { stampPs: 0, slot: -1 };
      clock.nowPs = 0;
      t.begin(op);
      clock.nowPs = l * 1000;
      t.mark(op, stage, 0);
      t.end(op, true, l * 1000);
    }
    expect(t.rows(20)[0]!.tailMeanNs).toBe((11 + 20) / 2); // the slowest 10: 11..20 ns
    t.limitTail(3);
    expect(t.rows(20)[0]!.tailMeanNs).toBe(19); // 18, 19, 20
    t.limitTail(5); // more than it holds: no change
    expect(t.rows(20)[0]!.tailMeanNs).toBe(19);
  });
});

describe('rate_process', () => {
  it('linear spaces the I/Os evenly: exactly the rate over the window; poisson only on average', () => {
    const fields = { rate_iops: 20_000, iodepth: 8, ops: 1_000_000, warmup_ops: 0, runtime_s: 0.05 };
    const linear = runBlk('vhost-user', { ...fields, rate_process: 'linear' });
    const poisson = runBlk('vhost-user', { ...fields, rate_process: 'poisson' });
    const absent = runBlk('vhost-user', fields);
    expect(Math.abs(linear.opsCompleted - 1000)).toBeLessThanOrEqual(1);
    expect(Math.abs(poisson.opsCompleted - 1000)).toBeLessThan(150);
    expect(poisson.opsCompleted).not.toBe(linear.opsCompleted);
    // absent is Poisson, as before the field existed
    expect(absent.opsCompleted).toBe(poisson.opsCompleted);
    // evenly spaced arrivals queue less than Poisson ones
    expect(linear.latency.quantile(0.99)).toBeLessThan(poisson.latency.quantile(0.99));
  });
});

describe('fio figures of a block run', () => {
  it('are computed only when asked for (fio.json), and the run is the same either way', () => {
    const without = runBlk('vhost-user', { rw: 'randrw', iodepth: 4, ops: 2000 });
    const withFio = runBlk('vhost-user', { rw: 'randrw', iodepth: 4, ops: 2000 }, {}, 1, true);
    expect(without.fio).toBeUndefined();
    expect(withFio.fio?.read.ios).toBeGreaterThan(0);
    expect(withFio.latency.mean).toBe(without.latency.mean);
    expect(withFio.eventsProcessed).toBe(without.eventsProcessed);
  });

  it('splits reads and writes; slat + clat = lat on average; counts and bytes add up', () => {
    const r = runBlk('virtio-qemu', { rw: 'randrw', rwmixread: 70, iodepth: 8, ops: 4000, warmup_ops: 400 }, {}, 1, true);
    const f = r.fio!;
    expect(f.read.ios + f.write.ios).toBe(r.opsCompleted);
    expect(f.read.ios / r.opsCompleted).toBeGreaterThan(0.65);
    expect(f.read.ios / r.opsCompleted).toBeLessThan(0.75);
    expect(f.read.bytes).toBe(f.read.ios * 4096);
    for (const d of [f.read, f.write]) {
      expect(d.slat).not.toBeNull();
      expect(d.slat!.n).toBe(d.ios);
      expect(d.slat!.meanNs + d.clat.meanNs).toBeCloseTo(d.lat.meanNs, 3);
      expect(d.slat!.meanNs).toBeGreaterThan(0);
      expect(d.clat.meanNs).toBeGreaterThan(10 * d.slat!.meanNs);
      expect(d.lat.percentilesNs).toHaveLength(17);
      const p = d.lat.percentilesNs;
      for (let i = 1; i < p.length; i++) expect(p[i]!).toBeGreaterThanOrEqual(p[i - 1]!);
      expect(d.lat.minNs).toBeLessThanOrEqual(p[0]!);
      expect(d.lat.maxNs).toBeGreaterThanOrEqual(p[p.length - 1]!);
    }
    // the mean of both directions is the run's mean
    const mean = (f.read.lat.meanNs * f.read.ios + f.write.lat.meanNs * f.write.ios) / r.opsCompleted;
    expect(mean).toBeCloseTo(r.latency.mean / 1000, 3);
    const shares = [...f.clatPercent.ns, ...f.clatPercent.us, ...f.clatPercent.ms];
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 6);
    expect(f.windowNs).toBe(r.windowPs / 1000);
  });

  it('psync has no slat and its clat is its lat, as fio reports a synchronous engine', () => {
    const f = runBlk('bare-metal', { ioengine: 'psync' }, {}, 1, true).fio!;
    expect(f.read.slat).toBeNull();
    expect(f.read.clat).toEqual(f.read.lat);
    expect(f.write.ios).toBe(0);
    expect(f.write.lat.n).toBe(0);
  });

  it('usr and sys: per job, at most the whole window, usr a small part of a busy job', () => {
    const one = runBlk('bare-metal', { iodepth: 1, ops: 3000 }, {}, 1, true).fio!;
    const four = runBlk('bare-metal', { iodepth: 1, numjobs: 4, ops: 3000 }, { 'host.cores': 8 }, 1, true).fio!;
    for (const f of [one, four]) {
      expect(f.usr).toBeGreaterThan(0);
      expect(f.sys).toBeGreaterThan(f.usr);
      expect(f.usr + f.sys).toBeLessThanOrEqual(1);
    }
    expect(four.jobs).toBe(4);
    // four jobs on four cores: each about as busy as one alone
    expect(four.usr + four.sys).toBeGreaterThan(0.5 * (one.usr + one.sys));
  });
});
