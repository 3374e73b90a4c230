/**
 * The `migrate` action of every virtual path: the migration actor (actors/host/migration.ts)
 * does QEMU's pre-copy (or postcopy) loop; this file gives it the VM to act on.
 * - stop-and-copy: the VM's vCPUs pause (after their current step), then the path's
 *   devices quiesce (vhost rings stop with GET_VRING_BASE each, in-flight block I/O
 *   drains: do_vm_stop's bdrv_drain_all); resume lets both go again.
 * - auto-converge: QEMU's CPU throttle (system/cpu-throttle.c): every
 *   CPU_THROTTLE_TIMESLICE_NS (10 ms) of running, each vCPU sleeps pct/(1 - pct) of it.
 * - postcopy: after the switch the guest faults on pages still on the source (a Poisson
 *   process at the rate it touches them); each fault stalls the faulting vCPU until its
 *   page has come over the migration stream.
 * - KVM's tracking of the guest's own writes (PML exits or write-protection faults) is
 *   charged to the vCPUs; the back end's dirty logging (vhost) is on while the migration
 *   runs; the pages the I/O path writes (received frames, read data) join the dirty set.
 * The VM migrated is the first (vm0); a run migrates it once. What a path adds is a
 * MigrationParts (set by its build).
 */
import { bool, num, psOf, str, type ParamValues } from '../calibration/param.js';
import { PS_PER_MS, PS_PER_S, type TimePs } from '../core/time.js';
import { InputError } from '../util/input-error.js';
import { Migration, type MigrationHooks } from '../actors/host/migration.js';
import type { HostRun, HostVm } from './host-run.js';

/** What a path tells the migration about its devices. */
export interface MigrationParts {
  /**
   * Why this path cannot migrate as configured (a VFIO device without migration support),
   * or null. The action is then refused at set-up with this reason.
   */
  blocker: string | null;
  /** Turns the back end's dirty logging on or off (vhost, vhost-user); null: QEMU's own writes are tracked for free. */
  setLogging: ((isOn: boolean) => void) | null;
  /** Virtqueues a vhost back end stops at stop-and-copy (GET_VRING_BASE each); 0 for QEMU's own devices. */
  vhostQueues: number;
  /** Device state beyond QEMU's own (a VFIO device's STOP_COPY data) [bytes]. */
  extraDeviceStateBytes: number;
  /** Waits until the devices have no request in flight (block drain); null: nothing to drain. */
  drain: ((done: () => void) => void) | null;
  /** Guest pages the I/O path writes per completed op (received frames, read data, used rings). */
  ioPagesPerOp: number;
  /** Guest pages the I/O path's buffers span (its writes land there again and again). */
  ioPoolPages: number;
  /** Puts the migration stream on the path's own NIC (migration.link: host-nic); absent: the dedicated link. */
  send?: (bytes: number, done: () => void) => void;
  /** Before the migration proper starts (failover: the VF's unplug); calls start when it may. */
  beforeStart?: (start: () => void) => void;
  /** Called when the VM stops for the switch and after it resumes on the destination (failover plugs the VF back). */
  onStop?: () => void;
  onResume?: () => void;
}

/** A path with nothing to add: QEMU's own devices. */
export function qemuMigrationParts(ioPagesPerOp: number, ioPoolPages: number): MigrationParts {
  return { blocker: null, setLogging: null, vhostQueues: 0, extraDeviceStateBytes: 0, drain: null, ioPagesPerOp, ioPoolPages };
}

/** PML_LOG_NR_ENTRIES: GPAs the CPU logs before a PML-full exit (Linux arch/x86/kvm/vmx). */
const PML_ENTRIES = 512;

/** CPU_THROTTLE_TIMESLICE_NS (QEMU system/cpu-throttle.c): the throttle's period of running. */
const THROTTLE_SLICE_PS = 10 * PS_PER_MS;

/**
 * Registers `migrate` on the run's timeline (or its refusal). Call after the path's build,
 * before the timeline is checked. The migration actor (and its send threads) is made
 * here, at set-up; the action starts it.
 */
