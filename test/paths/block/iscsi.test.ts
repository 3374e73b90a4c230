/**
 * virtio-qemu with the iSCSI back end (blk.backend=iscsi, issue 14): the loopback hop and
 * the target show as stages on every I/O; exits, copies and syscalls per I/O follow
 * io-paths.md s11.2 (B: "iSCSI: 1 + target copies") and s9; at depth 1 the hop costs what
 * its parts add up to (calibration.md s7: one loopback TCP request/response plus the
 * target's work); at high depth QEMU's thread or the target's saturates first.
 */
import { describe, expect, it } from 'vitest';
import { params } from '../../../src/calibration/index.js';
import { InputError } from '../../../src/util/input-error.js';
import { cpuOf, iops, meanUs, perIo, runBlk } from './helpers.js';

const ISCSI = { 'blk.backend': 'iscsi', 'qemu.blk_iothread': true };
const HOP_STAGES = [
  'iscsi.initiator-send', 'loopback.to-target', 'iscsi.target-recv', 'host.io', 'iscsi.target-send', 'loopback.to-initiator', 'iscsi.initiator-recv',
];
/** A parameter's default [us]. */
const us = (name: string): number => (params.get(name)!.default as number) / 1000;
const copyUs = (bytes: number): number => us('host.copy_fixed_ns') + bytes / (params.get('host.memcpy_gbps')!.default as number) / 1000;

