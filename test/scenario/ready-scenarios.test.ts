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

const byPath = (rows: SummaryRow[]): Map<string, SummaryRow[]> => {
  const m = new Map<string, SummaryRow[]>();
  for (const r of rows) m.set(r['path']!, [...(m.get(r['path']!) ?? []), r]);
  return m;
};
/** The average of a column over a path's rows (at one point, or over all). */
const pathAvg = (rows: SummaryRow[], path: string, c: string): number => {
  const g = rows.filter((r) => r['path'] === path);
  expect(g.length, `rows of ${path}`).toBeGreaterThan(0);
  return avg(g, c);
};
const SHORT = ['workload.ops=20000', 'workload.warmup_ops=2000'];

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

  // Bare metal is the floor; assigned devices (passthrough, SR-IOV) come within a few
  // percent of it with no exits (posted interrupts); vhost-user polls a core instead of
  // taking kicks; the emulated e1000 takes an exit per register access and is slowest.
  'rr-all-paths': {
    sets: SHORT,
    check(summary) {
      const paths = [...byPath(summary).keys()];
      expect(paths).toEqual(expect.arrayContaining(['bare-metal', 'passthrough', 'sriov', 'vhost-user', 'vhost-kernel', 'virtio-qemu', 'emulated']));
      const p50 = (p: string): number => pathAvg(summary, p, 'latency_p50_ns');
      const exits = (p: string): number => pathAvg(summary, p, 'exits_per_op');
      for (const p of paths) expect(p50(p), p).toBeGreaterThanOrEqual(p50('bare-metal') * 0.99);
      for (const p of ['passthrough', 'sriov']) {
        expect(p50(p) / p50('bare-metal'), p).toBeLessThan(1.05);
        expect(exits(p), p).toBe(0);
      }
      expect(exits('bare-metal')).toBe(0);
      expect(exits('vhost-user')).toBe(0);
      expect(p50('vhost-user')).toBeLessThan(p50('vhost-kernel'));
      for (const p of ['vhost-user', 'vhost-kernel', 'virtio-qemu']) expect(p50(p), p).toBeLessThan(p50('emulated'));
      for (const p of paths.filter((x) => !x.startsWith('emulated'))) expect(exits(p), p).toBeLessThan(exits('emulated'));
      expect(exits('emulated')).toBeGreaterThanOrEqual(5);
      // The PMD polls a whole core whether or not packets come.
      expect(pathAvg(summary, 'vhost-user', 'host_cpu_cores')).toBeGreaterThanOrEqual(pathAvg(summary, 'bare-metal', 'host_cpu_cores') + 1);
    },
  },

  // The polling backend is faster at every depth, takes no kicks and burns more host
  // CPU; the kernel worker takes fewer kicks per op as transactions pile up (EVENT_IDX
  // suppression while it is busy).
  'vhost-user-vs-kernel': {
    sets: SHORT,
    check(summary) {
      const points = byPoint(summary);
      expect(points.size).toBe(2);
      const kicksKernel: number[] = [];
      for (const rows of points.values()) {
        for (const c of ['latency_p50_ns', 'latency_p99_ns']) {
          expect(pathAvg(rows, 'vhost-user', c), c).toBeLessThan(pathAvg(rows, 'vhost-kernel', c));
        }
        expect(pathAvg(rows, 'vhost-user', 'kicks_per_op')).toBe(0);
        expect(pathAvg(rows, 'vhost-user', 'exits_per_op')).toBeLessThan(pathAvg(rows, 'vhost-kernel', 'exits_per_op'));
        expect(pathAvg(rows, 'vhost-user', 'host_cpu_cores')).toBeGreaterThan(pathAvg(rows, 'vhost-kernel', 'host_cpu_cores'));
        kicksKernel.push(pathAvg(rows, 'vhost-kernel', 'kicks_per_op'));
      }
      expect(kicksKernel[0]).toBeGreaterThan(0);
      expect(kicksKernel[1]).toBeLessThan(kicksKernel[0]!); // points in sweep order: 1, then 16
    },
  },

  // At a fixed packet rate the bit rate grows with the size; latency grows by at least
  // the extra serialization at the 10 Gb/s line rate; the virtio paths copy the frame,
  // the assigned-device paths DMA it without a copy.
  'packet-size': {
    sets: SHORT,
    check(summary) {
      const lineRateGbps = 10; // nic.line_rate_gbps default
      for (const [path, rows] of byPath(summary)) {
        const sizes = rows.map((r) => num(r, 'param.workload.size_bytes'));
        expect(sizes, path).toEqual([64, 512, 1500, 4000, 9000]);
        for (let i = 0; i < rows.length; i++) {
          const r = rows[i]!;
          expect(num(r, 'ops_dropped'), path).toBe(0);
          expect(num(r, 'throughput_ops_per_s') / 100_000, path).toBeCloseTo(1, 1);
          if (i > 0) {
            expect(num(r, 'throughput_gbps'), path).toBeGreaterThan(num(rows[i - 1]!, 'throughput_gbps'));
            expect(num(r, 'latency_p50_ns'), path).toBeGreaterThan(num(rows[i - 1]!, 'latency_p50_ns'));
          }
          const copied = num(r, 'copy_bytes_per_op');
          if (path === 'bare-metal' || path === 'sriov') expect(copied, path).toBe(0);
          else expect(copied, `${path} at ${sizes[i]} B`).toBeGreaterThanOrEqual(sizes[i]! - 4);
        }
        const extraSerializationNs = ((9000 - 64) * 8) / lineRateGbps;
        expect(num(rows[4]!, 'latency_p50_ns') - num(rows[0]!, 'latency_p50_ns'), path).toBeGreaterThanOrEqual(extraSerializationNs);
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
