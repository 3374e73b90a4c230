/**
 * A guest driver's transmit step, one per vCPU: the record a driver's send() fills and
 * hands to the vCPU's step, reused from packet to packet (a vCPU runs one step at a
 * time), so a transmit allocates nothing.
 */
import type { GuestVcpu } from '../host/guest-vcpu.js';
import type { Packet } from './messages.js';

export interface TxStep {
  owner: TxStepOwner;
  vcpu: GuestVcpu;
  pkt: Packet | null;
  isMore: boolean;
  costPs: number;
  /** The sender's continuation. */
  fn: (() => void) | null;
}

/** A driver whose transmit steps end in sendDone. */
export interface TxStepOwner {
  sendDone(st: TxStep): void;
}

function sendDone(st: TxStep): void {
  st.owner.sendDone(st);
}

/** The transmit records of one driver, by vCPU index. */
export class TxSteps {
  private readonly records: (TxStep | undefined)[] = [];

  constructor(private readonly owner: TxStepOwner) {}

  /** Runs costPs of transmit work on the vCPU, then owner.sendDone(record). */
  start(vcpu: GuestVcpu, pkt: Packet, isMore: boolean, costPs: number, fn: () => void): void {
    let st = this.records[vcpu.index];
    if (st === undefined) {
      st = { owner: this.owner, vcpu, pkt: null, isMore: false, costPs: 0, fn: null };
      this.records[vcpu.index] = st;
    }
    st.pkt = pkt;
    st.isMore = isMore;
    st.costPs = costPs;
    st.fn = fn;
    vcpu.exec(costPs, sendDone, st);
  }
}
