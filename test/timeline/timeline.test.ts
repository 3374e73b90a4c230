/**
 * The timeline's own parts: the scenario fields and their errors, the scheduler (at a
 * time, at an op count, random faults), the recorder's buckets and figures, and the
 * promise that a run without a timeline writes the bytes it wrote before timelines
 * existed (golden files from e69fa70).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { PS_PER_MS, PS_PER_S } from '../../src/core/time.js';
import { RandomStreams } from '../../src/core/random.js';
import { Timeline } from '../../src/timeline/timeline.js';
import { toTimelineInput } from '../../src/timeline/schema.js';
import { TimelineRecorder } from '../../src/metrics/timeline-recorder.js';
import { loadPlan, planScenario } from '../../src/scenario/load.js';
import { executePlan } from '../../src/scenario/execute.js';
import { InputError } from '../../src/util/input-error.js';

const GOLDEN = join(import.meta.dirname, '..', 'fixtures', 'golden-before-timeline');

function plan(extra: Record<string, unknown>) {
  return planScenario({ name: 't', workload: { kind: 'net-rr', ops: 200, warmup_ops: 20 }, paths: ['vhost-kernel'], ...extra }, 't.yaml');
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
  return '(no error)';
}

describe('scenario fields', () => {
  it('an action needs exactly one of at_s, at_ms, at_op', () => {
    expect(errorOf(() => plan({ timeline: [{ action: 'link-down' }] }))).toMatch(/timeline\.?\[?0\]?.*exactly one of at_s, at_ms, at_op/);
    expect(errorOf(() => plan({ timeline: [{ action: 'link-down', at_s: 1, at_op: 3 }] }))).toMatch(/got at_s, at_op/);
  });

  it('an unknown action or field is named with what is allowed', () => {
    expect(errorOf(() => plan({ timeline: [{ action: 'explode', at_s: 1 }] }))).toMatch(/timeline\[0\]\.action: unknown value "explode"; allowed: migrate, backend-restart/);
    expect(errorOf(() => plan({ timeline: [{ action: 'loss', at_s: 1, rate: 2, duration_ms: 5 }] }))).toMatch(/timeline\[0\]\.rate: must be <= 1, got 2/);
    expect(errorOf(() => plan({ faults: [{ action: 'migrate', rate_per_s: 1 }] }))).toMatch(/faults\[0\]\.action: migrate cannot be a random fault/);
  });

  it('an action the path has no part for is refused at planning, naming it and what the path can do', () => {
    expect(errorOf(() => plan({ timeline: [{ action: 'vf-reset', at_s: 1 }] }))).toMatch(/timeline\[0\]\.action: path vhost-kernel with workload net-rr cannot do "vf-reset"/);
    expect(errorOf(() => plan({ paths: ['bare-metal'], timeline: [{ action: 'migrate', at_s: 1 }] }))).toMatch(/bare metal has no VM to migrate/);
    expect(errorOf(() => plan({ paths: ['passthrough'], timeline: [{ action: 'migrate', at_s: 1 }] }))).toMatch(/VFIO device without migration support/);
  });

  it('a custom workload cannot have a timeline', () => {
    const raw = { name: 'c', workload: { kind: 'custom', ops: 100, stages: [{ name: 's', servers: 1, service_ns: { kind: 'exponential', mean: 100 } }], arrival: { kind: 'poisson', rate_per_s: 1000 } }, timeline: [{ action: 'migrate', at_s: 0 }] };
    expect(errorOf(() => planScenario(raw, 'c.yaml'))).toMatch(/custom workload runs on no path/);
  });

  it('a sweep can change a timeline field: each point gets its own timeline', () => {
    const p = plan({ timeline: [{ action: 'migrate', at_ms: 5 }], sweep: { 'timeline.0.at_ms': [5, 10] } });
    expect(p.points.map((pt) => pt.timeline!.entries[0]!.atPs)).toEqual([5 * PS_PER_MS, 10 * PS_PER_MS]);
    expect(errorOf(() => plan({ timeline: [{ action: 'migrate', at_ms: 5 }], sweep: { 'timeline.0.at_ms': [-1] } }))).toMatch(/sweep point 0.*timeline/);
  });
});

describe('the scheduler', () => {
  it('fires timed actions at their time and op-count actions when the count is reached, in order', () => {
    const sim = new Simulator();
    const t = toTimelineInput(
      [{ action: 'link-down', at_ms: 2 }, { action: 'link-up', at_op: 10 }, { action: 'link-down', at_op: 5 }],
      [],
      100,
    )!;
    const tl = new Timeline(sim, t.entries, t.faults, null);
    const seen: string[] = [];
    tl.on('link-down', (ev) => seen.push(`${ev.where}@${sim.nowPs}`));
    tl.on('link-up', (ev) => seen.push(`${ev.where}@${sim.nowPs}`));
    tl.check('p', 'w');
    tl.start();
    sim.run();
    expect(seen).toEqual([`timeline[0]@${2 * PS_PER_MS}`]);
    tl.opsFinished(4);
    expect(seen).toHaveLength(1);
    tl.opsFinished(12); // both op-count actions are due: the lower count first
    expect(seen.slice(1)).toEqual([`timeline[2]@${2 * PS_PER_MS}`, `timeline[1]@${2 * PS_PER_MS}`]);
    expect(tl.nextOpCount).toBe(Infinity);
  });

  it('at_op 0 fires at the start; a fault whose first draw is past half the clock is never scheduled', () => {
    const sim = new Simulator();
    const t = toTimelineInput([{ action: 'link-down', at_op: 0 }], [{ action: 'vf-reset', rate_per_s: 1e-9 }], 100)!;
    const tl = new Timeline(sim, t.entries, t.faults, new RandomStreams(1, 0).stream('timeline/faults'));
    const seen: string[] = [];
    tl.on('link-down', (ev) => seen.push(ev.where));
    tl.on('vf-reset', (ev) => seen.push(ev.where));
    tl.start();
    expect(seen).toEqual(['timeline[0]']);
    expect(sim.pending).toBe(0);
  });

  it('random faults are a Poisson process of the given rate within their window, the same for the same seed', () => {
    const times = (seed: number): number[] => {
      const sim = new Simulator();
      const t = toTimelineInput([], [{ action: 'vf-reset', rate_per_s: 50, start_s: 1, end_s: 21 }], 100)!;
      const tl = new Timeline(sim, t.entries, t.faults, new RandomStreams(seed, 0).stream('timeline/faults'));
      const out: number[] = [];
      tl.on('vf-reset', () => out.push(sim.nowPs));
      tl.start();
      sim.run();
      return out;
    };
    const a = times(1);
    expect(times(1)).toEqual(a);
    expect(times(2)).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThan(PS_PER_S);
    expect(Math.max(...a)).toBeLessThanOrEqual(21 * PS_PER_S);
    // 50/s over 20 s: 1000 expected, sd about 32
    expect(a.length).toBeGreaterThan(900);
    expect(a.length).toBeLessThan(1100);
  });
});

describe('the recorder', () => {
  it('buckets ops by completion time with p50 and p99 within 4% of the exact values', () => {
    const r = new TimelineRecorder(100 * PS_PER_MS);
    // bucket 0: latencies 1..1000 us; bucket 2: nothing; bucket 3: one op
    for (let i = 1; i <= 1000; i++) r.opCompleted(i * 10 * 1_000_000, i * 1_000_000);
    r.opDropped(50 * PS_PER_MS);
    r.opLost(60 * PS_PER_MS);
    r.opRetried(60 * PS_PER_MS);
    r.opCompleted(350 * PS_PER_MS, 7_000_000);
    r.finish(400 * PS_PER_MS);
    expect(r.rows.map((b) => b.startMs)).toEqual([0, 100, 200, 300, 400]);
    const b0 = r.rows[0]!;
    expect([b0.opsCompleted, b0.opsDropped, b0.opsLost, b0.opsRetried]).toEqual([1000, 1, 1, 1]);
    expect(Math.abs(b0.p50Ns / 500_000 - 1)).toBeLessThan(0.04);
    expect(Math.abs(b0.p99Ns / 990_000 - 1)).toBeLessThan(0.04);
    expect(r.rows[1]!.opsCompleted).toBe(0);
    expect(Number.isNaN(r.rows[1]!.p50Ns)).toBe(true);
    expect(r.rows[3]!.opsCompleted).toBe(1);
    const s = r.summary();
    expect([s.opsLost, s.opsRetried]).toEqual([1, 1]);
    expect(Number.isNaN(s.migrationTotalMs)).toBe(true);
    expect(Number.isNaN(s.recoveryMs)).toBe(true);
  });

  it('recovery_ms runs from a fault to the first op completed after the part is back; the longest counts', () => {
    const r = new TimelineRecorder(PS_PER_S);
    r.faultCleared(1 * PS_PER_S, 3 * PS_PER_S);
    r.opCompleted(3.5 * PS_PER_S, 1000);
    r.faultCleared(4 * PS_PER_S, 4.1 * PS_PER_S);
    r.opCompleted(4.2 * PS_PER_S, 1000);
    r.finish(5 * PS_PER_S);
    expect(r.summary().recoveryMs).toBeCloseTo(2500, 6);
  });
});

describe('a run without a timeline', () => {
  for (const name of ['net', 'blk']) {
    it(`${name}: writes the bytes iovsim wrote before timelines existed (golden files of e69fa70)`, async () => {
      const exec = await executePlan(loadPlan(join(GOLDEN, `${name}-small.yaml`), []));
      const dir = join(GOLDEN, name);
      const files = readdirSync(dir).sort();
      expect(files).toEqual(['cpu.csv', 'exits.csv', 'latency.csv', 'stages.csv', 'summary.csv']);
      expect(Object.keys(exec.files)).not.toContain('timeline.csv');
      for (const f of files) expect(exec.files[f], f).toBe(readFileSync(join(dir, f), 'utf8'));
    });
  }
});
