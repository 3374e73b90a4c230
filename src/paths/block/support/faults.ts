/**
 * The block paths' timeline faults (issue 16), each registered only on a path that has
 * the part that fails, and only in a run with a timeline (a run without one is untouched):
 *
 * - backend-restart (vhost-user: SPDK vhost-user-blk): the back-end process dies; QEMU
 *   reconnects after it restarts; the inflight region's requests are resubmitted, or fail.
 * - iscsi-disconnect (virtio-qemu with blk.backend=iscsi): the target is unreachable; the
 *   initiator finds out by its NOP-Out keepalive, reconnects and retries its commands.
 * - device-error (the paths whose commands reach the SSD through a Linux NVMe driver): the
 *   SSD stops answering; the driver's timeout aborts, then resets the controller and
 *   requeues the commands.
 *
 * Ops a fault fails end with STATUS_FAULT: the recorder counts them in ops_lost (instead
 * of dropped). Resubmissions and retries count in ops_retried when they are made.
 */
import { bool, num, psOf } from '../../../calibration/param.js';
import { PS_PER_MS } from '../../../core/time.js';
import { failByFault, type BlkRequest } from '../../../actors/block/request.js';
import type { SpdkReactor } from '../../../actors/block/spdk-vhost-blk.js';
import type { Ssd } from '../../../actors/block/ssd.js';
import type { IscsiInitiator } from '../../../actors/block/iscsi-initiator.js';
import type { IscsiPdu, LoopbackSocket, LoopbackTcp } from '../../../actors/block/loopback-tcp.js';
import type { BlockContext } from './block-run.js';

/** Milliseconds of an action's field, in ps. */
function msArg(v: number | string | boolean | undefined, fallbackMs: number): number {
  return Math.round((typeof v === 'number' ? v : fallbackMs) * PS_PER_MS);
}

/**
 * backend-restart on vhost-user block. The SPDK process (one, serving every VM's
 * controller, each on its reactor) dies at the event: the requests
 * it fetched from the avail ring (maybe at the SSD) are abandoned and the completions of
 * its NVMe queue pair go nowhere. QEMU, the vhost-user socket's client (SPDK's
 * vhost-user-blk creates the socket; migration-faults.md s3.1), sees it close and tries to
 * connect every vhost_user.reconnect_ms (chardev reconnect-ms) from then: the first try at
 * or after the restart (restart_ms) connects, and the set-up messages (vhost_user.setup_ms)
 * start the rings again.
 *
 * With inflight tracking (vhost_user.inflight_tracking) QEMU hands the kept region back
 * (SET_INFLIGHT_FD) and the back end resubmits every entry with inflight=1 in counter
 * order: no request is lost, each completes once (ops_retried counts the resubmissions).
 *
 * Without it the model fails the requests the back end held (an I/O error to the guest,
 * ops_lost) when the rings restart. This is a choice, not what QEMU does: when
 * GET_VRING_BASE fails, vhost_virtqueue_stop calls virtio_queue_restore_last_avail_idx,
 * which sets the avail index back to the guest-visible used index (migration-faults.md
 * s3.1), so the restarted back end fetches again every avail entry from there. That
 * re-executes the held requests exactly only if the back end completed in order (the used
 * index then counts exactly the requests before the first held one). SPDK completes in
 * NVMe completion order: the rewind then fetches again some requests already completed
 * (a second used entry for a head the guest may have reused: virtio-blk reports "id is
 * not a head" and marks the device broken) and skips held ones that precede the used
 * index (never completed: virtio-blk has no timeout handler, the request hangs). Rather
 * than model a broken device or a hang, the model reports all held requests as failed.
 */
