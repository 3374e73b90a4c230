/**
 * Determinism: the same scenario and seed give byte-identical result files (through
 * executePlan, the code path of `iovsim run`, and through the folder writer), a task run
 * alone gives the same rows as inside the whole plan, and a different seed gives
 * different numbers.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFolderAtomically } from '../src/output/result-folder.js';
import { executePlan, runTasks } from '../src/scenario/execute.js';
import { planScenario } from '../src/scenario/load.js';
import { planTasks } from '../src/scenario/run.js';

function scenario(seed: number): unknown {
  return {
    name: 'determinism',
    workload: {
      kind: 'custom',
      arrival: { kind: 'poisson', rate_per_s: 500_000 },
      stages: [
        { name: 'parse', servers: 1, service_ns: { kind: 'exponential', mean: 800 } },
        { name: 'work', servers: 2, service_ns: { kind: 'lognormal', mean: 2500, cv: 1.2 }, capacity: 16 },
        { name: 'reply', servers: 1, service_ns: { kind: 'normal', mean: 600, stdev: 300 } },
      ],
      ops: 20_000,
      warmup_ops: 2_000,
    },
    sweep: { 'workload.arrival.rate_per_s': [300_000, 600_000] },
    seed,
    replications: 2,
  };
}

const CSV_FILES = ['summary.csv', 'latency.csv', 'stages.csv', 'cpu.csv', 'exits.csv'];
const scratch = mkdtempSync(join(tmpdir(), 'iovsim-determinism-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The manifest without its wall time, which is the one field allowed to differ. */
function manifestSansWallTime(text: string): unknown {
  const m = JSON.parse(text) as Record<string, unknown>;
  delete m['wall_time_s'];
  return m;
}

describe('determinism', () => {
  it('same scenario and seed: byte-identical CSV files, in memory and on disk', async () => {
    const a = await executePlan(planScenario(scenario(1), 'test:determinism'));
    const b = await executePlan(planScenario(scenario(1), 'test:determinism'));
    for (const name of CSV_FILES) {
      expect(a.files[name], name).toBeDefined();
      expect(b.files[name], name).toBe(a.files[name]);
    }
    expect(manifestSansWallTime(b.files['manifest.json']!)).toEqual(manifestSansWallTime(a.files['manifest.json']!));
    // Non-trivial content: 2 points x 2 replications, a real latency distribution.
    expect(a.files['summary.csv']!.trim().split('\n').length).toBe(1 + 4);
    expect(a.files['latency.csv']!.trim().split('\n').length).toBeGreaterThan(100);
    expect(a.eventsProcessed).toBe(b.eventsProcessed);

    const dirA = join(scratch, 'a'), dirB = join(scratch, 'b');
    writeFolderAtomically(dirA, a.files);
    writeFolderAtomically(dirB, b.files);
    for (const name of CSV_FILES) {
      expect(readFileSync(join(dirB, name)).equals(readFileSync(join(dirA, name))), name).toBe(true);
    }
    expect(readdirSync(dirA).sort()).toEqual(readdirSync(dirB).sort());
  });

  it('a task run alone gives the same rows as inside the whole plan', async () => {
    const plan = planScenario(scenario(1), 'test:determinism');
    const whole = await executePlan(plan);
    const tasks = planTasks(plan);
    const last = tasks[tasks.length - 1]!;
    const alone = await runTasks(planScenario(scenario(1), 'test:determinism'), [last]);
    expect(alone).toHaveLength(1);
    expect(alone[0]!.summary).toEqual(whole.summaries[tasks.length - 1]);
    // its detail rows are the whole plan's last ones
    const lastLines = (text: string, n: number): string => text.trimEnd().split('\n').slice(-n).join('\n');
    const latencyLines = alone[0]!.csv.latency.trimEnd().split('\n').length;
    expect(lastLines(whole.files['latency.csv']!, latencyLines)).toBe(alone[0]!.csv.latency.trimEnd());
  });

  it('a different seed gives different results', async () => {
    const a = await executePlan(planScenario(scenario(1), 'test:determinism'));
    const c = await executePlan(planScenario(scenario(2), 'test:determinism'));
    for (const name of ['summary.csv', 'latency.csv', 'stages.csv']) {
      expect(c.files[name], name).not.toBe(a.files[name]);
    }
    // Every run differs, not just one: compare mean latencies row by row.
    const means = (text: string): string[] => {
      const [header, ...lines] = text.trim().split('\n');
      const col = header!.split(',').indexOf('latency_mean_ns');
      return lines.map((l) => l.split(',')[col]!);
    };
    const ma = means(a.files['summary.csv']!), mc = means(c.files['summary.csv']!);
    expect(ma).toHaveLength(4);
    ma.forEach((m, i) => expect(mc[i]).not.toBe(m));
  });
});
