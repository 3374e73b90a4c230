/**
 * Round-trip latency of 64-byte net-rr with one outstanding transaction: the ordering
 * the literature agrees on (calibration.md s9 item 3) and the published ranges
 * (calibration.md s10 validation targets). Nothing here is a constant per path: the
 * numbers come from the actors' steps, exits, wake-ups and copies.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { NetRunResult } from '../../../src/paths/net/support/net-run.js';
import { ALL_PATHS, p50Us, runPath } from './helpers.js';

const RR = { kind: 'net-rr', size_bytes: 64, outstanding: 1, ops: 20_000, warmup_ops: 2_000 };

describe('net-rr 64 B, one outstanding request', () => {
  const r: Record<string, NetRunResult> = {};
  beforeAll(() => {
    for (const p of ALL_PATHS) r[p] = runPath(p, RR);
  });

  it('p50 ordering: bare-metal < passthrough <= sriov < vhost-user < vhost-kernel < virtio-qemu < emulated', () => {
    const p50 = (p: string) => p50Us(r[p]!);
    expect(p50('bare-metal')).toBeLessThan(p50('passthrough'));
    expect(p50('passthrough')).toBeLessThanOrEqual(p50('sriov'));
    expect(p50('sriov')).toBeLessThan(p50('vhost-user'));
    expect(p50('vhost-user')).toBeLessThan(p50('vhost-kernel'));
    expect(p50('vhost-kernel')).toBeLessThan(p50('virtio-qemu'));
    expect(p50('virtio-qemu')).toBeLessThan(p50('emulated'));
    expect(p50('emulated-vmm')).toBeLessThan(p50('emulated'));
  });

  it('vhost-kernel lands in the guest TCP_RR range with halt polling (27-35 us, "KVM: dynamic halt-polling")', () => {
    const v = p50Us(r['vhost-kernel']!);
    expect(v).toBeGreaterThanOrEqual(27);
    expect(v).toBeLessThanOrEqual(35);
  });

  it('virtio-qemu lies above vhost-kernel and within the 2013-era virtio-net TCP_RR figure (<= 77.3 us, Tsirkin 2013)', () => {
    const v = p50Us(r['virtio-qemu']!);
    expect(v).toBeGreaterThan(35);
    expect(v).toBeLessThanOrEqual(77.3);
  });

  it('passthrough with posted interrupts reaches >= 97% of bare-metal transaction rate (ELI)', () => {
    expect(p50Us(r['bare-metal']!) / p50Us(r['passthrough']!)).toBeGreaterThanOrEqual(0.97);
  });

  it('every path completes every transaction once, with no drops', () => {
    for (const p of ALL_PATHS) {
      const d = r[p]!.details;
      expect(r[p]!.opsCompleted, p).toBe(RR.ops);
      expect(r[p]!.opsDropped, p).toBe(0);
      expect(d.duplicateCompletions, p).toBe(0);
      expect(d.violations, p).toEqual([]);
    }
  });
});
