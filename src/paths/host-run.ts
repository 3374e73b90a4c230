/**
 * What the run harness of every device class shares (network: net/support/net-run.ts,
 * block: block/support/block-run.ts): the simulator, random streams, counters, stage
 * tracker and actor environment; the host CPU with its thread placement (host.pinning,
 * host.cores, SMT); the VMs with their vCPUs, KVM and big lock; other tenants' threads;
 * host and guest timer ticks; and the run-end CPU figures.
 */
import { bool, num, psOf, str, type ParamValues } from '../calibration/param.js';
import { RandomStreams } from '../core/random.js';
import { Simulator } from '../core/simulator.js';
import { PS_PER_S } from '../core/time.js';
import { copyCostFn, ExitTally, type ActorEnv } from '../actors/host/env.js';
import { GuestVcpu } from '../actors/host/guest-vcpu.js';
import { Kvm, type KvmCosts } from '../actors/host/kvm.js';
import { NoiseLoad } from '../actors/host/noise.js';
import { Counters } from '../metrics/counters.js';
import { HostCpu, type HostThread, type ThreadOptions } from '../primitives/host-cpu.js';
import { Mutex } from '../primitives/mutex.js';
import { StageTracker } from '../primitives/stage-tracker.js';
import { AttributingStageTracker } from '../metrics/stage-attribution.js';
import { InputError, didYouMean } from '../util/input-error.js';
import { idleStates, type IdleState } from '../primitives/idle-governor.js';
import { Timeline } from '../timeline/timeline.js';
import type { TimelineInput } from '../timeline/schema.js';
import { TimelineRecorder } from '../metrics/timeline-recorder.js';

/** One VM: its vCPUs, KVM acting for it (null on bare metal) and its QEMU's big lock. */
export interface HostVm {
  index: number;
  name: string;
  vcpus: GuestVcpu[];
  kvm: Kvm | null;
  bql: Mutex;
}

export interface HostRunOptions {
  isVirtual: boolean;
  /** vCPUs that never halt (a guest polling forwarder) rather than halt-polling ones. */
  vcpusPoll: boolean;
  /** A polling vCPU's pickup time [ps]. */
  pollPickupPs: number;
  /** Attribute counters and threads to stages (iovsim explain; see metrics/stage-attribution.ts). */
  isExplained?: boolean;
  /** The run's timeline and faults (absent: none, and the run is as it was before timelines). */
  timeline?: TimelineInput | undefined;
}

export interface HostRun {
  sim: Simulator;
  streams: RandomStreams;
  counters: Counters;
  exits: ExitTally;
  tracker: StageTracker;
  env: ActorEnv;
  cpu: HostCpu;
  kvmCosts: KvmCosts;
  vms: HostVm[];
  /** Creates a host thread, placing it on a core (host.pinning, host.cores). */
  addHostThread(options: Omit<ThreadOptions, 'core'>): HostThread;
  /** Guest interrupts taken so far, all vCPUs. */
  guestIrqs(): number;
  /** Adds other tenants' threads and the timer ticks (every thread exists), then starts the noise and the vCPUs. */
  start(): void;
  /** Run-end CPU figures for details.extra. */
  addExtra(extra: Record<string, number>): void;
  /** The run's timeline (paths register the actions they can do) and its recorder; null without one. */
  timeline: Timeline | null;
  recorder: TimelineRecorder | null;
  /** Called when the run ends, before the recorder closes (an unfinished migration reports its pages). */
  timelineFinish: (() => void)[];
  /** Told of every op's end in a run with a timeline (a migration counts the pages the I/O wrote). */
  opEndHooks: ((isCompleted: boolean) => void)[];
}

/** KVM's exit, injection and interrupt costs [ps]. */
export function kvmCosts(p: ParamValues): KvmCosts {
  return {
    exitLightPs: psOf(p, 'kvm.exit_light_ns'),
    exitKernelIoPs: psOf(p, 'kvm.exit_kernel_io_ns'),
    exitUserPs: psOf(p, 'kvm.exit_user_ns'),
    ioeventfdPs: psOf(p, 'kvm.ioeventfd_ns'),
    irqRoutePs: psOf(p, 'kvm.irq_route_ns'),
    postedIrqPs: psOf(p, 'kvm.posted_irq_ns'),
    injectExitPs: psOf(p, 'kvm.inject_exit_ns'),
    eoiExitPs: psOf(p, 'kvm.eoi_exit_ns'),
    guestIrqPs: psOf(p, 'guest.irq_ns'),
    hostIrqPs: psOf(p, 'host.irq_ns'),
    isApicv: bool(p, 'kvm.apicv'),
    isVtdPi: bool(p, 'kvm.vtd_pi'),
    hasNohzTimerExits: bool(p, 'guest.nohz_timer_exits'),
  };
}

