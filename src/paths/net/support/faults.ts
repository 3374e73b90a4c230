/**
 * Network faults of a run with a timeline (issue 16; migration-faults.md s3.1, s3.4, s3.6;
 * io-paths.md s1.9). Set up only when the run has a timeline that uses one of them, so a
 * run without one is as before (not even a branch is added to its packets' way).
 *
 * The wire between the host NIC and the peer gets a gate, both ways (the ports' deliver
 * functions are wrapped): a frame is lost while the host NIC's link is down, while the
 * VM's NIC function or back end passes no traffic (vf-reset, backend-restart), or with
 * probability `rate` while a `loss` lasts (stream "fault/loss"). The state is read when
 * the frame is handed to the wire (its last bit arrives a wire time later). A packet that
 * is several frames on the wire (TSO, or a peer's 64 KiB train) is lost when any is.
 *
 * What a lost frame costs:
 * - net-rr (TCP_RR: a transaction is one segment each way): nothing is dropped. The
 *   sender's TCP retransmits the segment when its timer fires: first the tail loss probe
 *   (PTO = 2 srtt + rto_min with one transaction in flight, + 2 ms with more; capped at the
 *   RTO; tcp_schedule_loss_probe), then the RTO (srtt + max(4 rttvar, rto_min)), doubling
 *   at each further loss up to rto_max (tcp_retransmit_timer). srtt and rttvar follow
 *   RFC 6298 from the flow's own transactions (Karn: none with a retransmission); before
 *   the first sample the RTO is rto_init. A lost request is sent again by the guest
 *   through its stack and device (the path's transmit work is paid again); a lost response
 *   by the peer's stack. Each retransmission is recorder.opRetried; the op completes
 *   later with the timeouts in its latency. (Not modelled: the client's own probe of an
 *   unacknowledged request when the response was lost; it changes no latency, the server's
 *   probe repairs it. The timer starts when the frame is handed to the wire, not in the
 *   sender's stack a few microseconds earlier.)
 * - streams (net-tx, net-rx, net-pvp): the op is lost (recorder.opLost) and ends as not
 *   completed; a window-limited TCP-like sender gets its window back as for any drop. The
 *   bulk stream's own retransmission is not modelled.
 *
 * Actions: loss and link-down/link-up (every path with a remote peer: the wire is there);
 * vf-reset (sriov, passthrough: registerFunctionReset); backend-restart (vhost-user:
 * registerBackendRestart). recorder.faultCleared when the part is back (link-up, reset
 * done, back end reconnected).
 */
import { bool, num, psOf } from '../../../calibration/param.js';
import type { Rng } from '../../../core/random.js';
import { PS_PER_MS } from '../../../core/time.js';
import type { DpdkPoller } from '../../../actors/net/dpdk-poller.js';
import type { Packet, PacketPort } from '../../../actors/net/messages.js';
import type { NicFunction, NicQueue } from '../../../actors/net/nic.js';
import type { TimelineRecorder } from '../../../metrics/timeline-recorder.js';
import type { Timeline } from '../../../timeline/timeline.js';
import type { NetContext } from './net-run.js';

/** The actions of this file; the wire gate is set up only when the timeline uses one. */
const NET_FAULT_ACTIONS = ['loss', 'link-down', 'link-up', 'vf-reset', 'backend-restart'];

/** TCP's extra time for more than one segment in flight in the loss probe (TCP_TIMEOUT_MIN, 2 ms; migration-faults.md s3.4). */
const TLP_MANY_OUT_PS = 2 * PS_PER_MS;

/** Fault state and TCP timers of one run (one per NetContext). */
export class NetFaults {
  /** Frames lost on the wire (or dropped in the guest while its link is down), and TCP retransmissions. */
  lostFrames = 0;
  retransmissions = 0;
  /** Ops of a stream lost to a fault. */
  opsLost = 0;

  private readonly sim: NetContext['sim'];
  private readonly timeline: Timeline;
  private readonly recorder: TimelineRecorder;
  private readonly lossRng: Rng;
  private lossRate = 0;
  private lossEndPs = 0;
  private isLinkDown = false;
  private linkDownSincePs = 0;
  /** Bumped at each link-down or link-up: a link-down's own link-up only acts if still current. */
  private linkGeneration = 0;
  /** Per VM: its NIC function or back end passes no traffic (count of faults holding it). */
  private readonly vmGate: Int32Array;
  /** Per VM: the guest's link is down (QEMU set it down: the guest's qdisc drops what TCP sends). */
  private readonly guestLinkDown: Int32Array;
  private isGateWired = false;

