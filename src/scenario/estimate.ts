/**
 * How long a plan will take and how much memory it will hold, before it runs: from the
 * events each path needs per op (cost-table.ts, measured at the defaults) and this
 * machine's speed, measured by a short probe (a custom M/M/1 run) and compared with the
 * probe's speed on the machine that measured the table. `iovsim validate` prints it;
 * `run` and `compare` refuse a plan above the limits unless --force.
 *
 * An estimate: loads, batching and swept parameters move events per op, and a shared
 * machine's speed swings. The probe is timed with a clock the command passes in (as
 * executePlan's clockMs): nothing under src/scenario reads the wall clock itself.
 */
import { totalmem } from 'node:os';
import { Exponential } from '../core/distributions.js';
import { InputError } from '../util/input-error.js';
import { runCustom } from '../workloads/custom.js';
import { COST_TABLE, PROBE_NS_PER_EVENT } from './cost-table.js';
import type { Plan } from './load.js';

/** Plans estimated above these are refused without --force. */
export const LIMITS = {
  /** Wall time [s]: a day. */
  wallS: 24 * 3600,
  /** Memory, as a fraction of this machine's. */
  memoryFraction: 0.8,
} as const;

/** Memory the main process holds whatever the plan (modules, plan, buffers) [bytes]: measured about 90 MB (issue 17). */
const MAIN_BASE_BYTES = 120e6;
/** Memory one worker thread holds while it runs a task [bytes] (a modelling estimate: heap of a net path run). */
const WORKER_BYTES = 80e6;
/** Memory per run in the main process: its task entry and summary row kept until the end [bytes] (estimate). */
const RUN_BYTES = 2500;
/** Memory per sweep point: its workload and resolved parameters [bytes] (estimate). */
const POINT_BYTES = 8000;
/** Ops of each probe run: three cost some 30 ms. */
const PROBE_OPS = 40_000;

/**
 * This machine's wall time per event of the kernel on a fixed run (an M/M/1 station at
 * load 0.5) [ns]. The same probe, run the same way, measured PROBE_NS_PER_EVENT on the
 * machine that wrote cost-table.ts.
 */
export function probeNsPerEvent(clockMs: () => number): number {
  const spec = {
    arrival: { kind: 'poisson' as const, ratePerS: 500_000 },
    stages: [{ name: 'probe', servers: 1, service: new Exponential(1000 * 1000), queueCapacity: Infinity, whenFull: 'drop' as const }],
    ops: PROBE_OPS,
    warmupOps: 0,
    sizeBytes: 0,
  };
  // The fastest of three: the first pays for compiling, and a busy machine slows any one.
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const startMs = clockMs();
    const result = runCustom(spec, 1, 0);
    best = Math.min(best, ((clockMs() - startMs) * 1e6) / Math.max(1, result.eventsProcessed));
  }
  return best;
}

/** What a plan will cost. */
export interface PlanEstimate {
  runs: number;
  /** Ops simulated, warm-up included. */
  ops: number;
  events: number;
  /** Worker threads the run would use. */
  workers: number;
  wallS: number;
  memoryBytes: number;
}

/**
 * Events per op and wall time per event of a path running a workload kind here. A
 * custom workload runs no path: an arrival and one completion per stage, at the probe's
 * speed.
 */
function costOf(path: string, workload: Plan['points'][number]['workload'], scale: number, probeNs: number): { eventsPerOp: number; nsPerEvent: number } {
  if (workload.kind === 'custom') return { eventsPerOp: 1 + workload.stages.length, nsPerEvent: probeNs };
  const row = COST_TABLE[`${path}/${workload.kind}`];
  // A pair the table lacks (a new path): the slowest entry, to err on the long side.
  const r = row ?? Object.values(COST_TABLE).reduce((a, b) => (a.eventsPerOp * a.nsPerEvent > b.eventsPerOp * b.nsPerEvent ? a : b));
  return { eventsPerOp: r.eventsPerOp, nsPerEvent: r.nsPerEvent * scale };
}

/**
 * Estimates a plan from its counts (the tasks are never listed, so a plan of 10^9 runs
 * is estimated as fast as one of ten). `probeNs`: this machine's probe time; pass
 * PROBE_NS_PER_EVENT for the table's machine. `share`: the part of the plan this
 * process runs (1/N for a shard of N).
 */
