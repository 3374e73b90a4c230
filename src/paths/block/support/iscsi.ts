/**
 * Wiring of the iSCSI back end (blk.backend=iscsi): the session parameters as the login
 * negotiates them, the target process with its threads on host cores, and one loopback
 * TCP connection and libiscsi initiator per VM. The stages a request then meets, in order:
 * the initiator's send, the loopback hop to the target, the target's receive and
 * submission, the backstore's I/O, the target's send, the loopback hop back, and the
 * initiator's receive.
 */
import { bool, num, psOf, str, type ParamValues } from '../../../calibration/param.js';
import { IscsiInitiator, type IscsiSession } from '../../../actors/block/iscsi-initiator.js';
import { IscsiTarget, type IscsiTargetKind } from '../../../actors/block/iscsi-target.js';
import { LoopbackTcp } from '../../../actors/block/loopback-tcp.js';
import { RamDisk } from '../../../actors/block/ram-disk.js';
import type { Ssd } from '../../../actors/block/ssd.js';
import { InputError } from '../../../util/input-error.js';
import type { BlockContext, BlockVm } from './block-run.js';

/** The targets' own defaults where iscsi.* says 0 (sources in calibration/iscsi.ts). */
const TARGET_DEFAULTS: Record<IscsiTargetKind, { cmdWindow: number; recvSegmentBytes: number; firstBurstBytes: number }> = {
  user: { cmdWindow: 128, recvSegmentBytes: 8192, firstBurstBytes: 65536 },
  lio: { cmdWindow: 64, recvSegmentBytes: 8192, firstBurstBytes: 65536 },
  spdk: { cmdWindow: 64, recvSegmentBytes: 65536, firstBurstBytes: 8192 },
};

/** libiscsi's own offer of FirstBurstLength (lib/init.c). */
const LIBISCSI_FIRST_BURST_BYTES = 262144;

export function isIscsiBackend(p: ParamValues): boolean {
  return str(p, 'blk.backend') === 'iscsi';
}

/** Set-up checks of the iSCSI back end. */
export function checkIscsi(p: ParamValues): void {
  if (!isIscsiBackend(p)) return;
  if (str(p, 'iscsi.target') === 'spdk' && str(p, 'disk.kind') !== 'nvme') {
    throw new InputError('params.disk.kind: the SPDK iSCSI target is modelled over the NVMe SSD (its bdev_nvme); use disk.kind=nvme or another iscsi.target');
  }
}

/** The session as the login negotiates it. */
export function iscsiSessionOf(p: ParamValues): IscsiSession {
  const kind = str(p, 'iscsi.target') as IscsiTargetKind;
  const d = TARGET_DEFAULTS[kind];
  const window = num(p, 'iscsi.cmd_window');
  const seg = num(p, 'iscsi.target_max_recv_segment_bytes');
  const first = num(p, 'iscsi.first_burst_bytes');
  const maxBurst = num(p, 'iscsi.max_burst_bytes');
  const firstBurst = Math.min(first > 0 ? first : d.firstBurstBytes, LIBISCSI_FIRST_BURST_BYTES, maxBurst);
  return {
    cmdWindow: window > 0 ? window : d.cmdWindow,
    dataInSegmentBytes: num(p, 'iscsi.initiator_max_recv_segment_bytes'),
    dataOutSegmentBytes: seg > 0 ? seg : d.recvSegmentBytes,
    firstBurstBytes: firstBurst,
    maxBurstBytes: maxBurst,
    isImmediateData: bool(p, 'iscsi.immediate_data'),
    isInitialR2t: bool(p, 'iscsi.initial_r2t'),
  };
}

/** The stage ids of the hop, defined in the order a request meets them. */
export interface IscsiStages {
  initiatorSend: number;
  loopbackOut: number;
  targetRecv: number;
  device: number;
  targetSend: number;
  loopbackIn: number;
  initiatorRecv: number;
}

export function defineIscsiStages(ctx: BlockContext, initiatorActor: string): IscsiStages {
  const t = ctx.host.tracker;
  const target = `iscsi-${str(ctx.params, 'iscsi.target')}`;
  return {
    initiatorSend: t.define('iscsi.initiator-send', initiatorActor),
    loopbackOut: t.define('loopback.to-target', 'loopback'),
    targetRecv: t.define('iscsi.target-recv', target),
    device: t.define('host.io', str(ctx.params, 'iscsi.target') === 'spdk' ? 'ssd' : 'host-blk'),
    targetSend: t.define('iscsi.target-send', target),
    loopbackIn: t.define('loopback.to-initiator', 'loopback'),
    initiatorRecv: t.define('iscsi.initiator-recv', initiatorActor),
  };
}

