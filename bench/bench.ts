/**
 * Engine benchmark (`npm run bench`): prints one JSON line per case.
 *
 *   (a) mm1      an M/M/1 queue at load 0.9 for 1,000,000 customers (Simulator + Station)
 *   (b) timers   10,000 timers, each rescheduling itself after an exponential delay,
 *                for 5,000,000 events (Simulator alone)
 *   (c) pipeline a custom three-stage pipeline through the `iovsim run` code path
 *                (planScenario -> executePlan, CSV rendering included)
 *
 * Each case runs in a fresh child process (so JIT state and peak RSS belong to that case
 * alone), by default three times; the line reports the best run (highest events/s), the
 * wall times of all runs, and the highest peak RSS of any run. A child loads only the
 * modules its case needs (dynamic imports), so the compiler thread is not still busy
 * with, say, the scenario schema when the clock starts. Wall time is measured from just
 * before the model is built to just after it finishes, in a cold process: JIT warm-up
 * is included, process start-up and module loading are not.
 *
 * Usage: node dist/bench/bench.js [--runs N] [--case mm1|timers|pipeline]...
 * Benchmarks are not tests: nothing here asserts a time.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CaseResult {
  case: string;
  events: number;
  wall_s: number;
  events_per_s: number;
  peak_rss_mb: number;
  ops_per_s?: number;
  /** Events per second over the second half of the run: the rate once the JIT has warmed up. */
  second_half_events_per_s?: number;
  /**
   * Linux only: on-CPU time of the main thread during the run, and time it was runnable
   * but waiting for a core (other processes on the machine); wall_s is about their sum.
   */
  main_thread_cpu_s?: number;
  main_thread_runqueue_wait_s?: number;
}

/** Wall clock and event count when a run passes its middle. */
interface HalfMark {
  timeMs: number;
  events: number;
}

const SEED = 1;

/** (a) M/M/1 at load 0.9: Poisson arrivals (mean gap 1/0.9 us), exponential service (1 us). */
async function caseMm1(): Promise<CaseResult> {
  const { Exponential } = await import('../src/core/distributions.js');
  const { deriveStream } = await import('../src/core/random.js');
  const { Simulator } = await import('../src/core/simulator.js');
  const { us } = await import('../src/core/time.js');
  const { Station } = await import('../src/primitives/station.js');
  const customers = 1_000_000;
  const t0 = startClock();
  const sim = new Simulator();
  const station = new Station<number>(sim, {
    name: 'server',
    servers: 1,
    service: new Exponential(us(1)),
    rng: deriveStream(SEED, 0, 'bench/mm1/service'),
  });
  const gap = new Exponential(us(1) / 0.9);
  const gapRng = deriveStream(SEED, 0, 'bench/mm1/gap');
  let arrived = 0;
  let departed = 0;
  const half: HalfMark = { timeMs: 0, events: 0 };
  station.onDeparture = () => {
    if (++departed === customers / 2) markHalf(half, sim.eventsProcessed);
    if (departed === customers) sim.stop();
    return true;
  };
  const arrive = (): void => {
    station.arrive(arrived);
    if (++arrived < customers) sim.schedule(gap.sampleRounded(gapRng), arrive);
  };
  sim.schedule(gap.sampleRounded(gapRng), arrive);
  sim.run();
  const endMs = performance.now();
  if (departed !== customers) throw new Error(`mm1: ${departed} of ${customers} customers departed`);
  return finish('mm1_load0.9_1M_customers', sim.eventsProcessed, (endMs - t0) / 1000, customers, half, endMs);
}

/** (b) 10,000 timers, each rescheduling itself after an exponential delay (mean 10 us). */
async function caseTimers(): Promise<CaseResult> {
  const { Exponential } = await import('../src/core/distributions.js');
  const { deriveStream } = await import('../src/core/random.js');
  const { Simulator } = await import('../src/core/simulator.js');
  const { us } = await import('../src/core/time.js');
  const timers = 10_000;
  const events = 5_000_000;
  const t0 = startClock();
  const sim = new Simulator(timers);
  const delay = new Exponential(us(10));
  const rng = deriveStream(SEED, 0, 'bench/timers');
  const half: HalfMark = { timeMs: 0, events: 0 };
  const fire = (timer: number): void => {
    if (sim.eventsProcessed === events / 2) markHalf(half, events / 2);
    sim.schedule(delay.sampleRounded(rng), fire, timer);
  };
  for (let i = 0; i < timers; i++) sim.schedule(delay.sampleRounded(rng), fire, i);
  sim.run({ maxEvents: events });
  const endMs = performance.now();
  if (sim.eventsProcessed !== events) throw new Error(`timers: ran ${sim.eventsProcessed} events`);
  return finish('timers_10k_5M_events', sim.eventsProcessed, (endMs - t0) / 1000, undefined, half, endMs);
}

