/**
 * What the three network workloads share: frame-size and arrival fields of the scenario
 * file, their normalized form (NetWorkloadSpec) and the arrival process the senders use.
 *
 * Frame sizes are Ethernet frames including the 4-byte FCS (the RFC 2544 convention used
 * by calibration.md s4.2), 64 to 9216 bytes; on the wire each frame also takes 20 bytes
 * of preamble and inter-frame gap. Copies move the frame without its FCS.
 */
import { z } from 'zod';
import { Constant, type Distribution } from '../core/distributions.js';
import type { Rng } from '../core/random.js';
import { PS_PER_NS, PS_PER_S } from '../core/time.js';
import { buildDistribution, distributionSchema, type DistributionSpec } from '../scenario/distribution-schema.js';

export const MIN_FRAME_BYTES = 64;
export const MAX_FRAME_BYTES = 9216;

/** Largest and smallest value a distribution spec can produce, when bounded. */
function specBounds(spec: DistributionSpec): [number, number] | null {
  if (typeof spec === 'number') return [spec, spec];
  switch (spec.kind) {
    case 'constant':
      return [spec.value, spec.value];
    case 'uniform':
      return [spec.min, spec.max];
    case 'empirical': {
      const used = spec.values.filter((_, i) => (spec.weights[i] ?? 0) > 0);
      return [Math.min(...used), Math.max(...used)];
    }
    default:
      return null; // unbounded kinds are clamped when sampled
  }
}

/** A frame size [bytes]: a number or a distribution (an IMIX is an empirical one). */
export const frameSizeSchema = distributionSchema.superRefine((spec, ctx) => {
  const b = specBounds(spec);
  if (b && (b[0] < MIN_FRAME_BYTES || b[1] > MAX_FRAME_BYTES)) {
    ctx.addIssue({
      code: 'custom',
      message: `frame sizes must be within [${MIN_FRAME_BYTES}, ${MAX_FRAME_BYTES}] bytes (Ethernet frame incl. FCS)`,
    });
  }
});

export const opsFields = {
  ops: z.number().int().positive().default(100_000),
  warmup_ops: z.number().int().nonnegative().default(10_000),
};

/** How a sender's packets or transactions arrive. */
export type NetArrival =
  | { kind: 'closed'; outstanding: number }
  | { kind: 'poisson'; ratePerS: number }
  | { kind: 'constant'; ratePerS: number }
  | { kind: 'bursty'; ratePerS: number; onPs: number; offPs: number }
  | { kind: 'saturate' };

export interface NetWorkloadSpec {
  kind: 'net-rr' | 'net-tx' | 'net-rx' | 'net-pvp';
  /** Request (rr) or stream frame size [bytes]. */
  frameBytes: Distribution;
  /** Response frame size (rr) [bytes]. */
  responseBytes: Distribution;
  /** Per flow (rr closed: outstanding per flow; rates are per VM, split over its flows). */
  arrival: NetArrival;
  /** Flows per VM, spread over vCPUs and queue pairs. */
  flows: number;
  /** Client think time between a response and the next request (rr closed) [ps]. */
  think: Distribution;
  /** Guest (or bare-metal) socket + TCP/UDP stack cost per message, each direction [ps]. */
  guestStackPs: number;
  /** Peer stack cost per message, each direction (rr) [ps]. */
  peerStackPs: number;
  /** Peer application time per request (rr) [ps]. */
  peerApp: Distribution;
  /** Packets a backlogged sender hands the driver per notification (xmit_more batch). */
  txBatch: number;
  /**
   * Bulk TCP-like mode (net-tx/net-rx with message_bytes): the application writes (or
   * reads) messages of messageBytes; the stack cuts MTU-sized frames (MSS = MTU - 52),
   * aggregated into up to 64 KiB packets where the offloads allow (TSO, GSO, GRO). An op
   * is one such packet. Null: ops are single frames of frameBytes.
   */
  tcp: { messageBytes: number; mssBytes: number; windowBytes: number } | null;
  ops: number;
  warmupOps: number;
}

/** Draws a whole frame size in bytes, clamped to the Ethernet range. */
export function sampleFrameBytes(d: Distribution, rng: Rng): number {
  const v = d instanceof Constant ? d.mean : Math.round(d.sample(rng));
  return v < MIN_FRAME_BYTES ? MIN_FRAME_BYTES : v > MAX_FRAME_BYTES ? MAX_FRAME_BYTES : v;
}

/** The frame size every op of a constant distribution gets, or -1 when it is drawn per op. */
export function fixedFrameBytes(d: Distribution): number {
  return d instanceof Constant ? sampleFrameBytes(d, () => 0) : -1;
}

export function frameDistribution(spec: DistributionSpec): Distribution {
  return buildDistribution(spec, 1);
}

export function nsDistribution(spec: DistributionSpec): Distribution {
  return buildDistribution(spec, PS_PER_NS);
}

/**
 * Gaps between arrivals of one open-loop sender [ps]. Constant-rate gaps keep their
 * fraction so the long-run rate is exact; bursty alternates exponential ON and OFF
 * periods with Poisson arrivals during ON at the rate that gives ratePerS on average.
 */
export class ArrivalProcess {
  private nextPs = 0;
  private onUntilPs = 0;
  private readonly meanGapPs: number;

  constructor(
    private readonly arrival: Exclude<NetArrival, { kind: 'closed' } | { kind: 'saturate' }>,
    private readonly rng: Rng,
    /** This sender's share of the rate (flows of a VM split its rate). */
    share: number,
  ) {
    const rate = arrival.ratePerS * share;
    if (!(rate > 0)) throw new RangeError('arrival rate must be positive');
    const dutyCycle = arrival.kind === 'bursty' ? arrival.onPs / (arrival.onPs + arrival.offPs) : 1;
    this.meanGapPs = (PS_PER_S / rate) * dutyCycle;
    if (arrival.kind === 'bursty') this.onUntilPs = this.exp(arrival.onPs);
  }

