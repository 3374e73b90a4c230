/**
 * An IDE controller emulated inside the hypervisor (VMware-style, io-paths.md A.4): the
 * register accesses are handled in the kernel exit itself (no return to user space, no
 * big lock), the bus-master start submits the I/O straight to the host block layer, and
 * the completion interrupt raises the guest's INTx from the kernel.
 */
import type { ActorEnv } from '../host/env.js';
import type { GuestVcpu } from '../host/guest-vcpu.js';
import type { IdeDevice } from './guest-ide.js';
import type { HostBlockLayer } from './host-blk.js';
import type { BlkRequest, HostBlockClient } from './request.js';

export interface VmmIdeCosts {
  regPs: number;
  /** PRD walk and request set-up in the hypervisor [ps]. */
  dmaPs: number;
}

interface StartState {
  dev: VmmIde;
  req: BlkRequest | null;
  vcpu: GuestVcpu | null;
  done: () => void;
}

function started(st: StartState): void {
  st.dev.afterStart(st);
}

export class VmmIde implements IdeDevice, HostBlockClient {
  readonly regPs: number;
  private doneReq: BlkRequest | null = null;
  private readonly st: StartState = { dev: this, req: null, vcpu: null, done: () => {} };

  constructor(
    readonly env: ActorEnv,
    readonly name: string,
    private readonly host: HostBlockLayer,
    private readonly costs: VmmIdeCosts,
    private readonly deviceStage: number,
    /** Raises the disk's INTx from the kernel (interrupt context). */
    private readonly raise: () => void,
  ) {
    this.regPs = costs.regPs;
  }

  start(vcpu: GuestVcpu, req: BlkRequest, done: () => void): void {
    const st = this.st;
    st.req = req;
    st.vcpu = vcpu;
    st.done = done;
    vcpu.exec(this.costs.dmaPs + this.host.costPs(req), started, st);
  }

  /** @internal */
  afterStart(st: StartState): void {
    const req = st.req!;
    st.req = null;
    req.hostClient = this;
    this.host.submit(req, st.vcpu!.thread);
    st.done();
  }

  hostDone(req: BlkRequest): void {
    this.env.tracker.mark(req, this.deviceStage, 0);
    this.doneReq = req;
    this.raise();
  }

  takeDone(): BlkRequest | null {
    const r = this.doneReq;
    this.doneReq = null;
    return r;
  }
}
