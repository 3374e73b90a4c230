/**
 * RamDisk (Linux brd): the inline CPU cost of a request is the per-bio cost plus one copy
 * per 4 KiB disk page its byte range touches (partial copies at unaligned ends), and the
 * statistics count what was served.
 */
import { describe, expect, it } from 'vitest';
import { RAM_DISK_PAGE_BYTES, RamDisk, ramDiskCostsOf } from '../../../src/actors/block/ram-disk.js';
import { BlkRequest, STATUS_OK, STATUS_PENDING } from '../../../src/actors/block/request.js';
import { ParamRegistry } from '../../../src/calibration/param.js';
import { STORAGE_PARAMS } from '../../../src/calibration/storage.js';
import { ns } from '../../../src/core/time.js';

/** A host copy cost: 20 ns per call plus 100 ps per byte (10 GB/s). */
const copyPs = (bytes: number): number => ns(20) + bytes * 100;
const perIoPs = ns(300);

function request(sector: number, bytes: number, isWrite = false): BlkRequest {
  const r = new BlkRequest();
  r.reset(1);
  r.sector = sector;
  r.bytes = bytes;
  r.isWrite = isWrite;
  return r;
}

describe('RamDisk', () => {
  it('is synchronous: it has no queue, only the submitter\'s CPU time', () => {
    const disk = new RamDisk('ram0', { perIoPs, copyPs });
    expect(disk.isSynchronous).toBe(true);
  });

  it('an aligned 4 KiB request costs the bio plus one page copy', () => {
    const disk = new RamDisk('ram0', { perIoPs, copyPs });
    expect(disk.serviceCostPs(request(8, 4096))).toBe(perIoPs + copyPs(4096));
  });

  it('an aligned 128 KiB request copies 32 pages, one call each', () => {
    const disk = new RamDisk('ram0', { perIoPs, copyPs });
    expect(disk.serviceCostPs(request(256, 131072, true))).toBe(perIoPs + 32 * copyPs(4096));
  });

  it('an unaligned request copies the partial pages at its ends separately', () => {
    const disk = new RamDisk('ram0', { perIoPs, copyPs });
    // 4 KiB from sector 1: 3,584 B of page 0 and 512 B of page 1
    expect(disk.serviceCostPs(request(1, 4096))).toBe(perIoPs + copyPs(3584) + copyPs(512));
    // 512 B inside one page: one small copy
    expect(disk.serviceCostPs(request(3, 512))).toBe(perIoPs + copyPs(512));
    // 12 KiB from sector 4: 2 KiB, two whole pages, 2 KiB
    expect(disk.serviceCostPs(request(4, 12288))).toBe(perIoPs + 2 * copyPs(2048) + 2 * copyPs(4096));
  });

  it('merged requests are served with the one that carries them', () => {
    const disk = new RamDisk('ram0', { perIoPs, copyPs });
    const head = request(0, 4096);
    head.merged.push(request(8, 4096), request(16, 4096));
    expect(disk.serviceCostPs(head)).toBe(perIoPs + 3 * copyPs(4096));
  });

  it('marks the request complete and counts what it served; resetStats opens a new window', () => {
    const disk = new RamDisk('ram0', { perIoPs, copyPs });
    const reqs = [request(0, 4096), request(8, 8192, true), request(1, 4096)];
    expect(reqs[0]!.status).toBe(STATUS_PENDING);
    let total = 0;
    for (const r of reqs) total += disk.serviceCostPs(r);
    for (const r of reqs) expect(r.status).toBe(STATUS_OK);
    expect(disk.stats()).toEqual({
      commands: 3, reads: 2, writes: 1, readBytes: 8192, writeBytes: 8192, copies: 1 + 2 + 2, busyPs: total,
    });
    disk.resetStats();
    expect(disk.stats()).toEqual({ commands: 0, reads: 0, writes: 0, readBytes: 0, writeBytes: 0, copies: 0, busyPs: 0 });
  });

  it('takes ramdisk.per_io_ns from the parameters and the copy cost from the host', () => {
    const p = new ParamRegistry(STORAGE_PARAMS).resolve({ 'ramdisk.per_io_ns': 450 });
    const costs = ramDiskCostsOf(p, copyPs);
    expect(costs.perIoPs).toBe(ns(450));
    const disk = new RamDisk('ram0', costs);
    expect(disk.serviceCostPs(request(0, RAM_DISK_PAGE_BYTES))).toBe(ns(450) + copyPs(4096));
  });
});
