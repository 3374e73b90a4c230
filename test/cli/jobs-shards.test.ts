/**
 * Where tasks run must not change a byte: --jobs 1, --jobs 2, two shards merged and four
 * shards merged (given in scrambled order) write identical CSV files, and manifests that
 * differ only in wall time and merge provenance. Merge refuses incomplete or mixed sets.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPlan } from '../../src/scenario/load.js';
import { executePlan } from '../../src/scenario/execute.js';
import { HOOK_TIMEOUT_MS, ROOT, SMALL, UNBUNDLED_CLI, ensureBuilt, parseCsv, readCsvs, readTree, runCli, tempDir } from './helpers.js';

// 3 points x 2 replications = 6 tasks.
const SETS = ['workload.ops=3000', 'sweep.workload.arrival.rate_per_s=[200000, 400000, 600000]'];
const SET_ARGS = SETS.flatMap((s) => ['--set', s]);

function manifest(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
}

function withoutVolatile(m: Record<string, unknown>): Record<string, unknown> {
  const { wall_time_s: _w, merged_from: _m, ...rest } = m;
  return rest;
}

describe('byte-identical results whatever runs the tasks', () => {
  let dir: string;
  const run = (out: string, ...extra: string[]): void => {
    const r = runCli(['run', SMALL, '--out', join(dir, out), '--quiet', ...SET_ARGS, ...extra], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  };

  beforeAll(() => {
    ensureBuilt();
    dir = tempDir('jobs');
    run('jobs1', '--jobs', '1');
    run('jobs2', '--jobs', '2');
    for (const i of [1, 2]) run(`two-${i}`, '--shard', `${i}/2`, '--jobs', '2');
    for (const i of [1, 2, 3, 4]) run(`four-${i}`, '--shard', `${i}/4`, '--jobs', '1');
  }, HOOK_TIMEOUT_MS);

  it('--jobs 1 and --jobs 2 write identical CSV files and equivalent manifests', () => {
    const one = readCsvs(join(dir, 'jobs1'));
    expect(Object.keys(one)).toEqual(['cpu.csv', 'exits.csv', 'latency.csv', 'stages.csv', 'summary.csv']);
    expect(one['summary.csv']!.trim().split('\n')).toHaveLength(1 + 6);
    expect(readCsvs(join(dir, 'jobs2'))).toEqual(one);
    expect(withoutVolatile(manifest(join(dir, 'jobs2')))).toEqual(withoutVolatile(manifest(join(dir, 'jobs1'))));
  });

  it('the same plan run in this thread (library use) renders the same bytes', async () => {
    const plan = loadPlan(SMALL, SETS);
    const exec = await executePlan(plan);
    const one = readCsvs(join(dir, 'jobs1'));
    for (const [name, text] of Object.entries(one)) expect(exec.files[name], name).toBe(text);
  });

  it('the unbundled build (node dist/src/cli.js, its own worker script) writes the same bytes as the bundle', () => {
    // The bundle renames clashing identifiers and inlines every module: nothing in the
    // results may depend on that. Network paths too, not only the custom workload.
    const args = ['--workload', 'net-rr', '--ops', '3000', '--paths', 'vhost-user,emulated,sriov', '--jobs', '2', '--quiet'];
    const unbundled = spawnSync(process.execPath, [UNBUNDLED_CLI, 'compare', ...args, '--out', join(dir, 'net-unbundled')], { cwd: dir, encoding: 'utf8' });
    expect(unbundled.status, unbundled.stderr).toBe(0);
    const bundled = runCli(['compare', ...args, '--out', join(dir, 'net-bundled')], dir);
    expect(bundled.status, bundled.stderr).toBe(0);
    expect(bundled.stdout).toBe(unbundled.stdout);
    const one = readCsvs(join(dir, 'net-bundled'));
    expect(parseCsv(one['summary.csv']!)).toHaveLength(3);
    expect(readCsvs(join(dir, 'net-unbundled'))).toEqual(one);
    const unbundledRun = spawnSync(process.execPath, [UNBUNDLED_CLI, 'run', SMALL, '--out', join(dir, 'small-unbundled'), '--quiet', '--jobs', '2', ...SET_ARGS], { cwd: dir, encoding: 'utf8' });
    expect(unbundledRun.status, unbundledRun.stderr).toBe(0);
    expect(readCsvs(join(dir, 'small-unbundled'))).toEqual(readCsvs(join(dir, 'jobs1')));
  });

  it('the bundle stands alone: copied without dist/src or node_modules, --jobs 2 gives the same bytes', () => {
    // Proves the bundled command starts the bundled worker (dist/src is not there to fall back on).
    const alone = join(dir, 'alone', 'dist', 'bundle');
    mkdirSync(alone, { recursive: true });
    for (const f of ['iovsim.js', 'worker.js']) copyFileSync(join(ROOT, 'dist', 'bundle', f), join(alone, f));
    const r = spawnSync(process.execPath, [join(alone, 'iovsim.js'), 'run', SMALL, '--out', join(dir, 'alone-out'), '--quiet', '--jobs', '2', ...SET_ARGS], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readCsvs(join(dir, 'alone-out'))).toEqual(readCsvs(join(dir, 'jobs1')));
  });

  it('worker threads started from the TypeScript sources (vitest) run the built worker, to the same bytes', async () => {
    const plan = loadPlan(SMALL, SETS);
    const done: number[] = [];
    const exec = await executePlan(plan, { jobs: 2, onTaskDone: (o) => done.push(o.index) });
    expect([...done].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    // task order, whatever finished first: point, then replication
    expect(exec.summaries.map((r) => `${r['point']}/${r['replication']}`)).toEqual(['0/0', '0/1', '1/0', '1/1', '2/0', '2/1']);
    for (const [name, text] of Object.entries(readCsvs(join(dir, 'jobs1')))) expect(exec.files[name], name).toBe(text);
  });

  it('a shard holds its share of tasks (index mod N = I-1) and what merge needs', () => {
    const header = JSON.parse(readFileSync(join(dir, 'four-1', 'shard.json'), 'utf8')) as { tasks: number[]; plan_tasks: number };
    expect(header.tasks).toEqual([0, 4]);
    expect(header.plan_tasks).toBe(6);
    expect(readFileSync(join(dir, 'four-3', 'tasks.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(manifest(join(dir, 'four-3'))['shard']).toEqual({ index: 3, count: 4, tasks: 6 });
  });

  it('two shards merged equal the single-machine run', () => {
    const r = runCli(['merge', join(dir, 'two-2'), join(dir, 'two-1'), '--out', join(dir, 'merged2')], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(readCsvs(join(dir, 'merged2'))).toEqual(readCsvs(join(dir, 'jobs1')));
    const m = manifest(join(dir, 'merged2'));
    expect(withoutVolatile(m)).toEqual(withoutVolatile(manifest(join(dir, 'jobs1'))));
    expect(m['merged_from']).toHaveLength(2);
    // The merged folder is a plain result: no shard files.
    expect(readdirSync(join(dir, 'merged2')).sort()).toEqual(['cpu.csv', 'exits.csv', 'latency.csv', 'manifest.json', 'stages.csv', 'summary.csv']);
  });

  it('four shards merged in scrambled order equal the single-machine run', () => {
    const shards = [3, 1, 4, 2].map((i) => join(dir, `four-${i}`));
    const r = runCli(['merge', ...shards, '--out', join(dir, 'merged4')], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(readCsvs(join(dir, 'merged4'))).toEqual(readCsvs(join(dir, 'jobs1')));
  });

  it('merge refuses a missing shard, a duplicate, or shards of another plan, and writes nothing', () => {
    const before = readTree(dir);
    const missing = runCli(['merge', join(dir, 'four-1'), join(dir, 'four-2'), join(dir, 'four-4'), '--out', join(dir, 'x')], dir);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^iovsim: merge: missing shard 3\/4\n$/);
    const dup = runCli(['merge', join(dir, 'two-1'), join(dir, 'two-1'), '--out', join(dir, 'x')], dir);
    expect(dup.status).toBe(2);
    expect(dup.stderr).toContain('given twice');
    const mixed = runCli(['merge', join(dir, 'two-1'), join(dir, 'four-2'), '--out', join(dir, 'x')], dir);
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toContain('four-2');
    expect(readTree(dir)).toEqual(before);
  });

  it('shards of a different seed are refused by fingerprint', () => {
    const r1 = runCli(['run', SMALL, '--out', join(dir, 'seed9-1'), '--quiet', ...SET_ARGS, '--seed', '9', '--shard', '1/2', '--jobs', '1'], dir);
    expect(r1.status, r1.stderr).toBe(0);
    const r = runCli(['merge', join(dir, 'seed9-1'), join(dir, 'two-2'), '--out', join(dir, 'y')], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('different scenario');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