export function registerMigration(host: HostRun, p: ParamValues, parts: MigrationParts): void {
  const timeline = host.timeline;
  if (timeline === null || !timeline.actions().has('migrate')) return;
  if (parts.blocker !== null) {
    timeline.refuse('migrate', parts.blocker);
    return;
  }
  const second = timeline.entries.findIndex((e, i) => e.action === 'migrate' && timeline.entries.findIndex((f) => f.action === 'migrate') < i);
  if (second >= 0) throw new InputError(`timeline[${second}].action: a second migrate in one run is not modelled (the VM is on the destination after the first); give one`);
  const vm: HostVm = host.vms[0]!;
  const sim = host.sim;
  const vhostStopPs = psOf(p, 'migration.vhost_stop_vq_us') * parts.vhostQueues;
  let isStopped = false;

  // ---- auto-converge's CPU throttle: each vCPU sleeps pct/(1 - pct) of a 10 ms slice after running one
  let throttle = 0;
  let isThrottleTicking = false;
  const throttleTick = (): void => {
    if (throttle <= 0 || isStopped) {
      isThrottleTicking = false;
      return;
    }
    const sleepPs = Math.round((throttle / (1 - throttle)) * THROTTLE_SLICE_PS);
    for (const v of vm.vcpus) {
      if (v.paused) continue;
      v.pause(() => undefined);
      sim.post(sleepPs, () => {
        if (v.paused && !isStopped) v.resume();
      });
    }
    sim.post(sleepPs + THROTTLE_SLICE_PS, throttleTick);
  };

  // ---- KVM's tracking of the guest's own writes: with PML an exit per 512 pages dirtied,
  // without it a write-protection fault per page; charged every millisecond to the vCPUs
  // (their next step takes longer: the faults and exits of that millisecond's writes)
  const isPml = str(p, 'kvm.dirty_log') === 'pml';
  const perPagePs = isPml ? psOf(p, 'kvm.pml_full_exit_ns') / PML_ENTRIES : psOf(p, 'kvm.wp_fault_ns');
  let trackedPages = 0;
  let trackedSyncs = -1;
  let owedPs = 0;
  const trackTick = (): void => {
    if (migration.phase !== 'precopy') return;
    const { pages, syncs } = migration.guestDirtiedSinceSync();
    if (syncs !== trackedSyncs) {
      trackedSyncs = syncs;
      trackedPages = 0;
    }
    owedPs += (pages - trackedPages) * perPagePs;
    trackedPages = pages;
    const each = Math.floor(owedPs / vm.vcpus.length);
    if (each > 0) {
      for (const v of vm.vcpus) v.charge(each);
      owedPs -= each * vm.vcpus.length;
    }
    sim.post(PS_PER_MS, trackTick);
  };

  // ---- postcopy page faults: Poisson, at the rate the guest touches pages still on the source
  const touchPagesPerS = num(p, 'vm.dirty_rate_pages_per_s');
  const faultRng = host.streams.stream('migration/postcopy-faults');
  let ioPagesPerS = 0;
  let opsEnded = 0;
  let rateFromOps = 0;
  let rateFromPs: TimePs = 0;
  const postcopyFault = (): void => {
    if (migration.phase !== 'postcopy') return;
    const rate = (touchPagesPerS + ioPagesPerS) * migration.missingFraction();
    if (!(rate > 0)) {
      sim.post(PS_PER_MS, postcopyFault);
      return;
    }
    const gapPs = Math.max(1, Math.round((-Math.log(1 - faultRng()) / rate) * PS_PER_S));
    sim.post(gapPs, () => {
      if (migration.phase !== 'postcopy') return;
      const v = vm.vcpus[Math.floor(faultRng() * vm.vcpus.length)]!;
      if (!v.paused) {
        // the vCPU waits for the page: a userfault, a request and the page over the stream
        v.pause(() => undefined);
        migration.postcopyFault(1, () => {
          if (v.paused && !isStopped) v.resume();
        });
      }
      postcopyFault();
    });
  };

  // ---- pages the I/O path writes
  host.opEndHooks.push((isCompleted) => {
    if (!isCompleted) return;
    opsEnded++;
    migration.ioWrote(parts.ioPagesPerOp);
  });

  const hooks: MigrationHooks = {
    stopVm: (done) => {
      isStopped = true;
      // pause every vCPU (each after its current step), then quiesce the devices
      let waiting = vm.vcpus.length;
      const vcpuStopped = (): void => {
        if (--waiting > 0) return;
        parts.onStop?.();
        const afterDrain = (): void => {
          if (vhostStopPs > 0) sim.post(vhostStopPs, done);
          else done();
        };
        if (parts.drain !== null) parts.drain(afterDrain);
        else afterDrain();
      };
      for (const v of vm.vcpus) {
        if (v.paused) vcpuStopped(); // asleep in the throttle or a fault: it stays stopped
        else v.pause(vcpuStopped);
      }
    },
    resumeVm: () => {
      isStopped = false;
      throttle = 0;
      for (const v of vm.vcpus) if (v.paused) v.resume();
      parts.onResume?.();
      if (migration.phase === 'postcopy') {
        const now = sim.nowPs;
        ioPagesPerS = now > rateFromPs ? ((opsEnded - rateFromOps) * parts.ioPagesPerOp * PS_PER_S) / (now - rateFromPs) : 0;
        postcopyFault();
      }
    },
    throttle: (fraction) => {
      throttle = fraction;
      if (!isThrottleTicking && fraction > 0) {
        isThrottleTicking = true;
        sim.post(THROTTLE_SLICE_PS, throttleTick);
      }
    },
    logStart: () => parts.setLogging?.(true),
    logStop: () => parts.setLogging?.(false),
    deviceStateBytes: () => parts.extraDeviceStateBytes,
    ...(parts.send ? { send: parts.send } : {}),
  };
  const migration = new Migration({
    sim,
    cpu: host.cpu,
    params: p,
    hooks,
    recorder: host.recorder!,
    core: 0,
    addThread: (o) => host.addHostThread(o),
    ioPoolPages: parts.ioPoolPages,
  });

  timeline.on('migrate', () => {
    const requestedAtPs = sim.nowPs;
    const start = (): void => {
      rateFromOps = opsEnded;
      rateFromPs = sim.nowPs;
      migration.start(requestedAtPs);
      if (perPagePs > 0 && touchPagesPerS > 0) sim.post(PS_PER_MS, trackTick);
    };
    if (parts.beforeStart) parts.beforeStart(start);
    else start();
  });
  host.timelineFinish.push(() => migration.reportUnfinished());
}

