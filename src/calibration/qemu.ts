/**
 * QEMU user-space device model costs: main loop, virtio-net back end, e1000 emulation.
 * Sources are calibration.md section 10 and QEMU constants named in io-paths.md.
 */
import type { ParamDef } from './param.js';

export const QEMU_PARAMS: ParamDef[] = [
  {
    name: 'qemu.virtio_per_pkt_ns', default: 800, unit: 'ns', min: 0, max: 50000,
    source: 'calibration.md s10 qemu.virtio_backend_per_req 2 us [D] minus the syscall, copy and host stack modelled separately',
    description: 'virtqueue_pop (map guest buffers) and virtqueue_push per packet in QEMU',
  },
  {
    name: 'qemu.tx_copies', default: 1, unit: 'count', min: 1, max: 4, integer: true,
    source: 'QEMU net/tap.c tap_receive_iov: writev from guest memory, tun copies once (io-paths.md B.1); Firecracker before v1.3 copied into tx_frame_buf first: 2 (commit ed6104b8 "avoid an extra user-space copy")',
    description: 'copies of each transmitted frame in the user-space back end (1: writev from guest memory; 2: through a bounce buffer)',
  },
  {
    name: 'qemu.rx_copies', default: 2, unit: 'count', min: 1, max: 4, integer: true,
    source: 'QEMU net/tap.c tap_send reads into a buffer, virtio_net_receive copies into guest buffers: 2 (io-paths.md B.2); Firecracker since v1.10 readv straight into guest buffers: 1 (commit e03d4bcc)',
    description: 'copies of each received frame in the user-space back end',
  },
  {
    name: 'qemu.main_loop_iter_ns', default: 1000, unit: 'ns', min: 0, max: 50000,
    source: 'modelling estimate: ppoll return, fd dispatch and BQL acquisition per main-loop iteration',
    description: 'one main-loop iteration that dispatches a ready fd or bottom half',
  },
  {
    name: 'qemu.bh_ns', default: 500, unit: 'ns', min: 0, max: 50000,
    source: 'modelling estimate: qemu_bh_schedule + aio_notify and running the bottom half on the next iteration',
    description: 'scheduling and entering a bottom half (virtio-net tx=bh)',
  },
  {
    name: 'qemu.tx_burst', default: 256, unit: 'packets', min: 1, max: 4096, integer: true,
    source: 'QEMU include/hw/virtio/virtio-net.h TX_BURST 256 (x-txburst); invariant 11.3-8',
    description: 'packets per TX bottom-half run before it reschedules itself',
  },
  {
    name: 'qemu.tap_read_limit', default: 50, unit: 'packets', min: 1, max: 4096, integer: true,
    source: 'QEMU net/tap.c tap_send: at most 50 packets per callback',
    description: 'packets read from the tap per main-loop callback',
  },
  {
    name: 'qemu.e1000_tx_per_pkt_ns', default: 1500, unit: 'ns', min: 0, max: 50000,
    source: 'modelling estimate: hw/net/e1000.c process_tx_desc (descriptor and payload DMA through the memory API, write-back)',
    description: 'e1000 emulation work per transmitted packet, besides copies and syscalls',
  },
  {
    name: 'qemu.e1000_rx_per_pkt_ns', default: 1500, unit: 'ns', min: 0, max: 50000,
    source: 'modelling estimate: hw/net/e1000.c e1000_receive_iov (descriptor read, payload write, write-back)',
    description: 'e1000 emulation work per received packet, besides copies and syscalls',
  },
  {
    name: 'qemu.e1000_reg_ns', default: 300, unit: 'ns', min: 0, max: 50000,
    source: 'modelling estimate: e1000 register handler (ICR, IMS, IMC, STATUS, TDT, RDT) after the exit',
    description: 'device work for one trapped e1000 register access',
  },
  {
    name: 'e1000.itr_ns', default: 14000, unit: 'ns', min: 0, max: 10000000,
    source: 'Linux e1000 InterruptThrottleRate=3: lowest_latency class 70,000 ints/s; QEMU hw/net/e1000.c emulates ITR (mit_timer)',
    description: 'minimum spacing of e1000 interrupts (interrupt mitigation); 0 disables',
  },
  {
    name: 'e1000.ring_size', default: 256, unit: 'descriptors', min: 8, max: 4096, integer: true,
    source: 'Linux e1000 default TxDescriptors/RxDescriptors 256',
    description: 'e1000 transmit and receive descriptor ring size',
  },
];
