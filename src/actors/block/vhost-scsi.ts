/**
 * vhost-scsi (Linux drivers/vhost/scsi.c) with the LIO target core and an iblock
 * backstore: the guest's virtio-scsi kick signals the ioeventfd, which queues work for
 * the device's vhost worker thread. vhost_scsi_handle_vq disables notifications, pops
 * requests (up to the vq's weight), copies each small request header, pins the guest's
 * data pages into a scatterlist (vhost_scsi_map_to_sgl) and submits the command to LIO,
 * whose iblock backstore issues a bio to the host block layer: the device DMAs straight
 * into the pinned guest pages (no copy). The completion interrupt ends the bio; LIO's
 * queue_data_in / queue_status add the command to the completion llist and queue the
 * completion work (a wake-up of the worker), which drains every completion, writes each
 * response, pushes the used entries and signals each virtqueue touched once (irqfd,
 * in the kernel: no syscall).
 */
import { Fifo } from '../../primitives/fifo.js';
import type { HostThread } from '../../primitives/host-cpu.js';
import type { Virtqueue } from '../../primitives/virtqueue.js';
import type { ActorEnv } from '../host/env.js';
import type { HostBlockLayer } from './host-blk.js';
import type { BlkRequest, HostBlockClient } from './request.js';

export interface VhostScsiCosts {
  /** Per command: descriptor walk, header copy, page pinning, LIO command set-up (target core) [ps]. */
  perRequestPs: number;
  /** Per completion: LIO's response, the response struct copied to the guest, vhost_add_used [ps]. */
  perCompletionPs: number;
  /** Routing the interrupt through irqfd (eventfd_signal in the kernel) [ps]. */
  signalPs: number;
  /** Requests per handle_vq run before the work requeues itself (VHOST_SCSI_WEIGHT 256). */
  weight: number;
}

export interface VhostScsiStages {
  backend: number;
  device: number;
  complete: number;
}

function submitted(w: VhostScsi): void {
  w.afterSubmit();
}
function completedStep(w: VhostScsi): void {
  w.afterComplete();
}

export class VhostScsi implements HostBlockClient {
  private readonly kicked: boolean[];
  private readonly completions = new Fifo<BlkRequest>();
  private readonly reaped: BlkRequest[] = [];
  private readonly touched: number[] = [];
  private vq = 0;
  runs = 0;
  signals = 0;

  /**
   * While a migration logs dirty pages (VHOST_F_LOG_ALL): per completion, logging its
   * used element and a read's data pages, each through set_bit_to_user
   * (drivers/vhost/vhost.c log_write) [ps]; 0 otherwise.
   */
  logPerCompletionPs = 0;

  constructor(
    readonly env: ActorEnv,
    readonly name: string,
    readonly thread: HostThread,
    readonly vqs: Virtqueue<BlkRequest>[],
    private readonly host: HostBlockLayer,
    private readonly costs: VhostScsiCosts,
    private readonly stages: VhostScsiStages,
    /** Raises the guest's interrupt of a virtqueue (irqfd routed by KVM). */
    private readonly raise: (vq: number) => void,
  ) {
    this.kicked = vqs.map(() => false);
    thread.onRun = () => this.loop();
    host.attach(thread);
  }

  /** The ioeventfd of vq fired: vhost_poll_queue. */
  kick(vq: number): void {
    this.kicked[vq] = true;
    this.thread.wake();
  }

  /** LIO's completion callback (interrupt context): llist add and queue the completion work. */
  hostDone(req: BlkRequest): void {
    this.completions.push(req);
    this.thread.wake();
  }

  private loop(): void {
    this.runs++;
    if (this.completions.length !== 0) {
      const out = this.reaped;
      let n = 0;
      const tracker = this.env.tracker;
      while (this.completions.length !== 0) {
        const r = this.completions.shift()!;
        tracker.mark(r, this.stages.device, 0);
        out[n++] = r;
      }
      out.length = n;
      this.stepPs = n * this.costs.perCompletionPs + this.vqs[0]!.deviceCostPs(n);
      if (this.logPerCompletionPs !== 0) this.stepPs += n * this.logPerCompletionPs;
      this.thread.exec(this.stepPs, completedStep, this);
      return;
    }
    for (let q = 0; q < this.vqs.length; q++) {
      const vq = this.vqs[q]!;
      if (this.kicked[q] || vq.availPending > 0) {
        this.kicked[q] = false;
        this.handleVq(q);
        return;
      }
    }
    this.thread.idle();
  }

  /** vhost_scsi_handle_vq: notifications off, then one command at a time, each submitted to LIO as it is set up. */
  private handleVq(q: number): void {
    const vq = this.vqs[q]!;
    vq.disableNotify();
    this.vq = q;
    this.handledInRun = 0;
    this.nextCommand();
  }

  private handledInRun = 0;
  /** CPU time of the step in flight [ps]. */
  private stepPs = 0;
  private current: BlkRequest | null = null;

  private nextCommand(): void {
    const vq = this.vqs[this.vq]!;
    if (this.handledInRun >= this.costs.weight) {
      // weight used up: the work requeues itself and other work (completions) runs first
      this.kicked[this.vq] = true;
      this.loop();
      return;
    }
    const r = vq.pop();
    if (r === undefined) {
      if (vq.enableNotify()) this.nextCommand(); // the re-check found more
      else this.loop();
      return;
    }
    r.ringSlots = vq.poppedSlots;
    r.hostClient = this;
    this.current = r;
    this.handledInRun++;
    this.stepPs = this.costs.perRequestPs + vq.deviceCostPs(1) + this.host.costPs(r);
    this.thread.exec(this.stepPs, submitted, this);
  }

  /** @internal */
  afterSubmit(): void {
    const r = this.current!;
    this.current = null;
    this.env.tracker.mark(r, this.stages.backend, this.stepPs);
    this.host.submit(r, this.thread);
    this.nextCommand();
  }

  /** @internal */
  afterComplete(): void {
    const out = this.reaped;
    const touched = this.touched;
    touched.length = 0;
    const tracker = this.env.tracker;
    for (let i = 0; i < out.length; i++) {
      const r = out[i]!;
      const vq = this.vqs[r.hwq]!;
      tracker.mark(r, this.stages.complete, this.stepPs);
      vq.pushUsed(r, r.ringSlots);
      if (!touched.includes(r.hwq)) touched.push(r.hwq);
      out[i] = undefined as unknown as BlkRequest;
    }
    out.length = 0;
    let k = 0;
    for (let i = 0; i < touched.length; i++) if (this.vqs[touched[i]!]!.shouldNotify()) touched[k++] = touched[i]!;
    touched.length = k;
    if (k === 0) {
      this.loop();
      return;
    }
    this.thread.exec(k * this.costs.signalPs, signalled, this);
  }

  /** @internal */
  afterSignal(): void {
    const touched = this.touched;
    for (let i = 0; i < touched.length; i++) {
      this.signals++;
      this.raise(touched[i]!);
    }
    touched.length = 0;
    this.loop();
  }
}

function signalled(w: VhostScsi): void {
  w.afterSignal();
}
