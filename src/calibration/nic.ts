/**
 * Physical NIC, PCIe, IOMMU, SR-IOV and wire. Sources: calibration.md s4 (pcie-bench,
 * wire arithmetic), s5 (SR-IOV), and driver constants named in io-paths.md s7.
 */
import type { ParamDef } from './param.js';

export const NIC_PARAMS: ParamDef[] = [
  {
    name: 'nic.line_rate_gbps', default: 10, unit: 'Gb/s', min: 0.01, max: 800,
    source: 'calibration.md s4.2: 10 GbE, 64 B frames 67.2 ns, 1,518 B 1.23 us with 20 B preamble + IFG [D]',
    description: 'port line rate; each frame also occupies 20 B of preamble and inter-frame gap on the wire',
  },
  {
    name: 'nic.tso', default: true, unit: 'bool',
    source: 'Linux ixgbe/ixgbevf/i40e set NETIF_F_TSO by default (ethtool -k); the NIC cuts a 64 KiB TSO packet into MTU frames',
    description: 'the physical NIC (and its VFs) segments TSO packets in hardware; false: the sender\'s stack segments in software (GSO)',
  },
  {
    name: 'nic.pipeline_ns', default: 500, unit: 'ns', min: 0, max: 10000,
    source: 'calibration.md s10 nic.pipeline_latency 1 us (0.5-2) [R]; lower end for a modern 10 GbE NIC',
    description: 'NIC internal latency per traversal (MAC/PHY, parsing, queue selection), excluding PCIe',
  },
  {
    name: 'nic.tx_ring', default: 512, unit: 'descriptors', min: 8, max: 65536, integer: true,
    source: 'Linux ixgbe IXGBE_DEFAULT_TXD 512',
    description: 'transmit descriptor ring per NIC queue',
  },
  {
    name: 'nic.rx_ring', default: 512, unit: 'descriptors', min: 8, max: 65536, integer: true,
    source: 'Linux ixgbe IXGBE_DEFAULT_RXD 512',
    description: 'receive descriptor ring per NIC queue; a frame with no free descriptor is dropped',
  },
  {
    name: 'nic.itr_ns', default: 10000, unit: 'ns', min: 0, max: 10000000,
    source: 'modelling estimate: ixgbe dynamic ITR at its lowest-latency setting, ~100k interrupts/s',
    description: 'minimum spacing of NIC interrupts per queue (moderation); 0 disables',
  },
  {
    name: 'pcie.dma_read_ns', default: 550, unit: 'ns', min: 0, max: 10000,
    source: 'calibration.md s4.1 pcie-bench: DMA read 64 B 546-560 ns on Xeon E5 [V]',
    description: 'DMA read round trip of a small object (descriptor, 64 B payload)',
  },
  {
    name: 'pcie.dma_read_ns_per_kib', default: 316, unit: 'ns/KiB', min: 0, max: 10000,
    source: 'calibration.md s4.1 pcie-bench: 1,520 B read ~1,000 ns vs 560 ns at 64 B [V] => ~316 ns per extra KiB [D]',
    description: 'extra DMA read latency per KiB of payload',
  },
  {
    name: 'pcie.dma_write_ns', default: 250, unit: 'ns', min: 0, max: 10000,
    source: 'calibration.md s4.1 pcie-bench: write+read 786 ns minus read 560 ns [D]',
    description: 'posted DMA write reaching host memory (payload, descriptor write-back, MSI)',
  },
  {
    name: 'iommu.enabled', default: true, unit: 'bool',
    source: 'io-paths.md s1.8: VFIO maps guest RAM in the IOMMU; bare metal runs iommu=pt (identity, no translation)',
    description: 'translate device DMA for VFIO-assigned devices (passthrough, VF, DPDK PF)',
  },
  {
    name: 'iommu.guest_page_kib', default: 4, unit: 'KiB', min: 4, max: 1048576, integer: true, numberChoices: [4, 2048, 1048576],
    source: 'QEMU guest RAM is 4 KiB-backed unless hugepages are configured (io-paths.md s1.8)',
    description: 'IOMMU page size covering guest RAM (4, 2048 or 1048576); DPDK mbufs always use 2 MiB pages',
  },
  {
    name: 'iommu.iotlb_entries', default: 128, unit: 'entries', min: 1, max: 65536, integer: true,
    source: 'calibration.md s4.1: IOTLB misses appear between a 256 KiB and a 1 MiB window of 4 KiB pages [V] => 64-256 entries [D]',
    description: 'IOTLB capacity (direct-mapped model)',
  },
  {
    name: 'iommu.miss_ns', default: 300, unit: 'ns', min: 0, max: 10000,
    source: 'calibration.md s10 iommu.iotlb_miss +0.28-0.35 us per DMA [V]',
    description: 'page walk added to a DMA whose page misses the IOTLB',
  },
  {
    name: 'sriov.max_vfs', default: 63, unit: 'count', min: 1, max: 256, integer: true,
    source: 'Linux drivers/net/ethernet/intel/ixgbe/ixgbe_sriov.h IXGBE_MAX_VFS_DRV_LIMIT 63',
    description: 'virtual functions the PF driver can enable (one per VM)',
  },
  {
    name: 'sriov.vf_max_queues', default: 4, unit: 'count', min: 1, max: 64, integer: true,
    source: 'ixgbe 82599 pools: 4 queues per VF with up to 32 VFs (io-paths.md s7 row 5)',
    description: 'queue pairs a VF offers; more is an input error',
  },
  {
    name: 'sriov.vf_rate_limit_gbps', default: 0, unit: 'Gb/s', min: 0, max: 800,
    source: 'ip link set ... vf N max_tx_rate; ixgbe_set_vf_rate_limit (io-paths.md s7 row 2)',
    description: 'per-VF transmit rate limit; 0 means none',
  },
  {
    name: 'sriov.switch_ns', default: 50, unit: 'ns', min: 0, max: 10000,
    source: 'modelling estimate: the VEB / L2 sorter lookup that picks the VF pool runs in the NIC pipeline; a few tens of ns',
    description: 'extra NIC latency for the VF pool selection and arbitration',
  },
  {
    name: 'peer.location', default: 'remote', unit: 'choice', choices: ['remote', 'host'],
    source: 'topology knob: netperf/iperf3 against another machine (remote) or against a server on the VM\'s own host, behind the bridge (host), as KVM and Firecracker measurements often do',
    description: 'where the other end runs: a bare-metal host across the wire, or a process on this host reached through tap and bridge (paths with a host stack only)',
  },
  {
    name: 'peer.tester_latency_ns', default: 0, unit: 'ns', min: 0, max: 1000000,
    source: 'FD.io CSIT methodology_packet_latency.rst: "TG setup introduces an always-on Tx/Rx interface latency of about 2 * 2 usec per direction" (TRex software timestamps); 0 for a hardware tester',
    description: 'latency a traffic generator adds to what it measures (net-pvp), e.g. 4000 for CSIT\'s TRex',
  },
  {
    name: 'wire.latency_ns', default: 200, unit: 'ns', min: 0, max: 100000000,
    source: 'modelling estimate: 2 m direct-attach cable (10 ns) plus SFP+ PHY latencies',
    description: 'propagation latency between the host NIC and the peer',
  },
];
