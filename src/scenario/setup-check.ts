/**
 * Plan-time set-up of every task: what `run` would find only when a task starts is found
 * by planning, so that `validate` says the same and a bad plan fails before any task runs.
 *
 * For every sweep point: its times must fit the simulator's clock (core/time.ts: integer
 * picoseconds, exact up to 2^53 ps, about 2.5 hours of simulated time): each time value,
 * and the simulated time the run needs at least (its ops at the offered rate, or through
 * its slowest stage). Then, for every path: the path's own checks (PathModel.check) and
 * its set-up as the run does it (PathModel.setUp: actors, threads, first events, without
 * simulating); an error there is bad input, named with the point and the path.
 */
import { num, type ParamValues } from '../calibration/param.js';
import { MAX_TIME_PS, PS_PER_NS, PS_PER_S } from '../core/time.js';
import { findPath } from '../paths/index.js';
import { InputError } from '../util/input-error.js';
import { toCustomSpec } from '../workloads/custom-schema.js';
import { setUpCustom } from '../workloads/custom.js';
import type { WorkloadInput } from '../workloads/index.js';
import { buildDistribution, type DistributionSpec } from './distribution-schema.js';
import type { SweepPoint } from './load.js';
import type { TimelineInput } from '../timeline/schema.js';

/**
 * The simulated time a run may need at most [ps]: half the clock, so that the randomness
 * of arrivals and service (a lower bound is what planning can compute) leaves room.
 */
export const RUN_BUDGET_PS = Math.floor(MAX_TIME_PS / 2);

/** A simulated time in words: "1.2e+10 s", "75 min", "4.2 h". */
function simulatedTime(ps: number): string {
  const s = ps / PS_PER_S;
  if (!Number.isFinite(s) || s >= 1e6) return `${s.toPrecision(2)} s`;
  if (s >= 3600) return `${(s / 3600).toPrecision(2)} h`;
  if (s >= 60) return `${Math.round(s / 60)} min`;
  return `${s.toPrecision(2)} s`;
}

const CLOCK = `a run may simulate ${simulatedTime(RUN_BUDGET_PS)} (the simulator's clock ends at 2^53 ps, ${simulatedTime(MAX_TIME_PS)})`;

/** Every time value a distribution of a `_ns` field holds, with its field path. */
function nsLeaves(spec: DistributionSpec, field: string): [string, number][] {
  if (typeof spec === 'number') return [[field, spec]];
  switch (spec.kind) {
    case 'constant':
      return [[`${field}.value`, spec.value]];
    case 'uniform':
      return [[`${field}.min`, spec.min], [`${field}.max`, spec.max]];
    case 'normal':
      return [[`${field}.mean`, spec.mean], [`${field}.stdev`, spec.stdev]];
    case 'empirical':
      return spec.values.map((v, i): [string, number] => [`${field}.values[${i}]`, v]);
    default:
      return [[`${field}.mean`, spec.mean]];
  }
}

/** The workload's time values [ns] by field: every one must fit the run's share of the clock. */
function timeFields(w: WorkloadInput): [string, number][] {
  const out: [string, number][] = [];
  const dist = (spec: DistributionSpec, field: string): void => {
    out.push(...nsLeaves(spec, field));
  };
  switch (w.kind) {
    case 'custom':
      if (w.arrival.kind === 'closed') dist(w.arrival.think_ns, 'workload.arrival.think_ns');
      w.stages.forEach((s, i) => dist(s.service_ns, `workload.stages[${i}].service_ns`));
      break;
    case 'net-rr':
      dist(w.think_ns, 'workload.think_ns');
      dist(w.peer_app_ns, 'workload.peer_app_ns');
      out.push(['workload.guest_stack_ns', w.guest_stack_ns], ['workload.peer_stack_ns', w.peer_stack_ns]);
      break;
    case 'net-tx':
    case 'net-rx':
    case 'net-pvp':
      out.push(['workload.burst_on_ns', w.burst_on_ns], ['workload.burst_off_ns', w.burst_off_ns], ['workload.guest_stack_ns', w.guest_stack_ns]);
      break;
    default:
      break;
  }
  return out;
}

/** A workload's open-loop rates [per s] by field. */
function rateFields(w: WorkloadInput): [string, number][] {
  if (w.kind === 'custom') return w.arrival.kind === 'closed' ? [] : [['workload.arrival.rate_per_s', w.arrival.rate_per_s]];
  if (w.kind === 'blk' || w.kind === 'blk-read' || w.kind === 'blk-write') return w.rate_iops === undefined ? [] : [['workload.rate_iops', w.rate_iops]];
  return w.rate_per_s === undefined ? [] : [['workload.rate_per_s', w.rate_per_s]];
}

