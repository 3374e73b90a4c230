/**
 * `net-rr`: request/response transactions between an application in the guest (the
 * client) and a remote peer (the server), like netperf TCP_RR. Closed loop: each flow
 * keeps `outstanding` transactions in flight, with an optional think time; or open loop
 * when `rate_per_s` is given (Poisson or constant transaction arrivals per VM).
 * Latency is the round trip seen by the guest application.
 */
import { z } from 'zod';
import { Constant } from '../core/distributions.js';
import { distributionSchema } from '../scenario/distribution-schema.js';
import { frameDistribution, frameSizeSchema, nsDistribution, opsFields, type NetWorkloadSpec } from './net-common.js';

export const netRrWorkloadSchema = z.strictObject({
  kind: z.literal('net-rr'),
  size_bytes: frameSizeSchema.default(64),
  response_bytes: frameSizeSchema.optional(),
  outstanding: z.number().int().gte(1).lte(4096).default(1),
  rate_per_s: z.number().positive().optional(),
  /** Open loop only (with rate_per_s): how transactions arrive; poisson unless given. */
  arrival: z.enum(['poisson', 'constant']).optional(),
  flows: z.number().int().gte(1).lte(1024).default(1),
  think_ns: distributionSchema.default(0),
  guest_stack_ns: z.number().nonnegative().default(3000),
  peer_stack_ns: z.number().nonnegative().default(3000),
  peer_app_ns: distributionSchema.default(0),
  ...opsFields,
}).superRefine((w, ctx) => {
  // without a rate the loop is closed (outstanding): an arrival kind would be ignored
  if (w.arrival !== undefined && w.rate_per_s === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['arrival'],
      message: `arrival ${w.arrival} is an open loop and needs rate_per_s (transactions per second per VM); without a rate net-rr is a closed loop of outstanding transactions per flow`,
    });
  }
});

export type NetRrWorkloadInput = z.infer<typeof netRrWorkloadSchema>;

export function toNetRrSpec(w: NetRrWorkloadInput): NetWorkloadSpec {
  const size = frameDistribution(w.size_bytes);
  return {
    kind: 'net-rr',
    frameBytes: size,
    responseBytes: w.response_bytes === undefined ? size : frameDistribution(w.response_bytes),
    arrival:
      w.rate_per_s === undefined
        ? { kind: 'closed', outstanding: w.outstanding }
        : { kind: w.arrival ?? 'poisson', ratePerS: w.rate_per_s },
    flows: w.flows,
    think: nsDistribution(w.think_ns),
    guestStackPs: Math.round(w.guest_stack_ns * 1000),
    peerStackPs: Math.round(w.peer_stack_ns * 1000),
    peerApp: nsDistribution(w.peer_app_ns),
    txBatch: 1,
    tcp: null,
    ops: w.ops,
    warmupOps: w.warmup_ops,
  };
}

export const NO_THINK = new Constant(0);
