/**
 * `net-tx`: a packet stream from an application in the guest to the remote peer (a
 * traffic sink). Poisson, constant or bursty (on/off) arrivals at rate_per_s per VM, or
 * saturating (the sender always has a packet ready and blocks only on a full ring).
 * Latency is from the application's send to the frame's last bit at the peer.
 */
import { z } from 'zod';
import { checkStreamArrival, streamArrival, streamFields, streamFrames, streamTcp, type NetWorkloadSpec } from './net-common.js';
import { NO_THINK } from './net-rr.js';

export const netTxWorkloadSchema = z
  .strictObject({ kind: z.literal('net-tx'), ...streamFields })
  .superRefine(checkStreamArrival);

export type NetTxWorkloadInput = z.infer<typeof netTxWorkloadSchema>;

export function toNetTxSpec(w: NetTxWorkloadInput): NetWorkloadSpec {
  const size = streamFrames(w);
  return {
    kind: 'net-tx',
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
