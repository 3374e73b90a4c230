/**
 * Every ready scenario in scenarios/ is valid, starts with the question it answers, runs
 * (shortened where a claim allows it) through the built command, and its main claim
 * holds. A scenario without a claim here fails: adding a scenario means adding its check.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOOK_TIMEOUT_MS, ROOT, ensureBuilt, parseCsv, runCli, tempDir } from '../cli/helpers.js';

type SummaryRow = Record<string, string>;

interface Claim {
  /** --set overrides that shorten the run (the claim must still hold). */
  sets: string[];
  /** Asserts the scenario's main claim on its summary rows. */
  check(summary: SummaryRow[]): void;
}

const num = (r: SummaryRow, c: string): number => Number(r[c]);
const byPoint = (rows: SummaryRow[]): Map<string, SummaryRow[]> => {
  const m = new Map<string, SummaryRow[]>();
  for (const r of rows) m.set(r['point']!, [...(m.get(r['point']!) ?? []), r]);
  return m;
};
const avg = (rows: SummaryRow[], c: string): number => rows.reduce((s, r) => s + num(r, c), 0) / rows.length;

const CLAIMS: Record<string, Claim> = {
  // M/M/1 with service mean 1 us: mean sojourn 1/(mu - lambda), p99 ln(100)/(mu - lambda).
  // Run in full (200,000 ops after 20,000 warm-up, 2 replications). The relative standard
  // error of a run's mean grows like 1/(1 - rho): about 1% at rho 0.5 and 4% at rho 0.9, so
  // the average of two replications is held to 5% (mean) and 5%, or 10% at rho 0.9 (p99).
  'mm1-validation': {
    sets: [],
    check(summary) {
      const points = byPoint(summary);
      expect(points.size).toBe(3);
      for (const rows of points.values()) {
        const lambda = num(rows[0]!, 'param.workload.arrival.rate_per_s');
        const wNs = 1e9 / (1e6 - lambda);
        const rho = lambda / 1e6;
        expect(Math.abs(avg(rows, 'latency_mean_ns') / wNs - 1)).toBeLessThan(0.05);
        expect(Math.abs(avg(rows, 'latency_p99_ns') / (Math.log(100) * wNs) - 1)).toBeLessThan(rho >= 0.9 ? 0.1 : 0.05);
        expect(Math.abs(avg(rows, 'throughput_ops_per_s') / lambda - 1)).toBeLessThan(0.02);
      }
    },
  },
};

const dir = join(ROOT, 'scenarios');
const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();

describe('ready scenarios', () => {
  let out: string;
  beforeAll(() => {
    ensureBuilt();
    out = tempDir('ready');
  }, HOOK_TIMEOUT_MS);

  it('there is at least one', () => expect(files.length).toBeGreaterThan(0));

  for (const file of files) {
    it(`${file}: says what question it answers, runs, and its claim holds`, () => {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text.split('\n')[0], 'first line: "# Question: ...?"').toMatch(/^# Question: .*\?/);
      const name = /^name:\s*(\S+)/m.exec(text)?.[1];
      expect(name, 'a name: line').toBeDefined();
      const claim = CLAIMS[name!];
      expect(claim, `add a claim check for scenarios/${file} in test/scenario/ready-scenarios.test.ts`).toBeDefined();
      const v = runCli(['validate', join(dir, file), ...claim!.sets.flatMap((s) => ['--set', s])]);
      expect(v.status, v.stderr).toBe(0);
      const target = join(out, name!);
      const r = runCli(['run', join(dir, file), '--out', target, '--quiet', '--jobs', '2', ...claim!.sets.flatMap((s) => ['--set', s])]);
      expect(r.status, r.stderr).toBe(0);
      claim!.check(parseCsv(readFileSync(join(target, 'summary.csv'), 'utf8')));
    });
  }
});
