/**
 * Network fault timers and outage lengths (issue 16; migration-faults.md s3.1, s3.4, s3.6):
 * the TCP sender's retransmission timers that repair a lost request or response, the
 * SR-IOV VF reset time and the DPDK vhost-user client's reconnect interval. They only
 * matter in runs whose timeline has loss, link-down, vf-reset or backend-restart.
 */
import type { ParamDef } from './param.js';

export const NET_FAULT_PARAMS: ParamDef[] = [
  {
    name: 'tcp.rto_min_ms', default: 200, unit: 'ms', min: 1, max: 120_000,
    source: 'include/net/tcp.h TCP_RTO_MIN = HZ/5 (200 ms); the rttvar floor of the RTO and the delayed-ACK allowance of the loss probe (migration-faults.md s3.4)',
    description: 'TCP minimum retransmission timeout: RTO = srtt + max(4 rttvar, rto_min)',
  },
  {
    name: 'tcp.rto_max_ms', default: 120_000, unit: 'ms', min: 1, max: 3_600_000,
    source: 'include/net/tcp.h TCP_RTO_MAX = 120*HZ (migration-faults.md s3.4)',
    description: 'cap of the exponentially backed-off retransmission timeout',
  },
  {
    name: 'tcp.rto_init_ms', default: 1000, unit: 'ms', min: 1, max: 120_000,
    source: 'include/net/tcp.h TCP_TIMEOUT_INIT = 1 s; RFC 6298 s2.1 (before the first RTT sample)',
    description: 'retransmission timeout of a flow with no RTT sample yet',
  },
  {
    name: 'tcp.tlp', default: true, unit: 'bool',
    source: 'net.ipv4.tcp_early_retrans default 3 enables the tail loss probe (Documentation/networking/ip-sysctl.rst; tcp_schedule_loss_probe: PTO = 2 srtt + rto_min with one packet out, else + 2 ms, capped at the RTO)',
    description: 'the first retransmission of a lost tail segment is a loss probe after the PTO (false: after the RTO)',
  },
  {
    name: 'sriov.vf_reset_ms', default: 100, unit: 'ms', min: 0, max: 60_000,
    source: 'modelling estimate: no measured VF reset time found (migration-faults.md s3.6); iavf_main.c reset task polls for the reset every 5-10 ms (IAVF_RESET_WAIT_DETECTED_COUNT 500) and for VIRTCHNL_VFR_VFACTIVE every 10 ms (IAVF_RESET_WAIT_MS, up to 2000 times), then rebuilds rings and interrupts: a few polls of each plus the rebuild',
    description: 'time a reset VF (or an assigned NIC reset by the host) passes no traffic; its rings are reinitialised',
  },
  {
    name: 'dpdk.reconnect_interval_ms', default: 1000, unit: 'ms', min: 1, max: 60_000,
    source: 'DPDK lib/vhost/socket.c vhost_user_client_reconnect: one connect() attempt per pending socket, then sleep(1) (migration-faults.md s3.1, io-paths.md s1.9)',
    description: 'a restarted vhost-user back end (socket client) reconnects on the next tick of this interval after its restart',
  },
];
