/**
 * Confidence half-widths across replications: Student t quantiles against published
 * table values, the half-width formula, the summary layout (repeated on each replication
 * row of a (point, path), after the design.md columns, before param.*), and coverage:
 * 95% intervals from independent M/M/1 runs contain the closed-form values.
 */
import { describe, expect, it } from 'vitest';
import { SUMMARY_CI_COLUMNS, SUMMARY_COLUMNS } from '../../src/output/rows.js';
import { withConfidence } from '../../src/output/results.js';
import { executePlan } from '../../src/scenario/execute.js';
import { planScenario } from '../../src/scenario/load.js';
import { ci95HalfWidth, studentTCdf, studentTQuantile } from '../../src/util/student-t.js';
import { parseCsv } from '../cli/helpers.js';

describe("Student's t", () => {
  // t_{0.975, df}, e.g. NIST/SEMATECH e-Handbook table 1.3.6.7.2.
  const TABLE: [number, number][] = [
    [1, 12.706205], [2, 4.302653], [3, 3.182446], [4, 2.776445], [5, 2.570582], [9, 2.262157],
    [10, 2.228139], [20, 2.085963], [30, 2.042272], [100, 1.983972], [1000, 1.962339],
  ];
  for (const [df, t] of TABLE) {
    it(`t(0.975, ${df}) = ${t}`, () => {
      expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 5);
      expect(studentTCdf(t, df)).toBeCloseTo(0.975, 6); // the table is rounded to 1e-6
    });
  }

  it('tends to the normal quantile and is symmetric', () => {
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.959964, 5);
    expect(studentTQuantile(0.025, 7)).toBeCloseTo(-studentTQuantile(0.975, 7), 10);
    expect(studentTCdf(0, 3)).toBeCloseTo(0.5, 12);
  });

  it('half-width = t * s / sqrt(n); none from a single value', () => {
    // s = sqrt(2.5), n = 5: 2.776445 * sqrt(2.5) / sqrt(5) = 1.963243.
    expect(ci95HalfWidth([1, 2, 3, 4, 5])).toBeCloseTo(1.963243, 5);
    expect(ci95HalfWidth([7, 7, 7])).toBe(0);
    expect(ci95HalfWidth([3])).toBeUndefined();
    expect(ci95HalfWidth([])).toBeUndefined();
  });
});

describe('summary confidence columns', () => {
  it('are computed per (point, path) and repeated on each of its rows', () => {
    const rows = [
      { point: 0, path: 'a', latency_mean_ns: 10, latency_p99_ns: 20, throughput_ops_per_s: 100 },
      { point: 0, path: 'a', latency_mean_ns: 12, latency_p99_ns: 24, throughput_ops_per_s: 110 },
      { point: 0, path: 'b', latency_mean_ns: 50, latency_p99_ns: 90, throughput_ops_per_s: 10 },
      { point: 1, path: 'a', latency_mean_ns: 14, latency_p99_ns: 30, throughput_ops_per_s: 90 },
      { point: 1, path: 'a', latency_mean_ns: 14, latency_p99_ns: 30, throughput_ops_per_s: 90 },
    ];
    const out = withConfidence(rows);
    // Two values: t(0.975, 1) * |x1 - x2| / 2.
    expect(out[0]!['latency_mean_ci95_ns']).toBeCloseTo((12.706205 * 2) / 2, 3);
    expect(out[1]!['latency_mean_ci95_ns']).toBe(out[0]!['latency_mean_ci95_ns']);
    expect(out[0]!['throughput_ci95_ops_per_s']).toBeCloseTo((12.706205 * 10) / 2, 2);
    expect(out[2]!['latency_mean_ci95_ns']).toBe(''); // a single replication: no interval
    expect(out[3]!['latency_p99_ci95_ns']).toBe(0);
    expect(rows[0]).not.toHaveProperty('latency_mean_ci95_ns');
  });

  it('sit after the design.md columns and before param.*', async () => {
    const plan = planScenario(
      {
        name: 'ci-layout',
        workload: {
          kind: 'custom',
          arrival: { kind: 'poisson', rate_per_s: 200_000 },
          stages: [{ name: 's', service_ns: { kind: 'exponential', mean: 1000 } }],
          ops: 500,
        },
        sweep: { 'workload.arrival.rate_per_s': [200_000, 400_000] },
        replications: 3,
      },
      'test',
    );
    const exec = await executePlan(plan);
    const header = exec.files['summary.csv']!.split('\n')[0]!.split(',');
    expect(header).toEqual([...SUMMARY_COLUMNS, ...SUMMARY_CI_COLUMNS, 'param.workload.arrival.rate_per_s']);
    const rows = parseCsv(exec.files['summary.csv']!);
    for (const point of ['0', '1']) {
      const g = rows.filter((r) => r['point'] === point);
      expect(g).toHaveLength(3);
      const means = g.map((r) => Number(r['latency_mean_ns']));
      // Recomputable from the CSV itself.
      expect(Number(g[0]!['latency_mean_ci95_ns'])).toBeCloseTo(ci95HalfWidth(means)!, 3);
      expect(new Set(g.map((r) => r['latency_p99_ci95_ns'])).size).toBe(1);
    }
  });

  it('cover the M/M/1 closed forms about 95% of the time', async () => {
    // rho = 0.5, service mean 1 us: W = 1/(mu - lambda) = 2000 ns, p99 = ln(100) W,
    // throughput = lambda. 20 independent experiments of 5 replications each; with true
    // 95% coverage, P(fewer than 15 of 20 cover) is about 3e-4.
    const pointsCovered = { mean: 0, p99: 0, throughput: 0 };
    for (let seed = 1; seed <= 20; seed++) {
      const plan = planScenario(
        {
          name: 'coverage',
          workload: {
            kind: 'custom',
            arrival: { kind: 'poisson', rate_per_s: 500_000 },
            stages: [{ name: 's', service_ns: { kind: 'exponential', mean: 1000 } }],
            ops: 20_000,
            warmup_ops: 2_000,
          },
          seed,
          replications: 5,
        },
        'test',
      );
      const rows = parseCsv((await executePlan(plan)).files['summary.csv']!);
      const avg = (c: string): number => rows.reduce((s, r) => s + Number(r[c]), 0) / rows.length;
      const half = (c: string): number => Number(rows[0]![c]);
      if (Math.abs(avg('latency_mean_ns') - 2000) <= half('latency_mean_ci95_ns')) pointsCovered.mean++;
      if (Math.abs(avg('latency_p99_ns') - Math.log(100) * 2000) <= half('latency_p99_ci95_ns')) pointsCovered.p99++;
      if (Math.abs(avg('throughput_ops_per_s') - 500_000) <= half('throughput_ci95_ops_per_s')) pointsCovered.throughput++;
    }
    expect(pointsCovered.mean).toBeGreaterThanOrEqual(15);
    expect(pointsCovered.p99).toBeGreaterThanOrEqual(15);
    expect(pointsCovered.throughput).toBeGreaterThanOrEqual(15);
  });
});
