/**
 * DPDK vhost-user PMD costs. Sources: calibration.md s6/s10 (CSIT, DPDK commits) and
 * DPDK constants named in io-paths.md s5.
 */
import type { ParamDef } from './param.js';

export const DPDK_PARAMS: ParamDef[] = [
  {
    name: 'dpdk.pmd_cores', default: 1, unit: 'count', min: 1, max: 64, integer: true,
    source: 'topology knob; CSIT vhost tests use 1-2 cores (calibration.md s6)',
    description: 'PMD threads, each polling 100% of its own core; queues are spread round-robin',
  },
  {
    name: 'dpdk.tso', default: false, unit: 'bool',
    source: 'Open vSwitch Documentation/topics/userspace-tso.rst: other_config:userspace-tso-enable, "The default value is false"; netdev-dpdk then disables VIRTIO_NET_F_HOST_TSO4/6 and CSUM on vhost-user ports',
    description: 'the vhost-user switch negotiates TSO with the guest and hands TSO packets to the NIC; false: the guest segments (GSO) and the PMD moves MTU frames',
  },
  {
    name: 'dpdk.burst', default: 32, unit: 'packets', min: 1, max: 512, integer: true,
    source: 'DPDK app/test-pmd/testpmd.h DEF_PKT_BURST 32; lib/vhost MAX_PKT_BURST 32',
    description: 'packets per rx/tx/enqueue/dequeue burst call',
  },
  {
    name: 'dpdk.vring_per_pkt_ns', default: 40, unit: 'ns', min: 0, max: 5000,
    source: 'DPDK commit e7ef6885 "vhost: optimize cache access": enqueue ~170 cycles/pkt [V/D]; ring line transfers added by virtio.cacheline_ns',
    description: 'vhost enqueue or dequeue work per packet (descriptor to mbuf conversion)',
  },
  {
    name: 'dpdk.nic_per_pkt_ns', default: 15, unit: 'ns', min: 0, max: 5000,
    source: 'calibration.md s6: VPP L2 without a VM 22-24 Mpps/core (~44 ns for rx + lookup + tx) [V]',
    description: 'NIC PMD rx or tx descriptor work per packet',
  },
  {
    name: 'dpdk.switch_per_pkt_ns', default: 15, unit: 'ns', min: 0, max: 5000,
    source: 'calibration.md s6: VPP L2 ~44 ns per packet for rx + lookup + tx [V]; lookup share',
    description: 'vswitch forwarding decision per packet',
  },
  {
    name: 'dpdk.burst_ns', default: 50, unit: 'ns', min: 0, max: 5000,
    source: 'modelling estimate: burst call overhead, shadow used-ring flush, NIC doorbell',
    description: 'fixed cost of a non-empty burst',
  },
  {
    name: 'dpdk.poll_iter_ns', default: 100, unit: 'ns', min: 1, max: 100000,
    source: 'modelling estimate: one pass over the polled queues finding nothing',
    description: 'length of an empty poll loop; a new packet waits half of it on average',
  },
];
