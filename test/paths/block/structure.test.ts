/**
 * Per-I/O structure of every block path against io-paths.md s11.2's block table: exits,
 * payload copies, host syscalls and guest interrupts per request, at depth 1 (one I/O at
 * a time, so nothing is amortized over a batch) and at depth 32 (batching lowers them).
 */
import { describe, expect, it } from 'vitest';
import { ALL_PATHS, cpuOf, exitsOf, perIo, runBlk } from './helpers.js';

describe('block paths: per-I/O structure at depth 1 (io-paths.md s11.2)', () => {
  const runs = Object.fromEntries(ALL_PATHS.map((p) => [p, runBlk(p, {}, { 'qemu.aio': 'native' })]));

  it('exits: IDE 9 register writes + 4 ISR accesses + the level EOI; virtio one light exit; none elsewhere', () => {
    for (const p of ['emulated', 'emulated-vmm']) {
      expect(perIo(runs[p]!, runs[p]!.counters.exits)).toBeCloseTo(14, 2);
      expect(exitsOf(runs[p]!, 'pio-ide-taskfile')).toBeCloseTo(6, 3);
      expect(exitsOf(runs[p]!, 'ioapic-eoi')).toBeCloseTo(1, 3);
    }
    for (const p of ['virtio-qemu', 'vhost-kernel']) {
      expect(perIo(runs[p]!, runs[p]!.counters.exits)).toBeLessThanOrEqual(1.0001);
      expect(exitsOf(runs[p]!, 'mmio-ioeventfd')).toBeGreaterThan(0.99);
    }
    for (const p of ['bare-metal', 'passthrough', 'sriov', 'vhost-user']) expect(runs[p]!.counters.exits).toBe(0);
  });

  it('no payload copies on any path (O_DIRECT: the device DMAs into the guest pages)', () => {
    for (const p of ALL_PATHS) expect(runs[p]!.counters.copies).toBe(0);
  });

  it('host syscalls: none for vhost-scsi and assigned devices, one eventfd write for SPDK, three for QEMU with aio=native', () => {
    for (const p of ['bare-metal', 'passthrough', 'sriov', 'vhost-kernel', 'emulated-vmm']) expect(runs[p]!.counters.syscalls).toBe(0);
    expect(perIo(runs['vhost-user']!, runs['vhost-user']!.counters.syscalls)).toBeCloseTo(1, 2);
    // io_submit, the aio eventfd read, the MSI ioctl
    expect(perIo(runs['virtio-qemu']!, runs['virtio-qemu']!.counters.syscalls)).toBeCloseTo(3, 2);
    // io_submit, the eventfd read, KVM_IRQ_LINE
    expect(perIo(runs['emulated']!, runs['emulated']!.counters.syscalls)).toBeCloseTo(3, 2);
  });

  it('aio=threads adds the pool worker: futex wake, preadv and its eventfd write', () => {
    const r = runBlk('virtio-qemu', {}, { 'qemu.aio': 'threads' });
    expect(perIo(r, r.counters.syscalls)).toBeCloseTo(5, 2);
    expect(r.cpu.some((c) => c.thread.startsWith('vm0/qemu-aio/worker') && c.busyFraction > 0)).toBe(true);
  });

  it('one guest interrupt per I/O at depth 1; the host NVMe interrupt on paths through the host block layer', () => {
    for (const p of ALL_PATHS) {
      const r = runs[p]!;
      expect(perIo(r, r.details.extra['guest.interrupts_taken'] ?? NaN), p).toBeCloseTo(1, 2);
    }
    for (const p of ['vhost-kernel', 'virtio-qemu', 'emulated', 'emulated-vmm']) expect(perIo(runs[p]!, runs[p]!.counters.interrupts), p).toBeCloseTo(2, 2);
    for (const p of ['bare-metal', 'passthrough', 'sriov', 'vhost-user']) expect(perIo(runs[p]!, runs[p]!.counters.interrupts), p).toBeCloseTo(1, 2);
  });

  it('the SPDK reactor polls its core whole, busy or not', () => {
    const c = cpuOf(runs['vhost-user']!, 'vm0/spdk-reactor');
    expect(c.busyFraction).toBeGreaterThan(0.99);
    expect(c.pollFraction).toBeGreaterThan(0.8); // mostly empty polls at depth 1
  });
});

describe('block paths: batching at depth 32', () => {
  it('virtio kicks and interrupts per I/O fall below one as the back end and the driver batch', () => {
    for (const p of ['virtio-qemu', 'vhost-kernel']) {
      const r = runBlk(p, { iodepth: 32, ops: 20000, warmup_ops: 2000 }, { 'qemu.aio': 'native' });
      expect(perIo(r, r.counters.kicks), p).toBeLessThan(0.8);
      expect(perIo(r, r.details.extra['guest.interrupts_taken']!), p).toBeLessThan(0.8);
    }
  });

  it('an IOThread that polls takes kicks off with the NO_NOTIFY flag: fewer exits per I/O than the main loop', () => {
    // With EVENT_IDX, QEMU's "disable" writes avail_event = avail_idx
    // (virtio_queue_split_set_notification), so the first buffer after a poll begins still
    // kicks; without it, VRING_USED_F_NO_NOTIFY silences the guest for the whole window.
    const main = runBlk('virtio-qemu', { iodepth: 4, ops: 10000 }, { 'qemu.aio': 'native', 'virtio.event_idx': false });
    const iothread = runBlk('virtio-qemu', { iodepth: 4, ops: 10000 }, { 'qemu.aio': 'native', 'qemu.blk_iothread': true, 'virtio.event_idx': false });
    expect(perIo(iothread, iothread.counters.exits)).toBeLessThan(0.5 * perIo(main, main.counters.exits));
  });

  it('with ioeventfd off the kick is a heavy exit and the vCPU thread submits the I/O inside it', () => {
    const r = runBlk('virtio-qemu', {}, { 'qemu.aio': 'native', 'virtio.ioeventfd': false });
    expect(exitsOf(r, 'mmio-notify')).toBeCloseTo(1, 2);
    expect(exitsOf(r, 'mmio-ioeventfd')).toBe(0);
    // io_submit is made on the vCPU's thread: the main loop only reads the completion eventfd
    expect(perIo(r, r.counters.syscalls)).toBeCloseTo(3, 2);
  });
});
