/**
 * Block workloads on the command line (the built command, as users run it). Bad block
 * input, through `iovsim compare --workload blk --set ...` and through a scenario file
 * with `iovsim run`, must give exit status 2, exactly one line on stderr that names the
 * field, nothing on stdout, and no output folder; and `iovsim list` shows the block
 * workloads on every path.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOOK_TIMEOUT_MS, ensureBuilt, readTree, runCli, tempDir } from './helpers.js';

const ALL_PATHS = ['bare-metal', 'passthrough', 'sriov', 'vhost-user', 'vhost-kernel', 'virtio-qemu', 'emulated', 'emulated-vmm'];

interface BadInput {
  name: string;
  /** The path to run on (compare --paths, the scenario's paths). */
  path: string;
  /** Workload fields over { kind: blk, rw: randread }. */
  workload: Record<string, unknown>;
  /** Parameters. */
  params?: Record<string, unknown>;
  /** Substrings the one stderr line must contain (the field first). */
  expect: string[];
}

const BAD: BadInput[] = [
  { name: 'iodepth-zero', path: 'virtio-qemu', workload: { iodepth: 0 }, expect: ['workload.iodepth', 'got 0'] },
  { name: 'bs-not-sector-multiple', path: 'virtio-qemu', workload: { bs: 1000 }, expect: ['workload.bs', '512'] },
  { name: 'rwmixread-above-100', path: 'vhost-user', workload: { rw: 'randrw', rwmixread: 101 }, expect: ['workload.rwmixread', '101'] },
  { name: 'rwmixread-negative', path: 'vhost-user', workload: { rw: 'randrw', rwmixread: -1 }, expect: ['workload.rwmixread', '-1'] },
  { name: 'write-on-read-only-disk', path: 'bare-metal', workload: { rw: 'randwrite' }, params: { 'disk.read_only': true }, expect: ['workload.rw', 'read-only'] },
  { name: 'rw-unknown', path: 'vhost-kernel', workload: { rw: 'randomread' }, expect: ['workload.rw', 'randomread'] },
  { name: 'hipri-with-libaio', path: 'sriov', workload: { ioengine: 'libaio', hipri: true }, expect: ['workload.hipri', 'io_uring'] },
  { name: 'size-below-bs', path: 'emulated', workload: { bs: 8192, size: 4096 }, expect: ['workload.size', 'bs'] },
  { name: 'ram-disk-on-passthrough', path: 'passthrough', workload: {}, params: { 'disk.kind': 'ram' }, expect: ['params.disk.kind', 'passthrough', 'nvme'] },
  { name: 'packed-ring-on-vhost-kernel', path: 'vhost-kernel', workload: {}, params: { 'virtio.version': '1.1' }, expect: ['params.virtio.version', 'vhost-kernel'] },
  {
    name: 'iothread-without-ioeventfd',
    path: 'virtio-qemu',
    workload: {},
    params: { 'qemu.blk_iothread': true, 'virtio.ioeventfd': false },
    expect: ['params.virtio.ioeventfd', 'iothread'],
  },
  { name: 'rate-iops-negative', path: 'emulated-vmm', workload: { rate_iops: -100 }, expect: ['workload.rate_iops', '-100'] },
];

/** A scenario file (YAML) of one bad input. */
function scenarioText(c: BadInput): string {
  const workload = { kind: 'blk', rw: 'randread', ops: 300, warmup_ops: 30, ...c.workload };
  const lines = [
    `name: blk-${c.name}`,
    `workload: ${JSON.stringify(workload)}`,
    `paths: [${c.path}]`,
    'seed: 5',
  ];
  if (c.params) lines.push(`params: ${JSON.stringify(c.params)}`);
  return `${lines.join('\n')}\n`;
}

/** The --set arguments of one bad input. */
function setArgs(c: BadInput): string[] {
  const sets = [
    ...Object.entries({ rw: 'randread', ...c.workload }).map(([k, v]) => `workload.${k}=${String(v)}`),
    ...Object.entries(c.params ?? {}).map(([k, v]) => `${k}=${String(v)}`),
  ];
  return sets.flatMap((s) => ['--set', s]);
}

