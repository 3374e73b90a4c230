/**
 * Calibrated parameters (nanoseconds, as users write them) turned into the picosecond
 * cost structures the actors take. One function per actor family.
 */
import { bool, num, psOf, str, type ParamValues } from '../../../calibration/param.js';
import type { DpdkCosts } from '../../../actors/net/dpdk-poller.js';
import type { NicDriverCosts } from '../../../actors/net/guest-nic-driver.js';
import type { VirtioDriverCosts } from '../../../actors/net/guest-virtio-net.js';
import type { NicCosts } from '../../../actors/net/nic.js';
import type { PeerCosts } from '../../../actors/net/peer.js';
import type { NetWorkloadSpec } from '../../../workloads/net-common.js';
import type { NetPathDef } from './net-run.js';
import { hostIdleStates } from '../../host-run.js';
import { GSO_MAX_PAYLOAD_BYTES, VIRTIO_NET_HDR_BYTES } from '../../../actors/net/messages.js';



export function nicCosts(p: ParamValues): NicCosts {
  return {
    lineRateGbps: num(p, 'nic.line_rate_gbps'),
    pipelinePs: psOf(p, 'nic.pipeline_ns'),
    dmaReadPs: psOf(p, 'pcie.dma_read_ns'),
    dmaReadPsPerKib: psOf(p, 'pcie.dma_read_ns_per_kib'),
    dmaWritePs: psOf(p, 'pcie.dma_write_ns'),
    itrPs: psOf(p, 'nic.itr_ns'),
    vfSwitchPs: psOf(p, 'sriov.switch_ns'),
    txRing: num(p, 'nic.tx_ring'),
    rxRing: num(p, 'nic.rx_ring'),
  };
}

/** The peer is a bare-metal host with the same NIC and driver costs as ours. */
export function peerCosts(p: ParamValues): PeerCosts {
  return {
    lineRateGbps: num(p, 'nic.line_rate_gbps'),
    wireLatencyPs: psOf(p, 'wire.latency_ns'),
    pipelinePs: psOf(p, 'nic.pipeline_ns'),
    dmaReadPs: psOf(p, 'pcie.dma_read_ns'),
    dmaReadPsPerKib: psOf(p, 'pcie.dma_read_ns_per_kib'),
    dmaWritePs: psOf(p, 'pcie.dma_write_ns'),
    doorbellPs: psOf(p, 'guest.mmio_write_ns'),
    irqPs: psOf(p, 'host.irq_ns'),
    xmitPs: psOf(p, 'guest.nic_xmit_ns'),
    rxPs: psOf(p, 'guest.nic_rx_ns'),
    idleExitPs: psOf(p, 'host.idle_exit_ns'),
    idleStates: hostIdleStates(p),
    coldCachePs: psOf(p, 'host.cold_cache_ns'),
    testerLatencyPs: psOf(p, 'peer.tester_latency_ns'),
  };
}

export function nicDriverCosts(p: ParamValues, spec: NetWorkloadSpec, offloads: Offloads): NicDriverCosts {
  return {
    xmitPs: psOf(p, 'guest.nic_xmit_ns'),
    rxPs: psOf(p, 'guest.nic_rx_ns'),
    reclaimPs: psOf(p, 'guest.tx_reclaim_ns'),
    doorbellPs: psOf(p, 'guest.mmio_write_ns'),
    napiBudget: num(p, 'guest.napi_budget'),
    stackPs: spec.guestStackPs,
    txQueueLen: num(p, 'guest.txqueuelen_packets'),
    isTso: offloads.isTsoToDevice,
    isGro: offloads.isGuestGro,
    tcpMessageBytes: spec.tcp?.messageBytes ?? 0,
    maxTxUnits: maxTxUnits(spec, offloads),
  };
}

/**
 * Size of the guest's mergeable receive buffers: virtio.rx_buf_bytes, or a page when the
 * device delivers merged 64 KiB packets (Linux get_mergeable_buf_len follows an EWMA of
 * the packet lengths, clamped to PAGE_SIZE less the header) [bytes].
 */