  // TCP (net-rr)
  private readonly isRr: boolean;
  private readonly flows: number;
  private readonly srttPs: Float64Array;
  private readonly rttvarPs: Float64Array;
  /** Retransmissions so far of an op's frame in flight, by op id * 2 + (response ? 1 : 0). */
  private readonly attempts = new Map<number, number>();
  /** Ops with a retransmission: their RTT is no sample (Karn). */
  private readonly retransmitted = new Set<number>();
  private readonly rtoMinPs: number;
  private readonly rtoMaxPs: number;
  private readonly rtoInitPs: number;
  private readonly isTlp: boolean;
  private readonly tlpExtraPs: number;
  private readonly retransmitStage: number;

  constructor(private readonly ctx: NetContext) {
    this.sim = ctx.sim;
    this.timeline = ctx.timeline!;
    this.recorder = ctx.recorder!;
    this.lossRng = ctx.streams.stream('fault/loss');
    const vms = ctx.vms.length;
    this.vmGate = new Int32Array(vms);
    this.guestLinkDown = new Int32Array(vms);
    const spec = ctx.spec;
    this.isRr = spec.kind === 'net-rr';
    this.flows = spec.flows;
    this.srttPs = new Float64Array(vms * spec.flows).fill(NaN);
    this.rttvarPs = new Float64Array(vms * spec.flows).fill(NaN);
    const p = ctx.params;
    this.rtoMinPs = psOf(p, 'tcp.rto_min_ms');
    this.rtoMaxPs = psOf(p, 'tcp.rto_max_ms');
    this.rtoInitPs = psOf(p, 'tcp.rto_init_ms');
    this.isTlp = bool(p, 'tcp.tlp');
    const isOneOut = spec.arrival.kind === 'closed' && spec.arrival.outstanding === 1;
    this.tlpExtraPs = isOneOut ? this.rtoMinPs : TLP_MANY_OUT_PS;
    this.retransmitStage = this.isRr ? ctx.tracker.define('tcp.retransmit', 'tcp') : -1;
  }

  /** Wraps the wire's two directions and the transactions' completion (once). */
  wireGate(): void {
    if (this.isGateWired) return;
    this.isGateWired = true;
    const ctx = this.ctx;
    const toPeer = ctx.nic.port.deliver;
    ctx.nic.port.deliver = this.gate(toPeer);
    const toHost = ctx.peer.port.deliver;
    ctx.peer.port.deliver = this.gate(toHost);
    if (this.isRr) {
      // RTT samples of the flows (the GuestApp reads hooks.complete at each call)
      const hooks = ctx.hooks;
      const complete = hooks.complete;
      hooks.complete = (pkt, atPs) => {
        const id = pkt.id;
        if (this.retransmitted.size !== 0 && this.retransmitted.delete(id)) {
          this.attempts.delete(2 * id);
          this.attempts.delete(2 * id + 1);
        } else {
          this.rttSample(pkt.vm * this.flows + pkt.flow, atPs - pkt.createdPs);
        }
        complete(pkt, atPs);
      };
    }
    ctx.onFinish.push((extra) => {
      extra['fault.lost_frames'] = this.lostFrames;
      extra['fault.retransmissions'] = this.retransmissions;
      extra['fault.ops_lost'] = this.opsLost;
    });
  }

  private gate(deliver: PacketPort): PacketPort {
    return (pkt, atPs) => {
      if (this.isLost(pkt)) this.lose(pkt);
      else deliver(pkt, atPs);
    };
  }

  private isLost(pkt: Packet): boolean {
    if (this.isLinkDown || this.vmGate[pkt.vm] !== 0) return true;
    if (this.lossRate === 0 || this.sim.nowPs >= this.lossEndPs) return false;
    // a TSO/GSO packet is lost when any of its frames is
    const frames = pkt.frames;
    return this.lossRng() < (frames === 1 ? this.lossRate : 1 - (1 - this.lossRate) ** frames);
  }

  /** A frame of pkt is lost now (on the wire, in a reset ring, or in a guest whose link is down). */
  lose(pkt: Packet): void {
    this.lostFrames++;
    const now = this.sim.nowPs;
    if (!this.isRr) {
      this.opsLost++;
      this.ctx.loseOp(pkt, now);
      return;
    }
    const key = 2 * pkt.id + (pkt.isResponse ? 1 : 0);
    const n = this.attempts.get(key) ?? 0;
    this.attempts.set(key, n + 1);
    this.retransmitted.add(pkt.id);
    this.sim.post(this.timeoutPs(pkt.vm * this.flows + pkt.flow, n), () => this.retransmit(pkt));
  }

