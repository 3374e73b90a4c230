/**
 * The iSCSI back end (io-paths.md s9, B.3's network variant): QEMU's libiscsi initiator,
 * the TCP connection over loopback, and the target process (a user-space tgtd-like
 * target, LIO in the kernel, or SPDK's polled iSCSI target) in front of the SSD.
 *
 * calibration.md s7 has no published figure for the hop; its estimate (s7, s10
 * iscsi_loopback.per_io 30 us, 15-100 us) is one loopback TCP request/response plus the
 * target's processing, so the model builds it from those parts:
 * - the TCP stack per side comes from s10 host.tcp_stack_oneway 3 us [D] (itself from the
 *   dev host's 15.6 us same-core loopback RR, s3): the sender's 3 us is the send syscall
 *   (host.syscall_ns) plus loopback.tx_per_segment_ns; the receiver's 3 us is the loopback
 *   RX softirq that the sender's transmit runs on its own CPU (loopback.rx_per_segment_ns)
 *   plus tcp_recvmsg (loopback.recv_per_read_ns) and the recv syscall. A same-core
 *   request/response of 512 B then costs 2 x (6.0 us + a context switch 1.5 us + a copy)
 *   = 15.1 us against the 15.6 us measured;
 * - each target's protocol and command work is a modelling estimate, stated per param.
 */
import type { ParamDef } from './param.js';

const STACK = 'calibration.md s10 host.tcp_stack_oneway 3 us per side [D] (from s3 loopback TCP RR 15.6 us same core [S])';

