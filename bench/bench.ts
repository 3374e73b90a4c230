/**
 * Engine benchmark (`npm run bench`): prints one JSON line per case.
 *
 *   (a) mm1      an M/M/1 queue at load 0.9 for 1,000,000 customers (Simulator + Station)
 *   (b) timers   10,000 timers, each rescheduling itself after an exponential delay,
 *                for 5,000,000 events (Simulator alone)
 *   (c) pipeline a custom three-stage pipeline through the `iovsim run` code path
 *                (planScenario -> executePlan, CSV rendering included)
 *   reference    not the engine: case (a) as a bare loop (a typed-array binary heap
 *                keyed (time, sequence), no Simulator, no Station, no statistics) with the
 *                same random streams and exponential sampler. It says what this machine
 *                gives plain TypeScript at the moment of the run, so that (a) can be read
 *                against it: its speed varies by a third from hour to hour here, because
 *                the last-level cache is shared with other tenants.
 *   ratio        with both mm1 and reference chosen (the default), their runs alternate
 *                and a last line gives the warm events/s of mm1 over the reference's,
 *                run by run, and the median: how close the engine comes to the bare
 *                loop, a figure that moves far less than either speed.
 *
 * Method. Each run is a fresh child process (so JIT state and peak RSS belong to that
 * case alone) that builds and runs the case's model three times, identically (same seed,
 * same events), timing each pass from just before the model is built to just after it
 * ends:
 *
 *   cold  the first pass: JIT warm-up (interpreter, baseline code, optimizing compiles
 *         and their deoptimizations) included; process start-up and module loading not.
 *   warm  the third pass, in the same process, after two: the engine's speed once
 *         compiled, as in any run longer than a second or two. This is the usual
 *         practice for JIT runtimes (JMH's warm-up iterations, for one). Two warm-up
 *         passes, not one: each pass builds its model anew, with new closures, and code
 *         the compiler specialised to the first pass's closures deoptimizes once in the
 *         second (M/M/1: Station.finish, "wrong call target") and is compiled again.
 *         The second pass is timed too (`wall_s_second_all`).
 *
 * The headline figure, `events_per_s_warm`, is the best warm pass of the runs (three by
 * default); `events_per_s_cold` is the best cold pass, and `wall_s_warm_all` and
 * `wall_s_cold_all` list every run. `peak_rss_mb` is the highest peak RSS of any run
 * (all passes). A child loads only the modules its case needs (dynamic imports), so the
 * compiler thread is not still busy with, say, the scenario schema when the clock starts.
 * On Linux the line also gives the warm pass's main-thread CPU time and its run-queue
 * wait (time runnable but without a core: other work on the machine, or this process's
 * own compiler and GC threads), and the load average when the case started: on a shared
 * 2-core machine these say how much a figure was held back.
 *
 * Usage: node dist/bench/bench.js [--runs N] [--case mm1|timers|pipeline|reference]...
 * Benchmarks are not tests: nothing here asserts a time.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

/** One timed pass of a case. */
interface Pass {
  events: number;
  wallS: number;
  ops?: number;
  /** Main thread's on-CPU and run-queue-wait seconds during the pass (Linux only). */
  cpuS?: number;
  waitS?: number;
}

/** What a child prints: its cold and warm passes. */
interface ChildResult {
  case: string;
  cold: Pass;
  second: Pass;
  warm: Pass;
  peakRssMb: number;
}

const SEED = 1;

/** (a) M/M/1 at load 0.9: Poisson arrivals (mean gap 1/0.9 us), exponential service (1 us). */
async function caseMm1(): Promise<() => Pass> {
  const { runMm1 } = await import('./mm1-model.js');
  const customers = 1_000_000;
  return () => {
    const clock = startClock();
    const events = runMm1(customers, SEED);
    return stopClock(clock, events, customers);
  };
}

/** (b) 10,000 timers, each rescheduling itself after an exponential delay (mean 10 us). */
async function caseTimers(): Promise<() => Pass> {
  const { Exponential } = await import('../src/core/distributions.js');
  const { deriveStream } = await import('../src/core/random.js');
  const { Simulator } = await import('../src/core/simulator.js');
  const { us } = await import('../src/core/time.js');
  const timers = 10_000;
  const events = 5_000_000;
  return () => {
    const clock = startClock();
    const sim = new Simulator(timers);
    const delay = new Exponential(us(10));
    const rng = deriveStream(SEED, 0, 'bench/timers');
    const fire = (timer: number): void => {
      sim.post(delay.sampleRounded(rng), fire, timer);
    };
    for (let i = 0; i < timers; i++) sim.post(delay.sampleRounded(rng), fire, i);
    sim.run({ maxEvents: events });
    const pass = stopClock(clock, sim.eventsProcessed);
    if (sim.eventsProcessed !== events) throw new Error(`timers: ran ${sim.eventsProcessed} events`);
    return pass;
  };
}

