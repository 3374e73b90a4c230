/**
 * Virtio transport and ring knobs: version (0.95 legacy, 1.0 modern, 1.1 packed), queue
 * sizes, indirect descriptors, EVENT_IDX, ioeventfd, ring cache-line cost.
 */
import type { ParamDef } from './param.js';

export const VIRTIO_PARAMS: ParamDef[] = [
  {
    name: 'virtio.version', default: '1.0', unit: 'choice', choices: ['0.95', '1.0', '1.1'],
    source: 'OASIS virtio 1.1 s4.1.2 (legacy/transitional), s2.7 (packed ring); io-paths.md s1.1, s1.7',
    description: '0.95 legacy (one queue pair, port-I/O notify), 1.0 modern (MMIO notify, multiqueue), 1.1 packed ring',
  },
  {
    name: 'virtio.legacy_driver', default: false, unit: 'bool',
    source: 'io-paths.md s1.7: transitional devices accept a legacy driver (virtio_pci force_legacy)',
    description: 'drive a modern (transitional) device with a forced 0.95 driver: behaves as 0.95',
  },
  {
    name: 'virtio.rx_queue_size', default: 256, unit: 'descriptors', min: 2, max: 32768, integer: true,
    source: 'QEMU hw/net/virtio-net.c VIRTIO_NET_RX_QUEUE_DEFAULT_SIZE 256 (io-paths.md s10.1)',
    description: 'receive virtqueue size',
  },
  {
    name: 'virtio.tx_queue_size', default: 256, unit: 'descriptors', min: 2, max: 32768, integer: true,
    source: 'QEMU hw/net/virtio-net.c VIRTIO_NET_TX_QUEUE_DEFAULT_SIZE 256; above 256 only for vhost-user (virtio_net_max_tx_queue_size)',
    description: 'transmit virtqueue size',
  },
  {
    name: 'virtio.indirect', default: true, unit: 'bool',
    source: 'VIRTIO_RING_F_INDIRECT_DESC, on in QEMU DEFINE_VIRTIO_COMMON_FEATURES (VS1.1 s2.6.5.3)',
    description: 'indirect descriptors: a multi-segment packet takes one ring slot',
  },
  {
    name: 'virtio.event_idx', default: true, unit: 'bool',
    source: 'VIRTIO_RING_F_EVENT_IDX (VS1.1 s2.6.7, s2.6.10), on by default',
    description: 'precise notification suppression by event indexes; false uses the NO_NOTIFY/NO_INTERRUPT flags',
  },
  {
    name: 'virtio.ioeventfd', default: true, unit: 'bool',
    source: 'QEMU virtio-pci property ioeventfd, default on (io-paths.md s1.3 K1 vs K2)',
    description: 'kick by a light exit signalling an eventfd; false makes each kick a heavy exit into QEMU',
  },
  {
    name: 'virtio.host_tso', default: true, unit: 'bool',
    source: 'QEMU hw/net/virtio-net.c property host_tso4 default true (VIRTIO_NET_F_HOST_TSO4, needs a tap with vnet_hdr); vhost-user: see dpdk.tso',
    description: 'the device accepts TSO packets from the guest (the host side or the NIC segments them)',
  },
  {
    name: 'virtio.guest_tso', default: true, unit: 'bool',
    source: 'QEMU hw/net/virtio-net.c property guest_tso4 default true (VIRTIO_NET_F_GUEST_TSO4); with mergeable buffers a 64 KiB packet fills several receive buffers',
    description: 'the device may deliver merged (GRO) packets of up to 64 KiB to the guest; false: the host segments them back into frames first',
  },
  {
    name: 'virtio.cacheline_ns', default: 25, unit: 'ns', min: 0, max: 1000,
    source: 'modelling estimate: cross-core cache-line transfer on one socket; split ring touches >= 3 lines per side (io-paths.md s1.1)',
    description: 'cost of each ring cache line that moves between the driver and device cores',
  },
  {
    name: 'virtio.rx_buf_bytes', default: 1536, unit: 'bytes', min: 256, max: 65536, integer: true,
    source: 'Linux virtio_net mergeable buffers (GOOD_PACKET_LEN 1518 rounded); VIRTIO_NET_F_MRG_RXBUF on',
    description: 'size of one posted receive buffer; larger frames take several (mergeable) buffers',
  },
];