  /** The sender's timer fired: TCP sends the segment again. */
  private retransmit(pkt: Packet): void {
    this.retransmissions++;
    const now = this.sim.nowPs;
    this.recorder.opRetried(now);
    this.ctx.tracker.markAt(pkt, this.retransmitStage, 0, now);
    if (pkt.isResponse) {
      this.ctx.peer.resend(pkt);
    } else if (this.guestLinkDown[pkt.vm] !== 0) {
      this.lose(pkt); // the guest's device has no carrier: its qdisc drops the segment
    } else {
      this.ctx.vms[pkt.vm]!.app!.retransmit(pkt);
    }
  }

  /** RFC 6298 s2: a new RTT measurement of flow i. */
  private rttSample(i: number, rttPs: number): void {
    const srtt = this.srttPs[i]!;
    if (Number.isNaN(srtt)) {
      this.srttPs[i] = rttPs;
      this.rttvarPs[i] = rttPs / 2;
    } else {
      this.rttvarPs[i] = 0.75 * this.rttvarPs[i]! + 0.25 * Math.abs(srtt - rttPs);
      this.srttPs[i] = 0.875 * srtt + 0.125 * rttPs;
    }
  }

  /** The current RTO of flow i [ps] (before back-off). */
  rtoPs(i: number): number {
    const srtt = this.srttPs[i]!;
    if (Number.isNaN(srtt)) return this.rtoInitPs;
    return Math.min(this.rtoMaxPs, srtt + Math.max(4 * this.rttvarPs[i]!, this.rtoMinPs));
  }

  /** Time from a loss to the retransmission that repairs it, after n earlier retransmissions of the segment [ps]. */
  timeoutPs(i: number, n: number): number {
    const rto = this.rtoPs(i);
    if (this.isTlp) {
      if (n === 0) {
        const srtt = this.srttPs[i]!;
        const pto = Number.isNaN(srtt) ? this.rtoInitPs : 2 * srtt + this.tlpExtraPs;
        return Math.round(Math.min(pto, rto));
      }
      return Math.round(Math.min(this.rtoMaxPs, rto * 2 ** (n - 1))); // the RTO re-armed after the probe, then doubling
    }
    return Math.round(Math.min(this.rtoMaxPs, rto * 2 ** n));
  }

  /** Registers loss, link-down and link-up (the wire to a remote peer). */
  registerWire(): void {
    const tl = this.timeline;
    tl.on('loss', (ev) => {
      this.lossRate = ev.args['rate'] as number;
      this.lossEndPs = this.sim.nowPs + (ev.args['duration_ms'] as number) * PS_PER_MS;
    });
    tl.on('link-down', (ev) => {
      const now = this.sim.nowPs;
      if (!this.isLinkDown) {
        this.isLinkDown = true;
        this.linkDownSincePs = now;
      }
      const generation = ++this.linkGeneration;
      const ms = ev.args['duration_ms'];
      if (typeof ms === 'number') {
        this.sim.at(now + Math.round(ms * PS_PER_MS), () => {
          if (generation === this.linkGeneration) this.linkUp();
        });
      }
    });
    tl.on('link-up', () => this.linkUp());
  }

  private linkUp(): void {
    this.linkGeneration++;
    if (!this.isLinkDown) return;
    this.isLinkDown = false;
    this.recorder.faultCleared(this.linkDownSincePs, this.sim.nowPs);
  }

  /**
   * The VM's NIC function or back end stops passing traffic: frames to and from the wire
   * are lost from now until resume().
   */
  stopVm(vm: number): void {
    this.vmGate[vm]!++;
  }

  resumeVm(vm: number): void {
    this.vmGate[vm]!--;
  }

  /** The guest's link is down (QEMU set it down) until guestLinkUp. */
  guestLinkOff(vm: number): void {
    this.guestLinkDown[vm]!++;
  }

  guestLinkOn(vm: number): void {
    this.guestLinkDown[vm]!--;
  }

  /** A NIC queue's receive ring is reinitialised: the frames it holds that no driver took are lost. */
  clearRxRing(q: NicQueue): void {
    let pkt: Packet | undefined;
    while ((pkt = q.takeRx()) !== undefined) this.lose(pkt);
  }

  get recorderOf(): TimelineRecorder {
    return this.recorder;
  }
}

const faultsByRun = new WeakMap<NetContext, NetFaults>();

/** The run's fault state (created at the first call; the run must have a timeline). */
export function netFaultsOf(ctx: NetContext): NetFaults {
  let f = faultsByRun.get(ctx);
  if (f === undefined) {
    f = new NetFaults(ctx);
    faultsByRun.set(ctx, f);
  }
  return f;
}

