/**
 * Issue 17 items 14 and 16: a plan's wall time and memory are estimated before it runs
 * (validate prints them; run and compare refuse a plan above the limits unless --force),
 * and --jobs is capped at the cores. Before, a sweep of 10^9 runs was called valid and
 * ran out of memory after 34 s, and `ops: 1e15` ran until killed.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COST_TABLE, PROBE_NS_PER_EVENT } from '../../src/scenario/cost-table.js';
import { estimatePlan, formatDuration } from '../../src/scenario/estimate.js';
import { planScenario, type Plan } from '../../src/scenario/load.js';
import { runTask } from '../../src/scenario/run.js';
import { PATHS } from '../../src/paths/index.js';
import { HOOK_TIMEOUT_MS, SMALL, ensureBuilt, runCli, startCli, tempDir } from '../cli/helpers.js';

const MM1 = {
  name: 'estimate',
  workload: {
    kind: 'custom',
    arrival: { kind: 'poisson', rate_per_s: 500000 },
    stages: [{ name: 'server', servers: 1, service_ns: { kind: 'exponential', mean: 1000 } }],
    ops: 4000,
  },
  seed: 1,
};

describe('the cost table is current', () => {
  // Every path on one workload of each class: events per op at the defaults, within 10%.
  const pairs = PATHS.flatMap((p) => ['net-rr', 'blk'].filter((k) => p.workloads.includes(k)).map((k) => [p.name, k] as const));
  for (const [path, kind] of pairs) {
    it(`${path}/${kind}: events per op as measured now`, () => {
      const ops = 2000;
      const warmup = 300;
      const plan = planScenario({ name: 't', workload: { kind, ops, warmup_ops: warmup }, paths: [path], seed: 1 }, 'test');
      const rows = runTask(plan, { index: 0, point: 0, path, replication: 0 });
      const row = COST_TABLE[`${path}/${kind}`];
      expect(row).toBeDefined();
      expect(rows.eventsProcessed / (ops + warmup) / row!.eventsPerOp).toBeGreaterThan(0.9);
      expect(rows.eventsProcessed / (ops + warmup) / row!.eventsPerOp).toBeLessThan(1.1);
    });
  }

  it('a custom run needs an arrival and one completion per stage per op', () => {
    const plan = planScenario(MM1, 'test');
    const rows = runTask(plan, { index: 0, point: 0, path: 'custom', replication: 0 });
    expect(rows.eventsProcessed / 4000).toBeCloseTo(2, 1);
    expect(estimatePlan(plan, 1, PROBE_NS_PER_EVENT).events).toBe(8000);
  });
});

describe('estimatePlan', () => {
  it('counts a plan of 10^8 runs without listing it, before any set-up, and scales with runs, ops and workers', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => 1000 + i);
    // the plan as the size check sees it: expanded, before each task's set-up is checked
    let plan: Plan | undefined;
    const stop = new Error('stop after the size check');
    expect(() =>
      planScenario({ ...MM1, sweep: { 'workload.arrival.rate_per_s': values }, replications: 10_000 }, 'test', {
        beforeSetUp: (p) => {
          plan = p;
          throw stop;
        },
      }),
    ).toThrow(stop);
    const e = estimatePlan(plan!, 2, PROBE_NS_PER_EVENT);
    expect(e.runs).toBe(1e8);
    expect(e.ops).toBe(4000 * 1e8);
    expect(e.events).toBe(2 * 4000 * 1e8);
    expect(e.memoryBytes).toBeGreaterThan(1e11); // a summary row per run in memory
    const one = estimatePlan(planScenario(MM1, 'test'), 1, PROBE_NS_PER_EVENT);
    const four = estimatePlan(planScenario({ ...MM1, replications: 4 }, 'test'), 1, PROBE_NS_PER_EVENT);
    expect(four.wallS / one.wallS).toBeCloseTo(4, 6);
    const fourOnTwo = estimatePlan(planScenario({ ...MM1, replications: 4 }, 'test'), 2, PROBE_NS_PER_EVENT);
    expect(four.wallS / fourOnTwo.wallS).toBeCloseTo(2, 6);
    // a machine twice as slow on the probe: twice the time
    expect(estimatePlan(planScenario(MM1, 'test'), 1, 2 * PROBE_NS_PER_EVENT).wallS / one.wallS).toBeCloseTo(2, 6);
  });

  it('formats durations people read', () => {
    expect(formatDuration(0.01)).toBe('under 0.1 s');
    expect(formatDuration(3.24)).toBe('3.2 s');
    expect(formatDuration(24 * 3600)).toBe('24 h');
    expect(formatDuration(30 * 86400)).toBe('30 days');
  });
});

describe('the command: validate estimates, run refuses a plan above the limits, --force lifts it', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = tempDir('estimate');
  }, HOOK_TIMEOUT_MS);

  it('validate prints the estimate', () => {
    const r = runCli(['validate', SMALL]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^estimate: (about [\d.]+ \S+|under 0\.1 s) on \d+ worker threads? and \d+ MB of memory \(17600 ops, 35200 events\)$/m);
  });

  it('ops: 1e15 is refused with the estimate, before anything is written', () => {
    const out = join(dir, 'never');
    const r = runCli(['run', SMALL, '--set', 'workload.ops=1e15', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/the plan is too large: 4 runs, about [\d.e+]+ days .*more than 24 h; .*--force/);
    expect(spawnSync('ls', [out]).status).not.toBe(0);
  });

  it('a sweep of 10^5 points x 10^4 replications is refused at once, its memory named', () => {
    const file = join(dir, 'huge.json');
    const values = Array.from({ length: 100_000 }, (_, i) => 1000 + i);
    writeFileSync(file, JSON.stringify({ ...MM1, sweep: { 'workload.arrival.rate_per_s': values }, replications: 10_000 }));
    const r = runCli(['run', file, '--quiet']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/1000000000 runs, .* TB of memory .*more than [\d.]+ GB of memory/);
  }, 60_000);

  // 2 points x 10^4 replications x 10^8 ops: each run fits the clock, the plan takes days
  const LONG = ['--set', 'workload.ops=100000000', '--set', 'replications=10000'];

  it('a plan of days is refused by run, and validate says run needs --force', () => {
    const r = runCli(['run', SMALL, ...LONG, '--out', join(dir, 'never2')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/the plan is too large: 20000 runs, about [\d.]+ (h|days) .*more than 24 h; .*--force/);
    const v = runCli(['validate', SMALL, ...LONG]);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toContain('run needs --force');
  }, 60_000);

  it('--force runs the refused plan (stopped here with Ctrl-C)', async () => {
    const out = join(dir, 'forced');
    const { child, done } = startCli(['run', SMALL, ...LONG, '--out', out, '--force', '--quiet', '--jobs', '1']);
    await new Promise((r) => setTimeout(r, 4000));
    expect(child.exitCode).toBeNull(); // still simulating: not refused
    child.kill('SIGINT');
    const r = await done;
    expect(r.status).toBe(130);
  }, 60_000);

  it('--jobs above the cores uses the cores and says so once (item 16)', () => {
    const cores = availableParallelism();
    const r = runCli(['run', SMALL, '--jobs', '1000', '--out', join(dir, 'jobs')]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n').filter((l) => l.includes('--jobs'));
    expect(lines).toEqual([`iovsim: --jobs 1000: this machine has ${cores} core${cores === 1 ? '' : 's'}; using ${cores} worker thread${cores === 1 ? '' : 's'}`]);
    expect(runCli(['run', SMALL, '--jobs', '1000', '--quiet', '--out', join(dir, 'jobs')]).stderr).toBe('');
  });
});
