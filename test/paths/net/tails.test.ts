/**
 * Where tails come from: each source is a mechanism that can be turned off. With all of
 * them off and no cost jitter, a request/response path is deterministic (p50 = p99);
 * each source alone widens the tail; stages.csv's p99 and tail means show where.
 */
import { describe, expect, it } from 'vitest';
import type { NetRunResult } from '../../../src/paths/net/support/net-run.js';
import { exitsOf, runPath } from './helpers.js';

const RR = { kind: 'net-rr', size_bytes: 64, ops: 20_000, warmup_ops: 2_000 };
const QUIET = { 'host.jitter_cv': 0, 'host.tick_hz': 0, 'guest.timer_hz': 0, 'kvm.halt_poll_adaptive': false, 'host.cstate_max': 'C1', 'host.noise_duty': 0 };
const q = (r: NetRunResult, p: number): number => r.latency.quantile(p);

describe('tail sources', () => {
  it.each(['bare-metal', 'vhost-user', 'vhost-kernel', 'virtio-qemu', 'emulated-vmm'])('%s: every source off gives p50 = p99', (path) => {
    const r = runPath(path, RR, QUIET);
    expect(q(r, 0.99)).toBe(q(r, 0.5));
  });

  const sources: [string, Record<string, unknown>, number][] = [
    ['host timer ticks (1000 Hz, 2 us)', { 'host.tick_hz': 1000 }, 1.04],
    ['guest timer ticks', { 'guest.timer_hz': 1000 }, 1.04],
    ['another tenant on the cores (10%, 100 us bursts)', { 'host.noise_duty': 0.1, 'host.noise_burst_us': 100 }, 1.5],
    ['cost jitter', { 'host.jitter_cv': 0.1 }, 1.03],
  ];
  it.each(sources)('vhost-kernel: %s alone widens the tail', (_name, set, atLeast) => {
    const { think_ns, ...params } = set as Record<string, unknown> & { think_ns?: number };
    const w = think_ns === undefined ? RR : { ...RR, think_ns, ops: 5_000, warmup_ops: 500 };
    const r = runPath('vhost-kernel', w, { ...QUIET, ...params });
    expect(q(r, 0.99) / q(r, 0.5)).toBeGreaterThanOrEqual(atLeast);
  });

  it('deep idle states widen the tail of Poisson traffic (idle periods vary, so do the states entered)', () => {
    const w = { kind: 'net-rr', size_bytes: 64, rate_per_s: 1_500, ops: 3_000, warmup_ops: 300 };
    const c1 = runPath('vhost-kernel', w, QUIET);
    const c6 = runPath('vhost-kernel', w, { ...QUIET, 'host.cstate_max': 'C6' });
    expect(q(c6, 0.99) - q(c1, 0.99)).toBeGreaterThan(50_000_000); // a C6 exit (131 us beyond C1) in the tail
    expect(q(c6, 0.99) / q(c6, 0.5)).toBeGreaterThan(1.5 * (q(c1, 0.99) / q(c1, 0.5)));
  });

  it('adaptive halt polling: the window grows to cover the halts of a steady load (no full wake-ups once grown)', () => {
    const r = runPath('vhost-kernel', RR, { ...QUIET, 'kvm.halt_poll_adaptive': true });
    // one interrupt per transaction wakes the vCPU; a sleeping vCPU would show ~7 us more
    const fixed = runPath('vhost-kernel', RR, QUIET);
    expect(Math.abs(q(r, 0.5) - q(fixed, 0.5))).toBeLessThan(500_000); // within 0.5 us
  });

  it('adaptive halt polling: a think time longer than kvm.halt_poll_ns shrinks the window to 0, so even the short halt inside a transaction sleeps', () => {
    const slow = { ...RR, think_ns: 400_000, ops: 3_000, warmup_ops: 300 };
    const adaptive = runPath('vhost-kernel', slow, { ...QUIET, 'kvm.halt_poll_adaptive': true });
    const fixed = runPath('vhost-kernel', slow, QUIET);
    // fixed: the 200 us window covers the wait for the response; adaptive: after the long
    // halt shrank it, the vCPU sleeps and pays a full wake-up (kvm.halted_wakeup_ns, 7 us)
    const extra = q(adaptive, 0.5) - q(fixed, 0.5);
    expect(extra).toBeGreaterThan(5_000_000);
    expect(extra).toBeLessThan(9_000_000);
  });

  it('host ticks on a vCPU in guest mode are exits (host-timer, not I/O)', () => {
    const r = runPath('vhost-kernel', { kind: 'net-tx', size_bytes: 64, ops: 20_000, warmup_ops: 2_000 }, { ...QUIET, 'host.tick_hz': 1000 });
    expect(exitsOf(r, 'host-timer')).toBeGreaterThan(0);
    expect(r.counters.exits).toBeLessThan(r.opsCompleted); // I/O exits only: the few kicks
  });

  it('stages.csv tails: the tail means add up to the slowest 1% mean latency', () => {
    const r = runPath('vhost-kernel', RR, { 'host.noise_duty': 0.05, 'host.noise_burst_us': 100 });
    let tailSum = 0;
    for (const s of r.stages) {
      expect(s.p99Ns!, s.stage).toBeGreaterThan(0);
      tailSum += s.tailMeanNs!;
    }
    // the slowest 1% (200 requests) are above the p99 of all
    expect(tailSum).toBeGreaterThanOrEqual(q(r, 0.99) / 1000);
    expect(tailSum).toBeLessThanOrEqual(r.latency.max / 1000 + 1);
  });

  it('another tenant on the vCPU core only: the tail is in the guest stages, not the back end', () => {
    // noise on core 0 (the vCPU's); the vhost worker and softirq have their own cores
    const r = runPath('vhost-kernel', RR, { ...QUIET, 'host.noise_duty': 0.1, 'host.noise_burst_us': 100, 'host.noise_cores': 1 });
    const tail = (stage: string): number => r.stages.filter((s) => s.stage === stage).reduce((a, s) => a + s.tailMeanNs!, 0);
    const mean = (stage: string): number => r.stages.filter((s) => s.stage === stage).reduce((a, s) => a + s.visitsPerOp * (s.waitMeanNs + s.serviceMeanNs), 0);
    const excess = (stage: string): number => tail(stage) - mean(stage);
    const guest = excess('guest.tx') + excess('guest.rx') + excess('irq+wake');
    const backend = excess('backend.tx') + excess('backend.rx');
    expect(guest).toBeGreaterThan(10 * Math.max(backend, 1));
  });
});
