/**
 * Parallel-run benchmark (`npm run bench:jobs`): 16-point sweeps run by the built
 * command with --jobs 1 and with --jobs 2, alternately, several times; prints one JSON
 * line per run and, per case, a line with the median and best wall times and the
 * speed-ups, and checks that both wrote byte-identical CSV files. Wall time is the whole
 * command (process start, module loading, worker start, simulation, rendering, atomic
 * write), as a user sees it.
 *
 * Cases:
 *   mm1_sweep16    an M/M/1 station (service 1 us) at 16 arrival rates from 100,000/s to
 *                  850,000/s, 1,600,000 ops after 5,000 warm-up ops per point: about
 *                  3.2 million events and half a second per point on one core here.
 *   netrr_sweep16  64-byte net-rr on vhost-kernel with 1 to 16 outstanding transactions,
 *                  100,000 ops after 10,000 warm-up ops per point (a path sweep as users
 *                  run them: about 0.4-0.8 s per point).
 * Part of each run cannot be shared out: Node start and loading the bundled command in the
 * main thread and in each worker (about 0.3 s; the unbundled build's 360 modules took
 * 0.15-0.6 s more), the JIT warm-up of each worker's first two tasks (about 0.5 s: the
 * second run's new closures re-optimize), writing the files. A sweep of points much
 * shorter than that gains less.
 *
 * Usage: node dist/bench/jobs-bench.js [--runs N] [--ops N] [--case mm1|netrr]...
 *   --ops scales the ops per point of every case (default 1: as above).
 * Benchmarks are not tests: nothing here asserts a time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// The bundled command, as `iovsim` (the package's bin) runs it.
const CLI = resolve(here, '..', 'bundle', 'iovsim.js');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!(v > 0)) throw new Error(`${name} must be a positive number`);
  return v;
}

const runs = arg('--runs', 3);
const opsScale = arg('--ops', 1);
const wanted = process.argv.flatMap((a, i) => (process.argv[i - 1] === '--case' ? [a] : []));

interface Case {
  name: string;
  opsPerPoint: number;
  scenario: string;
}

const mm1Ops = Math.round(1_600_000 * opsScale);
const rates = Array.from({ length: 16 }, (_, i) => 100_000 + i * 50_000);
const netrrOps = Math.round(100_000 * opsScale);
const CASES: Case[] = [
  {
    name: 'mm1_sweep16',
    opsPerPoint: mm1Ops,
    scenario: `# 16-point M/M/1 sweep for the --jobs benchmark
name: jobs-bench-mm1
workload:
  kind: custom
  arrival: { kind: poisson, rate_per_s: 100000 }
  stages:
    - { name: server, servers: 1, service_ns: { kind: exponential, mean: 1000 } }
  ops: ${mm1Ops}
  warmup_ops: 5000
sweep:
  workload.arrival.rate_per_s: [${rates.join(', ')}]
seed: 1
`,
  },
  {
    name: 'netrr_sweep16',
    opsPerPoint: netrrOps,
    scenario: `# 16-point net-rr path sweep for the --jobs benchmark
name: jobs-bench-netrr
workload: { kind: net-rr, size_bytes: 64, outstanding: 1, ops: ${netrrOps}, warmup_ops: 10000 }
paths: [vhost-kernel]
sweep:
  workload.outstanding: [${Array.from({ length: 16 }, (_, i) => i + 1).join(', ')}]
seed: 1
`,
  },
];

const dir = mkdtempSync(join(tmpdir(), 'iovsim-jobs-bench-'));

function runOnce(c: Case, file: string, jobs: number, run: number): number {
  const out = join(dir, `${c.name}-out-${jobs}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'run', file, '--out', out, '--jobs', String(jobs), '--quiet'], { encoding: 'utf8' });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`iovsim run --jobs ${jobs} failed: ${r.stderr}`);
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { events_processed: number; wall_time_s: number };
  process.stdout.write(
    `${JSON.stringify({ case: c.name, jobs, run, wall_s: round(wallS, 3), inner_wall_s: m.wall_time_s, events: m.events_processed })}\n`,
  );
  return wallS;
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function runCase(c: Case): void {
  const loadBefore = round(loadavg()[0]!, 2);
  const file = join(dir, `${c.name}.yaml`);
  writeFileSync(file, c.scenario);
  const one: number[] = [];
  const two: number[] = [];
  for (let i = 1; i <= runs; i++) {
    one.push(runOnce(c, file, 1, i));
    two.push(runOnce(c, file, 2, i));
  }
  const identical = ['summary.csv', 'latency.csv', 'stages.csv', 'cpu.csv', 'exits.csv'].every(
    (f) => readFileSync(join(dir, `${c.name}-out-1`, f), 'utf8') === readFileSync(join(dir, `${c.name}-out-2`, f), 'utf8'),
  );
  const m1 = median(one);
  const m2 = median(two);
  process.stdout.write(
    `${JSON.stringify({
      case: `${c.name}_speedup`,
      points: 16,
      ops_per_point: c.opsPerPoint,
      runs,
      jobs1_median_s: round(m1, 3),
      jobs2_median_s: round(m2, 3),
      speedup: round(m1 / m2, 3),
      // Best of the runs: less sensitive to other work on the machine than the median.
      jobs1_best_s: round(Math.min(...one), 3),
      jobs2_best_s: round(Math.min(...two), 3),
      speedup_best: round(Math.min(...one) / Math.min(...two), 3),
      // Median over runs of (jobs 1 / jobs 2) of the same run: the two ran back to back, so
      // slow drifts in the machine's speed (other tenants' use of the shared cache) cancel.
      speedup_pairs_median: round(median(one.map((t, i) => t / two[i]!)), 3),
      goal: 1.7,
      csv_identical: identical,
      // Other work on the machine skews the figure: 1-minute load averages before and after.
      loadavg_1m_before: loadBefore,
      loadavg_1m_after: round(loadavg()[0]!, 2),
    })}\n`,
  );
}

try {
  for (const c of CASES) {
    if (wanted.length === 0 || wanted.some((w) => c.name.startsWith(w))) runCase(c);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