export const ISCSI_PARAMS: ParamDef[] = [
  {
    name: 'blk.backend', default: 'local', unit: 'choice', choices: ['local', 'iscsi'],
    source: 'io-paths.md B.3 (file back end, or the network protocol driver: QEMU block/iscsi.c over libiscsi) and s9 (iSCSI over TCP to localhost)',
    description: 'where the back end finds the disk: the local block device, or an iSCSI LUN served over TCP on localhost by a target in front of it (virtio-qemu)',
  },
  {
    name: 'iscsi.target', default: 'lio', unit: 'choice', choices: ['user', 'lio', 'spdk'],
    source: 'io-paths.md s9: LIO iscsi_target_mod (per-connection RX/TX kernel threads), tgtd in user space, SPDK iSCSI target reactors (S lib/iscsi); LIO is what distributions configure with targetcli',
    description: 'the target: user (tgtd-like: an event loop and backing-store worker threads doing pread/pwrite), lio (kernel RX and TX threads, iblock bios) or spdk (a reactor polling its core, user-space NVMe)',
  },
  {
    name: 'iscsi.cmd_window', default: 0, unit: 'commands', min: 0, max: 4096, integer: true,
    source: "the target's queue depth sets MaxCmdSN - ExpCmdSN + 1 (RFC 7143 s3.2.2.1): LIO TA_DEFAULT_CMDSN_DEPTH 64 (drivers/target/iscsi/iscsi_target_core.h; 16 in older kernels), tgtd MAX_QUEUE_CMD_DEF 128 (usr/iscsi/iscsid.h), SPDK DEFAULT_MAX_QUEUE_DEPTH 64 (lib/iscsi/iscsi.h); libiscsi holds commands past MaxCmdSN in its queue",
    description: 'commands in flight per connection at most (CmdSN window); 0: the target\'s default (user 128, lio 64, spdk 64)',
  },
  {
    name: 'iscsi.initiator_max_recv_segment_bytes', default: 262144, unit: 'bytes', min: 512, max: 16777215, integer: true,
    source: 'libiscsi lib/init.c initiator_max_recv_data_segment_length 262144 (declared at login; the target cuts Data-In PDUs to it)',
    description: 'MaxRecvDataSegmentLength the initiator declares: largest Data-In PDU payload',
  },
  {
    name: 'iscsi.target_max_recv_segment_bytes', default: 0, unit: 'bytes', min: 0, max: 16777215, integer: true,
    source: 'RFC 7143 s13.12 default 8192; LIO INITIAL_MAXRECVDATASEGMENTLENGTH 8192 (iscsi_target_parameters.h), tgtd 8192, SPDK SPDK_ISCSI_MAX_RECV_DATA_SEGMENT_LENGTH 65536 (lib/iscsi/iscsi.h)',
    description: "MaxRecvDataSegmentLength the target declares: largest immediate-data or Data-Out PDU payload; 0: the target's default (user 8192, lio 8192, spdk 65536)",
  },
  {
    name: 'iscsi.first_burst_bytes', default: 0, unit: 'bytes', min: 0, max: 16777215, integer: true,
    source: 'RFC 7143 s13.14 default 65536, negotiated as the minimum: libiscsi offers 262144 (lib/init.c), LIO INITIAL_FIRSTBURSTLENGTH 65536, tgtd 65536, SPDK SPDK_ISCSI_FIRST_BURST_LENGTH 8192',
    description: "FirstBurstLength: unsolicited write data at most (immediate plus unsolicited Data-Out); 0: the target's default (user 65536, lio 65536, spdk 8192)",
  },
  {
    name: 'iscsi.max_burst_bytes', default: 262144, unit: 'bytes', min: 512, max: 16777215, integer: true,
    source: 'RFC 7143 s13.13 default 262144; libiscsi max_burst_length 262144, LIO INITIAL_MAXBURSTLENGTH 262144 (the minimum is negotiated)',
    description: 'MaxBurstLength: write data one R2T asks for at most',
  },
  {
    name: 'iscsi.immediate_data', default: true, unit: 'bool',
    source: 'RFC 7143 s13.11 ImmediateData default Yes, negotiated with AND: libiscsi wants Yes (lib/init.c), LIO, tgtd and SPDK default Yes',
    description: 'write data may ride in the SCSI Command PDU (up to the target\'s segment length and FirstBurstLength)',
  },
  {
    name: 'iscsi.initial_r2t', default: true, unit: 'bool',
    source: 'RFC 7143 s13.10 InitialR2T default Yes, negotiated with OR: libiscsi asks No (lib/init.c want_initial_r2t) but LIO, tgtd and SPDK default Yes, so Yes',
    description: 'no unsolicited Data-Out: write data beyond the immediate data waits for an R2T',
  },
  // ---- TCP over loopback
  {
    name: 'loopback.mss_bytes', default: 65483, unit: 'bytes', min: 536, max: 65483, integer: true,
    source: 'Linux drivers/net/loopback.c: lo MTU 64 KiB (dev->mtu = 64 * 1024); less IPv4 and TCP headers with timestamps (52 B) that is 65484, and Linux reports mss 65483 for connections on lo (ss -i); the issue brief uses 65483',
    description: 'TCP segment payload at most on the loopback connection',
  },
  {
    name: 'loopback.tx_per_segment_ns', default: 2800, unit: 'ns', min: 0, max: 100000,
    source: `${STACK}, less host.syscall_ns for the send modelled apart: tcp_sendmsg, tcp_write_xmit, ip_output, loopback_xmit per segment`,
    description: "sender's TCP/IP transmit per segment (the payload copy into the skb is counted apart)",
  },
  {
    name: 'loopback.rx_per_segment_ns', default: 2000, unit: 'ns', min: 0, max: 100000,
    source: `${STACK}: the receive side's softirq share (netif_rx, ip_rcv, tcp_v4_rcv, socket queueing and the wake-up of the reader), run on the sender's CPU because loopback_xmit raises NET_RX there (modelling estimate of the split)`,
    description: "loopback RX softirq per segment, on the sending thread's CPU",
  },
  {
    name: 'loopback.recv_per_read_ns', default: 800, unit: 'ns', min: 0, max: 100000,
    source: `${STACK}: the receive side's process-context share (tcp_recvmsg: socket lock, skb walk, ACK scheduling), besides the syscall and the copy (modelling estimate of the split)`,
    description: "receiver's tcp_recvmsg work per read (payload copy counted apart)",
  },
  // ---- initiator (QEMU block/iscsi.c over libiscsi)
  {
    name: 'iscsi.initiator_cmd_ns', default: 1500, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: iscsi_co_readv/writev (coroutine, iscsi_read16_iov_task: CDB, PDU allocation, the guest iovec attached), iscsi_set_events; the order of qemu.aio_per_req_ns plus a coroutine switch',
    description: "QEMU's iSCSI driver and libiscsi work per command issued",
  },
  {
    name: 'iscsi.initiator_pdu_ns', default: 500, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: libiscsi iscsi_process_pdu per PDU received (BHS parse, task lookup by ITT, StatSN/MaxCmdSN update, callback dispatch)',
    description: 'libiscsi work per PDU received (besides the recv syscalls and the copy)',
  },
  {
    name: 'iscsi.initiator_complete_ns', default: 500, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: iscsi_co_generic_cb, re-entering the request coroutine (aio_co_wake), as qemu.aio_per_completion_ns',
    description: "QEMU's iSCSI driver work per command completed",
  },
  // ---- targets
  {
    name: 'iscsi.user_pdu_ns', default: 2000, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: tgtd iscsi_rx_handler / iscsi_tx_handler state machines per PDU (BHS decode, task lookup, target_cmd_queue, scsi_cmd_perform, Data-In and response build); user-space event-loop work of about twice the kernel target\'s',
    description: "user-space target's event-loop work per PDU received or sent",
  },
  {
    name: 'iscsi.user_bs_ns', default: 1000, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: tgtd bs_thread_cmd_submit (pending list under a mutex, pthread_cond_signal: a futex wake) on the event loop, and bs_rdwr_request\'s set-up on the worker',
    description: "user-space target's hand-off of a command to a backing-store worker, on each side",
  },
  {
    name: 'iscsi.user_workers', default: 16, unit: 'threads', min: 1, max: 1024, integer: true,
    source: 'tgt usr/bs_rdwr.c nr_iothreads 16 (bs_thread_open)',
    description: "user-space target's backing-store worker threads (pread/pwrite) at most",
  },
  {
    name: 'iscsi.lio_pdu_ns', default: 1500, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: LIO iscsit_get_rx_pdu / iscsit_handle_scsi_cmd on the RX thread, iscsit_send_datain / iscsit_send_response (PDU build, kernel_sendmsg) on the TX thread, per PDU; the order of vhost.scsi_per_completion_ns',
    description: "LIO's iSCSI work per PDU received or sent, on its RX or TX kernel thread",
  },
  {
    name: 'iscsi.lio_cmd_ns', default: 1000, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: target_submit_cmd, transport_generic_new_cmd and iblock_execute_rw (bio set-up) per command; part of vhost.scsi_per_cmd_ns',
    description: "LIO target core and iblock work per command, before the host block layer",
  },
  {
    name: 'iscsi.lio_sendpage', default: true, unit: 'bool',
    source: 'Linux drivers/target/iscsi/iscsi_target_util.c iscsit_fe_sendpage_sg: Data-In payload sent with sendpage (MSG_SPLICE_PAGES since 6.5) without DataDigest: no copy into the skb',
    description: 'LIO sends Data-In payload by page reference (no copy); false: copied into the skb',
  },
  {
    name: 'iscsi.spdk_pdu_ns', default: 500, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: SPDK iscsi_read_pdu / iscsi_execute / iscsi_send_datain per PDU; the budget of calibration.md s10 spdk_vhost.per_io_cpu 1 us/IO [R] (the bdev part is spdk.per_io_ns and spdk.per_completion_ns)',
    description: "SPDK iSCSI target's work per PDU received or sent (besides the socket syscalls)",
  },
];
