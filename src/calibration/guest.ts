/**
 * Guest kernel costs: virtio-net, native NIC and e1000 driver work per packet, interrupt
 * entry, NAPI. Sources are calibration.md section 10 and the Linux drivers named.
 */
import type { ParamDef } from './param.js';

export const GUEST_PARAMS: ParamDef[] = [
  {
    name: 'guest.virtio_xmit_ns', default: 300, unit: 'ns', min: 0, max: 20000,
    source: 'calibration.md s10 guest.virtio_frontend_per_req 0.3 us [D] (DPDK enqueue 170-270 cycles [V])',
    description: 'virtio-net start_xmit: add buffers, barriers, kick decision (ring cache-line transfers added separately)',
  },
  {
    name: 'guest.virtio_rx_ns', default: 300, unit: 'ns', min: 0, max: 20000,
    source: 'modelling estimate: receive_buf plus try_fill_recv per packet, same order as start_xmit',
    description: 'virtio-net NAPI per received packet: detach buffer, build skb, refill',
  },
  {
    name: 'guest.tx_reclaim_ns', default: 50, unit: 'ns', min: 0, max: 5000,
    source: 'modelling estimate: free_old_xmit per buffer (detach + napi_consume_skb)',
    description: 'reclaiming one completed transmit buffer',
  },
  {
    name: 'guest.irq_ns', default: 500, unit: 'ns', min: 0, max: 20000,
    source: 'modelling estimate: guest hard-IRQ entry, vq callback, napi_schedule, softirq entry ~1,500 cycles',
    description: 'guest interrupt handler up to the NAPI poll',
  },
  {
    name: 'guest.napi_budget', default: 64, unit: 'packets', min: 1, max: 4096, integer: true,
    source: 'Linux napi_weight 64 (NAPI_POLL_WEIGHT); io-paths.md s10.2',
    description: 'packets per NAPI poll before it yields and reschedules',
  },
  {
    name: 'guest.softirq_restarts', default: 10, unit: 'count', min: 1, max: 1000000, integer: true,
    source: 'Linux kernel/softirq.c MAX_SOFTIRQ_RESTART 10',
    description: 'softirq (NAPI) tasks a vCPU runs in a row while application work waits before the application gets a turn (ksoftirqd)',
  },
  {
    name: 'guest.softirq_time_us', default: 2000, unit: 'us', min: 1, max: 1000000,
    source: 'Linux kernel/softirq.c MAX_SOFTIRQ_TIME msecs_to_jiffies(2)',
    description: 'time a vCPU spends on softirq work in a row while application work waits before the application gets a turn (ksoftirqd)',
  },
  {
    name: 'guest.tso', default: true, unit: 'bool',
    source: 'Linux: drivers set NETIF_F_TSO when the device offers it (virtio_net for VIRTIO_NET_F_HOST_TSO4, ixgbe/ixgbevf, e1000 on 82544 and later); ethtool -K tso',
    description: 'the guest hands TCP packets of up to 64 KiB to a device that segments them (bulk TCP-like streams)',
  },
  {
    name: 'guest.gso', default: true, unit: 'bool',
    source: 'Linux net/core/dev.c: NETIF_F_GSO is on by default; without device TSO the stack segments just before the driver (skb_gso_segment)',
    description: 'without device TSO, the stack still works on 64 KiB packets and cuts them into frames just before the driver; false: the stack works per MSS',
  },
  {
    name: 'guest.gro', default: true, unit: 'bool',
    source: 'Linux net/core/gro.c: napi_gro_receive in virtio_net, ixgbe and e1000 receive paths; ethtool -K gro, on by default',
    description: 'the guest merges the frames of a TCP stream received in one NAPI poll: the stack runs once per merged packet',
  },
  {
    name: 'guest.napi_tx', default: true, unit: 'bool',
    source: 'Linux drivers/net/virtio_net.c module param napi_tx = true',
    description: 'virtio-net TX completions by TX interrupt + NAPI (enable_cb_delayed) rather than only on the next xmit',
  },
  {
    name: 'guest.nic_xmit_ns', default: 250, unit: 'ns', min: 0, max: 20000,
    source: 'modelling estimate: ixgbe/ixgbevf xmit_frame descriptor setup, below the virtio front end (no ring protocol)',
    description: 'native NIC driver transmit per packet (bare metal, passthrough, VF)',
  },
  {
    name: 'guest.nic_rx_ns', default: 250, unit: 'ns', min: 0, max: 20000,
    source: 'modelling estimate: ixgbe clean_rx_irq per packet incl. buffer refill',
    description: 'native NIC driver receive per packet',
  },
  {
    name: 'guest.mmio_write_ns', default: 100, unit: 'ns', min: 0, max: 5000,
    source: 'modelling estimate: posted uncached MMIO write to a device BAR (doorbell)',
    description: 'a doorbell (tail) write that does not exit (passthrough BAR, bare metal)',
  },
  {
    name: 'guest.e1000_xmit_ns', default: 400, unit: 'ns', min: 0, max: 20000,
    source: 'modelling estimate: Linux e1000 xmit_frame descriptor setup (no MMIO; the TDT write is counted as an exit)',
    description: 'e1000 driver transmit per packet',
  },
  {
    name: 'guest.e1000_rx_ns', default: 400, unit: 'ns', min: 0, max: 20000,
    source: 'modelling estimate: Linux e1000 clean_rx_irq per packet incl. refill',
    description: 'e1000 driver receive per packet',
  },
  {
    name: 'guest.txqueuelen_packets', default: 1000, unit: 'packets', min: 1, integer: true,
    source: 'Linux net/ethernet/eth.c ether_setup(): dev->tx_queue_len = DEFAULT_TX_QUEUE_LEN (1000); virtio-net, e1000 and ixgbe keep it',
    description: 'qdisc length per transmit queue (pfifo_fast limit): an open-loop sender\'s packets beyond it are dropped',
  },
  {
    name: 'guest.nohz_timer_exits', default: true, unit: 'bool',
    source: 'Linux tick_nohz_idle_enter/exit reprogram the LAPIC TSC-deadline timer; KVM traps the MSR write',
    description: 'a tickless guest pays a timer exit when it goes idle and when it wakes (counted as timer, not I/O)',
  },
  {
    name: 'guest.timer_hz', default: 250, unit: 'Hz', min: 0, max: 10000,
    source: 'Linux CONFIG_HZ=250 (common distribution default); ticks run only while the vCPU is busy (NO_HZ_IDLE)',
    description: 'guest scheduler tick while busy: a timer exit and the tick handler stretch the work it lands on (counted as timer-tick, not I/O); 0 turns it off',
  },
  {
    name: 'guest.tick_ns', default: 2000, unit: 'ns', min: 0, max: 100000,
    source: 'Linux Documentation/trace/osnoise-tracer.rst example: local_timer interrupt noise 1,845-2,848 ns (net of entry and exit); the guest runs the same handler',
    description: 'guest scheduler tick handler (hrtimer_interrupt, scheduler_tick), besides the timer exit',
  },
];
