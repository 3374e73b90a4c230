/**
 * A one-way link: fixed propagation latency plus optional serialization at a bit rate.
 * Messages leave in the order sent; a message waits for the transmitter to finish the
 * ones before it (store-and-forward at the sender, cut-through at the receiver).
 */
import type { Simulator } from '../core/simulator.js';
import { AS_DOUBLE, PS_PER_S, type TimePs } from '../core/time.js';

export interface LinkOptions {
  latencyPs: TimePs;
  /** Line rate [Gb/s]; omit for no serialization delay. */
  rateGbps?: number;
  /** Bytes on the wire per byte of message (framing); default 1. */
  wireBytes?: (messageBytes: number) => number;
}

export class Link<T> {
  readonly latencyPs: TimePs;
  /** Picoseconds per byte on the wire; 0 without serialization. */
  readonly psPerByte: number;
  private readonly wireBytes: (messageBytes: number) => number;
  private transmitterFreePs = AS_DOUBLE;
  /** Time the transmitter spent sending [ps], for utilisation. */
  busyPs = AS_DOUBLE;
  sent = 0;

  constructor(
    private readonly sim: Simulator,
    private readonly deliver: (message: T) => void,
    options: LinkOptions,
  ) {
    if (!(options.latencyPs >= 0)) throw new RangeError('link: latencyPs must be >= 0');
    if (options.rateGbps !== undefined && !(options.rateGbps > 0)) {
      throw new RangeError('link: rateGbps must be positive');
    }
    this.transmitterFreePs = this.busyPs = 0;
    this.latencyPs = options.latencyPs;
    this.psPerByte = options.rateGbps === undefined ? 0 : (8 * PS_PER_S) / (options.rateGbps * 1e9);
    this.wireBytes = options.wireBytes ?? ((b) => b);
  }

  /** Sends a message of the given size; returns its delivery time [ps]. */
  send(message: T, bytes = 0): TimePs {
    const now = this.sim.nowPs;
    let departPs = now;
    if (this.psPerByte > 0) {
      const start = this.transmitterFreePs > now ? this.transmitterFreePs : now;
      const txPs = Math.round(this.wireBytes(bytes) * this.psPerByte);
      departPs = start + txPs;
      this.transmitterFreePs = departPs;
      this.busyPs += txPs;
    }
    this.sent++;
    const arrivePs = departPs + this.latencyPs;
    this.sim.post(arrivePs - now, this.deliver, message);
    return arrivePs;
  }

  /** Time at which a message sent now would finish serializing [ps]. */
  get transmitterFreeAtPs(): TimePs {
    return Math.max(this.transmitterFreePs, this.sim.nowPs);
  }
}
