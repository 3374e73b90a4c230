/**
 * The run harness every block path shares. On top of the host run (host CPU, VMs,
 * vCPUs, KVM: ../../host-run.ts) it builds the disk (an NVMe SSD or a RAM disk), the
 * run's I/O ledger and the fio jobs, lets the path wire the guest driver, back end and
 * interrupt plumbing (BlockPathDef.build), runs until `warmup_ops + ops` I/Os have
 * completed, and assembles the RunResult.
 *
 * Jobs: each VM (the host on bare metal) runs `numjobs` jobs, job j on vCPU j mod
 * vcpus, each in its own region of the disk.
 */
import type { Simulator } from '../../../core/simulator.js';
import { bool, num, psOf, str, type ParamValues } from '../../../calibration/param.js';
import { PS_PER_S, psToNs } from '../../../core/time.js';
import { FioJob, type FioCosts } from '../../../actors/block/fio-job.js';
import { GuestBlockLayer, type BlkDriver, type BlkMqCosts } from '../../../actors/block/guest-blk-mq.js';
import { HostBlockLayer } from '../../../actors/block/host-blk.js';
import { RamDisk, ramDiskCostsOf } from '../../../actors/block/ram-disk.js';
import { Ssd, ssdCostsOf } from '../../../actors/block/ssd.js';
import type { GuestVcpu } from '../../../actors/host/guest-vcpu.js';
import type { CpuRow, RunResult } from '../../../metrics/run-result.js';
import { latencyFigures, latencyRangePercent, type DirectionFigures, type FioFigures } from '../../../metrics/fio-figures.js';
import { InputError } from '../../../util/input-error.js';
import { toBlockSpec, type WorkloadInput } from '../../../workloads/index.js';
import { BLK_WORKLOADS, type BlkWorkloadSpec } from '../../../workloads/blk.js';
import { buildHostRun, checkHostInput, type HostRun, type HostVm } from '../../host-run.js';
import type { PathModel, PathRunInput } from '../../index.js';
import { BlkLedger } from './blk-ledger.js';
import { TIMELINE_STALL_S, timelineResult, wireTimeline } from '../../timeline-run.js';
import { qemuMigrationParts, registerMigration, type MigrationParts } from '../../migration-run.js';
import { runToEnd } from '../../../util/run-progress.js';
import { TraceCollector } from '../../../metrics/trace-collector.js';
import { GuestNvme } from '../../../actors/block/guest-nvme.js';
import { registerDeviceError } from './faults.js';

export interface BlockVm extends HostVm {
  /** Set by the path: the guest's block layer over its driver. */
  blk: GuestBlockLayer | null;
  jobs: FioJob[];
}

export interface BlockRunDetails {
  opsCreated: number;
  opsCompletedTotal: number;
  opsFailedTotal: number;
  opsFinishedAfterStop: number;
  duplicateCompletions: number;
  backwardMarks: number;
  perVm: { opsCompleted: number; bytesCompleted: number }[];
  /** I/Os in flight per job at the end (the closed loop keeps iodepth). */
  inflightAtEnd: number[];
  extra: Record<string, number>;
  violations: string[];
}

export interface BlockRunResult extends RunResult {
  details: BlockRunDetails;
}

export interface BlockContext {
  host: HostRun;
  params: ParamValues;
  spec: BlkWorkloadSpec;
  vms: BlockVm[];
  /** The disk every path ends at (shared by the VMs: SR-IOV functions of one controller). */
  disk: Ssd | RamDisk;
  /** The host kernel's block layer over the disk, made on first use. */
  hostBlock(): HostBlockLayer;
  /** Installs a VM's guest driver under a new blk-mq layer. */
  setDriver(vm: BlockVm, driver: BlkDriver): GuestBlockLayer;
  /** The vCPU of a hardware queue's interrupts (queue q on vCPU q mod vcpus). */
  vcpuOfQueue(vm: BlockVm, q: number): GuestVcpu;
  /** Threads to start at time 0 (back ends). */
  starters: (() => void)[];
  onFinish: ((extra: Record<string, number>, violations: string[]) => void)[];
  /** What the path adds to a live migration (its build sets the fields it has). */
  migration: MigrationParts;
}