export function registerBackendRestart(ctx: BlockContext, reactors: readonly SpdkReactor[]): void {
  const { timeline, recorder, sim } = ctx.host;
  if (timeline === null || recorder === null) return;
  const p = ctx.params;
  const isTracked = bool(p, 'vhost_user.inflight_tracking');
  const reconnectPs = psOf(p, 'vhost_user.reconnect_ms');
  const setupPs = psOf(p, 'vhost_user.setup_ms');
  for (const r of reactors) r.inflight = new Set<BlkRequest>();
  let isDown = false;
  let heldCount = 0;
  timeline.on('backend-restart', (ev) => {
    // a restart while the back end is already down is the same outage (ignored)
    if (isDown) return;
    isDown = true;
    const crashPs = sim.nowPs;
    const held = reactors.map((r) => r.crash());
    heldCount = held.reduce((s, h) => s + h.length, 0);
    const restartPs = msArg(ev.args['restart_ms'], 100);
    // QEMU's tries: crash + k x reconnect, k >= 1; the first at or after the restart connects
    const tries = Math.max(1, Math.ceil(restartPs / reconnectPs));
    const connectPs = crashPs + tries * reconnectPs;
    const ready = (): void => {
      // the new process attaches the controller: the dead one's commands end, unanswered
      if (!reactors.every((r) => r.dropStaleCompletions())) {
        sim.post(PS_PER_MS, ready, undefined);
        return;
      }
      isDown = false;
      reactors.forEach((r, i) => {
        const h = held[i]!;
        if (isTracked) {
          for (let j = 0; j < h.length; j++) recorder.opRetried(sim.nowPs);
          r.resume(h, []);
        } else {
          for (const req of h) failByFault(req);
          r.resume([], h);
        }
      });
      recorder.faultCleared(crashPs, sim.nowPs);
    };
    sim.at(connectPs + setupPs, ready, undefined);
  });
  ctx.onFinish.push((extra) => {
    extra['vhost_user.held_at_crash'] = heldCount;
  });
}

/**
 * device-error where a Linux NVMe driver drives the SSD (the host's under the host block
 * layer, or the bare-metal host's or a guest's with the controller or a virtual function
 * assigned): the SSD stops answering at the event, for duration_ms (default: until the
 * host resets it). The driver (drivers/nvme/host/pci.c nvme_timeout, migration-faults.md
 * s3.3): io_timeout (nvme.io_timeout_s) after the stuck commands started, the first
 * timeout sends an Abort (unanswered as well) and re-arms the timer; the second timeout,
 * io_timeout later, disables and resets the controller (nvme_dev_disable, nvme_reset_ctrl:
 * nvme.reset_ms), cancelling every outstanding command; after the reset each is requeued
 * (ops_retried), up to nvme.max_retries times each, then it fails (ops_lost). A device
 * still dead after a reset withholds the requeued commands again: the cycle repeats.
 *
 * Simplifications, stated: the stuck commands' timers are taken to start at the fault (they
 * began less than a device service time before it); the reset is of the whole controller
 * (SR-IOV functions reset together); a device that comes back before the reset completes
 * what it withheld then (an Abort already sent finds nothing left to abort); the admin
 * Abort's own timeout (admin_timeout 60 s) comes after the second I/O timeout and plays
 * no part; a reset clears a fault without a duration; the reset itself always succeeds.
 */