  private exp(mean: number): number {
    return -mean * Math.log(1 - this.rng());
  }

  /** Absolute time of the next arrival [ps, integer]. */
  next(): number {
    const a = this.arrival;
    if (a.kind === 'constant') {
      this.nextPs += this.meanGapPs;
    } else if (a.kind === 'poisson') {
      this.nextPs += this.exp(this.meanGapPs);
    } else {
      let t = this.nextPs + this.exp(this.meanGapPs);
      while (t > this.onUntilPs) {
        // the ON period ended before this arrival: skip an OFF period, start a new ON one
        const offEnd = this.onUntilPs + this.exp(a.offPs);
        t = offEnd + (t - this.onUntilPs);
        this.onUntilPs = offEnd + this.exp(a.onPs);
      }
      this.nextPs = t;
    }
    return Math.round(this.nextPs);
  }
}

/** Shared scenario fields of the stream workloads (net-tx, net-rx). */
export const streamFields = {
  size_bytes: frameSizeSchema.optional(),
  /** Bulk TCP-like mode: the application's write (read) size [bytes]; ops become TSO/GSO packets. */
  message_bytes: z.number().int().gte(1).lte(1 << 30).optional(),
  /** MTU of the bulk TCP-like mode [bytes] (MSS = MTU - 52). */
  mtu_bytes: z.number().int().gte(576).lte(9000).optional(),
  /** Bulk TCP-like mode: bytes a flow may have sent and not yet delivered (its window) [bytes]. */
  window_bytes: z.number().int().gte(1).lte(1 << 30).optional(),
  rate_per_s: z.number().positive().optional(),
  arrival: z.enum(['poisson', 'constant', 'bursty', 'saturate']).optional(),
  burst_on_ns: z.number().positive().default(100_000),
  burst_off_ns: z.number().positive().default(900_000),
  flows: z.number().int().gte(1).lte(1024).default(1),
  guest_stack_ns: z.number().nonnegative().default(1000),
  tx_batch: z.number().int().gte(1).lte(1024).default(32),
  ...opsFields,
};

interface StreamInput {
  size_bytes?: DistributionSpec | undefined;
  message_bytes?: number | undefined;
  mtu_bytes?: number | undefined;
  window_bytes?: number | undefined;
  rate_per_s?: number | undefined;
  arrival?: 'poisson' | 'constant' | 'bursty' | 'saturate' | undefined;
  burst_on_ns: number;
  burst_off_ns: number;
}

/** Checks rate/arrival consistency (zod superRefine). */
export function checkStreamArrival(w: StreamInput, ctx: z.RefinementCtx): void {
  if (w.message_bytes !== undefined && w.size_bytes !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['size_bytes'], message: 'a bulk TCP-like stream (message_bytes) cuts its own frames from mtu_bytes; omit size_bytes' });
  }
  for (const k of ['mtu_bytes', 'window_bytes'] as const) {
    if (w.message_bytes === undefined && w[k] !== undefined) {
      ctx.addIssue({ code: 'custom', path: [k], message: `${k} applies to a bulk TCP-like stream; add message_bytes, or set size_bytes for single frames` });
    }
  }
  const kind = w.arrival ?? (w.rate_per_s === undefined ? 'saturate' : 'poisson');
  if (kind === 'saturate' && w.rate_per_s !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['rate_per_s'], message: 'a saturating stream has no rate; omit rate_per_s or pick another arrival' });
  }
  if (kind !== 'saturate' && w.rate_per_s === undefined) {
    ctx.addIssue({ code: 'custom', path: ['rate_per_s'], message: `arrival ${kind} needs rate_per_s (packets per second per VM)` });
  }
}

/** MTU of a bulk TCP-like stream unless given [bytes]. */
const DEFAULT_MTU_BYTES = 1500;
/** Ethernet header and FCS around an MTU-sized packet [bytes]. */
const ETHERNET_FRAMING_BYTES = 18;
/** IP and TCP headers with timestamps: MSS = MTU - 52 (1,448 at MTU 1500). */
const TCP_IP_HEADER_BYTES = 52;

/** Frame sizes of a stream (64 bytes unless given); for a TCP-like stream, its MTU-sized frame. */
export function streamFrames(w: StreamInput): Distribution {
  if (w.message_bytes !== undefined) return new Constant((w.mtu_bytes ?? DEFAULT_MTU_BYTES) + ETHERNET_FRAMING_BYTES);
  return frameDistribution(w.size_bytes ?? 64);
}

/** The bulk TCP-like mode of a stream, or null. */
export function streamTcp(w: StreamInput): NetWorkloadSpec['tcp'] {
  if (w.message_bytes === undefined) return null;
  const mtu = w.mtu_bytes ?? DEFAULT_MTU_BYTES;
  // default window: Linux net.ipv4.tcp_wmem / tcp_rmem maximum, 4 MiB
  return { messageBytes: w.message_bytes, mssBytes: mtu - TCP_IP_HEADER_BYTES, windowBytes: w.window_bytes ?? 4 * 1024 * 1024 };
}

export function streamArrival(w: StreamInput): NetArrival {
  const kind = w.arrival ?? (w.rate_per_s === undefined ? 'saturate' : 'poisson');
  if (kind === 'saturate') return { kind };
  const ratePerS = w.rate_per_s!;
  if (kind === 'bursty') return { kind, ratePerS, onPs: w.burst_on_ns * PS_PER_NS, offPs: w.burst_off_ns * PS_PER_NS };
  return { kind, ratePerS };
}