export interface BlockPathDef {
  name: string;
  description: string;
  isVirtual: boolean;
  /** The disk kinds it serves (default both). */
  diskKinds?: readonly string[];
  /** blk.backend values it models (default local only). */
  backends?: readonly string[];
  validate?(p: ParamValues, spec: BlkWorkloadSpec): void;
  build(ctx: BlockContext): void;
}

/** An IDE disk (libata) has no polled queues: io_uring IOPOLL is refused (EOPNOTSUPP). */
export function refuseHipriOnIde(_p: ParamValues, spec: BlkWorkloadSpec): void {
  if (spec.isPolled) throw new InputError('workload.hipri: polled completions need a driver with poll queues (NVMe, virtio-blk); the emulated IDE disk has none');
}

/** Set-up checks of a block path: host checks, the disk, the path's own. */
export function checkBlockInput(def: BlockPathDef, p: ParamValues, workload: WorkloadInput): BlkWorkloadSpec {
  const spec = toBlockSpec(workload);
  if (!spec) throw new InputError(`workload.kind: path ${def.name} runs ${BLK_WORKLOADS.join(', ')} for block, not ${workload.kind}`);
  checkHostInput(p, def.isVirtual);
  const kind = str(p, 'disk.kind');
  const kinds = def.diskKinds ?? ['nvme', 'ram'];
  if (!kinds.includes(kind)) {
    throw new InputError(`params.disk.kind: path ${def.name} reaches the disk through its own device and needs ${kinds.join(' or ')}, not ${kind}`);
  }
  const backend = str(p, 'blk.backend');
  if (!(def.backends ?? ['local']).includes(backend)) {
    throw new InputError(`params.blk.backend: path ${def.name} has no ${backend} back end in the model (only virtio-qemu reaches the disk through iSCSI); use blk.backend=local`);
  }
  if (kind === 'nvme') {
    // a time drawn around a mean of 0 has no distribution (the SSD refuses it)
    for (const [time, cv] of [['ssd.read_us', 'ssd.read_cv'], ['ssd.program_us', 'ssd.program_cv']] as const) {
      if (num(p, cv) > 0 && !(num(p, time) > 0)) {
        throw new InputError(`params.${time}: a variable time (${cv} ${num(p, cv)}) needs a mean above 0, got 0; for a time of 0 set ${cv} to 0`);
      }
    }
  }
  if (bool(p, 'disk.read_only') && spec.readFraction < 1) {
    throw new InputError(`workload.rw: ${spec.rw} writes to a read-only disk (params.disk.read_only is true); use read or randread`);
  }
  def.validate?.(p, spec);
  return spec;
}

export function runBlockPath(def: BlockPathDef, input: PathRunInput): BlockRunResult {
  return setUpBlockRun(def, input)();
}

/**
 * Builds a run (disk, actors, threads, first events) without simulating; returns what
 * simulates it and assembles its result. Planning calls it alone (scenario/setup-check.ts).
 */
