/**
 * `net-pvp`: physical-virtual-physical forwarding, the set-up of FD.io CSIT's vhost tests
 * and DPDK's PVP reference benchmark. A traffic generator sends frames into the host NIC;
 * the back end switches them into the VM, where a polling forwarder (testpmd io
 * forwarding on a DPDK virtio PMD, interrupts off) sends each one back out of the other
 * port; the back end switches it to the NIC and the wire, and the generator receives it.
 * Flows are directions: flow f enters on queue pair f and leaves by its partner (f xor 1),
 * so two flows are CSIT's bidirectional traffic. Rates are per VM, split over the flows;
 * saturating sends back to back at line rate. Latency is one way, generator to generator
 * (with the tester's own timestamping latency, peer.tester_latency_ns).
 */
import { z } from 'zod';
import { checkStreamArrival, streamArrival, streamFields, streamFrames, type NetWorkloadSpec } from './net-common.js';
import { NO_THINK } from './net-rr.js';

// frames only: no bulk TCP-like mode (a forwarder does not terminate TCP)
const { message_bytes: _message, mtu_bytes: _mtu, window_bytes: _window, ...pvpFields } = streamFields;

export const netPvpWorkloadSchema = z
  .strictObject({
    kind: z.literal('net-pvp'),
    ...pvpFields,
    flows: z.number().int().gte(1).lte(1024).default(2),
  })
  .superRefine(checkStreamArrival);

export type NetPvpWorkloadInput = z.infer<typeof netPvpWorkloadSchema>;

export function toNetPvpSpec(w: NetPvpWorkloadInput): NetWorkloadSpec {
  const size = streamFrames(w);
  return {
    kind: 'net-pvp',
    frameBytes: size,
    responseBytes: size,
    arrival: streamArrival(w),
    flows: w.flows,
    think: NO_THINK,
    guestStackPs: 0,
    peerStackPs: 0,
    peerApp: NO_THINK,
    txBatch: w.tx_batch,
    tcp: null,
    ops: w.ops,
    warmupOps: w.warmup_ops,
  };
}