export function registerDeviceError(ctx: BlockContext, ssd: Ssd): void {
  const { timeline, recorder, sim } = ctx.host;
  if (timeline === null || recorder === null) return;
  const p = ctx.params;
  const timeoutPs = psOf(p, 'nvme.io_timeout_s');
  const resetPs = psOf(p, 'nvme.reset_ms');
  const maxRetries = num(p, 'nvme.max_retries');
  /** Requeues per command of the current fault. */
  const retries = new Map<BlkRequest, number>();
  let faultStartPs = -1;
  /** When the device answers again [ps] (Infinity: at the host's reset). */
  let backPs = Infinity;
  /** Bumped when the fault ends: stale timers do nothing. */
  let generation = 0;
  let aborts = 0;
  let resets = 0;
  /** Between nvme_dev_disable and the requeue: the reset's end decides. */
  let isResetting = false;

  const end = (): void => {
    retries.clear();
    faultStartPs = -1;
    generation++;
  };
  /** The stuck commands' timers run out: the first time an Abort, the second a reset. */
  const cycle = (startPs: number): void => {
    const g = generation;
    sim.at(startPs + timeoutPs, () => {
      if (g === generation) aborts++;
    }, undefined);
    sim.at(startPs + 2 * timeoutPs, () => {
      if (g !== generation) return;
      resets++;
      isResetting = true;
      const cancelled = ssd.cancelWithheld();
      sim.post(resetPs, () => {
        isResetting = false;
        const isBack = sim.nowPs >= backPs || backPs === Infinity;
        if (isBack) ssd.answerAgain();
        for (const req of cancelled) {
          const n = (retries.get(req) ?? 0) + 1;
          if (n > maxRetries) {
            retries.delete(req);
            failByFault(req);
            ssd.endCancelled(req);
            continue;
          }
          retries.set(req, n);
          recorder.opRetried(sim.nowPs);
          ssd.requeue(req);
        }
        if (isBack) {
          recorder.faultCleared(faultStartPs, sim.nowPs);
          end();
        } else {
          cycle(sim.nowPs);
        }
      }, undefined);
    }, undefined);
  };

  timeline.on('device-error', (ev) => {
    if (faultStartPs >= 0) return; // already not answering: the same outage
    faultStartPs = sim.nowPs;
    const d = ev.args['duration_ms'];
    backPs = typeof d === 'number' ? faultStartPs + Math.round(d * PS_PER_MS) : Infinity;
    ssd.stopAnswering();
    if (backPs !== Infinity) {
      const g = generation;
      sim.at(backPs, () => {
        // back before a reset took the commands (or between resets): it completes them now
        if (g !== generation || isResetting || ssd.isAnswering) return;
        ssd.answerAgain();
        recorder.faultCleared(faultStartPs, sim.nowPs);
        end();
      }, undefined);
    }
    cycle(faultStartPs);
  });
  ctx.onFinish.push((extra) => {
    extra['nvme.aborts'] = aborts;
    extra['nvme.resets'] = resets;
  });
}

/**
 * iscsi-disconnect on virtio-qemu with the iSCSI back end: the target is unreachable for
 * duration_ms (every connection: all VMs' sessions). What is sent meanwhile, both ways,
 * stays in TCP's hands: nothing arrives, commands in flight get no answer. Two ways out
 * (QEMU block/iscsi.c over libiscsi, migration-faults.md s3.2, s3.4):
 *
 * - The NOP-Out keepalive runs every iscsi.nop_interval_ms from the login (time 0 of the
 *   run): at each tick, with iscsi.max_nop_failures NOP-Outs unanswered, "NOP timeout.
 *   Reconnecting..."; else another NOP-Out goes out. A dead target is found at the
 *   max_nop_failures-th tick after the first one in the outage (15-20 s after it starts
 *   with the defaults). The old connection is dropped with what it held; iscsi_reconnect
 *   (libiscsi lib/connect.c) tries at once, and after failed try n waits n back-off steps
 *   (iscsi.reconnect_backoff_step_ms; above 10 tries jittered by -5..+4, at most 30), so
 *   tries land at +0, +0, +1, +3, +6, ... s; a try fails fast while the target is down (it
 *   refuses the connection). The first try at or after the outage's end connects, logs in
 *   (iscsi.login_ms) and requeues the commands left unanswered, in order, with new ITTs
 *   and CmdSNs (the waitpdu and outqueue lists; ops_retried counts them).
 * - If the target is back before that, TCP gets the held segments (and the NOP-Outs)
 *   through at its next retransmission: every RTO from the first segment the outage held,
 *   doubling from iscsi.tcp_rto_min_ms (srtt is microseconds over loopback; one back-off
 *   schedule for all connections, from the first held segment of any). The NOP-Ins then
 *   answer the keepalive, the commands complete late, and nothing is retried.
 *
 * recovery_ms runs from the outage's start to the first completion after either.
 */