export function setUpBlockRun(def: BlockPathDef, input: PathRunInput): () => BlockRunResult {
  const p = input.params;
  const spec = checkBlockInput(def, p, input.workload);
  const host = buildHostRun(p, input.seed, input.replication, {
    isVirtual: def.isVirtual,
    isExplained: input.isExplained === true,
    timeline: input.timeline,
    vcpusPoll: false,
    pollPickupPs: Math.round(psOf(p, 'kvm.exit_light_ns') / 2),
  });
  const { sim, streams, counters, tracker, env, exits, cpu } = host;
  const ledger = new BlkLedger(sim, tracker, host.vms.length, spec.warmupOps, spec.ops, spec.warmupPs, spec.runtimePs, input.fio === true);
  let guestIrqsAtStart = 0;
  const disk: Ssd | RamDisk =
    str(p, 'disk.kind') === 'ram'
      ? new RamDisk('ramdisk', ramDiskCostsOf(p, env.copyPs))
      : new Ssd(sim, 'ssd', ssdCostsOf(p), streams.stream('disk/ssd'), num(p, 'ssd.queues'));
  ledger.onWindowStart = () => {
    guestIrqsAtStart = host.guestIrqs();
    counters.reset();
    exits.reset();
    cpu.resetStats();
    disk.resetStats();
  };

  const vms: BlockVm[] = host.vms.map((vm) => ({ ...vm, blk: null, jobs: [] }));
  const mq: BlkMqCosts = {
    submitPs: psOf(p, 'guest.blk_submit_ns'),
    completePs: psOf(p, 'guest.blk_complete_ns'),
    maxMergeBytes: num(p, 'guest.blk_max_merge_kib') * 1024,
  };
  // stages in the order a request meets them: the job, blk-mq, the path's (defined by its
  // build), the guest's completion and the job's reap
  const fioSubmit = tracker.define('guest.submit', 'fio');
  const mqQueue = tracker.define('guest.blk-mq', 'guest-vcpu');
  const mqStages = { queue: mqQueue, complete: -1 };
  let hostBlk: HostBlockLayer | null = null;
  const starters: (() => void)[] = [];
  const onFinish: BlockContext['onFinish'] = [];
  const ctx: BlockContext = {
    host,
    params: p,
    spec,
    vms,
    disk,
    hostBlock: () => {
      if (hostBlk === null) {
        hostBlk = new HostBlockLayer(
          env,
          'host-blk',
          disk,
          { submitPs: psOf(p, 'hostblk.submit_ns'), completePs: psOf(p, 'hostblk.complete_ns'), irqEntryPs: psOf(p, 'host.irq_ns') },
          (name, core) => cpu.addThread({ name, core, idleMode: 'sleep', wakeupPs: psOf(p, 'host.idle_exit_ns'), isIrq: true }),
        );
      }
      return hostBlk;
    },
    setDriver: (vm, driver) => {
      const blk = new GuestBlockLayer(env, `${vm.name}/blk-mq`, driver, (q) => ctx.vcpuOfQueue(vm, q), mq, mqStages);
      vm.blk = blk;
      return blk;
    },
    vcpuOfQueue: (vm, q) => vm.vcpus[q % vm.vcpus.length]!,
    starters,
    onFinish,
    migration: { ...qemuMigrationParts(blockIoPagesPerOp(spec), vms.length * spec.jobs * spec.iodepth * Math.ceil(spec.blockBytes / 4096) + 1), drain: (done) => drainDisk(sim, disk, done) },
  };

  def.build(ctx);
  // device-error: only where a Linux NVMe driver drives the SSD (the host's under its block
  // layer, or the bare-metal host's or a guest's own); SPDK's user-space driver (vhost-user,
  // the SPDK iSCSI target) has its command timeout off by default (bdev_nvme timeout_us 0)
  if (host.timeline !== null && disk instanceof Ssd && (hostBlk !== null || vms.some((vm) => vm.blk?.driver instanceof GuestNvme))) {
    registerDeviceError(ctx, disk);
  }
  mqStages.complete = tracker.define('guest.complete', 'guest-vcpu');
  const fioStages = { submit: fioSubmit, reap: tracker.define('guest.reap', 'fio') };

  const engine = spec.engine;
  const fio: FioCosts = {
    perIoPs: psOf(p, 'guest.fio_per_io_ns'),
    syscallPs: psOf(p, 'host.syscall_ns'),
    engineSubmitPs: engine === 'io_uring' ? psOf(p, 'guest.uring_submit_ns') : psOf(p, 'guest.aio_submit_ns'),
    engineReapPs: engine === 'io_uring' ? psOf(p, 'guest.uring_reap_ns') : psOf(p, 'guest.aio_reap_ns'),
    pollPs: psOf(p, 'guest.iopoll_ns'),
  };
  const hooks = {
    newOp: (vm: number) => ledger.newOp(vm),
    complete: (req: Parameters<BlkLedger['finish']>[0], atPs: number) => ledger.finish(req, atPs),
  };
  for (const vm of vms) {
    const blk = vm.blk;
    if (blk === null) throw new Error(`path ${def.name} built no block device for ${vm.name}`);
    for (let j = 0; j < spec.jobs; j++) {
      const vcpu = vm.vcpus[j % vm.vcpus.length]!;
      const job = new FioJob(env, vm.index, j, vcpu, spec, blk, fio, hooks, fioStages, streams.stream(`workload/${vm.name}/job${j}`));
      job.hwq = blk.hwqOf(vcpu);
      blk.sinks[j] = job;
      vm.jobs.push(job);
    }
  }

  // a run in which no I/O has ended for a minute of simulated time is stuck (threads that
  // poll keep the clock going): a watchdog checks once a simulated second and stops it. A
  // slow open loop waits longer: 50 mean gaps of a job (a Poisson gap that long has odds e^-50).
  const STALL_PS = (host.timeline !== null ? TIMELINE_STALL_S : 60) * PS_PER_S + (spec.ratePerJob !== null ? (50 * PS_PER_S) / spec.ratePerJob : 0);
  cpu.isAlive = () => sim.nowPs - ledger.lastFinishPs < STALL_PS;
  let isStalled = false;
  const watchdog = (): void => {
    if (ledger.isDone) return;
    if (!cpu.isAlive()) {
      isStalled = true;
      sim.stop();
      return;
    }
    sim.post(PS_PER_S, watchdog, undefined);
  };
  sim.post(PS_PER_S, watchdog, undefined);

  if (def.isVirtual) registerMigration(host, p, ctx.migration);
  else host.timeline?.refuse('migrate', 'bare metal has no VM to migrate');
  // every action's handler is registered by now (the path's build, the harness's own)
  const startTimeline = wireTimeline(host, ledger, def.name, spec.kind);

  // last before the first I/O begins: every stage, thread and ring exists
  const trace = input.trace ? new TraceCollector(tracker, cpu, sim, spec.warmupOps, spec.ops, input.trace, `${def.name} ${spec.kind} seed ${input.seed} replication ${input.replication}`) : null;
  tracker.observer = trace;

  host.start();
  for (const s of starters) s();
  for (const vm of vms) for (const job of vm.jobs) job.start();
  startTimeline?.();
  if (ledger.isMeasuring) ledger.startMeasuring();

  return (): BlockRunResult => {
    runToEnd(sim, () => ledger.finished);
    if (isStalled) {
      throw new Error(
        `path ${def.name}: no I/O completed for ${Math.round(STALL_PS / PS_PER_S)} s of simulated time after ${ledger.finished} of ${spec.warmupOps + spec.ops} (a thread starved of its core, or a lost wake-up)`,
      );
    }
    if (!ledger.isDone) {
      throw new Error(
        `path ${def.name}: the run stopped after ${ledger.finished} of ${spec.warmupOps + spec.ops} I/Os with no events left (a lost wake-up or a stuck ring)`,
      );
    }

    const windowPs = sim.nowPs - ledger.windowStartPs;
    // stopped by its runtime before `ops`: the tail store holds more than the slowest 1%
    if (ledger.isTimeUp) tracker.limitTail(Math.ceil(ledger.completed / 100));
    exits.flushInto(counters);
    const extra: Record<string, number> = {};
    const violations: string[] = [];
    for (const f of onFinish) f(extra, violations);
    extra['guest.interrupts_taken'] = host.guestIrqs() - guestIrqsAtStart;
    extra['blk.reads'] = ledger.reads;
    extra['blk.writes'] = ledger.writes;
    for (const vm of vms) {
      const blk = vm.blk!;
      extra[`${vm.name}/blk.merges`] = blk.merges;
      extra[`${vm.name}/blk.tag_waits`] = blk.tagWaits;
      extra[`${vm.name}/blk.ring_full`] = blk.ringFull;
    }
    for (const [k, v] of Object.entries(disk.stats())) extra[`disk.${k}`] = v;
    if (hostBlk !== null) {
      const hb: HostBlockLayer = hostBlk;
      extra['hostblk.submitted'] = hb.submitted;
    }
    host.addExtra(extra);
    const cpuRows = cpu.rows();
    return {
      opsCompleted: ledger.completed,
      opsDropped: ledger.failed,
      windowPs,
      bytesCompleted: ledger.bytesCompleted,
      latency: ledger.latency,
      counters,
      hostCpuCores: cpu.hostCores(),
      stages: tracker.rows(ledger.completed),
      cpu: cpuRows,
      eventsProcessed: sim.eventsProcessed,
      ...(trace ? { trace: trace.render() } : {}),
      ...timelineResult(host),
      ...(input.fio === true ? { fio: fioFigures(ledger, spec, vms, cpuRows, fio.perIoPs, windowPs, sim.nowPs, counters.contextSwitches) } : {}),
      details: {
        opsCreated: ledger.created,
        opsCompletedTotal: ledger.completedTotal,
        opsFailedTotal: ledger.failedTotal,
        opsFinishedAfterStop: ledger.afterStop,
        duplicateCompletions: ledger.duplicates,
        backwardMarks: tracker.backwardMarks,
        perVm: ledger.perVm,
        inflightAtEnd: vms.flatMap((vm) => vm.jobs.map((j) => j.inflight)),
        extra,
        violations,
      },
    };
  };
}

