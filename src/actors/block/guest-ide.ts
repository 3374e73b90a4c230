/**
 * The guest's driver for an emulated IDE disk with bus-master DMA (Linux libata
 * ata_piix + ata_bmdma, io-paths.md A.3): one command at a time (no command queueing),
 * every register access a trapping port I/O. Per request: the PRD table address, the
 * taskfile (features, sector count, LBA low/mid/high, device: six writes with 28-bit
 * addressing), the command register and the bus-master start; the device model starts
 * the DMA inside that last exit. The completion raises the legacy INTx line; the
 * interrupt handler reads the bus-master status, stops the engine, reads the ATA status
 * (which deasserts the line) and clears the bus-master status: four more exits, and the
 * IOAPIC EOI exits too (the vector's).
 */
import type { GuestVcpu } from '../host/guest-vcpu.js';
import type { RegisterExit } from '../net/guest-e1000.js';
import type { BlkDriver } from './guest-blk-mq.js';
import type { BlkRequest } from './request.js';

/** The IDE device model as its driver sees it. */
export interface IdeDevice {
  /** Register emulation cost per access [ps]. */
  readonly regPs: number;
  /** The bus-master start write: the device starts req's DMA (runs in the exit on vcpu), then done(). */
  start(vcpu: GuestVcpu, req: BlkRequest, done: () => void): void;
  /** The command the device finished (taken by the driver's ISR); null when none. */
  takeDone(): BlkRequest | null;
}

export interface IdeDriverCosts {
  /** ata_qc_issue: taskfile and PRD table set-up [ps]. */
  queuePs: number;
  /** Taskfile register writes per command (6 with LBA28, 11 with LBA48). */
  taskfileWrites: number;
}

/** A register sequence in progress on one vCPU: its position and continuation. */
class RegisterSequence {
  step = 0;
  vcpu: GuestVcpu | null = null;
  private fn: (arg: any) => void = () => {};
  private arg: unknown = undefined;
  /** The continuation of each register exit: the sequence's next access. */
  readonly next: () => void;

  constructor(advance: (seq: RegisterSequence) => void) {
    this.next = () => advance(this);
  }

  begin<A>(vcpu: GuestVcpu, fn: (arg: A) => void, arg: A): void {
    this.vcpu = vcpu;
    this.fn = fn;
    this.arg = arg;
    this.step = 0;
  }

  finish(): void {
    const fn = this.fn;
    const arg = this.arg;
    this.arg = undefined;
    fn(arg);
  }
}

/** Register accesses of the ISR (ata_bmdma_interrupt), in order. */
const ISR_REGS = ['pio-ide-bm-status-read', 'pio-ide-bm-cmd-stop', 'pio-ide-status-read', 'pio-ide-bm-status-clear'] as const;

export class GuestIde implements BlkDriver {
  readonly queueCount = 1;
  readonly maxRequestBytes = Infinity;
  onIrq: (hwq: number) => void = () => {};
  private current: BlkRequest | null = null;
  /**
   * The register sequences in progress, issuing a command and acknowledging an interrupt,
   * one of each per vCPU, each with its own position and continuation: a fast disk (a RAM
   * disk behind the in-hypervisor model) interrupts before the issuing exit has returned,
   * and the interrupt's handler may issue the next command from another vCPU meanwhile.
   */
  private readonly issues: RegisterSequence[] = [];
  private readonly acks: RegisterSequence[] = [];
  private readonly issueNextFn = (seq: RegisterSequence): void => this.issueNext(seq);
  private readonly ackNextFn = (seq: RegisterSequence): void => this.ackNext(seq);
  private readonly regAccess = (v: GuestVcpu, done: () => void): void => v.exec(this.dev.regPs, done, undefined);
  private readonly startAccess = (v: GuestVcpu, done: () => void): void => {
    v.charge(this.dev.regPs);
    this.dev.start(v, this.current!, done);
  };
  private completed: BlkRequest | null = null;

  constructor(
    readonly name: string,
    private readonly dev: IdeDevice,
    private readonly costs: IdeDriverCosts,
    private readonly regExit: RegisterExit,
  ) {}

  depth(): number {
    return 1;
  }

  canQueue(): boolean {
    return this.current === null;
  }

  queueCostPs(): number {
    return this.costs.queuePs;
  }

  queueRq(_hwq: number, req: BlkRequest): void {
    if (this.current !== null) throw new Error(`${this.name}: a second command while one is in flight`);
    this.current = req;
  }

  commit<A>(vcpu: GuestVcpu, _hwq: number, fn: (arg: A) => void, arg: A): void {
    const seq = (this.issues[vcpu.index] ??= new RegisterSequence(this.issueNextFn));
    seq.begin(vcpu, fn, arg);
    this.issueNext(seq);
  }

  /** PRD address, taskfile, command, then the bus-master start. */
  private issueNext(seq: RegisterSequence): void {
    const s = seq.step++;
    const vcpu = seq.vcpu!;
    const tf = this.costs.taskfileWrites;
    if (s === 0) this.regExit(vcpu, 'pio-ide-bm-prd', this.regAccess, seq.next);
    else if (s <= tf) this.regExit(vcpu, 'pio-ide-taskfile', this.regAccess, seq.next);
    else if (s === tf + 1) this.regExit(vcpu, 'pio-ide-command', this.regAccess, seq.next);
    else if (s === tf + 2) this.regExit(vcpu, 'pio-ide-bm-start', this.startAccess, seq.next);
    else seq.finish();
  }

  ack<A>(vcpu: GuestVcpu, _hwq: number, fn: (arg: A) => void, arg: A): void {
    const seq = (this.acks[vcpu.index] ??= new RegisterSequence(this.ackNextFn));
    seq.begin(vcpu, fn, arg);
    this.ackNext(seq);
  }

  private ackNext(seq: RegisterSequence): void {
    const s = seq.step++;
    if (s === 2) this.completed = this.dev.takeDone(); // the ATA status read tells the command is over
    if (s < ISR_REGS.length) this.regExit(seq.vcpu!, ISR_REGS[s]!, this.regAccess, seq.next);
    else seq.finish();
  }

  observeAt(): void {}

  reap(_hwq: number, out: BlkRequest[]): number {
    const r = this.completed;
    if (r === null) return 0;
    this.completed = null;
    if (r !== this.current) throw new Error(`${this.name}: completion of a command not in flight`);
    this.current = null;
    out[0] = r;
    return 1;
  }

  reapCostPs(): number {
    return 0;
  }

  disableIrq(): void {}

  enableIrq(): boolean {
    return false;
  }
}
