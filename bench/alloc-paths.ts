/**
 * Allocation benchmark (`npm run bench:alloc`): bytes allocated per 64-byte net-rr request
 * on each path, and the functions that allocate most, from V8's sampling heap profiler
 * (objects collected by the minor and major GC included). Allocation costs young-generation
 * collections, whose helper threads compete with other runs for the cores (`--jobs`).
 *
 * Each path runs its model twice untimed (so the code is optimized, as in a long run),
 * then once more under the profiler. Sampling: one sample per 4 KiB allocated on
 * average, so figures below about 20 B per request are noise.
 *
 * Usage: node dist/bench/alloc-paths.js [--ops N] [--top N] [--path NAME]...
 * Benchmarks are not tests: nothing here asserts a figure.
 */
import { Session } from 'node:inspector/promises';
import { PATHS } from '../src/paths/index.js';
import { netRrRunner } from './net-rr-model.js';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
}

const ops = arg('--ops', 50_000);
const top = arg('--top', 3);
const chosen = process.argv.flatMap((a, i) => (process.argv[i - 1] === '--path' ? [a] : []));
const names = chosen.length > 0 ? chosen : PATHS.filter((p) => p.workloads.includes('net-rr')).map((p) => p.name);

const session = new Session();
session.connect();
for (const name of names) {
  const warmup = Math.round(ops / 25);
  const run = netRrRunner(name, ops, warmup);
  run();
  run();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  run();
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (n: ProfileNode): void => {
    const f = n.callFrame;
    const site = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
    total += n.selfSize;
    n.children.forEach(walk);
  };
  walk(profile.head);
  const requests = ops + warmup;
  const sites = [...bySite]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([site, bytes]) => ({ site, bytes_per_request: Math.round(bytes / requests) }));
  process.stdout.write(`${JSON.stringify({ path: name, requests, bytes_per_request: Math.round(total / requests), top: sites })}\n`);
}
session.disconnect();