/** The host cores' idle states (host.cstate_max and the exit latencies and residencies). */
export function hostIdleStates(p: ParamValues): IdleState[] {
  return idleStates(str(p, 'host.cstate_max'), {
    c1ExitPs: psOf(p, 'host.c1_exit_ns'),
    c1eExitPs: psOf(p, 'host.c1e_exit_ns'),
    c1eResidencyPs: psOf(p, 'host.c1e_residency_ns'),
    c6ExitPs: psOf(p, 'host.c6_exit_ns'),
    c6ResidencyPs: psOf(p, 'host.c6_residency_ns'),
  });
}

/** The most cores a pin may name when host.cores is 0 (every thread on a core of its own): host.cores' maximum. */
const MAX_PINNED_CORE = 1023;

/**
 * host.pinning: comma-separated thread=core pairs, each thread once. `logicalCpus` is
 * host.cores (doubled with SMT), 0 when every thread has a core of its own.
 */
export function parsePinning(text: string, logicalCpus: number): Map<string, number> {
  const out = new Map<string, number>();
  if (text.trim() === '') return out;
  const at = 'params.host.pinning';
  const last = logicalCpus > 0 ? logicalCpus - 1 : MAX_PINNED_CORE;
  for (const part of text.split(',')) {
    const m = /^\s*([^=\s][^=]*?)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m) {
      // a core must be written: Number("") is 0, which read "vm0/vcpu0=" as core 0
      throw new InputError(`${at}: ${JSON.stringify(part)} is not thread=core with a core number (e.g. vm0/vcpu0=2); pairs are separated by commas`);
    }
    const name = m[1]!;
    const core = Number(m[2]);
    if (core > last) {
      throw new InputError(
        logicalCpus > 0
          ? `${at}: ${name}=${core}: core ${core} is beyond host.cores; allowed: 0 to ${last}`
          : `${at}: ${name}=${core}: core ${core} is beyond the most cores a host has (host.cores at most ${MAX_PINNED_CORE + 1}); allowed: 0 to ${last}`,
      );
    }
    if (out.has(name)) throw new InputError(`${at}: ${name} is pinned twice`);
    out.set(name, core);
  }
  return out;
}

/** Logical CPUs threads are placed on: host.cores, doubled with SMT; 0 when every thread has its own core. */
function logicalCpusOf(p: ParamValues): number {
  return num(p, 'host.cores') * (bool(p, 'host.smt') ? 2 : 1);
}

/** Set-up checks every class makes: VMs on bare metal, SMT without cores, the pinning syntax and cores. */
export function checkHostInput(p: ParamValues, isVirtual: boolean): void {
  if (!isVirtual && num(p, 'host.vms') > 1) {
    throw new InputError('params.host.vms: bare metal has no VMs; run it with host.vms=1');
  }
  if (bool(p, 'host.smt') && num(p, 'host.cores') === 0) {
    throw new InputError('params.host.smt: needs host.cores (the physical cores whose hardware threads are shared); with host.cores 0 every thread has a core of its own');
  }
  parsePinning(str(p, 'host.pinning'), logicalCpusOf(p));
}

