/**
 * Interrupt moderation (NIC ITR, e1000 mitigation timer): the first event after a quiet
 * period interrupts at once; events within `minGapPs` of the previous interrupt are
 * collected and fire together when the gap has passed. Models hw/net/e1000.c
 * set_interrupt_cause + mit_timer and the ixgbe ITR (minimum interrupt interval).
 */
import type { Simulator } from '../core/simulator.js';

function fire(m: IrqModerator): void {
  m.timerFired();
}

export class IrqModerator {
  private lastFirePs = -Infinity;
  private isTimerArmed = false;
  private isPending = false;
  /** Interrupts raised, and events merged into them. */
  fired = 0;
  merged = 0;

  constructor(
    private readonly sim: Simulator,
    readonly minGapPs: number,
    private readonly raise: () => void,
  ) {}

  /** An interrupt cause: fires now, or at the end of the moderation window. */
  trigger(): void {
    if (this.isPending || this.isTimerArmed) {
      if (this.isPending) this.merged++;
      this.isPending = true;
      return;
    }
    const now = this.sim.nowPs;
    const nextAllowed = this.lastFirePs + this.minGapPs;
    if (this.minGapPs <= 0 || now >= nextAllowed) {
      this.doFire();
    } else {
      this.isPending = true;
      this.isTimerArmed = true;
      this.sim.post(nextAllowed - now, fire, this);
    }
  }

  /** @internal */
  timerFired(): void {
    this.isTimerArmed = false;
    if (this.isPending) this.doFire();
  }

  private doFire(): void {
    this.isPending = false;
    this.lastFirePs = this.sim.nowPs;
    this.fired++;
    this.raise();
  }
}
