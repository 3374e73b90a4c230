/**
 * `iovsim explain PATH`: its steps are the stages.csv rows of the same run (compare --out
 * with the same seed and ops), they add up to the mean latency of summary.csv, the per-step
 * exits, interrupts, kicks, copies and syscalls add up to the per-op counters, and bad
 * input is one line with exit status 2.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOOK_TIMEOUT_MS, ensureBuilt, parseCsv, runCli, tempDir } from './helpers.js';

interface Step {
  step: string;
  actor: string;
  thread: string;
  visits: number;
  waitUs: number;
  serviceUs: number;
  timeUs: number;
  counts: Record<string, number>;
}

const COUNTERS = ['exits', 'irqs', 'kicks', 'copies', 'syscalls'] as const;
const SUMMARY_COLUMN: Record<(typeof COUNTERS)[number], string> = {
  exits: 'exits_per_op',
  irqs: 'interrupts_per_op',
  kicks: 'kicks_per_op',
  copies: 'copies_per_op',
  syscalls: 'syscalls_per_op',
};

/** The step table and total of explain's output (cells are two spaces or more apart). */
function parseExplain(stdout: string): { steps: Step[]; totalUs: number; meanUs: number } {
  const lines = stdout.trimEnd().split('\n');
  expect(lines[1]).toMatch(/^step\s+actor\s+thread\s+visits\s+wait \(us\)\s+service \(us\)\s+time\/op \(us\)\s+exits\s+irqs\s+kicks\s+copies\s+syscalls$/);
  const end = lines.findIndex((l) => l.startsWith('total: '));
  const num = (c: string): number => (c === '-' ? 0 : Number(c.replace(/,/g, '')));
  const steps = lines.slice(2, end).map((l) => {
    const c = l.split(/\s{2,}/);
    expect(c).toHaveLength(12);
    return {
      step: c[0]!,
      actor: c[1]!,
      thread: c[2]!,
      visits: num(c[3]!),
      waitUs: num(c[4]!),
      serviceUs: num(c[5]!),
      timeUs: num(c[6]!),
      counts: Object.fromEntries(COUNTERS.map((k, i) => [k, num(c[7 + i]!)])),
    };
  });
  const m = /^total: ([\d,.]+) us \(sum of steps\) = mean latency ([\d,.]+) us$/.exec(lines[end]!);
  expect(m, lines[end]).not.toBeNull();
  return { steps, totalUs: num(m![1]!), meanUs: num(m![2]!) };
}

/** explain and compare --out of one path and workload, same ops and seed. */
function both(path: string, workload: string) {
  const args = ['--workload', workload, '--ops', '3000', '--seed', '7'];
  const e = runCli(['explain', path, ...args]);
  expect(e.status, e.stderr).toBe(0);
  const out = join(tempDir('explain'), 'cmp');
  const c = runCli(['compare', '--paths', path, ...args, '--out', out, '--quiet', '--jobs', '1']);
  expect(c.status, c.stderr).toBe(0);
  return {
    explained: parseExplain(e.stdout),
    stages: parseCsv(readFileSync(join(out, 'stages.csv'), 'utf8')),
    summary: parseCsv(readFileSync(join(out, 'summary.csv'), 'utf8'))[0]!,
  };
}

const within1Percent = (got: number, want: number): void => {
  // 1%, or the printed precision (1 ns) for stages of a few ns
  expect(Math.abs(got - want), `${got} vs ${want}`).toBeLessThanOrEqual(Math.max(0.01 * Math.abs(want), 0.0015));
};

