/**
 * vhost-net (kernel) worker costs and limits. Sources: calibration.md s3/s10 and
 * drivers/vhost/net.c constants (io-paths.md s4, s10.5).
 */
import type { ParamDef } from './param.js';

export const VHOST_PARAMS: ParamDef[] = [
  {
    name: 'vhost.per_pkt_ns', default: 600, unit: 'ns', min: 0, max: 50000,
    source: 'calibration.md s10 vhost_kernel.per_pkt 0.7 us incl. copy (tun/vhost pktgen 1.3-1.5 Mpps [V]); copy modelled separately',
    description: 'vhost-net handle_tx/handle_rx work per packet (descriptor walk, translation, used entry)',
  },
  {
    name: 'vhost.pkt_weight', default: 256, unit: 'packets', min: 1, max: 65536, integer: true,
    source: 'Linux drivers/vhost/net.c VHOST_NET_PKT_WEIGHT 256',
    description: 'packets per worker run before it requeues itself (fairness)',
  },
  {
    name: 'vhost.byte_weight', default: 524288, unit: 'bytes', min: 1, max: 1073741824, integer: true,
    source: 'Linux drivers/vhost/net.c VHOST_NET_WEIGHT 0x80000',
    description: 'bytes per worker run before it requeues itself',
  },
  {
    name: 'vhost.batch', default: 64, unit: 'packets', min: 1, max: 1024, integer: true,
    source: 'Linux drivers/vhost/net.c VHOST_NET_BATCH 64',
    description: 'used entries flushed (and signalled) at most every this many packets',
  },
  {
    name: 'vhost.busyloop_us', default: 0, unit: 'us', min: 0, max: 100000,
    source: 'VHOST_SET_VRING_BUSYLOOP_TIMEOUT, QEMU tap poll-us, default 0 (io-paths.md s1.5)',
    description: 'busy-poll the rings this long (kicks off) before re-enabling notifications and sleeping',
  },
];