/**
 * The harness's part (after the path's build): loss, link-down and link-up where the wire
 * to a remote peer exists, and the wire gate when the timeline uses any network fault.
 * Call only when ctx.timeline is not null.
 */
export function wireNetFaults(ctx: NetContext): void {
  const actions = ctx.timeline!.actions();
  if (!NET_FAULT_ACTIONS.some((a) => actions.has(a))) return;
  const faults = netFaultsOf(ctx);
  if (!ctx.isLocalPeer) faults.registerWire();
  faults.wireGate();
}

/**
 * vf-reset on the device-assignment paths (sriov: the VM's VF; passthrough: the assigned
 * PF, reset by the host the same way): every VM's function passes no traffic for
 * sriov.vf_reset_ms (iavf reset task: reset detected, VIRTCHNL_VFR_VFACTIVE awaited), its
 * receive rings are reinitialised (frames the driver had not taken are lost; frames in
 * the transmit rings reach the wire during the reset and are lost there), then the driver
 * posts fresh receive buffers and traffic resumes. (The action names no VM: every VM's
 * function is reset.) Call only when ctx.timeline is not null.
 */
export function registerFunctionReset(ctx: NetContext, fnOfVm: readonly NicFunction[]): void {
  const faults = netFaultsOf(ctx);
  const resetPs = psOf(ctx.params, 'sriov.vf_reset_ms');
  ctx.timeline!.on('vf-reset', () => {
    const startPs = ctx.sim.nowPs;
    for (const vm of ctx.vms) {
      faults.stopVm(vm.index);
      for (const q of fnOfVm[vm.index]!.queues) faults.clearRxRing(q);
    }
    ctx.sim.at(startPs + resetPs, () => {
      for (const vm of ctx.vms) {
        faults.resumeVm(vm.index);
        for (const q of fnOfVm[vm.index]!.queues) q.postRxBuffers(q.rxRefillable);
      }
      faults.recorderOf.faultCleared(startPs, ctx.sim.nowPs);
    });
  });
}

/**
 * backend-restart on vhost-user (migration-faults.md s3.1): the DPDK process dies. Its
 * PMD threads stop serving the guests' rings and the NIC (the NIC, released by VFIO,
 * passes nothing: frames to and from the wire are lost, as are the frames in its receive
 * rings); QEMU's chr_closed_bh sets each guest's link down (the guest's qdisc drops what
 * its TCP sends meanwhile). The process is back after restart_ms; as socket client it
 * tries connect() once per dpdk.reconnect_interval_ms (lib/vhost/socket.c
 * vhost_user_client_reconnect: sleep(1)), so the rings resume on the first tick at or
 * after the restart (ticks counted from the crash; the first a whole interval after it). Descriptors the guest made available
 * meanwhile are then served. Not modelled: a transmit burst the back end had taken but not
 * completed when it died (at most one burst ahead) being sent again after
 * virtio_queue_restore_last_avail_idx. Call only when ctx.timeline is not null.
 */
export function registerBackendRestart(ctx: NetContext, pmds: readonly DpdkPoller[], nicQueues: readonly NicQueue[]): void {
  const faults = netFaultsOf(ctx);
  const tickPs = psOf(ctx.params, 'dpdk.reconnect_interval_ms');
  let isDead = false;
  ctx.timeline!.on('backend-restart', (ev) => {
    if (isDead) return; // (a crash while down changes nothing: the process is already restarting)
    isDead = true;
    const startPs = ctx.sim.nowPs;
    const restartPs = Math.round((ev.args['restart_ms'] as number) * PS_PER_MS);
    const runs = pmds.map((pmd) => pmd.thread.onRun);
    for (const pmd of pmds) {
      const thread = pmd.thread;
      thread.onRun = () => thread.idle();
    }
    for (const vm of ctx.vms) {
      faults.stopVm(vm.index);
      faults.guestLinkOff(vm.index);
    }
    for (const q of nicQueues) faults.clearRxRing(q);
    const resumePs = startPs + Math.max(1, Math.ceil(restartPs / tickPs)) * tickPs;
    ctx.sim.at(resumePs, () => {
      isDead = false;
      for (const vm of ctx.vms) {
        faults.resumeVm(vm.index);
        faults.guestLinkOn(vm.index);
      }
      for (const q of nicQueues) q.postRxBuffers(q.rxRefillable);
      pmds.forEach((pmd, i) => {
        pmd.thread.onRun = runs[i]!;
        pmd.thread.wake();
      });
      faults.recorderOf.faultCleared(startPs, ctx.sim.nowPs);
    });
  });
}
