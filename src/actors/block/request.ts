/**
 * One block I/O as every layer sees it: the guest application's request (fio's io_u),
 * the guest block layer's request (blk-mq), the virtio or NVMe command, the back end's
 * and the host block layer's I/O, and the storage device's command. One object travels
 * the whole path (no copies per layer), carrying its stage stamps (TrackedOp) and, at
 * the end, its status. Requests are recycled by the run's ledger.
 */
import { AS_DOUBLE } from '../../core/time.js';
import type { TrackedOp } from '../../primitives/stage-tracker.js';

/** Sector size of every block address [bytes]. */
export const SECTOR_BYTES = 512;

/** Completion status (virtio-blk VIRTIO_BLK_S_*, NVMe status code collapsed to ok/error). */
export const STATUS_PENDING = -1;
export const STATUS_OK = 0;
/**
 * An I/O error caused by a timeline fault (a vhost-user back end that died with the
 * request, an NVMe command failed after its retries): the ledger counts it failed and the
 * timeline recorder counts it lost (ops_lost), not dropped.
 */
export const STATUS_FAULT = 3;

/** Ends req (its merged requests with it) with an I/O error caused by a fault. */
export function failByFault(req: BlkRequest): void {
  req.status = STATUS_FAULT;
  const m = req.merged;
  for (let i = 0; i < m.length; i++) m[i]!.status = STATUS_FAULT;
  const bm = req.backendMerged;
  for (let i = 0; i < bm.length; i++) failByFault(bm[i]!);
}

/** A host-side submitter of block I/O: told when the host block layer completes one. */
export interface HostBlockClient {
  hostDone(req: BlkRequest): void;
}

export class BlkRequest implements TrackedOp {
  /** Op id (ledger), unique in the run. */
  id = 0;
  /** VM index (0 on bare metal) and fio job index within the VM. */
  vm = 0;
  job = 0;
  isWrite = false;
  /** First sector (512-byte units) and length [bytes]. */
  sector = AS_DOUBLE;
  bytes = 0;
  /** When the application issued it [ps]. */
  issuedPs = AS_DOUBLE;
  /** When the application's submitting call returned [ps] (fio's slat ends, clat starts); -1 before. */
  submittedPs = AS_DOUBLE;
  /** TrackedOp: last stage boundary [ps], and the tracker's record. */
  stampPs = AS_DOUBLE;
  slot = -1;
  /** STATUS_* once completed; STATUS_PENDING before. */
  status = STATUS_PENDING;
  /** blk-mq hardware queue (and with it the virtqueue or NVMe queue pair) it went to. */
  hwq = 0;
  /**
   * Requests merged into this one by the guest's plug (adjacent sectors): they are
   * served as part of it and complete with it, each once, with its status.
   */
  merged: BlkRequest[] = [];
  /**
   * Requests a back end merged into this one (QEMU's virtio_blk_submit_multireq): one host
   * I/O serves them all; each still completes to the guest on its own.
   */
  backendMerged: BlkRequest[] = [];
  /** Who hears of the host block layer's completion (a QEMU aio engine, a pool worker, LIO). */
  hostClient: HostBlockClient | null = null;
  /** Host-side sub-requests still outstanding (a request split into device commands). */
  pendingParts = 0;
  /** Ring slots its descriptors take (the back end returns them with the used entry). */
  ringSlots = 0;
  /** Scratch for the layer above the device that holds the request (a pool worker's index). */
  tag = 0;
  /** NVMe queue pair the SSD serves it on (the device's own bookkeeping). */
  deviceQueue = 0;

  /** Bytes the request moves, merged requests included. */
  get totalBytes(): number {
    let b = this.bytes;
    const m = this.merged;
    for (let i = 0; i < m.length; i++) b += m[i]!.bytes;
    const bm = this.backendMerged;
    for (let i = 0; i < bm.length; i++) b += bm[i]!.totalBytes;
    return b;
  }

  /** Resets a recycled request for a new op. */
  reset(id: number): void {
    this.id = id;
    this.status = STATUS_PENDING;
    this.slot = -1;
    // (setting an array's length is a runtime call: only when there is something to clear)
    if (this.merged.length !== 0) this.merged.length = 0;
    if (this.backendMerged.length !== 0) this.backendMerged.length = 0;
    this.hostClient = null;
    this.pendingParts = 0;
    this.tag = 0;
    this.hwq = 0;
  }
}