/** The host's iSCSI target and a connection per VM: returns each VM's initiator. */
export function buildIscsi(ctx: BlockContext, stages: IscsiStages): { initiators: IscsiInitiator[]; target: IscsiTarget; tcp: LoopbackTcp } {
  const p = ctx.params;
  const env = ctx.host.env;
  const kind = str(p, 'iscsi.target') as IscsiTargetKind;
  const session = iscsiSessionOf(p);
  const tcp = new LoopbackTcp(env, 'loopback', {
    txPerSegmentPs: psOf(p, 'loopback.tx_per_segment_ns'),
    rxPerSegmentPs: psOf(p, 'loopback.rx_per_segment_ns'),
    recvPerReadPs: psOf(p, 'loopback.recv_per_read_ns'),
    mssBytes: num(p, 'loopback.mss_bytes'),
  });
  const wakeupPs = psOf(p, 'host.wakeup_ns');
  const sleeper = (name: string) => ctx.host.addHostThread({ name, idleMode: 'sleep', wakeupPs });
  const pduPs = psOf(p, kind === 'user' ? 'iscsi.user_pdu_ns' : kind === 'lio' ? 'iscsi.lio_pdu_ns' : 'iscsi.spdk_pdu_ns');
  const cmdPs = psOf(p, kind === 'user' ? 'iscsi.user_bs_ns' : kind === 'lio' ? 'iscsi.lio_cmd_ns' : 'spdk.per_io_ns');
  const costs = { pduPs, cmdPs, completionPs: psOf(p, 'spdk.per_completion_ns'), isSendpage: bool(p, 'iscsi.lio_sendpage') };
  const targetStages = { recv: stages.targetRecv, device: stages.device, send: stages.targetSend, loopbackIn: stages.loopbackIn };
  let main = null;
  let ssd: Ssd | null = null;
  let queue = null;
  if (kind === 'user') {
    main = sleeper('host/tgtd');
  } else if (kind === 'spdk') {
    main = ctx.host.addHostThread({
      name: 'host/spdk-iscsi',
      idleMode: 'poll',
      wakeupPs,
      pollPickupPs: Math.round(psOf(p, 'dpdk.poll_iter_ns') / 2),
    });
    if (ctx.disk instanceof RamDisk) throw new Error('the SPDK iSCSI target needs the SSD (checked at set-up)');
    ssd = ctx.disk;
    queue = ssd.queues[ssd.queues.length - 1]!;
  }
  if (main !== null) {
    const m = main;
    ctx.starters.push(() => ctx.host.cpu.start(m));
  }
  // tgtd starts its workers with the LUN; only those that can ever be busy are made (idle ones cost nothing)
  const inflightMax = ctx.spec.iodepth * ctx.spec.jobs * ctx.vms.length;
  const workerCount = kind === 'user' ? Math.min(num(p, 'iscsi.user_workers'), inflightMax) : 0;
  const target = new IscsiTarget(
    env,
    'host/tgtd',
    kind,
    tcp,
    session,
    costs,
    targetStages,
    kind === 'spdk' ? null : ctx.hostBlock(),
    ssd,
    queue,
    main,
    kind === 'user' ? sleeper : null,
    workerCount,
  );
  const initiators: IscsiInitiator[] = [];
  const initiatorCosts = {
    cmdPs: psOf(p, 'iscsi.initiator_cmd_ns'),
    pduPs: psOf(p, 'iscsi.initiator_pdu_ns'),
    completePs: psOf(p, 'iscsi.initiator_complete_ns'),
  };
  for (const vm of ctx.vms) initiators.push(connectVm(ctx, vm, tcp, target, session, initiatorCosts, stages, sleeper));
  return { initiators, target, tcp };
}

function connectVm(
  ctx: BlockContext,
  vm: BlockVm,
  tcp: LoopbackTcp,
  target: IscsiTarget,
  session: IscsiSession,
  costs: { cmdPs: number; pduPs: number; completePs: number },
  stages: IscsiStages,
  sleeper: (name: string) => ReturnType<BlockContext['host']['addHostThread']>,
): IscsiInitiator {
  const initiator = new IscsiInitiator(ctx.host.env, `${vm.name}/iscsi`, tcp, session, costs, {
    send: stages.initiatorSend,
    loopbackOut: stages.loopbackOut,
    recv: stages.initiatorRecv,
  });
  let rx = null;
  let tx = null;
  if (target.kind === 'lio') {
    // LIO's per-connection kernel threads (iscsi_trx, iscsi_ttx)
    rx = sleeper(`host/iscsi_trx${vm.index}`);
    tx = sleeper(`host/iscsi_ttx${vm.index}`);
    const r = rx;
    const t = tx;
    ctx.starters.push(() => {
      ctx.host.cpu.start(r);
      ctx.host.cpu.start(t);
    });
  }
  const conn = target.connect(initiator.socket, rx, tx);
  initiator.peer = conn.socket;
  return initiator;
}
