/**
 * A RAM disk (Linux brd, drivers/block/brd.c): no queues, no interrupts and no
 * parallelism of its own. brd_submit_bio runs in the submitting context and copies the
 * data between the bio's pages and the disk's pages, one 4 KiB page at a time
 * (copy_to_brd / copy_from_brd), then ends the bio: the request completes synchronously,
 * and its whole cost is CPU time of the submitting thread, which the caller charges.
 *
 * Cost of one request: a fixed per-bio part (segment walk, page lookups, bio_endio), plus
 * one copy per disk page the byte range touches, each priced by the host's copy cost
 * (bandwidth and fixed part per call: host.memcpy_gbps, host.copy_fixed_ns).
 */
import { num, type ParamValues } from '../../calibration/param.js';
import { AS_DOUBLE } from '../../core/time.js';
import { SECTOR_BYTES, STATUS_OK, type BlkRequest } from './request.js';

/** brd stores the disk in pages of this size (PAGE_SIZE) [bytes]. */
export const RAM_DISK_PAGE_BYTES = 4096;

export interface RamDiskCosts {
  /** Driver time per bio, copies excluded [ps]. */
  perIoPs: number;
  /** CPU time to copy `bytes` in one call [ps] (the host's memcpy cost). */
  copyPs: (bytes: number) => number;
}

/** The RAM disk's costs from ramdisk.per_io_ns and the host's copy cost. */
export function ramDiskCostsOf(p: ParamValues, copyPs: (bytes: number) => number): RamDiskCosts {
  return { perIoPs: Math.round(num(p, 'ramdisk.per_io_ns') * 1000), copyPs };
}

/** RamDisk.stats(): counts, bytes, page copies and CPU time charged [ps] (also a Record<string, number>). */
export type RamDiskStats = {
  commands: number;
  reads: number;
  writes: number;
  readBytes: number;
  writeBytes: number;
  copies: number;
  busyPs: number;
};

export class RamDisk {
  /** The request is served inline by the submitting thread; it completes when that CPU time ends. */
  readonly isSynchronous = true;
  /** Served inline by the submitting thread: nothing is ever left to drain. */
  readonly outstandingCommands = 0;
  readonly name: string;
  private readonly perIoPs: number;
  private readonly copyPs: (bytes: number) => number;
  /** copyPs of a whole page, asked once. */
  private readonly pageCopyPs: number;

  // Statistics since the last resetStats().
  private commands = 0;
  private reads = 0;
  private writes = 0;
  private readBytes = AS_DOUBLE;
  private writeBytes = AS_DOUBLE;
  private copies = 0;
  private busyPs = AS_DOUBLE;

  constructor(name: string, costs: RamDiskCosts) {
    if (!(costs.perIoPs >= 0)) throw new RangeError(`${name}: perIoPs must be >= 0, got ${costs.perIoPs}`);
    this.name = name;
    this.perIoPs = costs.perIoPs;
    this.copyPs = costs.copyPs;
    this.pageCopyPs = costs.copyPs(RAM_DISK_PAGE_BYTES);
    this.resetStats();
  }

  /**
   * CPU time the submitting thread spends serving this request inline [ps]: the per-bio
   * cost plus one copy per disk page of its byte range (a partial copy for a first or
   * last page the range only overlaps). Counts the request and marks it complete (OK).
   */
  serviceCostPs(req: BlkRequest): number {
    const bytes = req.totalBytes;
    let costPs = this.perIoPs;
    if (bytes > 0) {
      const startByte = req.sector * SECTOR_BYTES;
      const endByte = startByte + bytes;
      const firstPage = Math.floor(startByte / RAM_DISK_PAGE_BYTES);
      const lastPage = Math.floor((endByte - 1) / RAM_DISK_PAGE_BYTES);
      const headBytes = Math.min(endByte, (firstPage + 1) * RAM_DISK_PAGE_BYTES) - startByte;
      if (firstPage === lastPage) {
        costPs += headBytes === RAM_DISK_PAGE_BYTES ? this.pageCopyPs : this.copyPs(headBytes);
      } else {
        const tailBytes = endByte - lastPage * RAM_DISK_PAGE_BYTES;
        costPs += headBytes === RAM_DISK_PAGE_BYTES ? this.pageCopyPs : this.copyPs(headBytes);
        costPs += (lastPage - firstPage - 1) * this.pageCopyPs;
        costPs += tailBytes === RAM_DISK_PAGE_BYTES ? this.pageCopyPs : this.copyPs(tailBytes);
      }
      this.copies += lastPage - firstPage + 1;
    }
    this.commands++;
    if (req.isWrite) {
      this.writes++;
      this.writeBytes += bytes;
    } else {
      this.reads++;
      this.readBytes += bytes;
    }
    this.busyPs += costPs;
    req.status = STATUS_OK;
    return costPs;
  }

  /** Counts and bytes since resetStats(), the page copies made and the CPU time charged [ps]. */
  stats(): RamDiskStats {
    return {
      commands: this.commands,
      reads: this.reads,
      writes: this.writes,
      readBytes: this.readBytes,
      writeBytes: this.writeBytes,
      copies: this.copies,
      busyPs: this.busyPs,
    };
  }

  /** Starts a new measurement window. */
  resetStats(): void {
    this.commands = this.reads = this.writes = 0;
    this.readBytes = this.writeBytes = 0;
    this.copies = 0;
    this.busyPs = 0;
  }
}