/** A lower bound of the simulated time a run needs [ps], with the field that sets it. */
interface Need {
  field: string;
  ps: number;
  /** Why, for the message: "50 ops at 1e-9 per second". */
  why: string;
  /** What to change. */
  fix: string;
}

const meanPs = (spec: DistributionSpec): number => buildDistribution(spec, PS_PER_NS).mean;
const inAll = (each: number, total: number): string => (total === each ? '' : ` (${total} in all)`);

/**
 * What the run needs at least: its ops at the offered rate (open loops), its ops through a
 * closed loop's think time, or through the slowest stage that every op passes.
 */
function needs(w: WorkloadInput, p: ParamValues): Need[] {
  const out: Need[] = [];
  const n = w.warmup_ops + w.ops;
  const opsText = `${n} ops (warmup_ops + ops)`;
  const vms = num(p, 'host.vms');
  if (w.kind === 'custom') {
    const a = w.arrival;
    if (a.kind === 'closed') {
      const think = meanPs(a.think_ns);
      out.push({ field: 'workload.arrival.think_ns', ps: (n / a.clients) * think, why: `${opsText} of ${a.clients} client(s) thinking ${think / PS_PER_NS} ns on average`, fix: 'shorten the think time or lower workload.ops' });
    } else {
      out.push({ field: 'workload.arrival.rate_per_s', ps: (n / a.rate_per_s) * PS_PER_S, why: `${opsText} at ${a.rate_per_s} per second`, fix: 'raise the rate or lower workload.ops' });
    }
    // every op passes a stage that drops none, and each before it (a drop ends the op)
    for (const [i, s] of w.stages.entries()) {
      if (s.capacity !== undefined && s.when_full === 'drop') break;
      const mean = meanPs(s.service_ns);
      out.push({ field: `workload.stages[${i}].service_ns`, ps: (n / s.servers) * mean, why: `${opsText} on ${s.servers} server(s) of ${mean / PS_PER_NS} ns on average`, fix: 'shorten the service time or lower workload.ops' });
    }
    return out;
  }
  if (w.kind === 'blk' || w.kind === 'blk-read' || w.kind === 'blk-write') {
    if (w.rate_iops !== undefined) {
      const total = w.rate_iops * w.numjobs * vms;
      out.push({ field: 'workload.rate_iops', ps: (n / total) * PS_PER_S, why: `${opsText} at ${w.rate_iops} I/Os per second per job${inAll(w.rate_iops, total)}`, fix: 'raise the rate or lower workload.ops' });
    }
    return out;
  }
  // network: rates are per VM; a flow's transactions (net-rr, closed) follow each other
  if (w.rate_per_s !== undefined && w.arrival !== 'saturate') {
    const total = w.rate_per_s * vms;
    out.push({ field: 'workload.rate_per_s', ps: (n / total) * PS_PER_S, why: `${opsText} at ${w.rate_per_s} per second per VM${inAll(w.rate_per_s, total)}`, fix: 'raise the rate or lower workload.ops' });
  }
  const senders = vms * Math.min(w.flows, num(p, 'vm.vcpus'));
  out.push({ field: 'workload.guest_stack_ns', ps: (n / senders) * w.guest_stack_ns * PS_PER_NS, why: `${opsText} each taking ${w.guest_stack_ns} ns of guest stack on ${senders} vCPU(s)`, fix: 'lower guest_stack_ns or workload.ops' });
  if (w.kind === 'net-rr') {
    const app = meanPs(w.peer_app_ns);
    const peerStack = 2 * w.peer_stack_ns * PS_PER_NS;
    const peerPs = app + peerStack;
    const peerField = app >= peerStack ? 'workload.peer_app_ns' : 'workload.peer_stack_ns';
    const flows = vms * w.flows;
    // the peer serves a flow's transactions one after another, and an open loop's arrivals
    // book its time as they come: offered more than it serves, its bookings run ahead of
    // the ops by the overload factor
    const perFlowPerS = w.rate_per_s === undefined ? 0 : w.rate_per_s / w.flows;
    const overload = Math.max(1, (perFlowPerS * peerPs) / PS_PER_S);
    out.push({
      field: peerField,
      ps: (n / flows) * peerPs * overload,
      why: `${opsText} over ${flows} flow(s) whose peer takes ${peerPs / PS_PER_NS} ns per transaction${overload > 1 ? ` while offered ${perFlowPerS} per second per flow` : ''}`,
      fix: 'shorten peer_app_ns or peer_stack_ns, lower the rate or workload.ops',
    });
  }
  if (w.kind === 'net-rr' && w.rate_per_s === undefined) {
    // a closed loop's transaction: think, the guest's stack each way, the peer's stack each way and its application
    const slots = vms * w.flows * w.outstanding;
    const parts: [string, number][] = [
      ['workload.think_ns', meanPs(w.think_ns)],
      ['workload.peer_app_ns', meanPs(w.peer_app_ns)],
      ['workload.peer_stack_ns', 2 * w.peer_stack_ns * PS_PER_NS],
      ['workload.guest_stack_ns', 2 * w.guest_stack_ns * PS_PER_NS],
    ];
    const cycle = parts.reduce((sum, [, ps]) => sum + ps, 0);
    const [field] = parts.reduce((x, y) => (y[1] > x[1] ? y : x));
    out.push({
      field,
      ps: (n / slots) * cycle,
      why: `${opsText} over ${slots} transaction(s) in flight, each taking ${cycle / PS_PER_NS} ns of think, stack and peer time`,
      fix: 'shorten think_ns, peer_app_ns or the stacks, or lower workload.ops',
    });
  }
  return out;
}