describe('virtio-qemu over iSCSI on localhost', () => {
  it('every I/O crosses the initiator, both loopback directions and the target, in order, and the stages tile the latency', () => {
    for (const target of ['lio', 'user', 'spdk']) {
      const r = runBlk('virtio-qemu', {}, { ...ISCSI, 'iscsi.target': target });
      const names = r.stages.map((s) => s.stage);
      const at = names.indexOf('backend.submit');
      expect(names.slice(at + 1, at + 1 + HOP_STAGES.length), target).toEqual(HOP_STAGES);
      for (const st of HOP_STAGES) expect(r.stages.find((s) => s.stage === st)!.visitsPerOp, `${target} ${st}`).toBeCloseTo(1, 6);
      const sumUs = r.stages.reduce((s, x) => s + x.visitsPerOp * (x.waitMeanNs + x.serviceMeanNs), 0) / 1000;
      expect(sumUs / meanUs(r), target).toBeCloseTo(1, 3);
      expect(r.details.backwardMarks).toBe(0);
      // the loopback hop is the sender's transmit and RX softirq: 2 x 2.8 + 2.0 us... per 1-segment PDU
      const loop = r.stages.find((s) => s.stage === 'loopback.to-target')!;
      expect(loop.serviceMeanNs / 1000).toBeCloseTo(us('loopback.tx_per_segment_ns') + us('loopback.rx_per_segment_ns'), 1);
    }
    const local = runBlk('virtio-qemu', {}, { 'qemu.blk_iothread': true });
    expect(local.stages.some((s) => s.stage.startsWith('iscsi.') || s.stage.startsWith('loopback.'))).toBe(false);
  });

  it('exits, copies, syscalls and TCP segments per 4 KiB read follow io-paths.md s11.2 and s9', () => {
    // initiator: send (1) + recv of the header and of the data (2); QEMU's irqfd write (1)
    const initiatorSyscalls = 3 + 1;
    const expected: Record<string, { copies: number; syscalls: number }> = {
      // LIO: kernel threads (no syscalls), Data-In by sendpage: the initiator's copy only
      lio: { copies: 1, syscalls: initiatorSyscalls },
      // tgtd: recv header, futex wake, pread, worker's eventfd write, event loop's eventfd read, send
      user: { copies: 2, syscalls: initiatorSyscalls + 6 },
      // SPDK: recv and writev on the reactor; its NVMe queue is polled
      spdk: { copies: 2, syscalls: initiatorSyscalls + 2 },
    };
    const local = runBlk('virtio-qemu', {}, { 'qemu.blk_iothread': true, 'qemu.aio': 'native' });
    for (const [target, e] of Object.entries(expected)) {
      const r = runBlk('virtio-qemu', {}, { ...ISCSI, 'iscsi.target': target });
      expect(perIo(r, r.counters.copies), target).toBeCloseTo(e.copies, 6);
      expect(perIo(r, r.counters.copyBytes), target).toBeCloseTo(e.copies * 4096, 3);
      expect(perIo(r, r.counters.syscalls), target).toBeCloseTo(e.syscalls, 6);
      // the command and the Data-In with its status: one segment each (MSS 65483)
      expect(perIo(r, r.counters.tcpSegments), target).toBeCloseTo(2, 6);
      // the guest side is the same as with a local file: at most one light exit per I/O
      expect(perIo(r, r.counters.exits), target).toBeCloseTo(perIo(local, local.counters.exits), 1);
      expect(perIo(r, r.counters.exits), target).toBeLessThanOrEqual(1.0001);
    }
    expect(perIo(local, local.counters.tcpSegments)).toBe(0);
    expect(perIo(local, local.counters.copies)).toBe(0);
  });

  it('at depth 1 the hop costs one loopback request/response plus the target work (closed form, within 5%)', () => {
    // Against aio=native with the same IOThread: both wake the IOThread for the completion,
    // both submit through the host block layer and take its interrupt, so the difference is
    // the iSCSI hop less the aio engine's own work. The IOThread does not poll with an iSCSI
    // fd in its AioContext, so the local run's polling is turned off too.
    const local = runBlk('virtio-qemu', { ops: 6000 }, { 'qemu.blk_iothread': true, 'qemu.aio': 'native', 'qemu.blk_poll_max_ns': 0 });
    const r = runBlk('virtio-qemu', { ops: 6000 }, { ...ISCSI, 'iscsi.target': 'lio' });
    const sys = us('host.syscall_ns');
    const loop = us('loopback.tx_per_segment_ns') + us('loopback.rx_per_segment_ns');
    const wake = us('host.wakeup_ns');
    const recvmsg = us('loopback.recv_per_read_ns');
    // one loopback TCP request/response: the command out (send + stack), the target's
    // thread woken and reading it; the Data-In back (stack), the initiator woken and reading
    // header and data (two recv) with the 4 KiB copy into the guest's buffer
    const requestResponseUs = sys + loop + wake + recvmsg + loop + wake + 2 * (sys + recvmsg) + copyUs(4096);
    // LIO: RX protocol + target core/iblock; the TX thread's wake-up and protocol; libiscsi's
    // command build, PDU handling and completion
    const targetUs = us('iscsi.lio_pdu_ns') + us('iscsi.lio_cmd_ns') + wake + us('iscsi.lio_pdu_ns');
    const initiatorUs = us('iscsi.initiator_cmd_ns') + us('iscsi.initiator_pdu_ns') + us('iscsi.initiator_complete_ns');
    // what aio=native does instead: io_submit (syscall + per iocb), the IOThread woken by the
    // aio eventfd (where iSCSI wakes it through the socket), eventfd read + per event
    const aioUs = sys + us('qemu.aio_per_req_ns') + wake + sys + us('qemu.aio_per_completion_ns');
    const expectedUs = requestResponseUs + targetUs + initiatorUs - aioUs;
    const hopUs = meanUs(r) - meanUs(local);
    console.log(
      `iSCSI hop at depth 1 (lio): ${hopUs.toFixed(2)} us measured, ${expectedUs.toFixed(2)} us closed form ` +
        `(request/response ${requestResponseUs.toFixed(2)} + target ${targetUs.toFixed(2)} + initiator ${initiatorUs.toFixed(2)} - aio ${aioUs.toFixed(2)})`,
    );
    expect(Math.abs(hopUs / expectedUs - 1)).toBeLessThan(0.05);
    // calibration.md s10 iscsi_loopback.per_io: 30 us, range 15-100 us
    expect(hopUs).toBeGreaterThan(15);
    expect(hopUs).toBeLessThan(100);
  });

  it('at high depth QEMU\'s thread or the target\'s saturates first, as cpu.csv shows', () => {
    // default set-up (main loop): QEMU's event loop does the initiator's sends and reads for every I/O
    for (const target of ['lio', 'user']) {
      const r = runBlk('virtio-qemu', { iodepth: 128, ops: 20000, warmup_ops: 2000 }, { 'blk.backend': 'iscsi', 'iscsi.target': target });
      const main = cpuOf(r, 'vm0/qemu-main').busyFraction;
      console.log(`depth 128 ${target}: ${Math.round(iops(r))} IOPS, vm0/qemu-main busy ${main.toFixed(3)}`);
      expect(main, target).toBeGreaterThan(0.9);
      for (const c of r.cpu) if (c.thread !== 'vm0/qemu-main') expect(c.busyFraction - c.pollFraction, `${target} ${c.thread}`).toBeLessThan(main);
      expect(r.details.extra['disk.controllerBusy']).toBeLessThan(0.5);
    }
    // a slower user-space target (3x the protocol work per PDU) is the one that saturates
    const slow = runBlk('virtio-qemu', { iodepth: 128, ops: 20000, warmup_ops: 2000 }, { ...ISCSI, 'iscsi.target': 'user', 'iscsi.user_pdu_ns': 6000 });
    console.log(`depth 128 slow tgtd: host/tgtd busy ${cpuOf(slow, 'host/tgtd').busyFraction.toFixed(3)}, iothread ${cpuOf(slow, 'vm0/iothread0').busyFraction.toFixed(3)}`);
    expect(cpuOf(slow, 'host/tgtd').busyFraction).toBeGreaterThan(0.97);
    expect(cpuOf(slow, 'vm0/iothread0').busyFraction).toBeLessThan(0.85);
  });

  it('the CmdSN window holds commands at the initiator beyond the target\'s queue depth', () => {
    const lio = runBlk('virtio-qemu', { iodepth: 128, ops: 8000 }, { ...ISCSI, 'iscsi.target': 'lio' });
    expect(lio.details.extra['iscsi.window_waits']).toBeGreaterThan(0);
    const wide = runBlk('virtio-qemu', { iodepth: 128, ops: 8000 }, { ...ISCSI, 'iscsi.target': 'lio', 'iscsi.cmd_window': 256 });
    expect(wide.details.extra['iscsi.window_waits']).toBe(0);
    // a window of 1 serialises the commands: IOPS fall to about 1 / (depth-1 latency of the hop and SSD)
    const one = runBlk('virtio-qemu', { iodepth: 16, ops: 3000 }, { ...ISCSI, 'iscsi.cmd_window': 1 });
    const d1 = runBlk('virtio-qemu', { iodepth: 1, ops: 3000 }, ISCSI);
    expect(iops(one) / iops(d1)).toBeLessThan(1.3);
  });

  it('writes: immediate data, then an R2T for the rest unless InitialR2T=No lets FirstBurstLength go unsolicited', () => {
    // 64 KiB to LIO: 8 KiB immediate (its MaxRecvDataSegmentLength), one R2T for 56 KiB,
    // 7 Data-Out of 8 KiB, the response: 1 + 1 + 7 + 1 segments
    // (a RAM disk behind LIO: 64 KiB random writes at depth 1 would be paced by the SSD's flash drain)
    const ram = { ...ISCSI, 'iscsi.target': 'lio', 'disk.kind': 'ram' };
    const r = runBlk('virtio-qemu', { rw: 'randwrite', bs: 65536, ops: 1000, warmup_ops: 100 }, ram);
    expect(r.details.extra['iscsi.r2ts']! / r.details.extra['iscsi.commands']!).toBeCloseTo(1, 6);
    expect(perIo(r, r.counters.tcpSegments)).toBeCloseTo(10, 6);
    // initiator: 8 PDUs out, copied from the guest; LIO copies each into its pages: 16 copies
    expect(perIo(r, r.counters.copies)).toBeCloseTo(16, 6);
    const unsolicited = runBlk('virtio-qemu', { rw: 'randwrite', bs: 65536, ops: 1000, warmup_ops: 100 }, { ...ram, 'iscsi.initial_r2t': false });
    expect(unsolicited.details.extra['iscsi.r2ts']).toBe(0);
    expect(perIo(unsolicited, unsolicited.counters.tcpSegments)).toBeCloseTo(9, 6);
    // one request/response less: the R2T's round trip
    expect(meanUs(r) - meanUs(unsolicited)).toBeGreaterThan(10);
    // a 4 KiB write fits in the immediate data: no R2T
    const small = runBlk('virtio-qemu', { rw: 'randwrite', ops: 1000, warmup_ops: 100 }, ISCSI);
    expect(small.details.extra['iscsi.r2ts']).toBe(0);
  });

  it('a large read comes back in Data-In PDUs of the initiator\'s MaxRecvDataSegmentLength, cut into MSS segments', () => {
    const r = runBlk('virtio-qemu', { bs: 1048576, ops: 500, warmup_ops: 50 }, ISCSI);
    // 4 Data-In of 256 KiB: 5 segments each (48 + 262144 over 65483), plus the command
    expect(perIo(r, r.counters.tcpSegments)).toBeCloseTo(1 + 4 * 5, 6);
    expect(perIo(r, r.counters.copies)).toBeCloseTo(4, 6);
  });

  it('vhost-kernel, vhost-user and the others refuse blk.backend=iscsi, naming it', () => {
    for (const path of ['vhost-kernel', 'vhost-user', 'bare-metal', 'emulated']) {
      expect(() => runBlk(path, {}, { 'blk.backend': 'iscsi' }), path).toThrow(InputError);
      expect(() => runBlk(path, {}, { 'blk.backend': 'iscsi' }), path).toThrow(/params\.blk\.backend/);
    }
    expect(() => runBlk('virtio-qemu', {}, { 'blk.backend': 'iscsi', 'iscsi.target': 'spdk', 'disk.kind': 'ram' })).toThrow(/params\.disk\.kind/);
  });
});
