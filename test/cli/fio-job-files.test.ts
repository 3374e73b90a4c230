/**
 * fio job files and fio.json on the command line (issue 14 items 3 and 4), the built
 * command as users run it: fio's example job files run (time_based ones shortened with
 * --set workload.runtime_s), the one with an unmodelled option that matters is refused,
 * bad job files get exit 2 and one line, and --output-format fio-json writes fio.json.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, HOOK_TIMEOUT_MS, ensureBuilt, parseCsv, runCli, tempDir, type CliResult } from './helpers.js';

const FIO = join(FIXTURES, 'fio');

function expectOneLineError(r: CliResult, parts: readonly string[]): void {
  expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n');
  expect(lines.length, r.stderr).toBe(2);
  expect(lines[0]!.startsWith('iovsim: '), lines[0]).toBe(true);
  for (const p of parts) expect(lines[0], lines[0]).toContain(p);
}

interface FioJson {
  jobs: { jobname: string; groupid: number; read: { iops: number; total_ios: number }; write: { iops: number; total_ios: number }; 'job options': Record<string, string> }[];
  'global options': Record<string, string>;
}

describe("fio's example job files", () => {
  let dir: string;
  let ssd: CliResult;
  beforeAll(() => {
    ensureBuilt();
    dir = tempDir('fio-cli');
    ssd = runCli(['run', join(FIO, 'ssd-test.fio'), '--paths', 'vhost-user', '--set', 'workload.runtime_s=0.003', '--output-format', 'fio-json', '--jobs', '1', '--out', join(dir, 'ssd')]);
  }, HOOK_TIMEOUT_MS);

  it('ssd-test.fio: four stonewalled steps, shortened from 60 s; the ignored options named once on stderr', () => {
    expect(ssd.status, ssd.stderr).toBe(0);
    expect(ssd.stderr).toBe(`iovsim: ${join(FIO, 'ssd-test.fio')}: ignored (no effect on a simulation): direct, directory, filename\n`);
    const rows = parseCsv(readFileSync(join(dir, 'ssd', 'summary.csv'), 'utf8'));
    expect(rows.map((r) => [r['point'], r['path'], r['param.workload.rw']])).toEqual([
      ['0', 'vhost-user', 'read'],
      ['1', 'vhost-user', 'randread'],
      ['2', 'vhost-user', 'write'],
      ['3', 'vhost-user', 'randwrite'],
    ]);
    for (const r of rows) {
      // 3 ms of window: the I/Os are the rate times the window
      expect(Number(r['ops_completed'])).toBeGreaterThan(50);
      expect(Number(r['ops_completed']) / Number(r['throughput_ops_per_s'])).toBeCloseTo(0.003, 6);
    }
  });

  it('ssd-test.fio: fio.json has a job per step, named and grouped as fio would, with the summary figures', () => {
    const out = JSON.parse(readFileSync(join(dir, 'ssd', 'fio.json'), 'utf8')) as FioJson;
    const rows = parseCsv(readFileSync(join(dir, 'ssd', 'summary.csv'), 'utf8'));
    expect(out.jobs.map((j) => [j.jobname, j.groupid])).toEqual([['seq-read', 0], ['rand-read', 1], ['seq-write', 2], ['rand-write', 3]]);
    expect(out['global options']).toMatchObject({ bs: '4k', ioengine: 'libaio', runtime: '60' });
    expect(out.jobs[1]!['job options']).toEqual({ rw: 'randread', iovsim_path: 'vhost-user' });
    out.jobs.forEach((j, i) => {
      expect(j.read.iops + j.write.iops).toBeCloseTo(Number(rows[i]!['throughput_ops_per_s']), 2);
      expect(j.read.total_ios + j.write.total_ios).toBe(Number(rows[i]!['ops_completed']));
    });
    expect(out.jobs[2]!.read.total_ios).toBe(0);
  });

  it('an iovsim result with fio.json can be replaced by the next run (fio.json is a result file); same bytes again', () => {
    const before = readFileSync(join(dir, 'ssd', 'fio.json'), 'utf8');
    const again = runCli(['run', join(FIO, 'ssd-test.fio'), '--paths', 'vhost-user', '--set', 'workload.runtime_s=0.003', '--output-format', 'fio-json', '--jobs', '1', '--quiet', '--out', join(dir, 'ssd')]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toBe(''); // --quiet: not even the ignored options
    expect(readFileSync(join(dir, 'ssd', 'fio.json'), 'utf8')).toBe(before);
  });

  it('fio-rand-read.fio, fio-seq-RW.fio, tiobench-example.fio, waitfor.fio run, time_based ones shortened on the command line', () => {
    for (const [file, steps] of [['fio-rand-read.fio', 1], ['fio-seq-RW.fio', 1], ['tiobench-example.fio', 4], ['waitfor.fio', 4]] as const) {
      const out = join(dir, file);
      const r = runCli(['run', join(FIO, file), '--paths', 'bare-metal', '--set', 'workload.runtime_s=0.002', '--jobs', '1', '--out', out]);
      expect(r.status, `${file}: ${r.stderr}`).toBe(0);
      expect(r.stderr.split('\n').filter((l) => l !== '').length, r.stderr).toBe(1); // the ignored options
      const rows = parseCsv(readFileSync(join(out, 'summary.csv'), 'utf8'));
      expect(rows).toHaveLength(steps);
      for (const row of rows) expect(Number(row['ops_completed'])).toBeGreaterThan(0);
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { scenario_file: string; overrides: string[] };
      expect(manifest.scenario_file).toBe(join(FIO, file));
      expect(manifest.overrides).toEqual(['workload.runtime_s=0.002', 'paths=bare-metal']);
    }
  });

  it('poisson-rate-submission.fio is refused: exit 2 naming io_submit_mode, the file and the line', () => {
    const out = join(dir, 'poisson');
    const r = runCli(['run', join(FIO, 'poisson-rate-submission.fio'), '--out', out]);
    expectOneLineError(r, [`${join(FIO, 'poisson-rate-submission.fio')}:10: io_submit_mode=offload: not modelled by iovsim`]);
    expect(existsSync(out)).toBe(false);
  });

  it('validate reads a job file too', () => {
    const r = runCli(['validate', join(FIO, 'waitfor.fio'), '--paths', 'vhost-user,virtio-qemu']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`${join(FIO, 'waitfor.fio')}: valid: 4 point(s) x 2 path(s) x 1 replication(s) = 8 runs`);
  });
});

describe('bad job files and flags: exit 2, one line, no result', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = tempDir('fio-bad');
  }, HOOK_TIMEOUT_MS);

  const cases: [string, string, string[]][] = [
    ['malformed', '[global]\nsize=1m\n[job\nrw=read\n', ['malformed.fio:3: "[job": a section header is [name]']],
    ['unknown-section', '[global]\nsize=1m\n[a]\n[b]\nwait_for=c\n', ['unknown-section.fio:5: wait_for=c: no job section [c] before [b]']],
    ['bs-zero', '[a]\nsize=1m\nbs=0\n', ['bs-zero.fio:3: bs=0: a block size is a multiple of 512 bytes']],
    ['iodepth-zero', '[a]\nsize=1m\niodepth=0\n', ['iodepth-zero.fio:3: iodepth=0: must be a whole number, at least 1']],
    ['unknown-option', '[a]\nsize=1m\nblocksz=4k\n', ['unknown-option.fio:3: unknown fio option "blocksz"']],
  ];
  for (const [name, text, parts] of cases) {
    it(name, () => {
      const file = join(dir, `${name}.fio`);
      writeFileSync(file, text);
      const out = join(dir, `out-${name}`);
      expectOneLineError(runCli(['run', file, '--out', out]), parts);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('a job file with ignored options and a bad --out: the one line is the error', () => {
    const notAFolder = join(dir, 'a-file');
    writeFileSync(notAFolder, 'x');
    expectOneLineError(runCli(['run', join(FIO, 'fio-rand-read.fio'), '--out', notAFolder]), ['exists and is not a folder']);
  });

  it('--output-format: an unknown one, fio-json for a network workload, fio-json with --shard', () => {
    const net = join(FIXTURES, 'net-small.yaml');
    expectOneLineError(runCli(['run', net, '--output-format', 'xml', '--out', join(dir, 'o1')]), ['--output-format: unknown format "xml"; allowed: csv, fio-json']);
    expectOneLineError(runCli(['run', net, '--output-format', 'fio-json', '--out', join(dir, 'o2')]), ['--output-format fio-json: needs a block workload']);
    const fio = join(FIO, 'ssd-test.fio');
    expectOneLineError(runCli(['run', fio, '--output-format', 'fio-json', '--shard', '1/2', '--out', join(dir, 'o3')]), ['not with --shard']);
    for (const o of ['o1', 'o2', 'o3']) expect(existsSync(join(dir, o))).toBe(false);
  });
});

describe('fio.json of a scenario file', () => {
  it('a YAML block scenario with a sweep: one job per point and path, options in fio words', () => {
    ensureBuilt();
    const dir = tempDir('fio-yaml');
    const file = join(dir, 'blk.yaml');
    writeFileSync(file, 'name: blk-fio\nworkload: { kind: blk-read, iodepth: 2, ops: 500, warmup_ops: 50 }\nsweep:\n  workload.iodepth: [1, 4]\n');
    const r = runCli(['run', file, '--paths', 'bare-metal,sriov', '--output-format', 'fio-json', '--jobs', '1', '--quiet', '--out', join(dir, 'out')]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(readFileSync(join(dir, 'out', 'fio.json'), 'utf8')) as FioJson;
    expect(out.jobs.map((j) => [j.jobname, j.groupid])).toEqual([
      ['blk-fio/point0@bare-metal', 0],
      ['blk-fio/point0@sriov', 0],
      ['blk-fio/point1@bare-metal', 1],
      ['blk-fio/point1@sriov', 1],
    ]);
    expect(out.jobs[2]!['job options']).toMatchObject({ rw: 'randread', iodepth: '4', ioengine: 'libaio', iovsim_path: 'bare-metal' });
    expect(out['global options']).toEqual({});
    for (const j of out.jobs) expect(j.read.total_ios).toBe(500);
  });
});