export function buildHostRun(p: ParamValues, seed: number, replication: number, options: HostRunOptions): HostRun {
  const vmCount = num(p, 'host.vms');
  const vcpusPerVm = num(p, 'vm.vcpus');
  const sim = new Simulator();
  const streams = new RandomStreams(seed, replication);
  const counters = new Counters();
  // explain's tracker only reads more; other runs keep the plain one (its hot path untouched)
  const attributing = options.isExplained === true ? new AttributingStageTracker(sim) : null;
  const tracker: StageTracker = attributing ?? new StageTracker(sim);
  const copyPs = copyCostFn(num(p, 'host.copy_fixed_ns'), num(p, 'host.memcpy_gbps'));
  const exits = new ExitTally();
  const env: ActorEnv = {
    sim,
    counters,
    exits,
    tracker,
    copyPs,
    countCopy: (bytes) => {
      counters.copies++;
      counters.copyBytes += bytes;
    },
    syscallPs: psOf(p, 'host.syscall_ns'),
  };
  const cpu = new HostCpu(sim, {
    ctxSwitchPs: psOf(p, 'host.ctx_switch_ns'),
    slicePs: psOf(p, 'host.sched_slice_us'),
    wakeupGranularityPs: psOf(p, 'host.wakeup_granularity_us'),
    counters,
    jitterCv: num(p, 'host.jitter_cv'),
    stream: (name: string) => streams.stream(name),
    idleStates: hostIdleStates(p),
    coldCachePs: psOf(p, 'host.cold_cache_ns'),
    smtCores: bool(p, 'host.smt') ? num(p, 'host.cores') : 0,
    smtSlowdown: num(p, 'host.smt_slowdown'),
  });
  attributing?.attach({
    read: (into) => {
      into[0] = exits.ioExits; // the tally reaches counters.exits only at the end
      into[1] = counters.interrupts;
      into[2] = counters.kicks;
      into[3] = counters.copies;
      into[4] = counters.syscalls;
    },
    cpu,
  });

  // with SMT, the places threads go are logical CPUs: two per physical core
  const hostCores = logicalCpusOf(p);
  const pinning = parsePinning(str(p, 'host.pinning'), hostCores);
  const placed: string[] = [];
  let nextCore = 0;
  const threadsOnCore: number[] = [];
  const addHostThread = (o: Omit<ThreadOptions, 'core'>): HostThread => {
    const pinned = pinning.get(o.name);
    placed.push(o.name);
    let core: number;
    if (pinned !== undefined) core = pinned;
    else if (hostCores > 0 && o.isIrq === true) {
      // an IRQ goes where the fewest threads are (irqbalance spreads by load), from the top
      // core down: the vCPUs took the first cores
      core = hostCores - 1;
      for (let c = hostCores - 1; c >= 0; c--) if ((threadsOnCore[c] ?? 0) < (threadsOnCore[core] ?? 0)) core = c;
    } else {
      core = hostCores > 0 ? nextCore % hostCores : nextCore;
      nextCore++;
    }
    threadsOnCore[core] = (threadsOnCore[core] ?? 0) + 1;
    // unpinned threads float when cores are shared; interrupt work stays where its IRQ is affine
    const isMigratable = hostCores > 0 && pinned === undefined && o.isIrq !== true;
    return cpu.addThread({ ...o, core, isMigratable });
  };
  cpu.ensureCores(hostCores);

  // ---- VMs and their vCPUs (created first so they take the first cores)
  const kc = kvmCosts(p);
  const vms: HostVm[] = [];
  for (let v = 0; v < vmCount; v++) {
    const bql = new Mutex(`vm${v}/bql`);
    const kvm = options.isVirtual ? new Kvm(env, kc, bql) : null;
    const vm: HostVm = { index: v, name: options.isVirtual ? `vm${v}` : 'host', vcpus: [], kvm, bql };
    for (let i = 0; i < vcpusPerVm; i++) {
      const thread = options.isVirtual
        ? addHostThread({
            name: `vm${v}/vcpu${i}`,
            idleMode: options.vcpusPoll ? 'poll' : 'halt-poll',
            wakeupPs: psOf(p, 'kvm.halted_wakeup_ns'),
            pollPickupPs: options.pollPickupPs,
            pollWindowPs: psOf(p, 'kvm.halt_poll_ns'),
          })
        : addHostThread({ name: `host/cpu${i}`, idleMode: 'sleep', wakeupPs: psOf(p, 'host.idle_exit_ns') });
      if (kvm !== null) {
        thread.onInterrupt = () => kvm.hostInterruptExit();
        thread.onHostTick = () => kvm.hostTimerExit();
      }
      const vcpu = new GuestVcpu(env, thread.name, i, thread, kvm);
      vcpu.softirqRestarts = num(p, 'guest.softirq_restarts');
      if (kvm !== null && bool(p, 'kvm.halt_poll_adaptive')) {
        vcpu.haltPoll = {
          maxPs: psOf(p, 'kvm.halt_poll_ns'),
          grow: num(p, 'kvm.halt_poll_grow'),
          growStartPs: psOf(p, 'kvm.halt_poll_grow_start_ns'),
          shrink: num(p, 'kvm.halt_poll_shrink'),
        };
      }
      vcpu.softirqPs = psOf(p, 'guest.softirq_time_us');
      vm.vcpus.push(vcpu);
    }
    vms.push(vm);
  }
  const guestIrqs = (): number => vms.reduce((s, vm) => s + vm.vcpus.reduce((a, v) => a + v.interruptsTaken, 0), 0);

  const start = (): void => {
    // every thread that can be pinned exists by now: a pin that names none would be ignored
    for (const name of pinning.keys()) {
      if (!placed.includes(name)) {
        const shown = placed.length > 12 ? `${placed.slice(0, 12).join(', ')}, ... (${placed.length} in all)` : placed.join(', ');
        throw new InputError(`params.host.pinning: no thread "${name}" in this run${didYouMean(name, placed)}; threads: ${shown}`);
      }
    }
    // ---- other tenants' threads
    const noiseDuty = num(p, 'host.noise_duty');
    const noise: NoiseLoad[] = [];
    if (noiseDuty > 0) {
      const inUse = new Set(cpu.threads.map((t) => t.core.index));
      const n = num(p, 'host.noise_cores');
      const cores = [...inUse].sort((a, b) => a - b).slice(0, n > 0 ? n : undefined);
      for (const c of cores) {
        const t = cpu.addThread({ name: `host/noise${c}`, core: c, idleMode: 'sleep', wakeupPs: psOf(p, 'host.wakeup_ns'), isHost: false });
        noise.push(new NoiseLoad(sim, t, psOf(p, 'host.noise_burst_us'), noiseDuty, streams.stream(`host/noise${c}`)));
      }
    }
    // ---- timer ticks (every thread exists by now)
    const hostTickHz = num(p, 'host.tick_hz');
    if (hostTickHz > 0) cpu.startTicks(Math.round(PS_PER_S / hostTickHz), psOf(p, 'host.tick_ns'), (name) => streams.stream(name));
    const guestHz = num(p, 'guest.timer_hz');
    if (options.isVirtual && guestHz > 0) {
      // the guest's own tick while the vCPU works (NO_HZ_IDLE): a timer exit and the handler
      const tickId = exits.id('timer-tick', false);
      const costPs = kc.exitLightPs + psOf(p, 'guest.tick_ns');
      const periodPs = Math.round(PS_PER_S / guestHz);
      for (const vm of vms) {
        for (const v of vm.vcpus) {
          const phase = Math.floor(streams.stream(`guest/${v.name}/tick`)() * periodPs);
          v.thread.startGuestTick(periodPs, phase, costPs, () => exits.count(tickId));
        }
      }
    }
    for (const n of noise) cpu.start(n.thread);
    for (const vm of vms) for (const v of vm.vcpus) cpu.start(v.thread);
  };

  const addExtra = (extra: Record<string, number>): void => {
    cpu.coreBusyFractions().forEach((f, i) => {
      extra[`core${i}.busy_fraction`] = f;
    });
    extra['host.migrations'] = cpu.threads.reduce((s, t) => s + t.migrations, 0);
    extra['host.interruptions'] = cpu.threads.reduce((s, t) => s + t.interruptions, 0);
    // time the hypervisor held the vCPUs (a migration's throttle, stop-and-copy, postcopy faults)
    for (const vm of vms) {
      const pausedPs = vm.vcpus.reduce((s, v) => s + v.pausedPs, 0);
      if (pausedPs > 0) extra[`${vm.name}/vcpu_paused_ms`] = pausedPs / 1e9;
    }
  };

  const t = options.timeline;
  const timeline = t ? new Timeline(sim, t.entries, t.faults, t.faults.length > 0 ? streams.stream('timeline/faults') : null) : null;
  const recorder = t ? new TimelineRecorder(t.bucketPs) : null;
  return { sim, streams, counters, exits, tracker, env, cpu, kvmCosts: kc, vms, addHostThread, guestIrqs, start, addExtra, timeline, recorder, timelineFinish: [], opEndHooks: [] };
}