function expectOneLineError(r: ReturnType<typeof runCli>, parts: readonly string[]): void {
  expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n');
  expect(lines.length, r.stderr).toBe(2); // one line and its newline
  expect(lines[1]).toBe('');
  const line = lines[0]!;
  expect(line.startsWith('iovsim: '), line).toBe(true);
  for (const part of parts) expect(line.toLowerCase(), line).toContain(part.toLowerCase());
}

describe('bad block input: exit 2, one line naming the field, no output folder', () => {
  let cwd: string;
  let cwdBefore: Record<string, string>;

  beforeAll(() => {
    ensureBuilt();
    cwd = tempDir('blk-input');
    for (const c of BAD) writeFileSync(join(cwd, `${c.name}.yaml`), scenarioText(c));
    cwdBefore = readTree(cwd);
  }, HOOK_TIMEOUT_MS);

  it('the cases have distinct names', () => {
    expect(new Set(BAD.map((c) => c.name)).size).toBe(BAD.length);
  });

  for (const c of BAD) {
    it(`compare --set: ${c.name}`, () => {
      const out = join(cwd, `compare-${c.name}`);
      const r = runCli(['compare', '--workload', 'blk', '--paths', c.path, '--ops', '300', ...setArgs(c), '--out', out, '--jobs', '1', '--quiet'], cwd);
      expectOneLineError(r, c.expect);
      expect(existsSync(out)).toBe(false);
      expect(readTree(cwd)).toEqual(cwdBefore);
    });

    it(`run scenario file: ${c.name}`, () => {
      const out = join(cwd, `run-${c.name}`);
      const r = runCli(['run', join(cwd, `${c.name}.yaml`), '--out', out, '--jobs', '1', '--quiet'], cwd);
      expectOneLineError(r, [`${c.name}.yaml`, ...c.expect]);
      expect(existsSync(out)).toBe(false);
      // nor the default folder results/<name>
      expect(existsSync(join(cwd, 'results'))).toBe(false);
      expect(readTree(cwd)).toEqual(cwdBefore);
    });
  }

  it('compare on every path: a write workload on a read-only disk is refused before any run', () => {
    const out = join(cwd, 'compare-read-only-all');
    const r = runCli(['compare', '--workload', 'blk-write', '--set', 'disk.read_only=true', '--out', out, '--jobs', '1', '--quiet'], cwd);
    expectOneLineError(r, ['workload.rw', 'read-only']);
    expect(existsSync(out)).toBe(false);
  });

  it('run with --set over a valid block scenario: the override is blamed', () => {
    const dir = tempDir('blk-valid');
    const ok = join(dir, 'valid.yaml');
    writeFileSync(ok, 'name: blk-valid\nworkload: { kind: blk, rw: randread, ops: 300, warmup_ops: 30 }\npaths: [vhost-user]\n');
    const out = join(dir, 'out');
    const r = runCli(['run', ok, '--out', out, '--set', 'workload.iodepth=0', '--jobs', '1', '--quiet'], dir);
    expectOneLineError(r, ['workload.iodepth', 'from --set workload.iodepth=0']);
    expect(existsSync(out)).toBe(false);
    expect(Object.keys(readTree(dir))).toEqual(['valid.yaml']);
  });
});

describe('iovsim list: block workloads', () => {
  beforeAll(() => ensureBuilt(), HOOK_TIMEOUT_MS);

  it('list paths shows blk, blk-read and blk-write on every path', () => {
    const r = runCli(['list', 'paths']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    for (const path of ALL_PATHS) {
      const line = lines.find((l) => l.split(/\s+/)[0] === path);
      expect(line, `no line for ${path} in:\n${r.stdout}`).toBeDefined();
      const workloads = line!.split(/\s+/)[1]!.split(',');
      for (const kind of ['blk', 'blk-read', 'blk-write']) expect(workloads, `${path}: ${line}`).toContain(kind);
    }
  });

  it('list workloads lists blk, blk-read and blk-write', () => {
    const r = runCli(['list', 'workloads']);
    expect(r.status, r.stderr).toBe(0);
    const kinds = r.stdout.trimEnd().split('\n').map((l) => l.split(/\s+/)[0]);
    for (const kind of ['blk', 'blk-read', 'blk-write']) expect(kinds).toContain(kind);
  });
});
