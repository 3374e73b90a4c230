/**
 * Host network stack between tap and the physical NIC (paths virtio-qemu, vhost-kernel,
 * emulated, emulated-vmm). Sources: calibration.md s3/s10 and Linux constants.
 */
import type { ParamDef } from './param.js';

export const HOSTNET_PARAMS: ParamDef[] = [
  {
    name: 'hostnet.tx_per_pkt_ns', default: 500, unit: 'ns', min: 0, max: 50000,
    source: 'modelling estimate: tun_get_user + netif_receive_skb + bridge forward + driver xmit; calibration.md s10 host.tcp_stack_oneway 3 us covers a whole TCP traversal, its L2 share is a fraction [D]',
    description: 'tap/tun to bridge to host NIC driver transmit, in the sender\'s context',
  },
  {
    name: 'hostnet.rx_per_pkt_ns', default: 500, unit: 'ns', min: 0, max: 50000,
    source: 'modelling estimate: bridge + tun enqueue per packet (merged by GRO or not); with hostnet.rx_per_frame_ns the 700 ns per single frame of before; calibration.md s3 tun skb_array guest RX 1.3-1.5 Mpps [V] bounds the tun side',
    description: 'host bridge and tun enqueue per received packet in NAPI softirq (a GRO-merged packet counts once)',
  },
  {
    name: 'hostnet.rx_per_frame_ns', default: 200, unit: 'ns', min: 0, max: 50000,
    source: 'modelling estimate: host NIC driver receive (descriptor, skb build) and the GRO lookup per wire frame',
    description: 'host NIC driver receive and GRO per received frame',
  },
  {
    name: 'hostnet.gro', default: true, unit: 'bool',
    source: 'Linux napi_gro_receive in the host NIC driver, on by default (ethtool -K gro)',
    description: 'the host merges the frames of a TCP stream before the bridge and tun',
  },
  {
    name: 'hostnet.gso_per_frame_ns', default: 300, unit: 'ns', min: 0, max: 50000,
    source: 'modelling estimate: skb_segment per MSS (header copy, checksum fix-up, skb allocation), a few hundred ns',
    description: 'software segmentation (GSO) of a large packet, per frame cut: before a NIC without TSO, or before a tap whose guest lacks GUEST_TSO',
  },
  {
    name: 'hostnet.tx_clean_ns', default: 50, unit: 'ns', min: 0, max: 5000,
    source: 'modelling estimate: ixgbe_clean_tx_irq per completed descriptor',
    description: 'host driver reclaiming one transmitted descriptor',
  },
  {
    name: 'hostnet.napi_budget', default: 64, unit: 'packets', min: 1, max: 4096, integer: true,
    source: 'Linux NAPI_POLL_WEIGHT 64',
    description: 'packets per host NAPI poll',
  },
  {
    name: 'hostnet.softirq_packets', default: 3000, unit: 'packets', min: 1, max: 1000000, integer: true,
    source: 'Linux net/core/dev.c netdev_budget 300 per net_rx_action, kernel/softirq.c MAX_SOFTIRQ_RESTART 10 passes of __do_softirq: 3,000',
    description: 'packets one softirq run on the way out of an interrupt may receive before the rest is deferred to ksoftirqd',
  },
  {
    name: 'hostnet.softirq_time_us', default: 2000, unit: 'us', min: 1, max: 1000000,
    source: 'Linux kernel/softirq.c MAX_SOFTIRQ_TIME msecs_to_jiffies(2)',
    description: 'time one softirq run on the way out of an interrupt may take before the rest is deferred to ksoftirqd',
  },
  {
    name: 'hostnet.tap_queue', default: 1000, unit: 'packets', min: 1, max: 1000000, integer: true,
    source: 'Linux tun default txqueuelen 1000 (TUN_READQ_SIZE 500 for the socket ring) ',
    description: 'packets the tap holds for its reader; more are dropped',
  },
];