/** (c) Poisson arrivals into exponential -> lognormal -> Erlang-2 stages, each at load 0.8. */
async function casePipeline(): Promise<CaseResult> {
  const { executePlan } = await import('../src/scenario/execute.js');
  const { planScenario } = await import('../src/scenario/load.js');
  const ops = 500_000;
  const scenario = {
    name: 'bench-pipeline',
    workload: {
      kind: 'custom',
      arrival: { kind: 'poisson', rate_per_s: 800_000 },
      stages: [
        { name: 'parse', servers: 1, service_ns: { kind: 'exponential', mean: 1000 } },
        { name: 'work', servers: 2, service_ns: { kind: 'lognormal', mean: 2000, cv: 1.5 } },
        { name: 'reply', servers: 1, service_ns: { kind: 'erlang', mean: 1000, k: 2 } },
      ],
      ops,
      warmup_ops: 10_000,
    },
    seed: SEED,
  };
  const t0 = startClock();
  const plan = planScenario(scenario, 'bench:pipeline');
  const exec = await executePlan(plan);
  const wallS = (performance.now() - t0) / 1000;
  const completed = exec.rows.reduce((n, r) => n + Number(r.summary['ops_completed']), 0);
  if (completed !== ops) throw new Error(`pipeline: ${completed} of ${ops} ops completed`);
  return finish('pipeline_3stage_custom_run', exec.eventsProcessed, wallS, ops);
}

/** Main thread's [on-CPU ns, run-queue wait ns] from /proc (Linux), or null elsewhere. */
function schedstat(): [number, number] | null {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ');
    return [Number(f[0]), Number(f[1])];
  } catch {
    return null;
  }
}

let schedAtStart: [number, number] | null = null;

/** Marks the start of the timed part; returns performance.now(). */
function startClock(): number {
  schedAtStart = schedstat();
  return performance.now();
}

function markHalf(half: HalfMark, events: number): void {
  half.timeMs = performance.now();
  half.events = events;
}

function finish(name: string, events: number, wallS: number, ops?: number, half?: HalfMark, endMs?: number): CaseResult {
  const r: CaseResult = {
    case: name,
    events,
    wall_s: round(wallS, 4),
    events_per_s: Math.round(events / wallS),
    peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
  };
  if (ops !== undefined) r.ops_per_s = Math.round(ops / wallS);
  if (half !== undefined && endMs !== undefined && half.timeMs > 0) {
    r.second_half_events_per_s = Math.round((events - half.events) / ((endMs - half.timeMs) / 1000));
  }
  const sched = schedstat();
  if (sched !== null && schedAtStart !== null) {
    r.main_thread_cpu_s = round((sched[0] - schedAtStart[0]) / 1e9, 4);
    r.main_thread_runqueue_wait_s = round((sched[1] - schedAtStart[1]) / 1e9, 4);
  }
  return r;
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

const CASES: Record<string, () => Promise<CaseResult>> = {
  mm1: caseMm1,
  timers: caseTimers,
  pipeline: casePipeline,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const child = args.indexOf('--child');
  if (child >= 0) {
    const name = args[child + 1]!;
    const run = CASES[name];
    if (!run) throw new Error(`unknown case ${name}`);
    process.stdout.write(`${JSON.stringify(await run())}\n`);
    return;
  }
  let runs = 3;
  const chosen: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runs') runs = Math.max(1, Number(args[++i]) | 0);
    else if (args[i] === '--case') chosen.push(args[++i]!);
    else throw new Error(`unknown argument ${args[i]}; usage: bench [--runs N] [--case mm1|timers|pipeline]...`);
  }
  const names = chosen.length > 0 ? chosen : Object.keys(CASES);
  const self = fileURLToPath(import.meta.url);
  for (const name of names) {
    if (!CASES[name]) throw new Error(`unknown case ${name}; cases: ${Object.keys(CASES).join(', ')}`);
    const results: CaseResult[] = [];
    for (let r = 0; r < runs; r++) {
      const p = spawnSync(process.execPath, [self, '--child', name], { encoding: 'utf8' });
      if (p.status !== 0) throw new Error(`case ${name} failed (status ${p.status}):\n${p.stderr}`);
      results.push(JSON.parse(p.stdout.trim()) as CaseResult);
    }
    const best = results.reduce((a, b) => (b.events_per_s > a.events_per_s ? b : a));
    const line = {
      ...best,
      peak_rss_mb: Math.max(...results.map((x) => x.peak_rss_mb)),
      runs,
      wall_s_all: results.map((x) => x.wall_s),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
