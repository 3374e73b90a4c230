/**
 * Sweep expansion, --set overrides and the param.* columns: the cartesian product in
 * sweep order (first key outermost), zip pairing, points as tasks, every CSV carrying
 * the swept values, and the manifest recording the resolved scenario and overrides.
 */
import { describe, expect, it } from 'vitest';
import { executePlan } from '../../src/scenario/execute.js';
import { applySets, loadPlan, parseSets, planScenario } from '../../src/scenario/load.js';
import { planTasks } from '../../src/scenario/run.js';
import { InputError } from '../../src/util/input-error.js';
import { SMALL, parseCsv } from '../cli/helpers.js';

const base = {
  name: 'sweep-test',
  workload: {
    kind: 'custom',
    arrival: { kind: 'poisson', rate_per_s: 100_000 },
    stages: [{ name: 's', service_ns: { kind: 'exponential', mean: 1000 } }],
    ops: 300,
    warmup_ops: 10,
  },
};

describe('sweep expansion', () => {
  it('runs the cartesian product, first key outermost', () => {
    const plan = planScenario(
      { ...base, sweep: { 'workload.ops': [300, 400], 'workload.arrival.rate_per_s': [1e5, 2e5, 3e5] } },
      'test',
    );
    expect(plan.sweepKeys).toEqual(['workload.ops', 'workload.arrival.rate_per_s']);
    expect(plan.points.map((p) => [p.values['workload.ops'], p.values['workload.arrival.rate_per_s']])).toEqual([
      [300, 1e5], [300, 2e5], [300, 3e5], [400, 1e5], [400, 2e5], [400, 3e5],
    ]);
    // Each point's workload has its values applied.
    const w = plan.points[5]!.workload as { ops: number; arrival: { rate_per_s: number } };
    expect(w.ops).toBe(400);
    expect(w.arrival.rate_per_s).toBe(3e5);
  });

  it('zip pairs equal-length lists into one dimension, crossed with plain keys', () => {
    const plan = planScenario(
      {
        ...base,
        sweep: {
          zip: { 'workload.ops': [300, 500], 'workload.warmup_ops': [30, 50] },
          'workload.arrival.rate_per_s': [1e5, 2e5],
        },
      },
      'test',
    );
    expect(plan.sweepKeys).toEqual(['workload.ops', 'workload.warmup_ops', 'workload.arrival.rate_per_s']);
    expect(plan.points.map((p) => Object.values(p.values))).toEqual([
      [300, 30, 1e5], [300, 30, 2e5], [500, 50, 1e5], [500, 50, 2e5],
    ]);
  });

  it('makes one task per (point, path, replication), replications innermost', () => {
    const plan = planScenario({ ...base, replications: 3, sweep: { 'workload.ops': [300, 400] } }, 'test');
    const tasks = planTasks(plan);
    expect(tasks.map((t) => [t.index, t.point, t.path, t.replication])).toEqual([
      [0, 0, 'custom', 0], [1, 0, 'custom', 1], [2, 0, 'custom', 2],
      [3, 1, 'custom', 0], [4, 1, 'custom', 1], [5, 1, 'custom', 2],
    ]);
  });

  it('writes param.* columns, after the fixed ones, in every CSV', async () => {
    const plan = planScenario(
      { ...base, replications: 2, sweep: { zip: { 'workload.ops': [300, 500], 'workload.warmup_ops': [30, 50] } } },
      'test',
    );
    const exec = await executePlan(plan);
    for (const name of ['summary.csv', 'latency.csv', 'stages.csv', 'cpu.csv', 'exits.csv']) {
      const header = exec.files[name]!.split('\n')[0]!.split(',');
      expect(header.slice(-2), name).toEqual(['param.workload.ops', 'param.workload.warmup_ops']);
    }
    const summary = parseCsv(exec.files['summary.csv']!);
    expect(summary.map((r) => [r['point'], r['replication'], r['param.workload.ops'], r['ops_completed']])).toEqual([
      ['0', '0', '300', '300'], ['0', '1', '300', '300'], ['1', '0', '500', '500'], ['1', '1', '500', '500'],
    ]);
    for (const r of parseCsv(exec.files['latency.csv']!)) {
      expect(r['param.workload.ops']).toBe(r['point'] === '0' ? '300' : '500');
    }
    const stages = parseCsv(exec.files['stages.csv']!);
    expect(stages).toHaveLength(4);
    expect(stages.every((r) => r['param.workload.warmup_ops'] === (r['point'] === '0' ? '30' : '50'))).toBe(true);
  });

  it('without a sweep there are no param.* columns and one point', async () => {
    const plan = planScenario(base, 'test');
    expect(plan.points).toHaveLength(1);
    const exec = await executePlan(plan);
    expect(exec.files['summary.csv']!.split('\n')[0]).not.toContain('param.');
  });
});