/**
 * An assigned device (VFIO: the whole NIC, an SR-IOV VF, an NVMe controller): migration is
 * blocked unless the device implements VFIO migration v2 (vfio.migration), whose
 * STOP_COPY state then travels in the downtime and whose DMA the device itself logs.
 * A network device may instead use virtio-net failover (set up by the path).
 */
export function assignedMigrationParts(p: ParamValues, device: 'nic' | 'nvme', io: Pick<MigrationParts, 'ioPagesPerOp' | 'ioPoolPages'>): MigrationParts {
  const parts = qemuMigrationParts(io.ioPagesPerOp, io.ioPoolPages);
  if (bool(p, 'vfio.migration')) {
    parts.extraDeviceStateBytes = num(p, 'vfio.device_state_mib') * 1024 * 1024;
    return parts;
  }
  const other = device === 'nic' ? 'set migration.failover=true (virtio-net failover: a standby virtio device carries the traffic while the VF is unplugged) or vfio.migration=true' : 'set vfio.migration=true';
  parts.blocker = `the assigned ${device === 'nic' ? 'NIC' : 'NVMe controller'} is a VFIO device without migration support, which blocks migration (QEMU hw/vfio/migration.c: "VFIO device doesn't support migration"); ${other} (a device with VFIO migration v2)`;
  return parts;
}
