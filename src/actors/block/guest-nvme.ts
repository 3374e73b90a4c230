/**
 * The NVMe driver (Linux drivers/nvme/host/pci.c) of a kernel that owns the controller's
 * queues: the bare-metal host's, or a guest's with the device (or an SR-IOV virtual
 * function) assigned through VFIO. One I/O queue pair per hardware queue; nvme_queue_rq
 * writes the submission entry (PRPs point at the data pages) and the SQ tail doorbell is
 * written once per plug batch (nvme_commit_rqs) as an MMIO write that goes straight to
 * the device (in a guest: no exit, the BAR is mapped). The interrupt handler (nvme_irq)
 * reaps the CQ and writes the CQ head doorbell. A polled queue (poll_queues, io_uring
 * IOPOLL) has no interrupt vector.
 */
import { Fifo } from '../../primitives/fifo.js';
import type { GuestVcpu, IrqVector } from '../host/guest-vcpu.js';
import type { BlkDriver } from './guest-blk-mq.js';
import type { BlkRequest } from './request.js';
import type { NvmeQueuePair, Ssd } from './ssd.js';

export interface NvmeDriverCosts {
  /** nvme_queue_rq: SQE set-up and PRP list per request [ps]. */
  queuePs: number;
  /** An MMIO doorbell write (posted) [ps]. */
  doorbellPs: number;
  /** Per CQE reaped: nvme_handle_cqe, the request's end is the block layer's [ps]. */
  reapPs: number;
}

export class GuestNvme implements BlkDriver {
  readonly queueCount: number;
  readonly maxRequestBytes = Infinity;
  onIrq: (hwq: number) => void = () => {};
  /** Requests queued since the last doorbell, per queue (a Fifo: no array length writes). */
  private readonly pending: Fifo<BlkRequest>[] = [];

  constructor(
    readonly name: string,
    private readonly ssd: Ssd,
    private readonly queues: NvmeQueuePair[],
    private readonly costs: NvmeDriverCosts,
    isPolled: boolean,
    /** Makes the MSI-X vector of a queue and returns how the device raises it. */
    makeVector: (hwq: number, handler: () => void) => { vector: IrqVector; raise: () => void },
  ) {
    this.queueCount = queues.length;
    for (let q = 0; q < queues.length; q++) {
      this.pending.push(new Fifo<BlkRequest>());
      if (isPolled) {
        queues[q]!.onInterrupt = null;
      } else {
        const { vector, raise } = makeVector(q, () => this.onIrq(q));
        queues[q]!.onInterrupt = raise;
      }
    }
  }

  depth(hwq: number): number {
    return this.queues[hwq]!.depth;
  }

  canQueue(): boolean {
    return true; // a tag is an SQ entry
  }

  queueCostPs(): number {
    return this.costs.queuePs;
  }

  queueRq(hwq: number, req: BlkRequest): void {
    this.pending[hwq]!.push(req);
  }

  commit<A>(vcpu: GuestVcpu, hwq: number, fn: (arg: A) => void, arg: A): void {
    // the doorbell write (posted): the device is told now, its CPU time goes to the next step
    vcpu.charge(this.costs.doorbellPs);
    const list = this.pending[hwq]!;
    const q = this.queues[hwq]!;
    while (list.length !== 0) this.ssd.submit(q, list.shift()!);
    fn(arg);
  }

  ack<A>(_vcpu: GuestVcpu, _hwq: number, fn: (arg: A) => void, arg: A): void {
    fn(arg);
  }

  observeAt(): void {}

  reap(hwq: number, out: BlkRequest[]): number {
    const q = this.queues[hwq]!;
    let n = 0;
    for (let r = this.ssd.reap(q); r !== undefined; r = this.ssd.reap(q)) out[n++] = r;
    return n;
  }

  reapCostPs(_hwq: number, n: number): number {
    // CQEs plus one CQ head doorbell
    return n * this.costs.reapPs + this.costs.doorbellPs;
  }

  disableIrq(): void {}

  enableIrq(hwq: number): boolean {
    // MSI-X stays enabled; a CQE posted while the handler ran is found by the next look
    return this.queues[hwq]!.onInterrupt !== null && this.queues[hwq]!.cqLength > 0;
  }
}