describe('--set overrides', () => {
  it('parses values as YAML scalars and lists', () => {
    expect(parseSets(['workload.ops=10', 'a.b=true', 'x=[1, 2]', 'y=text', 'z=1e3'])).toEqual([
      ['workload.ops', 10], ['a.b', true], ['x', [1, 2]], ['y', 'text'], ['z', 1000],
    ]);
  });

  it('sets nested workload fields, list entries, sweep keys and top-level fields', () => {
    const raw = applySets(
      base,
      parseSets([
        'workload.stages.0.service_ns.mean=2500',
        'workload.arrival.rate_per_s=1000',
        'sweep.workload.ops=[100, 200]',
        'sweep.zip.workload.warmup_ops=[1, 2]',
        'replications=4',
        'paths=custom',
      ]),
    );
    const w = raw['workload'] as typeof base.workload;
    expect(w.stages[0]!.service_ns.mean).toBe(2500);
    expect(w.arrival.rate_per_s).toBe(1000);
    expect(raw['sweep']).toEqual({ 'workload.ops': [100, 200], zip: { 'workload.warmup_ops': [1, 2] } });
    expect(raw['replications']).toBe(4);
    expect(raw['paths']).toEqual(['custom']);
    // The input object is not changed.
    expect(base.workload.stages[0]!.service_ns.mean).toBe(1000);
  });

  it('rejects an unknown name with suggestions', () => {
    expect(() => applySets(base, parseSets(['seeed=3']))).toThrow(InputError);
    expect(() => applySets(base, parseSets(['seeed=3']))).toThrow(/did you mean seed/);
  });

  it('the manifest records the resolved scenario and the overrides as typed', async () => {
    const sets = ['workload.ops=200', 'workload.stages.0.service_ns.mean=1500', 'replications=1', 'sweep.workload.arrival.rate_per_s=[250000]'];
    const plan = loadPlan(SMALL, sets, 11);
    const exec = await executePlan(plan, { overrides: sets });
    const m = JSON.parse(exec.files['manifest.json']!) as {
      scenario: { seed: number; replications: number; workload: { ops: number; warmup_ops: number; stages: { service_ns: unknown; servers: number; when_full: string }[] } };
      overrides: string[];
      seed: number;
      tasks: number;
      params: Record<string, unknown>;
      scenario_file: string;
    };
    expect(m.overrides).toEqual(sets);
    expect(m.seed).toBe(11);
    expect(m.scenario.seed).toBe(11);
    expect(m.scenario.replications).toBe(1);
    expect(m.scenario.workload.ops).toBe(200);
    expect(m.scenario.workload.stages[0]!.service_ns).toEqual({ kind: 'exponential', mean: 1500 });
    // Defaults are filled in: the resolved scenario, not the file as typed.
    expect(m.scenario.workload.stages[0]!.when_full).toBe('drop');
    expect(m.tasks).toBe(1);
    expect(m.scenario_file).toBe(SMALL);
    expect(typeof m.params).toBe('object');
  });
});