/** (c) Poisson arrivals into exponential -> lognormal -> Erlang-2 stages, each at load 0.8. */
async function casePipeline(): Promise<() => Promise<Pass>> {
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
  return async () => {
    const clock = startClock();
    const plan = planScenario(scenario, 'bench:pipeline');
    const exec = await executePlan(plan);
    const pass = stopClock(clock, exec.eventsProcessed, ops);
    const completed = exec.summaries.reduce((n, r) => n + Number(r['ops_completed']), 0);
    if (completed !== ops) throw new Error(`pipeline: ${completed} of ${ops} ops completed`);
    return pass;
  };
}

/** Reference: case (a) as a bare loop over a typed-array heap (see the header). */
async function caseBareMm1(): Promise<() => Pass> {
  const { Exponential } = await import('../src/core/distributions.js');
  const { deriveStream } = await import('../src/core/random.js');
  const { us } = await import('../src/core/time.js');
  const customers = 1_000_000;
  return () => {
    const clock = startClock();
    const capacity = 1024;
    const heapTime = new Float64Array(capacity);
    const heapSeq = new Float64Array(capacity);
    const heapKind = new Int32Array(capacity); // 0 arrival, 1 departure
    let size = 0;
    let seq = 0;
    const push = (timePs: number, kind: number): void => {
      const s = seq++;
      let i = size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heapTime[p]! < timePs || (heapTime[p] === timePs && heapSeq[p]! < s)) break;
        heapTime[i] = heapTime[p]!;
        heapSeq[i] = heapSeq[p]!;
        heapKind[i] = heapKind[p]!;
        i = p;
      }
      heapTime[i] = timePs;
      heapSeq[i] = s;
      heapKind[i] = kind;
    };
    const service = new Exponential(us(1));
    const serviceRng = deriveStream(SEED, 0, 'bench/mm1/service');
    const gap = new Exponential(us(1) / 0.9);
    const gapRng = deriveStream(SEED, 0, 'bench/mm1/gap');
    let nowPs = 0;
    let waiting = 0;
    let isBusy = false;
    let arrived = 0;
    let departed = 0;
    let events = 0;
    push(gap.sampleRounded(gapRng), 0);
    while (size > 0 && departed < customers) {
      // pop the root, then sift the last entry down from the top
      nowPs = heapTime[0]!;
      const kind = heapKind[0]!;
      const t = heapTime[--size]!;
      const s = heapSeq[size]!;
      const k = heapKind[size]!;
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= size) break;
        if (c + 1 < size && (heapTime[c + 1]! < heapTime[c]! || (heapTime[c + 1] === heapTime[c] && heapSeq[c + 1]! < heapSeq[c]!))) c++;
        if (t < heapTime[c]! || (t === heapTime[c] && s < heapSeq[c]!)) break;
        heapTime[i] = heapTime[c]!;
        heapSeq[i] = heapSeq[c]!;
        heapKind[i] = heapKind[c]!;
        i = c;
      }
      heapTime[i] = t;
      heapSeq[i] = s;
      heapKind[i] = k;
      events++;
      if (kind === 0) {
        if (++arrived < customers) push(nowPs + gap.sampleRounded(gapRng), 0);
        if (isBusy) waiting++;
        else {
          isBusy = true;
          push(nowPs + service.sampleRounded(serviceRng), 1);
        }
      } else {
        departed++;
        if (waiting > 0) {
          waiting--;
          push(nowPs + service.sampleRounded(serviceRng), 1);
        } else isBusy = false;
      }
    }
    const pass = stopClock(clock, events, customers);
    if (departed !== customers) throw new Error(`bare mm1: ${departed} of ${customers} customers departed`);
    return pass;
  };
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

interface Clock {
  startMs: number;
  sched: [number, number] | null;
}

/** Marks the start of a timed pass. */
function startClock(): Clock {
  const sched = schedstat();
  return { sched, startMs: performance.now() };
}

