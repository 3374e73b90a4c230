/**
 * `--trace FILE` through the command: the result files are byte-identical with and
 * without it (one thread and workers), the trace is written only on success, and bad
 * flags exit 2 with one line before anything is simulated or written.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOOK_TIMEOUT_MS, ensureBuilt, readCsvs, runCli, tempDir } from './helpers.js';

const SCENARIO = `name: traced
workload: { kind: net-rr, ops: 3000, warmup_ops: 500 }
paths: [vhost-user, virtio-qemu]
seed: 5
replications: 2
`;

describe('iovsim run/compare --trace', () => {
  let dir: string;
  let scenario: string;
  beforeAll(() => {
    ensureBuilt();
    dir = tempDir('trace');
    scenario = join(dir, 'traced.yaml');
    writeFileSync(scenario, SCENARIO);
  }, HOOK_TIMEOUT_MS);

  it.each([['1'], ['2']])('run --jobs %s: the CSV files are byte-identical with and without --trace', (jobs) => {
    const plain = join(dir, `plain-${jobs}`);
    const traced = join(dir, `traced-${jobs}`);
    const file = join(dir, `run-${jobs}.json`);
    expect(runCli(['run', scenario, '--out', plain, '--jobs', jobs, '--quiet']).status).toBe(0);
    const r = runCli(['run', scenario, '--out', traced, '--jobs', jobs, '--trace', file, '--trace-sample', '30']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('wrote the trace of task 0');
    expect(readCsvs(traced)).toEqual(readCsvs(plain));
    expect(readFileSync(join(traced, 'summary.csv'), 'utf8')).toBe(readFileSync(join(plain, 'summary.csv'), 'utf8'));
    const trace = JSON.parse(readFileSync(file, 'utf8')) as { otherData: { title: string; requests: number } };
    expect(trace.otherData.title).toBe('vhost-user net-rr seed 5 replication 0');
    expect(trace.otherData.requests).toBe(30);
    // no temporary file left beside it
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('compare: summary.csv byte-identical with and without --trace (a block path)', () => {
    const args = ['compare', '--workload', 'blk-read', '--paths', 'virtio-qemu', '--ops', '2000', '--quiet'];
    const a = join(dir, 'cmp-plain');
    const b = join(dir, 'cmp-traced');
    const file = join(dir, 'cmp.json');
    expect(runCli([...args, '--out', a]).status).toBe(0);
    const r = runCli([...args, '--out', b, '--trace', file]);
    expect(r.status).toBe(0);
    expect(readFileSync(join(b, 'summary.csv'), 'utf8')).toBe(readFileSync(join(a, 'summary.csv'), 'utf8'));
    expect(readCsvs(b)).toEqual(readCsvs(a));
    const trace = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: { ph: string }[]; otherData: { requests: number } };
    expect(trace.otherData.requests).toBe(200); // the default sample
    expect(trace.traceEvents.some((e) => e.ph === 'X')).toBe(true);
  });

  it('run --shard: the traced shard merges with an untraced one into the unsharded result', () => {
    const s1 = join(dir, 'shard1');
    const s2 = join(dir, 'shard2');
    const merged = join(dir, 'merged');
    const whole = join(dir, 'whole');
    expect(runCli(['run', scenario, '--shard', '1/2', '--out', s1, '--trace', join(dir, 'shard.json'), '--quiet']).status).toBe(0);
    expect(runCli(['run', scenario, '--shard', '2/2', '--out', s2, '--quiet']).status).toBe(0);
    const m = runCli(['merge', s1, s2, '--out', merged, '--quiet']);
    expect(m.stderr).toBe('');
    expect(runCli(['run', scenario, '--out', whole, '--quiet']).status).toBe(0);
    expect(readCsvs(merged)).toEqual(readCsvs(whole));
    expect(readFileSync(join(s1, 'tasks.jsonl'), 'utf8')).not.toContain('traceEvents');
  });

  it('a run refused after the flags writes no trace and keeps the previous one', () => {
    const file = join(dir, 'kept.json');
    writeFileSync(file, 'previous');
    // an unknown workload field fails at planning: nothing simulated, nothing written
    const r = runCli(['compare', '--workload', 'net-rr', '--paths', 'vhost-user', '--set', 'workload.nonsense=1', '--trace', file]);
    expect(r.status).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe('previous');
  });

  const ro = (): string => {
    const d = join(dir, 'read-only');
    mkdirSync(d, { recursive: true });
    chmodSync(d, 0o555);
    return join(d, 't.json');
  };
  it.each([
    ['--trace-sample 0', () => ['--trace', join(dir, 'x.json'), '--trace-sample', '0'], /^iovsim: --trace-sample: must be a whole number of requests from 1 to 100000, got "0"$/],
    ['--trace-sample 1.5', () => ['--trace', join(dir, 'x.json'), '--trace-sample', '1.5'], /^iovsim: --trace-sample: must be a whole number/],
    ['--trace-sample without --trace', () => ['--trace-sample', '10'], /^iovsim: --trace-sample: needs --trace FILE$/],
    ['--trace to a folder', () => ['--trace', dir], /^iovsim: --trace ".*": is a folder; give a file name/],
    ['--trace in a missing folder', () => ['--trace', join(dir, 'no', 'such', 't.json')], /^iovsim: --trace ".*": cannot write a file in .* \(ENOENT\)$/],
    ['--trace in /proc', () => ['--trace', '/proc/iovsim-trace.json'], /^iovsim: --trace ".*": cannot write a file in \/proc \(E[A-Z]+\)$/],
    ['--trace inside --out', () => ['--trace', join(dir, 'out-in', 't.json')], /^iovsim: --trace ".*": is inside the output folder/],
  ])('%s: exits 2 with one line, before simulating', (_what, extra, message) => {
    const out = join(dir, 'out-in');
    const r = runCli(['run', scenario, '--out', out, ...extra()]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
  });

  it('--trace in a folder it cannot write (not as root: root writes anyway)', () => {
    const file = ro();
    const r = runCli(['compare', '--paths', 'vhost-user', '--ops', '1000', '--trace', file]);
    if (process.getuid?.() === 0) {
      expect(r.status).toBe(0); // root may write there: the check tries, it does not guess
      return;
    }
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^iovsim: --trace ".*": cannot write a file in .* \(EACCES\)\n$/);
  });
});
