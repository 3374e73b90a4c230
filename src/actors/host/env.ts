/**
 * What every actor of one run shares: the simulator, the run's counters and stage
 * tracker, and cost helpers derived from the calibrated parameters. Paths build one
 * ActorEnv per run and hand it to the actors they wire; actors never reach each other
 * through it.
 */
import type { Simulator } from '../../core/simulator.js';
import type { Counters } from '../../metrics/counters.js';
import type { StageTracker } from '../../primitives/stage-tracker.js';

/**
 * Exit counts by reason, indexed by a small integer so the hot path is one array
 * increment; flushed into Counters (exits, exitsByReason) when the run ends.
 */
export class ExitTally {
  private readonly names: string[] = [];
  private readonly ioFlags: boolean[] = [];
  private readonly ids = new Map<string, number>();
  private counts = new Float64Array(16);

  /** The id of a reason; HLT and timer exits are not I/O exits. */
  id(reason: string, isIo: boolean): number {
    const found = this.ids.get(reason);
    if (found !== undefined) return found;
    const id = this.names.length;
    this.names.push(reason);
    this.ioFlags.push(isIo);
    this.ids.set(reason, id);
    if (id >= this.counts.length) {
      const grown = new Float64Array(this.counts.length * 2);
      grown.set(this.counts);
      this.counts = grown;
    }
    return id;
  }

  count(id: number): void {
    this.counts[id]!++;
  }

  private lastReason = '';
  private lastId = -1;

  /** Counts one exit by reason name (a map lookup, unless it is the reason counted last). */
  countByName(reason: string, isIo: boolean): void {
    let id = this.lastId;
    if (reason !== this.lastReason) {
      id = this.id(reason, isIo);
      this.lastReason = reason;
      this.lastId = id;
    }
    this.counts[id]!++;
  }

  reset(): void {
    this.counts.fill(0);
  }

  /** Total I/O exits counted. */
  get ioExits(): number {
    let n = 0;
    for (let i = 0; i < this.names.length; i++) if (this.ioFlags[i]) n += this.counts[i]!;
    return n;
  }

  flushInto(counters: Counters): void {
    for (let i = 0; i < this.names.length; i++) {
      const n = this.counts[i]!;
      if (n === 0) continue;
      const name = this.names[i]!;
      if (this.ioFlags[i]) counters.exits += n;
      counters.exitsByReason.set(name, (counters.exitsByReason.get(name) ?? 0) + n);
    }
    this.reset();
  }
}

export interface ActorEnv {
  sim: Simulator;
  counters: Counters;
  /** VM exits by reason (flushed into counters at the end of the run). */
  exits: ExitTally;
  tracker: StageTracker;
  /** CPU time of copying `bytes` bytes once [ps] (fixed part + bytes / bandwidth). */
  copyPs(bytes: number): number;
  /** Counts one payload copy of `bytes` bytes. */
  countCopy(bytes: number): void;
  /** Host syscall entry/exit [ps]. */
  syscallPs: number;
}

/** Copy-cost helper from host.copy_fixed_ns and host.memcpy_gbps. */
export function copyCostFn(fixedNs: number, gbPerS: number): (bytes: number) => number {
  const fixedPs = Math.round(fixedNs * 1000);
  const psPerByte = 1000 / gbPerS; // 1 GB/s = 1 byte/ns
  return (bytes) => fixedPs + Math.round(bytes * psPerByte);
}

/**
 * A bulk TCP-like application's socket write (or read) of `payloadBytes`: a send (recv)
 * syscall of `syscallPs` per message of `messageBytes`, shared by the packets of a larger
 * message, plus the copy between the application and socket buffers [ps].
 */
export function socketCostPs(env: ActorEnv, payloadBytes: number, messageBytes: number, syscallPs: number): number {
  return Math.round((payloadBytes / messageBytes) * syscallPs) + env.copyPs(payloadBytes);
}

/** A notification with no payload: kick, eventfd signal, interrupt line. */
export type SignalPort = () => void;