export function estimatePlan(plan: Plan, jobs: number, probeNs: number, share = 1): PlanEstimate {
  const scale = probeNs / PROBE_NS_PER_EVENT;
  const replications = plan.scenario.replications;
  const runs = Math.ceil(plan.points.length * plan.paths.length * replications * share);
  let ops = 0;
  let events = 0;
  let cpuNs = 0;
  let longestNs = 0;
  for (const point of plan.points) {
    const w = point.workload;
    const opsPerRun = w.ops + w.warmup_ops;
    for (const path of plan.paths) {
      const c = costOf(path, w, scale, probeNs);
      const runEvents = opsPerRun * c.eventsPerOp;
      ops += opsPerRun * replications;
      events += runEvents * replications;
      cpuNs += runEvents * c.nsPerEvent * replications;
      longestNs = Math.max(longestNs, runEvents * c.nsPerEvent);
    }
  }
  ops *= share;
  events *= share;
  cpuNs *= share;
  const workers = Math.max(1, Math.min(jobs, runs));
  const wallS = Math.max(cpuNs / workers, longestNs) / 1e9;
  const memoryBytes = MAIN_BASE_BYTES + workers * WORKER_BYTES + runs * RUN_BYTES + plan.points.length * POINT_BYTES;
  return { runs, ops, events, workers, wallS, memoryBytes };
}

/** "under 0.1 s", "3.2 s", "4.1 min", "24 h", "3.1e+4 days". */
export function formatDuration(s: number): string {
  const oneDecimal = (x: number): string => x.toFixed(1).replace(/\.0$/, '');
  if (s < 0.1) return 'under 0.1 s';
  if (s < 60) return `${s < 10 ? oneDecimal(s) : Math.round(s)} s`;
  if (s < 3600) return `${oneDecimal(s / 60)} min`;
  if (s < 86400 * 3) return `${oneDecimal(s / 3600)} h`;
  const days = s / 86400;
  return `${days < 1e4 ? Math.round(days) : days.toExponential(1)} days`;
}

/** "120 MB", "3.4 GB", "1.6e+3 TB". */
export function formatBytes(b: number): string {
  if (b < 1e9) return `${Math.round(b / 1e6)} MB`;
  if (b < 1e12) return `${(b / 1e9).toFixed(1)} GB`;
  const tb = b / 1e12;
  return `${tb < 1e4 ? tb.toFixed(1) : tb.toExponential(1)} TB`;
}

/** One line: "about 12 s on 2 worker threads and 290 MB of memory (1.2e+6 ops, 9.8e+6 events)". */
export function describeEstimate(e: PlanEstimate): string {
  const n = (x: number): string => (x < 1e5 ? String(Math.round(x)) : x.toExponential(1));
  return `${e.wallS < 0.1 ? '' : 'about '}${formatDuration(e.wallS)} on ${e.workers} worker thread${e.workers === 1 ? '' : 's'} and ${formatBytes(e.memoryBytes)} of memory (${n(e.ops)} ops, ${n(e.events)} events)`;
}

/** The limits this machine sets: wall time, and a share of its memory. */
export function planLimits(): { wallS: number; memoryBytes: number } {
  return { wallS: LIMITS.wallS, memoryBytes: LIMITS.memoryFraction * totalmem() };
}

/**
 * Refuses a plan estimated above the limits (exit 2, with the estimate), unless `force`.
 * The probe runs only when the plan could be above them on a machine four times slower
 * than the table's, so an ordinary run pays nothing for this check.
 */
export function checkPlanSize(plan: Plan, jobs: number, force: boolean, clockMs: () => number, share = 1): void {
  if (force) return;
  const limits = planLimits();
  const bound = estimatePlan(plan, jobs, 4 * PROBE_NS_PER_EVENT, share);
  if (bound.wallS <= limits.wallS && bound.memoryBytes <= limits.memoryBytes) return;
  const e = estimatePlan(plan, jobs, probeNsPerEvent(clockMs), share);
  const over: string[] = [];
  if (e.wallS > limits.wallS) over.push(`more than ${formatDuration(limits.wallS)}`);
  if (e.memoryBytes > limits.memoryBytes) over.push(`more than ${formatBytes(limits.memoryBytes)} of memory (${Math.round(LIMITS.memoryFraction * 100)}% of this machine's)`);
  if (over.length === 0) return;
  throw new InputError(
    `${plan.source}: the plan is too large: ${e.runs} runs, ${describeEstimate(e)}, ${over.join(' and ')}; run fewer points, replications or ops, shard it over machines (--shard), or add --force to run it anyway`,
  );
}
