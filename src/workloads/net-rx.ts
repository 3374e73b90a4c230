/**
 * `net-rx`: a packet stream from the remote peer (a traffic generator) to an application
 * in the guest. Poisson, constant or bursty arrivals at rate_per_s per VM, or saturating
 * (the generator sends back to back at line rate). Frames the host cannot take are
 * dropped where they overflow and counted in ops_dropped. Latency is from the first bit
 * leaving the peer to the guest application's receive.
 */
import { z } from 'zod';
import { checkStreamArrival, streamArrival, streamFields, streamFrames, streamTcp, type NetWorkloadSpec } from './net-common.js';
import { NO_THINK } from './net-rr.js';

export const netRxWorkloadSchema = z
  .strictObject({ kind: z.literal('net-rx'), ...streamFields })
  .superRefine(checkStreamArrival);

export type NetRxWorkloadInput = z.infer<typeof netRxWorkloadSchema>;

export function toNetRxSpec(w: NetRxWorkloadInput): NetWorkloadSpec {
  const size = streamFrames(w);
  return {
    kind: 'net-rx',
    frameBytes: size,
    responseBytes: size,
    arrival: streamArrival(w),
    flows: w.flows,
    think: NO_THINK,
    guestStackPs: Math.round(w.guest_stack_ns * 1000),
    peerStackPs: 0,
    peerApp: NO_THINK,
    txBatch: w.tx_batch,
    tcp: streamTcp(w),
    ops: w.ops,
    warmupOps: w.warmup_ops,
  };
}
