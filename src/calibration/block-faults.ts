/**
 * How the block paths live through the timeline's faults (issue 16): the vhost-user
 * back end's restart and reconnect, the iSCSI initiator's detection of a dead target
 * and its reconnect, and the Linux NVMe driver's timeout, abort and controller reset.
 * Sources: migration-faults.md s3.1-3.4, io-paths.md s1.9.
 */
import type { ParamDef } from './param.js';

export const BLOCK_FAULT_PARAMS: ParamDef[] = [
  // ---- vhost-user back-end restart (SPDK vhost-user-blk)
  {
    name: 'vhost_user.inflight_tracking', default: true, unit: 'bool',
    source: 'vhost-user spec "Inflight I/O tracking", VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD (bit 12): QEMU vhost-user-blk keeps the region across back-end restarts and SPDK sets/clears its entries per request (migration-faults.md s3.1, io-paths.md s1.9)',
    description: 'the back end logs the requests it holds in the inflight region, and resubmits them after a restart (false: they fail)',
  },
  {
    name: 'vhost_user.reconnect_ms', default: 1000, unit: 'ms', min: 1, max: 600000,
    source: "QEMU chardev reconnect-ms (qapi/char.json; client sockets only; QEMU's default 0 never reconnects): SPDK's vhost-user-blk creates the socket (server) and QEMU connects as client (migration-faults.md s3.1); 1000 ms = reconnect=1, the smallest value of the older option in seconds (modelling choice)",
    description: "QEMU's interval between connection attempts after the back end's socket closed",
  },
  {
    name: 'vhost_user.setup_ms', default: 2, unit: 'ms', min: 0, max: 60000,
    source: 'modelling estimate: the vhost-user negotiation after connect (io-paths.md s1.9: features, SET_MEM_TABLE with the guest RAM fds mapped, SET_INFLIGHT_FD, per vring NUM/ADDR/BASE/KICK/CALL/ENABLE) is some 20-30 socket round trips of tens of us plus the mmaps; not measured (migration-faults.md s3.1: resubmission time not found)',
    description: 'from the connection to the rings running again (vhost-user set-up messages)',
  },
  // ---- iSCSI initiator (QEMU block/iscsi.c over libiscsi)
  {
    name: 'iscsi.nop_interval_ms', default: 5000, unit: 'ms', min: 1, max: 600000,
    source: 'QEMU block/iscsi.c NOP_INTERVAL 5000 (migration-faults.md s3.2)',
    description: 'period of the NOP-Out keepalive timer',
  },
  {
    name: 'iscsi.max_nop_failures', default: 3, unit: 'count', min: 1, max: 100, integer: true,
    source: 'QEMU block/iscsi.c MAX_NOP_FAILURES 3 (migration-faults.md s3.2): with 3 NOP-Outs unanswered at a tick, "NOP timeout. Reconnecting..."',
    description: 'NOP-Outs unanswered at which the initiator reconnects',
  },
  {
    name: 'iscsi.reconnect_backoff_step_ms', default: 1000, unit: 'ms', min: 0, max: 600000,
    source: 'libiscsi lib/connect.c iscsi_reconnect: after failed try n the initiator sleeps n s (n > 10: n plus rand()%10 - 5; at most 30 s) before the next; the waiting PDUs and the out queue are then requeued with new ITTs and CmdSNs',
    description: 'the reconnect back-off\'s step: try n waits n steps after the failed try n-1 (jittered above 10, capped at 30 steps)',
  },
  {
    name: 'iscsi.login_ms', default: 1, unit: 'ms', min: 0, max: 60000,
    source: 'modelling estimate: TCP connect and a login (security and operational negotiation, a few PDU round trips of tens of us over loopback) plus the target making the session; not measured (migration-faults.md s3.2: measured figures not found)',
    description: 'from a successful connect to the retried commands going out',
  },
  {
    name: 'iscsi.tcp_rto_min_ms', default: 200, unit: 'ms', min: 1, max: 120000,
    source: 'Linux include/net/tcp.h TCP_RTO_MIN = HZ/5 (200 ms); RTO = srtt + rttvar floored at rto_min, doubling per back-off up to TCP_RTO_MAX 120 s (migration-faults.md s3.4); over loopback srtt is microseconds',
    description: "TCP's first retransmission timeout: segments sent into an outage get through at the first retransmission after it",
  },
  // ---- Linux NVMe driver (drivers/nvme/host)
  {
    name: 'nvme.io_timeout_s', default: 30, unit: 's', min: 0.001, max: 3600,
    source: 'Linux drivers/nvme/host/core.c nvme_io_timeout = 30 s (nvme_core.io_timeout; migration-faults.md s3.3)',
    description: 'time after which the NVMe driver gives up waiting for a command (first time: Abort; second time: controller reset)',
  },
  {
    name: 'nvme.max_retries', default: 5, unit: 'count', min: 0, max: 255, integer: true,
    source: 'Linux drivers/nvme/host/core.c nvme_max_retries = 5 (migration-faults.md s3.3)',
    description: 'times a command cancelled by a controller reset is requeued before it fails',
  },
  {
    name: 'nvme.reset_ms', default: 250, unit: 'ms', min: 0, max: 600000,
    source: 'modelling estimate: nvme_reset_work disables the controller (CC.EN 0, waits CSTS.RDY 0), enables it (waits CSTS.RDY 1, bounded by CAP.TO x 500 ms; SSDs typically ready in tens to a few hundred ms), then identifies it and recreates the I/O queues (two admin commands per queue pair, tens of us each); not measured (migration-faults.md s3.3)',
    description: 'controller reset, from nvme_dev_disable to the requeued commands going out',
  },
];
