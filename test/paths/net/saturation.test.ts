/**
 * Saturation throughput. 64-byte net-tx on one queue with a fast sender in the guest (a
 * DPDK/pktgen-like generator: no socket stack, a light driver), so that the back end is
 * the bottleneck: vhost-user > vhost-kernel > virtio-qemu > emulated, each per back-end
 * core inside the published per-core ranges. 1,500-byte frames through passthrough and
 * SR-IOV within 1% of the 10 GbE line rate after framing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { NetRunResult } from '../../../src/paths/net/support/net-run.js';
import { gbps, mops, runPath } from './helpers.js';

const SAT = { kind: 'net-tx', size_bytes: 64, ops: 60_000, warmup_ops: 6_000, guest_stack_ns: 0 };
const FAST_GUEST = { 'guest.virtio_xmit_ns': 50, 'guest.e1000_xmit_ns': 50 };

/** Cores of working time (busy minus polling) of the vCPU threads, or of all other host threads. */
function backendCores(r: NetRunResult, onVcpu: boolean): number {
  return r.cpu
    .filter((c) => c.thread.includes('/vcpu') === onVcpu)
    .reduce((s, c) => s + c.busyFraction - c.pollFraction, 0);
}

describe('64-byte net-tx saturation on one queue', () => {
  const r: Record<string, NetRunResult> = {};
  beforeAll(() => {
    for (const p of ['vhost-user', 'vhost-kernel', 'virtio-qemu', 'emulated']) r[p] = runPath(p, SAT, FAST_GUEST);
  });

  it('throughput: vhost-user > vhost-kernel > virtio-qemu > emulated', () => {
    expect(mops(r['vhost-user']!)).toBeGreaterThan(mops(r['vhost-kernel']!));
    expect(mops(r['vhost-kernel']!)).toBeGreaterThan(mops(r['virtio-qemu']!));
    expect(mops(r['virtio-qemu']!)).toBeGreaterThan(mops(r['emulated']!));
  });

  it('vhost-user: 4-20 Mpps per PMD core (CSIT rls2005: 6.3 Mpps/core PVP = two crossings per packet)', () => {
    const perCore = mops(r['vhost-user']!) / backendCores(r['vhost-user']!, false);
    expect(perCore).toBeGreaterThanOrEqual(4);
    expect(perCore).toBeLessThanOrEqual(20);
  });

  it('vhost-kernel: 0.67-2 Mpps per worker core (vhost_kernel.per_pkt 0.5-1.5 us; tun/vhost 1.3-1.5 Mpps)', () => {
    const perCore = mops(r['vhost-kernel']!) / backendCores(r['vhost-kernel']!, false);
    expect(perCore).toBeGreaterThanOrEqual(0.67);
    expect(perCore).toBeLessThanOrEqual(2);
  });

  it('virtio-qemu: 0.2-1 Mpps per main-loop core (qemu.virtio_backend_per_req 1-5 us)', () => {
    const perCore = mops(r['virtio-qemu']!) / backendCores(r['virtio-qemu']!, false);
    expect(perCore).toBeGreaterThanOrEqual(0.2);
    expect(perCore).toBeLessThanOrEqual(1);
  });

  it('emulated: below virtio-qemu per core; the device work runs on the vCPU in exits', () => {
    const perCore = mops(r['emulated']!) / backendCores(r['emulated']!, true);
    expect(perCore).toBeGreaterThanOrEqual(0.05);
    expect(perCore).toBeLessThan(mops(r['virtio-qemu']!) / backendCores(r['virtio-qemu']!, false));
  });
});

describe('1,500-byte frames at 10 GbE line rate', () => {
  const lineRate = (10 * 1500) / (1500 + 20); // payload Gb/s after preamble + IFG
  it.each(['passthrough', 'sriov'])('%s is within 1%% of line rate', (path) => {
    const r = runPath(path, { kind: 'net-tx', size_bytes: 1500, ops: 30_000, warmup_ops: 3_000, guest_stack_ns: 200 });
    expect(Math.abs(gbps(r) - lineRate) / lineRate).toBeLessThan(0.01);
    expect(r.opsDropped).toBe(0);
  });
});