/**
 * The run in fio's terms (src/output/fio-json.ts). usr and sys are per job, as fio's
 * usr_cpu and sys_cpu with group_reporting: the busy time (polling excluded: a halted
 * vCPU's KVM polling is idle time to the guest) of the threads the jobs run on (their
 * vCPUs; host CPUs on bare metal) over jobs x window; usr is fio's own work, charged per
 * I/O at submission and at reap (guest.fio_per_io_ns each), sys is the rest.
 */
function fioFigures(
  ledger: BlkLedger,
  spec: BlkWorkloadSpec,
  vms: readonly BlockVm[],
  cpuRows: readonly CpuRow[],
  perIoPs: number,
  windowPs: number,
  endPs: number,
  contextSwitches: number,
): FioFigures {
  const threads = new Set<string>();
  for (const vm of vms) for (const job of vm.jobs) threads.add(job.vcpu.name);
  let busy = 0;
  for (const r of cpuRows) if (threads.has(r.thread)) busy += r.busyFraction - r.pollFraction;
  const jobs = vms.length * spec.jobs;
  const usr = windowPs > 0 ? Math.min(busy, (2 * perIoPs * ledger.measuredFinished) / windowPs) / jobs : 0;
  const sys = Math.max(0, busy / jobs - usr);
  const isSync = spec.engine === 'psync';
  const direction = (d: 0 | 1): DirectionFigures => {
    const lat = latencyFigures(ledger.lat[d]);
    return {
      ios: ledger.lat[d].count,
      bytes: ledger.bytesByDirection[d]!,
      // a synchronous engine's call is the whole I/O: fio measures no slat, and clat is lat
      slat: isSync ? null : latencyFigures(ledger.slat[d]),
      clat: isSync ? lat : latencyFigures(ledger.clat[d]),
      lat,
    };
  };
  return {
    read: direction(0),
    write: direction(1),
    windowNs: psToNs(windowPs),
    endNs: psToNs(endPs),
    jobs,
    iodepth: spec.iodepth,
    usr,
    sys,
    contextSwitches,
    clatPercent: latencyRangePercent(isSync ? ledger.lat : ledger.clat),
  };
}

/** Wraps a block path definition as the block half of a registry entry. */
export function blockPath(def: BlockPathDef): Pick<PathModel, 'check' | 'setUp' | 'run'> & { def: BlockPathDef } {
  return {
    def,
    check: (params, workload) => {
      checkBlockInput(def, params, workload);
    },
    setUp: (input) => {
      setUpBlockRun(def, input);
    },
    run: (input) => runBlockPath(def, input),
  };
}

/** Guest pages a block I/O writes (a migration's dirty pages): a read's data pages and the used-ring element. */
function blockIoPagesPerOp(spec: BlkWorkloadSpec): number {
  return spec.readFraction * Math.ceil(spec.blockBytes / 4096) + 1;
}

/** Polling period of the stop's drain (bdrv_drain_all waits in AIO_WAIT_WHILE, polling the event loop). */
const DRAIN_POLL_PS = 10_000_000;

/** Calls done once the disk has no command outstanding (do_vm_stop's bdrv_drain_all). */
function drainDisk(sim: Simulator, disk: Ssd | RamDisk, done: () => void): void {
  const check = (): void => {
    if (disk.outstandingCommands === 0) done();
    else sim.post(DRAIN_POLL_PS, check);
  };
  check();
}
