/**
 * Parallel-run benchmark (`npm run bench:jobs`): a 16-point sweep run by the built
 * command with --jobs 1 and with --jobs 2, alternately, several times; prints one JSON
 * line per run and a final line with the median and best wall times and the speed-ups, and checks
 * that both wrote byte-identical CSV files. Wall time is the whole command (process start,
 * module loading, worker start, simulation, rendering, atomic write), as a user sees it.
 *
 * The sweep: an M/M/1 station (service 1 us), 16 arrival rates from 100,000/s to
 * 850,000/s, 400,000 ops after 5,000 warm-up ops per point, one replication: about
 * 0.8 million events and half a second per point on one core here, so that the work
 * outweighs what cannot run in parallel (about 0.7 s: Node start, module loading in the
 * main thread and in each worker, JIT warm-up, writing the files). Path scenarios cost
 * more per point than this, so their speed-up is at least as good.
 *
 * Usage: node dist/bench/jobs-bench.js [--runs N] [--ops N]
 * Benchmarks are not tests: nothing here asserts a time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(here, '..', 'src', 'cli.js');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
}

const runs = arg('--runs', 3);
const ops = arg('--ops', 400_000);
const rates = Array.from({ length: 16 }, (_, i) => 100_000 + i * 50_000);

const scenario = `# 16-point sweep for the --jobs benchmark
name: jobs-bench
workload:
  kind: custom
  arrival: { kind: poisson, rate_per_s: 100000 }
  stages:
    - { name: server, servers: 1, service_ns: { kind: exponential, mean: 1000 } }
  ops: ${ops}
  warmup_ops: 5000
sweep:
  workload.arrival.rate_per_s: [${rates.join(', ')}]
seed: 1
`;

const dir = mkdtempSync(join(tmpdir(), 'iovsim-jobs-bench-'));
const file = join(dir, 'jobs-bench.yaml');
writeFileSync(file, scenario);

function runOnce(jobs: number, run: number): number {
  const out = join(dir, `out-${jobs}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'run', file, '--out', out, '--jobs', String(jobs), '--quiet'], { encoding: 'utf8' });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`iovsim run --jobs ${jobs} failed: ${r.stderr}`);
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { events_processed: number; wall_time_s: number };
  process.stdout.write(
    `${JSON.stringify({ case: 'jobs_sweep16', jobs, run, wall_s: round(wallS, 3), inner_wall_s: m.wall_time_s, events: m.events_processed })}\n`,
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

const loadBefore = round(loadavg()[0]!, 2);
try {
  const one: number[] = [];
  const two: number[] = [];
  for (let i = 1; i <= runs; i++) {
    one.push(runOnce(1, i));
    two.push(runOnce(2, i));
  }
  const identical = ['summary.csv', 'latency.csv', 'stages.csv', 'cpu.csv', 'exits.csv'].every(
    (f) => readFileSync(join(dir, 'out-1', f), 'utf8') === readFileSync(join(dir, 'out-2', f), 'utf8'),
  );
  const m1 = median(one);
  const m2 = median(two);
  process.stdout.write(
    `${JSON.stringify({
      case: 'jobs_speedup',
      points: rates.length,
      ops_per_point: ops,
      runs,
      jobs1_median_s: round(m1, 3),
      jobs2_median_s: round(m2, 3),
      speedup: round(m1 / m2, 3),
      // Best of the runs: less sensitive to other work on the machine than the median.
      jobs1_best_s: round(Math.min(...one), 3),
      jobs2_best_s: round(Math.min(...two), 3),
      speedup_best: round(Math.min(...one) / Math.min(...two), 3),
      goal: 1.7,
      csv_identical: identical,
      // Other work on the machine skews the figure: 1-minute load averages before and after.
      loadavg_1m_before: loadBefore,
      loadavg_1m_after: round(loadavg()[0]!, 2),
    })}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
