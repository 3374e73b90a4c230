/**
 * Per-packet structure at low load, io-paths.md s11.2: exits, copies (invariant 9),
 * syscalls, kicks and polling, for 64-byte net-rr with one outstanding transaction
 * (each op is one transmitted and one received frame).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { NetRunResult } from '../../../src/paths/net/support/net-run.js';
import { ALL_PATHS, cpuOf, exitsOf, perOp, runPath } from './helpers.js';

const RR = { kind: 'net-rr', size_bytes: 64, outstanding: 1, ops: 5_000, warmup_ops: 500 };
const FRAME_COPY = 64 - 4; // frame without its FCS
const VIRTIO_HDR = 12;

describe('structure per packet at low load (io-paths.md s11.2)', () => {
  const r: Record<string, NetRunResult> = {};
  beforeAll(() => {
    for (const p of ALL_PATHS) r[p] = runPath(p, RR);
  });

  it('no I/O exits for bare metal, passthrough and SR-IOV with posted interrupts, and vhost-user', () => {
    for (const p of ['bare-metal', 'passthrough', 'sriov']) expect(perOp(r[p]!, r[p]!.counters.exits), p).toBe(0);
    // vhost-user keeps kicks off; a frozen avail_event lets one through per 65,536 buffers
    expect(perOp(r['vhost-user']!, r['vhost-user']!.counters.exits)).toBeLessThan(0.001);
    expect(perOp(r['vhost-user']!, r['vhost-user']!.counters.kicks)).toBeLessThan(0.001);
  });

  it('HLT and timer exits are recorded by reason but not counted as I/O exits', () => {
    const pt = r['passthrough']!;
    expect(exitsOf(pt, 'hlt')).toBeGreaterThan(0.9);
    expect(exitsOf(pt, 'timer')).toBeGreaterThan(0.9);
    expect(pt.counters.exits).toBe(0);
  });

  it('virtio kick exits: one light ioeventfd exit per transmitted frame for vhost-kernel and virtio-qemu', () => {
    for (const p of ['vhost-kernel', 'virtio-qemu']) {
      expect(exitsOf(r[p]!, 'mmio-ioeventfd'), p).toBeCloseTo(1, 2);
      expect(perOp(r[p]!, r[p]!.counters.exits), p).toBeCloseTo(1, 2);
    }
  });

  it('full emulation: a heavy exit per TDT write plus ~5 per interrupt and one per RDT write', () => {
    const e = r['emulated']!;
    expect(exitsOf(e, 'mmio-e1000-tdt')).toBeCloseTo(1, 2);
    expect(exitsOf(e, 'mmio-e1000-rdt')).toBeCloseTo(1, 2);
    const interrupts = exitsOf(e, 'mmio-e1000-icr');
    expect(interrupts).toBeGreaterThan(1);
    const perIrq = (exitsOf(e, 'mmio-e1000-icr') + exitsOf(e, 'mmio-e1000-imc') + exitsOf(e, 'mmio-e1000-ims') + exitsOf(e, 'mmio-e1000-status')) / interrupts;
    expect(perIrq).toBeCloseTo(5, 1);
    expect(exitsOf(e, 'ioapic-eoi')).toBeCloseTo(interrupts, 2); // level-triggered EOI
  });

  it('host payload copies per packet follow invariant 9 (A 2/2, B 1/2, C 1/1, D 1/1, E/F/G 0/0)', () => {
    const expected: Record<string, [number, number]> = {
      'bare-metal': [0, 0], passthrough: [0, 0], sriov: [0, 0],
      'vhost-user': [2, VIRTIO_HDR], 'vhost-kernel': [2, VIRTIO_HDR], 'virtio-qemu': [3, VIRTIO_HDR],
      emulated: [4, 0], 'emulated-vmm': [2, 0],
    };
    for (const p of ALL_PATHS) {
      const [copies, hdr] = expected[p]!;
      expect(perOp(r[p]!, r[p]!.counters.copies), p).toBeCloseTo(copies, 6);
      expect(perOp(r[p]!, r[p]!.counters.copyBytes), p).toBeCloseTo(copies * (FRAME_COPY + hdr), 6);
    }
  });

  it('host syscalls: none for vhost-kernel, eventfd calls only for vhost-user, writev + read + MSI ioctls for virtio-qemu', () => {
    expect(r['vhost-kernel']!.counters.syscalls).toBe(0);
    expect(r['emulated-vmm']!.counters.syscalls).toBe(0);
    const vu = perOp(r['vhost-user']!, r['vhost-user']!.counters.syscalls);
    expect(vu).toBeGreaterThan(0);
    expect(vu).toBeLessThanOrEqual(2); // <= 1 eventfd write per signalled burst, one burst each way
    const q = perOp(r['virtio-qemu']!, r['virtio-qemu']!.counters.syscalls);
    expect(q).toBeGreaterThanOrEqual(2);
    expect(q).toBeLessThanOrEqual(4);
  });

  it('host wake-ups: none for polling vhost-user and the assigned paths; the back end wakes per packet otherwise', () => {
    for (const p of ['vhost-user', 'passthrough', 'sriov']) expect(r[p]!.counters.wakeups, p).toBe(0);
    expect(perOp(r['vhost-kernel']!, r['vhost-kernel']!.counters.wakeups)).toBeGreaterThanOrEqual(2);
  });

  it('the vhost-user PMD thread is busy 100% of the time, at low load and at saturation', () => {
    expect(cpuOf(r['vhost-user']!, 'dpdk/pmd0').busyFraction).toBeCloseTo(1, 3);
    expect(cpuOf(r['vhost-user']!, 'dpdk/pmd0').pollFraction).toBeGreaterThan(0.9);
    const sat = runPath('vhost-user', { kind: 'net-tx', size_bytes: 64, ops: 50_000, warmup_ops: 5_000, guest_stack_ns: 0 }, { 'guest.virtio_xmit_ns': 50 });
    expect(cpuOf(sat, 'dpdk/pmd0').busyFraction).toBeCloseTo(1, 3);
    expect(cpuOf(sat, 'dpdk/pmd0').pollFraction).toBeLessThan(0.05);
  });
});

describe('knobs change the exit structure', () => {
  it('virtio.ioeventfd=false turns each kick into a heavy exit into QEMU', () => {
    const r = runPath('virtio-qemu', RR, { 'virtio.ioeventfd': false });
    expect(exitsOf(r, 'mmio-notify')).toBeCloseTo(1, 2);
    expect(exitsOf(r, 'mmio-ioeventfd')).toBe(0);
  });

  it('without APICv every guest interrupt costs an EOI exit, and an external-interrupt exit when the vCPU runs', () => {
    const r = runPath('vhost-kernel', RR, { 'kvm.apicv': false });
    const irqs = perOp(r, r.details.extra['guest.interrupts_taken']!);
    expect(irqs).toBeGreaterThan(1.5);
    expect(exitsOf(r, 'eoi')).toBeCloseTo(irqs, 2);
    expect(exitsOf(r, 'external-interrupt')).toBeLessThanOrEqual(irqs);
    const busy = runPath('vhost-kernel', { kind: 'net-tx', ops: 20_000, warmup_ops: 2_000 }, { 'kvm.apicv': false });
    expect(busy.counters.exitsByReason.get('external-interrupt') ?? 0).toBeGreaterThan(0);
  });

  it('passthrough without VT-d posted interrupts takes host interrupts that exit a running vCPU (I5)', () => {
    const w = { kind: 'net-tx', ops: 20_000, warmup_ops: 2_000 };
    expect(runPath('passthrough', w).counters.exits).toBe(0);
    expect(runPath('passthrough', w, { 'kvm.vtd_pi': false }).counters.exits).toBeGreaterThan(0);
  });

  it('a legacy (0.95) driver notifies by port I/O', () => {
    const r = runPath('vhost-kernel', RR, { 'virtio.version': '0.95' });
    expect(exitsOf(r, 'pio-ioeventfd')).toBeCloseTo(1, 2);
  });
});
