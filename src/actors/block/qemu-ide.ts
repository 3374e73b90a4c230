/**
 * QEMU's IDE controller with bus-master DMA (hw/ide/core.c, hw/ide/pci.c) over its file
 * back end. The bus-master start write (a heavy exit, the vCPU thread holding the big
 * lock) runs ide_dma_cb: it maps the PRD buffers (no copy) and submits the I/O to the
 * engine (blk_aio_preadv). The engine's completion reaches QEMU's main loop, where
 * ide_dma_cb finishes the command and raises the INTx line (ide_set_irq: a KVM_IRQ_LINE
 * ioctl).
 */
import type { MainLoopHandler, QemuMainLoop } from '../host/qemu.js';
import type { ActorEnv } from '../host/env.js';
import type { GuestVcpu } from '../host/guest-vcpu.js';
import type { IdeDevice } from './guest-ide.js';
import type { AioOwner, QemuAio } from './qemu-aio.js';
import type { BlkRequest } from './request.js';

export interface IdeCosts {
  /** Register emulation per access [ps]. */
  regPs: number;
  /** ide_dma_cb: PRD walk, mapping, request set-up, and its completion half [ps]. */
  dmaPs: number;
  /** Raising the line: the ioctl and KVM's injection [ps]. */
  irqRaisePs: number;
}

export interface IdeStages {
  device: number;
  complete: number;
}

interface StartState {
  dev: QemuIde;
  vcpu: GuestVcpu | null;
  done: () => void;
}

function started(st: StartState): void {
  st.dev.afterStart(st);
}
function completedStep(dev: QemuIde): void {
  dev.afterComplete();
}

export class QemuIde implements IdeDevice, AioOwner {
  readonly regPs: number;
  private doneReq: BlkRequest | null = null;
  private readonly st: StartState = { dev: this, vcpu: null, done: () => {} };
  private readonly handler: MainLoopHandler;
  private loopDone: () => void = () => {};
  private reaped: BlkRequest | null = null;
  /** CPU time of the completion step [ps]. */
  private stepPs = 0;
  private readonly batch: BlkRequest[] = [];

  constructor(
    readonly env: ActorEnv,
    readonly name: string,
    private readonly aio: QemuAio,
    private readonly loop: QemuMainLoop,
    private readonly costs: IdeCosts,
    private readonly stages: IdeStages,
    /** Raises the disk's INTx (the cost is paid by the caller's step). */
    private readonly raise: () => void,
  ) {
    this.regPs = costs.regPs;
    aio.owner = this;
    this.handler = { name: `${name}/aio`, isReady: false, run: (_l, done) => this.runCompletion(done) };
  }

  /** A vCPU thread submits from its exits. */
  attachVcpu(vcpu: GuestVcpu): void {
    this.aio.attachSubmitter(vcpu.thread);
  }

  start(vcpu: GuestVcpu, req: BlkRequest, done: () => void): void {
    const st = this.st;
    st.vcpu = vcpu;
    st.done = done;
    this.batch[0] = req;
    vcpu.exec(this.costs.dmaPs + this.aio.submitCostPs(this.batch, 1), started, st);
  }

  /** @internal */
  afterStart(st: StartState): void {
    this.aio.submit(this.batch, 1, st.vcpu!.thread);
    st.done();
  }

  aioReady(): void {
    this.loop.notify(this.handler);
  }

  private runCompletion(done: () => void): void {
    const r = this.aio.done.shift();
    if (r === undefined) {
      done();
      return;
    }
    this.loopDone = done;
    this.reaped = r;
    this.aio.countReap();
    this.env.tracker.mark(r, this.stages.device, 0);
    this.stepPs = this.aio.reapCostPs(1) + this.costs.dmaPs + this.costs.irqRaisePs;
    this.loop.thread.exec(this.stepPs, completedStep, this);
  }

  /** @internal ide_dma_cb's end: status set, the line raised. */
  afterComplete(): void {
    const r = this.reaped!;
    this.reaped = null;
    this.env.tracker.mark(r, this.stages.complete, this.stepPs);
    this.doneReq = r;
    this.env.counters.syscalls++; // KVM_IRQ_LINE
    this.raise();
    this.loopDone();
  }

  takeDone(): BlkRequest | null {
    const r = this.doneReq;
    this.doneReq = null;
    return r;
  }
}