describe('iovsim explain', () => {
  beforeAll(() => ensureBuilt(), HOOK_TIMEOUT_MS);

  for (const [path, workload] of [['vhost-user', 'net-rr'], ['virtio-qemu', 'blk-read'], ['emulated', 'net-rr']] as const) {
    it(`${path} ${workload}: its steps are the stages.csv rows, they add up to the mean latency, their counters to the per-op counters`, () => {
      const { explained, stages, summary } = both(path, workload);
      expect(explained.steps.map((s) => `${s.step}/${s.actor}`).sort()).toEqual(stages.map((r) => `${r['stage']}/${r['actor']}`).sort());
      for (const row of stages) {
        const step = explained.steps.find((s) => s.step === row['stage'] && s.actor === row['actor'])!;
        const visits = Number(row['visits_per_op']);
        within1Percent(step.visits, visits);
        within1Percent(step.timeUs, (visits * (Number(row['wait_mean_ns']) + Number(row['service_mean_ns']))) / 1000);
        within1Percent(step.waitUs + step.serviceUs, (Number(row['wait_mean_ns']) + Number(row['service_mean_ns'])) / 1000);
      }
      const meanUs = Number(summary['latency_mean_ns']) / 1000;
      within1Percent(explained.totalUs, meanUs);
      within1Percent(explained.meanUs, meanUs);
      within1Percent(explained.steps.reduce((s, x) => s + x.timeUs, 0), meanUs);
      for (const k of COUNTERS) {
        const perOp = Number(summary[SUMMARY_COLUMN[k]]);
        // each printed cell is rounded to 0.01 (and a cell under 0.005 prints '-')
        expect(Math.abs(explained.steps.reduce((s, x) => s + x.counts[k]!, 0) - perOp), k).toBeLessThanOrEqual(0.006 * explained.steps.length + 0.001);
        if (perOp === 0) expect(explained.steps.filter((s) => s.counts[k]! > 0), k).toEqual([]);
      }
      // a request's first step starts in the guest and its last ends there
      expect(explained.steps[0]!.thread).toBe('vm0/vcpu0');
      expect(explained.steps.at(-1)!.thread).toBe('vm0/vcpu0');
    });
  }

  it('a path without exits shows no exit step; the emulated NIC shows exit steps, the guest kick among them on virtio-qemu', () => {
    const none = parseExplain(runCli(['explain', 'vhost-user', '--ops', '2000']).stdout);
    expect(none.steps.every((s) => s.counts['exits'] === 0)).toBe(true);
    const emulated = parseExplain(runCli(['explain', 'emulated', '--ops', '2000']).stdout);
    expect(emulated.steps.filter((s) => s.counts['exits']! > 0).length).toBeGreaterThanOrEqual(2);
    // the guest's register writes exit while it sends
    expect(emulated.steps.find((s) => s.step === 'guest.tx')!.counts['exits']).toBeGreaterThan(0);
    const virtio = parseExplain(runCli(['explain', 'virtio-qemu', '--ops', '2000']).stdout);
    const kicked = virtio.steps.filter((s) => s.counts['kicks']! > 0);
    expect(kicked.map((s) => s.step)).toEqual(['backend.tx']);
    expect(kicked[0]!.counts['exits']).toBeCloseTo(1, 2);
  });

  it('bad input: one line on stderr, nothing on stdout, exit status 2', () => {
    for (const [args, message] of [
      [['explain', 'nope'], /^iovsim: explain: unknown path "nope"/],
      [['explain', 'vhost-user', '--workload', 'nope'], /^iovsim: --workload: unknown workload "nope"/],
      [['explain', 'bare-metal', '--workload', 'net-pvp'], /^iovsim: explain: path "bare-metal" cannot run workload net-pvp/],
      [['explain', 'vhost-user', '--ops', '0'], /^iovsim: --ops: must be a whole number/],
      [['explain', 'vhost-user', '--ops', 'many'], /^iovsim: --ops: must be a whole number/],
      [['explain', 'vhost-user,emulated'], /^iovsim: explain: one path/],
      [['explain', 'vhost-user', '--set', 'paths=emulated'], /^iovsim: --set paths: /],
      [['explain', 'vhost-user', '--workload', 'custom'], /^iovsim: --workload: custom /],
    ] as const) {
      const r = runCli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
    }
  });
});