/** Checks that a point's times fit the clock; throws an InputError naming the field. */
export function checkTimes(w: WorkloadInput, p: ParamValues): void {
  for (const [field, ns] of timeFields(w)) {
    const ps = ns * PS_PER_NS;
    if (!(Number.isFinite(ps) && ps <= RUN_BUDGET_PS)) {
      throw new InputError(`${field}: ${ns} ns is longer than ${CLOCK}; allowed: at most ${Math.floor(RUN_BUDGET_PS / PS_PER_NS)} ns`);
    }
  }
  for (const [field, rate] of rateFields(w)) {
    // the clock counts whole picoseconds: arrivals closer than that all come at once
    if (rate > PS_PER_S) throw new InputError(`${field}: ${rate} per second is more than one per picosecond, the simulator's time step; allowed: at most ${PS_PER_S}`);
  }
  let worst: Need | undefined;
  for (const need of needs(w, p)) if (worst === undefined || !(need.ps <= worst.ps)) worst = need;
  if (worst !== undefined && !(worst.ps <= RUN_BUDGET_PS)) {
    throw new InputError(`${worst.field}: ${worst.why} need at least ${simulatedTime(worst.ps)} of simulated time; ${CLOCK}: ${worst.fix}`);
  }
}

/** Checks that a point's timeline actions fall within the clock; throws an InputError naming the action. */
export function checkTimelineTimes(t: TimelineInput | undefined): void {
  if (t === undefined) return;
  t.entries.forEach((e, i) => {
    if (e.atPs !== undefined && !(e.atPs <= RUN_BUDGET_PS)) {
      throw new InputError(`timeline[${i}]: at ${simulatedTime(e.atPs)} is later than ${CLOCK}; allowed: at most ${Math.floor(RUN_BUDGET_PS / PS_PER_S)} s`);
    }
  });
  t.faults.forEach((f, i) => {
    if (!(f.startPs <= RUN_BUDGET_PS)) throw new InputError(`faults[${i}].start_s: ${simulatedTime(f.startPs)} is later than ${CLOCK}; allowed: at most ${Math.floor(RUN_BUDGET_PS / PS_PER_S)} s`);
  });
}

/**
 * Checks and sets up every task of a plan, in task order (points, then paths), so that the
 * error names the first task that would fail. `label` names a point in messages ("" for a
 * plan without a sweep); `seed` is the scenario's.
 */
export function checkSetups(points: readonly SweepPoint[], paths: readonly string[], source: string, seed: number, label: (point: SweepPoint) => string): void {
  for (const point of points) {
    const at = label(point);
    try {
      checkTimes(point.workload, point.params);
      checkTimelineTimes(point.timeline);
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`${source}: ${at === '' ? '' : `${at}: `}${e.message}`);
      throw e;
    }
    for (const name of paths) {
      const where = `${source}: ${at === '' ? '' : `${at}, `}path ${name}`;
      try {
        setUpTask(name, point, seed);
      } catch (e) {
        if (e instanceof InputError) throw new InputError(`${where}: ${e.message}`);
        // an actor that refuses its parameters at set-up (a RangeError, an Error) is the
        // input's doing; a TypeError or ReferenceError is the model's own bug
        if (!(e instanceof Error) || e instanceof TypeError || e instanceof ReferenceError) throw e;
        throw new InputError(`${where}: the run cannot be set up with these parameters: ${e.message}`);
      }
    }
  }
}

/** One task's checks and set-up (replication 0), as the run makes them, without simulating. */
function setUpTask(name: string, point: SweepPoint, seed: number): void {
  const w = point.workload;
  if (w.kind === 'custom') {
    if (point.timeline) throw new InputError('timeline: a custom workload runs on no path, so it has no VM to migrate and no part to fail; use a net-* or blk-* workload');
    setUpCustom(toCustomSpec(w), seed, 0);
    return;
  }
  const path = findPath(name);
  if (!path) throw new Error(`path ${name} vanished during planning`);
  path.check?.(point.params, w);
  path.setUp?.({ workload: w, params: point.params, seed, replication: 0, ...(point.timeline ? { timeline: point.timeline } : {}) });
}
