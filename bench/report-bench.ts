/**
 * Times `iovsim report` on a 1,000-run sweep (not a test): the custom M/M/1 station with
 * small runs, 10 arrival rates x 100 replications, then `report` on that folder, and
 * prints the wall time and the sizes of report.html and the SVGs. The bar: under
 * 10 s and under 5 MB. Run: npm run build && node dist/bench/report-bench.js
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'bundle', 'iovsim.js');
const dir = mkdtempSync(join(tmpdir(), 'iovsim-report-bench-'));
const scenario = join(dir, 'sweep.yaml');
const rates = Array.from({ length: 10 }, (_, i) => 100000 * (i + 1) - 50000);
writeFileSync(scenario, `name: report-bench
workload:
  kind: custom
  arrival: { kind: poisson, rate_per_s: 500000 }
  stages:
    - { name: server, servers: 1, service_ns: { kind: exponential, mean: 1000 } }
  ops: 2000
  warmup_ops: 200
sweep:
  workload.arrival.rate_per_s: [${rates.join(', ')}]
seed: 1
replications: 100
`);
const out = join(dir, 'result');
let t = performance.now();
execFileSync(process.execPath, [cli, 'run', scenario, '--out', out, '--quiet'], { stdio: 'inherit' });
const runS = (performance.now() - t) / 1000;
const latencyMb = statSync(join(out, 'latency.csv')).size / 1e6;
t = performance.now();
execFileSync(process.execPath, [cli, 'report', out, '--quiet'], { stdio: 'inherit' });
const reportS = (performance.now() - t) / 1000;
const sizes = readdirSync(out).filter((f) => f.startsWith('report')).map((f) => [f, statSync(join(out, f)).size] as const);
console.log(`1,000 runs (10 points x 100 replications, 1 path): run ${runS.toFixed(1)} s; latency.csv ${latencyMb.toFixed(1)} MB`);
console.log(`report: ${reportS.toFixed(2)} s (bar: 10 s)`);
for (const [f, n] of sizes) console.log(`  ${f}: ${(n / 1e6).toFixed(3)} MB${f === 'report.html' ? ' (bar: 5 MB)' : ''}`);
rmSync(dir, { recursive: true, force: true });
