/**
 * Bulk TCP-like streams and segmentation offloads: an op is a TSO/GSO packet of up to
 * 64 KiB cut into MTU frames on the wire; per-frame and per-packet costs are split, so
 * the back ends differ for bulk traffic and cpu.csv shows which thread saturates.
 */
import { describe, expect, it } from 'vitest';
import type { NetRunResult } from '../../../src/paths/net/support/net-run.js';
import { ALL_PATHS, gbps, runPath } from './helpers.js';

const BULK = { kind: 'net-tx', message_bytes: 131072, guest_stack_ns: 3000, ops: 12_000, warmup_ops: 1_200 };
/** The thread working hardest (busy minus polling). */
const busiest = (r: NetRunResult) => [...r.cpu].sort((a, b) => b.busyFraction - b.pollFraction - (a.busyFraction - a.pollFraction))[0]!;

describe('bulk TCP-like streams', () => {
  it('an op is a 64 KiB packet of 45 frames; 10 GbE carries 9.41 Gb/s of TCP payload at MTU 1500 (MSS 1448)', () => {
    const r = runPath('passthrough', BULK);
    const goodput = (10 * 1448) / (1518 + 20);
    expect(gbps(r)).toBeCloseTo(goodput, 2);
    expect(r.opsDropped).toBe(0);
  });

  it.each(ALL_PATHS.filter((p) => !p.startsWith('emulated')))('%s: reaches 10 GbE line rate both ways with the default offloads', (path) => {
    const tx = runPath(path, BULK);
    const rx = runPath(path, { ...BULK, kind: 'net-rx' });
    expect(gbps(tx)).toBeGreaterThan(9.3);
    expect(gbps(rx)).toBeGreaterThan(9.3);
  });

  it('at 100 GbE the guest vCPU limits TSO paths; OVS-DPDK without TSO makes the guest cut frames and carries far less', () => {
    const fast = { 'nic.line_rate_gbps': 100 };
    const kernel = runPath('vhost-kernel', BULK, fast);
    const user = runPath('vhost-user', BULK, fast);
    const userTso = runPath('vhost-user', BULK, { ...fast, 'dpdk.tso': true });
    expect(busiest(kernel).thread).toBe('vm0/vcpu0');
    expect(gbps(kernel)).toBeGreaterThan(35);
    expect(gbps(user)).toBeLessThan(0.6 * gbps(kernel));
    expect(gbps(userTso)).toBeGreaterThan(0.9 * gbps(kernel));
  });

  it('without guest TSO the back end handles every frame: vhost-kernel falls by more than 3x and its worker becomes the busiest host thread', () => {
    const fast = { 'nic.line_rate_gbps': 100 };
    const on = runPath('vhost-kernel', BULK, fast);
    const off = runPath('vhost-kernel', BULK, { ...fast, 'guest.tso': false });
    expect(gbps(off)).toBeLessThan(gbps(on) / 3);
    const hostThreads = off.cpu.filter((c) => !c.thread.includes('vcpu'));
    const top = hostThreads.sort((a, b) => b.busyFraction - a.busyFraction)[0]!;
    expect(top.thread).toBe('vm0/vhost0');
  });

  it('per byte and per packet: slower copies slow QEMU per byte; larger writes save syscalls only', () => {
    const fast = { 'nic.line_rate_gbps': 100, 'peer.location': 'host' };
    const base = runPath('virtio-qemu', BULK, fast);
    expect(busiest(base).thread).toBe('vm0/qemu-main');
    const slowCopy = runPath('virtio-qemu', BULK, { ...fast, 'host.memcpy_gbps': 5 });
    expect(gbps(slowCopy)).toBeLessThan(0.75 * gbps(base));
    const bigWrites = runPath('virtio-qemu', { ...BULK, message_bytes: 1048576 }, fast);
    expect(Math.abs(gbps(bigWrites) / gbps(base) - 1)).toBeLessThan(0.05); // the back end limits, not the writes
  });

  it('the stream is window-limited: no drops at the 10 GbE bottleneck, latency about window / throughput', () => {
    const r = runPath('vhost-kernel', { ...BULK, window_bytes: 1048576 });
    expect(r.opsDropped).toBe(0);
    const windowS = 1048576 / ((gbps(r) * 1e9) / 8);
    expect(r.latency.quantile(0.5) / 1e12).toBeGreaterThan(0.5 * windowS);
    expect(r.latency.quantile(0.5) / 1e12).toBeLessThan(1.5 * windowS);
  });

  it('bad combinations are refused, naming the field', () => {
    expect(() => runPath('vhost-kernel', { kind: 'net-tx', message_bytes: 1000, size_bytes: 64 })).toThrow(/size_bytes/);
    expect(() => runPath('vhost-kernel', { kind: 'net-tx', mtu_bytes: 9000 })).toThrow(/mtu_bytes/);
    expect(() => runPath('vhost-user', { kind: 'net-pvp', message_bytes: 1000 })).toThrow();
    expect(() => runPath('vhost-user', { kind: 'net-pvp', window_bytes: 65536 })).toThrow(/window_bytes/);
  });
});