export function registerIscsiDisconnect(ctx: BlockContext, iscsi: { initiators: readonly IscsiInitiator[]; tcp: LoopbackTcp }): void {
  const { timeline, recorder, sim } = ctx.host;
  if (timeline === null || recorder === null) return;
  const p = ctx.params;
  const nopPs = psOf(p, 'iscsi.nop_interval_ms');
  const maxNopFailures = num(p, 'iscsi.max_nop_failures');
  const stepPs = psOf(p, 'iscsi.reconnect_backoff_step_ms');
  const backoffRng = ctx.host.streams.stream('fault/iscsi-backoff');
  const loginPs = psOf(p, 'iscsi.login_ms');
  const rtoMinPs = psOf(p, 'iscsi.tcp_rto_min_ms');
  const RTO_MAX_PS = 120 * 1e12; // include/net/tcp.h TCP_RTO_MAX
  const tcp = iscsi.tcp;
  for (const i of iscsi.initiators) i.sent = new Set<BlkRequest>();
  let reconnects = 0;
  let retransmitRecoveries = 0;
  let isOut = false;
  timeline.on('iscsi-disconnect', (ev) => {
    if (isOut) return; // the target is already unreachable: the same outage
    isOut = true;
    const startPs = sim.nowPs;
    const backPs = startPs + msArg(ev.args['duration_ms'], 0);
    const held: { to: LoopbackSocket; pdu: IscsiPdu }[] = [];
    let firstHeldPs = -1;
    tcp.cut = (to, pdu) => {
      if (firstHeldPs < 0) firstHeldPs = sim.nowPs;
      held.push({ to, pdu });
      return true;
    };
    // the keepalive's ticks after the outage began: NOP-Outs at the first max_nop_failures,
    // the timeout at the next
    const firstTickPs = (Math.floor(startPs / nopPs) + 1) * nopPs;
    const detectPs = firstTickPs + maxNopFailures * nopPs;
    // TCP's retransmission that gets through: the first RTO expiry at or after the end
    // (the first held segment, at the latest the first NOP-Out, starts the back-off)
    const retransmitAt = (): number => {
      // (nothing sent into the outage: nothing to retransmit, it is over when the target is back)
      const s0 = Math.min(firstHeldPs >= 0 ? firstHeldPs : Infinity, firstTickPs < backPs ? firstTickPs : Infinity);
      if (s0 === Infinity) return backPs;
      let t = s0;
      let rto = rtoMinPs;
      do {
        t += rto;
        rto = Math.min(2 * rto, RTO_MAX_PS);
      } while (t < backPs);
      return t;
    };
    const finish = (): void => {
      tcp.cut = null;
      isOut = false;
      recorder.faultCleared(startPs, sim.nowPs);
    };
    // the target is back: at the retransmission, unless the keepalive gave up first
    sim.at(Math.max(backPs, sim.nowPs), () => {
      const atPs = retransmitAt();
      if (atPs >= detectPs) return; // the reconnect below handles it
      sim.at(atPs, () => {
        retransmitRecoveries++;
        tcp.cut = null;
        for (const h of held) tcp.enqueue(h.to, h.pdu);
        held.length = 0;
        finish();
      }, undefined);
    }, undefined);
    sim.at(detectPs, () => {
      // still cut at the timeout (else the retransmission already went through)
      if (!isOut || retransmitAt() < detectPs) return;
      for (const h of held) tcp.release(h.pdu);
      held.length = 0;
      tcp.cut = (_to, pdu) => {
        tcp.release(pdu); // the old connection is closed: nothing of it arrives
        return true;
      };
      // iscsi_reconnect from the timeout, with its back-off; the first try at or after the end connects
      let tryPs = detectPs;
      for (let n = 0; tryPs < backPs; n++) {
        let backoff = n;
        if (backoff > 10) backoff += Math.floor(backoffRng() * 10) - 5; // rand() % 10 - 5
        tryPs += Math.min(backoff, 30) * stepPs;
      }
      const loggedInPs = tryPs + loginPs;
      const relogin = (): void => {
        // (an fd-handler step under way finishes first: its PDUs belong to the old connection)
        if (iscsi.initiators.some((i) => i.isInStep)) {
          sim.post(1_000_000, relogin, undefined); // 1 us later
          return;
        }
        tcp.cut = null;
        reconnects++;
        for (const i of iscsi.initiators) {
          const n = i.reconnect();
          for (let k = 0; k < n; k++) recorder.opRetried(sim.nowPs);
        }
        finish();
      };
      sim.at(loggedInPs, relogin, undefined);
    }, undefined);
  });
  ctx.onFinish.push((extra) => {
    extra['iscsi.reconnects'] = reconnects;
    extra['iscsi.retransmit_recoveries'] = retransmitRecoveries;
  });
}
