/**
 * Path benchmark (`npm run bench:paths`): how many requests of 64-byte net-rr (one
 * outstanding transaction, default calibration) each path simulates per second of wall
 * time. One JSON line per path.
 *
 * Each path runs in a fresh child process (its own JIT warm-up, included in the timing;
 * module loading is not), by default three times; the line reports the best run. Next to
 * wall time it reports the main thread's on-CPU time (Linux /proc schedstat), because on
 * a shared machine the wall time includes waiting for a core.
 *
 * Cold and warm. The cold figure (requests_per_wall_s) is the first run of the model in
 * its process: JIT compilation and the unoptimized first thousands of requests are in it
 * (for vhost-user, the JIT's own compile work is of the order of the run itself). With
 * `--warm N`, each child then runs the same model once more untimed (a warm-up pass, as
 * JMH does; a new run brings new closures, so the code re-optimizes once) and times N
 * further runs: warm_requests_per_wall_s is the best of those, in the best child.
 *
 * Control (`--control`). After every timed run the child also times bench/control.ts (the
 * `yaml` package parsing and printing a fixed document: code-heavy JavaScript that is not
 * iovsim). The line then lists the control's times next to the runs' rates
 * (control_ms_all, warm_control_ms_all) and their correlation (control_r: Pearson's r of
 * log requests/s against log control speed over all timed runs): a slow run with a slow
 * control was the machine, a slow run with a normal control was the model.
 *
 * Usage: node dist/bench/paths-bench.js [--runs N] [--ops N] [--warm N] [--control] [--path NAME]...
 * Benchmarks are not tests: nothing here asserts a time.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { correlation, makeControl } from './control.js';

interface PathResult {
  path: string;
  ops: number;
  events: number;
  wall_s: number;
  cpu_s: number | null;
  requests_per_wall_s: number;
  requests_per_cpu_s: number | null;
  events_per_wall_s: number;
  p50_us: number;
  /** Best warm run (with --warm), and every warm run. */
  warm_requests_per_wall_s?: number;
  warm_requests_per_cpu_s?: number | null;
  warm_all?: number[];
  /** With --control: the control's time after the cold run, and after each warm run [ms]. */
  control_ms?: number;
  warm_control_ms?: number[];
}

const ALL = ['bare-metal', 'passthrough', 'sriov', 'vhost-user', 'vhost-kernel', 'virtio-qemu', 'emulated', 'emulated-vmm'];

/** The main thread's on-CPU time [ns], or null where /proc is missing. */
function onCpuNs(): number | null {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

async function runOne(path: string, ops: number, warmRuns: number, withControl: boolean): Promise<PathResult> {
  const { netRrRunner } = await import('./net-rr-model.js');
  const warmup = Math.round(ops / 20);
  const run = netRrRunner(path, ops, warmup);
  const requests = ops + warmup;
  const timed = () => {
    const cpu0 = onCpuNs();
    const t0 = performance.now();
    const r = run();
    const wallS = (performance.now() - t0) / 1000;
    const cpu1 = onCpuNs();
    const cpuS = cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / 1e9 : null;
    return { r, wallS, cpuS };
  };
  const { r, wallS, cpuS } = timed();
  const result: PathResult = {
    path,
    ops: requests,
    events: r.eventsProcessed,
    wall_s: Math.round(wallS * 1000) / 1000,
    cpu_s: cpuS === null ? null : Math.round(cpuS * 1000) / 1000,
    requests_per_wall_s: Math.round(requests / wallS),
    requests_per_cpu_s: cpuS === null ? null : Math.round(requests / cpuS),
    events_per_wall_s: Math.round(r.eventsProcessed / wallS),
    p50_us: Math.round(r.latency.quantile(0.5) / 1e3) / 1e3,
  };
  // made (and its code compiled) after the cold run, so that its compile jobs do not
  // delay the model's
  const control = withControl ? makeControl() : null;
  if (control !== null) result.control_ms = round1(control());
  if (warmRuns > 0) {
    timed(); // warm-up pass
    const controlMs: number[] = [];
    const warm = Array.from({ length: warmRuns }, () => {
      const w = timed();
      if (control !== null) controlMs.push(round1(control()));
      return w;
    });
    if (control !== null) result.warm_control_ms = controlMs;
    const best = warm.reduce((a, b) => (b.wallS < a.wallS ? b : a));
    result.warm_requests_per_wall_s = Math.round(requests / best.wallS);
    result.warm_requests_per_cpu_s = best.cpuS === null ? null : Math.round(requests / best.cpuS);
    result.warm_all = warm.map((w) => Math.round(requests / w.wallS));
  }
  return result;
}

interface Args {
  runs: number;
  ops: number;
  warm: number;
  control: boolean;
  paths: string[];
  child: string | null;
}

function parseArgs(argv: string[]): Args {
  let runs = 3;
  let ops = 200_000;
  let warm = 0;
  let control = false;
  const paths: string[] = [];
  let child: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--ops') ops = Number(argv[++i]);
    else if (a === '--warm') warm = Number(argv[++i]);
    else if (a === '--control') control = true;
    else if (a === '--path') paths.push(argv[++i]!);
    else if (a === '--child') child = argv[++i]!;
  }
  return { runs, ops, warm, control, paths: paths.length > 0 ? paths : ALL, child };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child !== null) {
    process.stdout.write(`${JSON.stringify(await runOne(args.child, args.ops, args.warm, args.control))}\n`);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  for (const path of args.paths) {
    const results: PathResult[] = [];
    for (let i = 0; i < args.runs; i++) {
      const childArgs = [self, '--child', path, '--ops', String(args.ops), '--warm', String(args.warm)];
      if (args.control) childArgs.push('--control');
      const out = spawnSync(process.execPath, childArgs, { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`bench ${path} failed: ${out.stderr}`);
      results.push(JSON.parse(out.stdout.trim()) as PathResult);
    }
    const best = results.reduce((a, b) => (b.requests_per_wall_s > a.requests_per_wall_s ? b : a));
    const line: Record<string, unknown> = { ...best, runs: args.runs, requests_per_wall_s_all: results.map((r) => r.requests_per_wall_s) };
    if (args.warm > 0) {
      const bestWarm = results.reduce((a, b) => ((b.warm_requests_per_wall_s ?? 0) > (a.warm_requests_per_wall_s ?? 0) ? b : a));
      line.warm_requests_per_wall_s = bestWarm.warm_requests_per_wall_s;
      line.warm_requests_per_cpu_s = bestWarm.warm_requests_per_cpu_s;
      line.warm_all = results.flatMap((r) => r.warm_all ?? []);
    }
    if (args.control) {
      // pairs of (requests/s, control ms) over every timed run, cold and warm
      const rates = results.flatMap((r) => [r.requests_per_wall_s, ...(r.warm_all ?? [])]);
      const controls = results.flatMap((r) => [r.control_ms!, ...(r.warm_control_ms ?? [])]);
      line.control_ms_all = results.map((r) => r.control_ms);
      if (args.warm > 0) line.warm_control_ms_all = results.flatMap((r) => r.warm_control_ms ?? []);
      line.control_r = Math.round(correlation(rates.map(Math.log), controls.map((c) => -Math.log(c))) * 100) / 100;
    }
    line.loadavg_1m = Math.round(loadavg()[0]! * 100) / 100;
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
