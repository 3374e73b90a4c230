/**
 * Where block paths saturate, and the queueing laws their runs must keep: IOPS stop at
 * the SSD's ceiling on paths fast enough to reach it, and at a host core (the one that
 * cpu.csv shows busy) on the others; a closed loop keeps Little's law; one VM's load on a
 * shared SR-IOV controller slows the others.
 */
import { describe, expect, it } from 'vitest';
import { cpuOf, iops, meanUs, runBlk, SLOW_SSD } from './helpers.js';

describe('block saturation: the SSD or a host core', () => {
  it('with a 96k-IOPS SSD, bare metal, vhost-kernel and vhost-user stop at the device with no thread saturated', () => {
    const ceiling = 1e12 / (SLOW_SSD['ssd.controller_ns'] * 1000); // one controller core: 96,154 IOPS
    for (const p of ['bare-metal', 'vhost-kernel', 'vhost-user']) {
      const r = runBlk(p, { iodepth: 128, ops: 30000, warmup_ops: 3000 }, SLOW_SSD);
      expect(iops(r) / ceiling, p).toBeGreaterThan(0.97);
      expect(iops(r) / ceiling, p).toBeLessThan(1.01);
      expect(r.details.extra['disk.controllerBusy'], p).toBeGreaterThan(0.97);
      // nothing on the host is the limit: no thread works (busy less polling) 90% of the time
      for (const c of r.cpu) expect(c.busyFraction - c.pollFraction, `${p} ${c.thread}`).toBeLessThan(0.9);
    }
  });

  it('with the default SSD (637k IOPS), one vCPU doing fio is the limit on bare metal and vhost-user', () => {
    for (const [p, thread] of [['bare-metal', 'host/cpu0'], ['vhost-user', 'vm0/vcpu0']] as const) {
      const r = runBlk(p, { iodepth: 128, ops: 40000, warmup_ops: 4000 });
      expect(cpuOf(r, thread).busyFraction, p).toBeGreaterThan(0.97);
      expect(iops(r), p).toBeLessThan(400_000); // far below the device
      expect(r.details.extra['disk.controllerBusy'], p).toBeLessThan(0.6);
    }
  });

  it('emulated IDE has one command in flight: its IOPS are 1 / latency whatever the depth', () => {
    const r = runBlk('emulated', { iodepth: 16, ops: 4000 });
    const one = runBlk('emulated', { iodepth: 1, ops: 4000 });
    expect(iops(r) / iops(one)).toBeGreaterThan(0.95);
    expect(iops(r) / iops(one)).toBeLessThan(1.1);
    expect(r.details.extra['vm0/blk.tag_waits']).toBeGreaterThan(0);
  });
});

describe('block queueing laws', () => {
  it("closed loop: IOPS x mean latency = I/Os in flight (Little's law) on every path", () => {
    for (const p of ['bare-metal', 'passthrough', 'vhost-user', 'vhost-kernel', 'virtio-qemu']) {
      for (const depth of [1, 8]) {
        const r = runBlk(p, { iodepth: depth, numjobs: 2, ops: 20000, warmup_ops: 2000 }, { 'vm.vcpus': 2 });
        const inFlight = iops(r) * (meanUs(r) / 1e6);
        expect(inFlight / (2 * depth), `${p} depth ${depth}`).toBeGreaterThan(0.97);
        expect(inFlight / (2 * depth), `${p} depth ${depth}`).toBeLessThan(1.03);
      }
    }
  });

  it('IOPS grow with depth while the dies have room: bare metal at depth 4 is about four times depth 1', () => {
    const one = runBlk('bare-metal', { iodepth: 1, ops: 10000 });
    const four = runBlk('bare-metal', { iodepth: 4, ops: 20000 });
    expect(iops(four) / iops(one)).toBeGreaterThan(3.5);
    expect(iops(four) / iops(one)).toBeLessThan(4.05);
  });

  it('depth-1 latency orders the paths as their mechanisms do', () => {
    const lat = Object.fromEntries(
      ['bare-metal', 'passthrough', 'sriov', 'vhost-user', 'vhost-kernel', 'virtio-qemu', 'emulated', 'emulated-vmm'].map((p) => [p, meanUs(runBlk(p, {}, { 'qemu.aio': 'native' }))]),
    );
    expect(lat['passthrough']! / lat['bare-metal']!).toBeLessThan(1.03);
    expect(lat['sriov']! / lat['passthrough']!).toBeCloseTo(1, 2);
    expect(lat['vhost-user']!).toBeLessThan(lat['vhost-kernel']!);
    expect(lat['vhost-kernel']!).toBeLessThan(lat['virtio-qemu']!);
    expect(lat['virtio-qemu']!).toBeLessThan(lat['emulated']!);
    expect(lat['emulated-vmm']!).toBeLessThan(lat['emulated']!);
  });

  it('SR-IOV: two VMs on one 96k-IOPS controller share its ceiling', () => {
    const r = runBlk('sriov', { iodepth: 64, ops: 30000, warmup_ops: 3000 }, { ...SLOW_SSD, 'host.vms': 2 });
    const ceiling = 1e12 / (SLOW_SSD['ssd.controller_ns'] * 1000);
    expect(iops(r) / ceiling).toBeGreaterThan(0.97);
    const [a, b] = r.details.perVm.map((v) => v.opsCompleted);
    expect(a! / (a! + b!)).toBeGreaterThan(0.45);
    expect(a! / (a! + b!)).toBeLessThan(0.55);
  });
});
