/**
 * The send window of a bulk TCP-like sender (a guest application's flow, the remote peer's
 * or the host-local peer's generator): ops sent and not yet delivered, at most `limit` of
 * them. A sender that finds the window full waits; the op that opens it (release) tells
 * the sender to try again. One object per flow, made at set-up: nothing per packet.
 */
export class SendWindow {
  /** Ops sent and not yet delivered (or lost). */
  inflight = 0;
  /** Ops the window allows (Infinity: not window-limited). */
  limit = Infinity;
  /** The sender found the window full and waits for release(). */
  private isWaiting = false;

  /** True if the window has room for another op (a query: the sender does not wait). */
  get hasRoom(): boolean {
    return this.inflight < this.limit;
  }

  /** True if another op may be sent; false if the window is full, and the sender now waits for release(). */
  canSend(): boolean {
    if (this.inflight >= this.limit) {
      this.isWaiting = true;
      return false;
    }
    return true;
  }

  /** An op was sent. */
  sent(): void {
    this.inflight++;
  }

  /** An op was delivered or lost: the window opens by one. True if the sender was waiting (it should try again). */
  release(): boolean {
    if (this.inflight > 0) this.inflight--;
    if (!this.isWaiting) return false;
    this.isWaiting = false;
    return true;
  }
}