function stopClock(clock: Clock, events: number, ops?: number): Pass {
  const endMs = performance.now();
  const pass: Pass = { events, wallS: (endMs - clock.startMs) / 1000 };
  if (ops !== undefined) pass.ops = ops;
  const sched = schedstat();
  if (sched !== null && clock.sched !== null) {
    pass.cpuS = (sched[0] - clock.sched[0]) / 1e9;
    pass.waitS = (sched[1] - clock.sched[1]) / 1e9;
  }
  return pass;
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

const CASES: Record<string, { name: string; load: () => Promise<() => Pass | Promise<Pass>> }> = {
  mm1: { name: 'mm1_load0.9_1M_customers', load: caseMm1 },
  timers: { name: 'timers_10k_5M_events', load: caseTimers },
  pipeline: { name: 'pipeline_3stage_custom_run', load: casePipeline },
  reference: { name: 'reference_bare_loop_mm1_load0.9_1M_customers', load: caseBareMm1 },
};

/** In a child: runs one case three times (cold, second, warm) and prints the passes. */
async function child(key: string): Promise<void> {
  const c = CASES[key];
  if (!c) throw new Error(`unknown case ${key}`);
  const run = await c.load();
  const cold = await run();
  const second = await run();
  const warm = await run();
  if (warm.events !== cold.events || second.events !== cold.events) {
    throw new Error(`${key}: passes ran ${cold.events}, ${second.events} and ${warm.events} events`);
  }
  const result: ChildResult = { case: c.name, cold, second, warm, peakRssMb: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const childAt = args.indexOf('--child');
  if (childAt >= 0) return child(args[childAt + 1]!);
  let runs = 3;
  const chosen: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runs') runs = Math.max(1, Number(args[++i]) | 0);
    else if (args[i] === '--case') chosen.push(args[++i]!);
    else throw new Error(`unknown argument ${args[i]}; usage: bench [--runs N] [--case mm1|timers|pipeline|reference]...`);
  }
  const keys = chosen.length > 0 ? chosen : Object.keys(CASES);
  const self = fileURLToPath(import.meta.url);
  for (const key of keys) {
    if (!CASES[key]) throw new Error(`unknown case ${key}; cases: ${Object.keys(CASES).join(', ')}`);
  }
  const runChild = (key: string): ChildResult => {
    const p = spawnSync(process.execPath, [self, '--child', key], { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`case ${key} failed (status ${p.status}):\n${p.stderr}`);
    return JSON.parse(p.stdout.trim()) as ChildResult;
  };
  // With both mm1 and its reference chosen, their runs alternate (mm1, reference, mm1,
  // ...), so that each mm1 run has a reference run next to it in time: the ratio of a
  // pair says how close the engine comes to the bare loop whatever the machine's state.
  const isPaired = keys.includes('mm1') && keys.includes('reference');
  const paired = new Map<string, ChildResult[]>();
  const loads = new Map<string, number>();
  if (isPaired) {
    loads.set('mm1', round(loadavg()[0]!, 2));
    loads.set('reference', loads.get('mm1')!);
    const a: ChildResult[] = [];
    const b: ChildResult[] = [];
    for (let r = 0; r < runs; r++) {
      a.push(runChild('mm1'));
      b.push(runChild('reference'));
    }
    paired.set('mm1', a);
    paired.set('reference', b);
  }
  for (const key of keys) {
    const load1m = loads.get(key) ?? round(loadavg()[0]!, 2);
    const results = paired.get(key) ?? Array.from({ length: runs }, () => runChild(key));
    process.stdout.write(`${JSON.stringify(summaryLine(results, runs, load1m))}\n`);
  }
  if (isPaired) {
    // events per second of mm1 over those of the reference, warm passes, run by run
    const ratios = paired.get('mm1')!.map((m, i) => round(paired.get('reference')![i]!.warm.wallS / m.warm.wallS, 3));
    const sorted = [...ratios].sort((x, y) => x - y);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 === 1 ? sorted[mid]! : round((sorted[mid - 1]! + sorted[mid]!) / 2, 3);
    process.stdout.write(`${JSON.stringify({ case: 'mm1_over_reference_warm', pairs: runs, ratio_median: median, ratio_all: ratios })}\n`);
  }
}

/** One JSON line for a case: its best warm and cold passes, and every run's wall times. */
function summaryLine(results: ChildResult[], runs: number, load1m: number): Record<string, unknown> {
  const best = (pick: (x: ChildResult) => Pass): Pass =>
    results.map(pick).reduce((a, b) => (b.wallS < a.wallS ? b : a));
  const warm = best((x) => x.warm);
  const cold = best((x) => x.cold);
  const line: Record<string, unknown> = {
    case: results[0]!.case,
    events: warm.events,
    events_per_s_warm: Math.round(warm.events / warm.wallS),
    events_per_s_cold: Math.round(cold.events / cold.wallS),
    wall_s_warm: round(warm.wallS, 4),
    wall_s_cold: round(cold.wallS, 4),
  };
  if (warm.ops !== undefined) {
    line['ops_per_s_warm'] = Math.round(warm.ops / warm.wallS);
    line['ops_per_s_cold'] = Math.round(cold.ops! / cold.wallS);
  }
  line['peak_rss_mb'] = round(Math.max(...results.map((x) => x.peakRssMb)), 1);
  if (warm.cpuS !== undefined) {
    line['warm_main_thread_cpu_s'] = round(warm.cpuS, 4);
    line['warm_main_thread_runqueue_wait_s'] = round(warm.waitS!, 4);
  }
  line['runs'] = runs;
  line['wall_s_warm_all'] = results.map((x) => round(x.warm.wallS, 4));
  line['wall_s_cold_all'] = results.map((x) => round(x.cold.wallS, 4));
  line['wall_s_second_all'] = results.map((x) => round(x.second.wallS, 4));
  line['load_avg_1m'] = load1m;
  return line;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