export function rxBufBytesOf(p: ParamValues, spec: NetWorkloadSpec, offloads: Offloads): number {
  return spec.tcp !== null && offloads.isGuestTso ? 4096 - VIRTIO_NET_HDR_BYTES : num(p, 'virtio.rx_buf_bytes');
}

/** Payload of one full GSO/TSO packet: as many whole segments as fit [bytes]. */
export function gsoPayloadBytes(mssBytes: number): number {
  return Math.floor(GSO_MAX_PAYLOAD_BYTES / mssBytes) * mssBytes;
}

/** Frames one op may put into a transmit ring: a GSO packet's when the guest cuts it, else 1. */
export function maxTxUnits(spec: NetWorkloadSpec, offloads: Offloads): number {
  if (spec.tcp === null || offloads.isTsoToDevice || !offloads.isGuestAggregating) return 1;
  return gsoPayloadBytes(spec.tcp.mssBytes) / spec.tcp.mssBytes;
}

export function virtioDriverCosts(p: ParamValues, spec: NetWorkloadSpec, offloads: Offloads): VirtioDriverCosts {
  return {
    xmitPs: psOf(p, 'guest.virtio_xmit_ns'),
    rxPs: psOf(p, 'guest.virtio_rx_ns'),
    reclaimPs: psOf(p, 'guest.tx_reclaim_ns'),
    napiBudget: num(p, 'guest.napi_budget'),
    hasNapiTx: bool(p, 'guest.napi_tx'),
    stackPs: spec.guestStackPs,
    rxBufBytes: rxBufBytesOf(p, spec, offloads),
    txQueueLen: num(p, 'guest.txqueuelen_packets'),
    isTso: offloads.isTsoToDevice,
    isGro: offloads.isGuestGro,
    tcpMessageBytes: spec.tcp?.messageBytes ?? 0,
    maxTxUnits: maxTxUnits(spec, offloads),
  };
}

export function dpdkCosts(p: ParamValues, rxBufBytes: number): DpdkCosts {
  return {
    burst: num(p, 'dpdk.burst'),
    vringPerPktPs: psOf(p, 'dpdk.vring_per_pkt_ns'),
    nicPerPktPs: psOf(p, 'dpdk.nic_per_pkt_ns'),
    switchPerPktPs: psOf(p, 'dpdk.switch_per_pkt_ns'),
    burstPs: psOf(p, 'dpdk.burst_ns'),
    callPs: psOf(p, 'host.syscall_ns') + psOf(p, 'kvm.irq_route_ns'),
    rxBufBytes,
  };
}

/** Offloads in effect for bulk TCP-like streams. */
export interface Offloads {
  /** The guest hands 64 KiB packets to its device (guest.tso and the device's TSO). */
  isTsoToDevice: boolean;
  /** The guest's stack works on 64 KiB packets (TSO to the device, or GSO before it). */
  isGuestAggregating: boolean;
  /** The guest merges received frames (GRO). */
  isGuestGro: boolean;
  /** The device may deliver merged packets to the guest (virtio GUEST_TSO). */
  isGuestTso: boolean;
  /** The physical NIC segments TSO packets. */
  isNicTso: boolean;
  /** The host merges received frames (GRO). */
  isHostGro: boolean;
}

export function resolveOffloads(def: Pick<NetPathDef, 'offloads'>, p: ParamValues): Offloads {
  const dev = def.offloads?.(p) ?? { tso: false, guestTso: false };
  const isTsoToDevice = bool(p, 'guest.tso') && dev.tso;
  return {
    isTsoToDevice,
    isGuestAggregating: isTsoToDevice || bool(p, 'guest.gso'),
    isGuestGro: bool(p, 'guest.gro'),
    isGuestTso: dev.guestTso,
    isNicTso: bool(p, 'nic.tso'),
    isHostGro: bool(p, 'hostnet.gro'),
  };
}

/** The idle states host cores may enter (host.cstate_max and the table). */
