/**
 * Per-run event counters that the summary reports per completed op. Actors increment
 * the fields directly (plain number fields: no maps on the hot path).
 */
export class Counters {
  exits = 0;
  interrupts = 0;
  kicks = 0;
  kicksSuppressed = 0;
  interruptsSuppressed = 0;
  copies = 0;
  copyBytes = 0;
  syscalls = 0;
  contextSwitches = 0;
  wakeups = 0;
  /** TCP segments sent (the iSCSI back end's loopback connection; ACKs not counted). */
  tcpSegments = 0;
  /** Exits by reason, I/O and non-I/O (HLT, timer) alike. */
  readonly exitsByReason = new Map<string, number>();

  countExit(reason: string, isIo: boolean): void {
    if (isIo) this.exits++;
    this.exitsByReason.set(reason, (this.exitsByReason.get(reason) ?? 0) + 1);
  }

  reset(): void {
    this.exits = 0;
    this.interrupts = 0;
    this.kicks = 0;
    this.kicksSuppressed = 0;
    this.interruptsSuppressed = 0;
    this.copies = 0;
    this.copyBytes = 0;
    this.syscalls = 0;
    this.contextSwitches = 0;
    this.wakeups = 0;
    this.tcpSegments = 0;
    this.exitsByReason.clear();
  }
}
