/**
 * Issue 17, items 3 to 6: the result folder is claimed before any simulation (checked,
 * locked), restored when a killed writer left it aside, written as the run goes (memory
 * does not grow with the plan), and a write that fails part-way keeps the previous result.
 * Each case failed on the build before (0e69838): two writers both said "wrote", a result
 * left aside stayed hidden, write problems surfaced after the whole run with a stack
 * trace, and a plan larger than the heap ran out of memory.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, HOOK_TIMEOUT_MS, ROOT, SMALL, ensureBuilt, readTree, runCli, startCli, tempDir } from './helpers.js';

/** A scenario whose latency.csv is large (about 340 kB per replication) and quick to make. */
const BIG = `name: big-output
workload:
  kind: custom
  arrival: { kind: poisson, rate_per_s: 100000 }
  stages:
    - { name: server, servers: 1, service_ns: { kind: lognormal, mean: 5000, cv: 3 } }
  ops: 30000
  warmup_ops: 0
seed: 1
replications: 10
`;

/** The pid of a process that has ended (for locks and folders left by a dead writer). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const oneLine = (text: string): string[] => text.trim().split('\n');

describe('the result folder: lock, restore, checks before the run, streaming', () => {
  let base: string;
  let big: string;
  beforeAll(() => {
    ensureBuilt();
    base = tempDir('result-folder');
    big = join(base, 'big.yaml');
    writeFileSync(big, BIG);
  }, HOOK_TIMEOUT_MS);

  describe('item 3: one writer at a time', () => {
    it('a folder locked by a live process is refused with exit 2, naming the process, and left as it was', () => {
      const out = join(base, 'locked');
      expect(runCli(['run', SMALL, '--out', out, '--quiet']).status).toBe(0);
      const before = readTree(out);
      const lock = join(base, '.locked.lock');
      writeFileSync(lock, `${process.pid}\n`); // this test process: alive
      const r = runCli(['run', SMALL, '--out', out, '--quiet', '--seed', '9']);
      expect(r.status).toBe(2);
      expect(oneLine(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain(`another iovsim (process ${process.pid}) is writing this folder`);
      expect(readTree(out)).toEqual(before);
      expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}\n`); // not ours to remove
    });

    it('a lock left by a dead process is taken over, and released after the run', () => {
      const out = join(base, 'stale-lock');
      const lock = join(base, '.stale-lock.lock');
      writeFileSync(lock, `${deadPid()}\n`);
      const r = runCli(['run', SMALL, '--out', out, '--quiet']);
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(join(out, 'summary.csv'))).toBe(true);
      expect(existsSync(lock)).toBe(false);
    });

    it('a second run into a folder being written gets exit 2 naming the first; the first, interrupted, leaves the folder as it was and no lock', async () => {
      const out = join(base, 'race');
      expect(runCli(['run', SMALL, '--out', out, '--quiet']).status).toBe(0);
      const before = readTree(out);
      // a first run long enough (minutes) that the second surely starts while it writes
      const first = startCli(['run', big, '--out', out, '--quiet', '--jobs', '1', '--set', 'replications=5000']);
      const lock = join(base, '.race.lock');
      for (let waited = 0; !existsSync(lock) && waited < 30_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      expect(existsSync(lock)).toBe(true);
      const second = runCli(['run', SMALL, '--out', out, '--quiet', '--seed', '3']);
      expect(second.status).toBe(2);
      expect(oneLine(second.stderr)).toHaveLength(1);
      expect(second.stderr).toContain(`another iovsim (process ${first.child.pid}) is writing this folder`);
      first.child.kill('SIGINT');
      const a = await first.done;
      expect(a.status).toBe(130);
      expect(readTree(out)).toEqual(before);
      expect(existsSync(lock)).toBe(false);
      expect(readdirSync(base).filter((n) => n.startsWith('.race.'))).toEqual([]);
    }, 60_000);
  });

  it('a folder whose manifest.json is a FIFO is refused at once, not read (it would block)', () => {
    const out = join(base, 'fifo-manifest');
    mkdirSync(out);
    execFileSync('mkfifo', [join(out, 'manifest.json')]);
    const r = spawnSync(process.execPath, [CLI, 'run', SMALL, '--out', out, '--quiet'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('its manifest.json was not written by');
  });

  describe('item 4: a result left aside by a writer killed between its two renames', () => {
    it('the next run puts it back first and says so; with the run then failing, it is kept', () => {
      const out = join(base, 'aside');
      expect(runCli(['run', SMALL, '--out', out, '--quiet']).status).toBe(0);
      const before = readTree(out);
      const aside = join(base, `.aside.old-${deadPid()}-0`);
      renameSync(out, aside); // the state a kill between the renames leaves
      // The run fails writing (file size limit: see item 6), after the restore.
      const r = spawnSync('bash', ['-c', `ulimit -f 64; exec "${process.execPath}" "${CLI}" run "${big}" --out "${out}" --quiet --jobs 1`], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('restored the previous result');
      expect(r.stderr).toContain('the previous result is kept');
      expect(readTree(out)).toEqual(before);
      expect(readdirSync(base).filter((n) => n.startsWith('.aside.'))).toEqual([]);
    });

    it('a successful run after the restore replaces it', () => {
      const out = join(base, 'aside2');
      expect(runCli(['run', SMALL, '--out', out, '--quiet']).status).toBe(0);
      renameSync(out, join(base, `.aside2.old-${deadPid()}-3`));
      const r = runCli(['run', SMALL, '--out', out, '--seed', '5']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain(`restored the previous result in ${out}`);
      expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).seed).toBe(5);
      expect(readdirSync(base).filter((n) => n.startsWith('.aside2.'))).toEqual([]);
    });

    it('iovsim merge restores it too before writing', () => {
      const shards = [1, 2].map((i) => join(base, `shard-${i}`));
      shards.forEach((dir, i) => expect(runCli(['run', SMALL, '--shard', `${i + 1}/2`, '--out', dir, '--quiet']).status).toBe(0));
      const out = join(base, 'merged');
      expect(runCli(['merge', ...shards, '--out', out, '--quiet']).status).toBe(0);
      renameSync(out, join(base, `.merged.old-${deadPid()}-1`));
      const r = runCli(['merge', ...shards, '--out', out, '--quiet']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('restored the previous result');
      expect(readdirSync(base).filter((n) => n.startsWith('.merged.'))).toEqual([]);
    });
  });

  describe('item 6: the target is checked before simulating', () => {
    // A plan that would run for hours: only a check before the simulation answers at once.
    const endless = ['--set', 'replications=10000', '--quiet'];
    const cases: [string, (b: string) => string, string][] = [
      ['--out under a file', (b) => join(b, 'a-file', 'sub'), 'is a file, not a folder'],
      ['a name too long', (b) => join(b, 'x'.repeat(300)), 'name too long'],
      ['/proc', () => '/proc/iovsim-cannot-be-here', 'cannot write there'],
      ['no permission (sysfs refuses even root)', () => '/sys/iovsim-cannot-be-here', 'permission denied'],
    ];
    for (const [name, outOf, expected] of cases) {
      it(`${name}: exit 2, one line, before any run`, () => {
        writeFileSync(join(base, 'a-file'), 'x');
        const out = outOf(base);
        const r = spawnSync(process.execPath, [CLI, 'run', big, '--out', out, ...endless], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
        expect(r.signal).toBeNull(); // not stopped by the timeout: it answered before simulating
        expect(r.status).toBe(2);
        expect(oneLine(r.stderr)).toHaveLength(1);
        expect(r.stderr).toContain('--out');
        expect(r.stderr).toContain(expected);
        expect(r.stderr.length).toBeLessThan(400); // the 300-character name is cut
      });
    }

    it('a disk that fills during the run: one line naming the folder, the previous result kept, nothing left beside it', () => {
      const out = join(base, 'full');
      expect(runCli(['run', SMALL, '--out', out, '--quiet']).status).toBe(0);
      const before = readTree(out);
      // RLIMIT_FSIZE makes writes past 64 kB fail (EFBIG) as a full disk would (ENOSPC).
      const r = spawnSync('bash', ['-c', `ulimit -f 64; exec "${process.execPath}" "${CLI}" run "${big}" --out "${out}" --quiet --jobs 2`], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(oneLine(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/--out .*full: writing latency\.csv failed \(file too large.*EFBIG\); the previous result is kept/);
      expect(r.stderr).not.toContain('    at ');
      expect(readTree(out)).toEqual(before);
      expect(readdirSync(base).filter((n) => n.startsWith('.full.'))).toEqual([]);
    });
  });

  describe('item 5: files larger than the heap', () => {
    it('a plan whose latency.csv is twice the heap limit completes, byte-identical to a run without the limit', () => {
      const small = join(base, 'heap-small');
      const free = join(base, 'heap-free');
      // 240 replications x ~340 kB: about 80 MB of latency.csv under a 40 MB heap (workers included).
      const sets = ['--set', 'replications=240', '--jobs', '2', '--quiet'];
      const r = spawnSync(process.execPath, ['--max-old-space-size=40', CLI, 'run', big, '--out', small, ...sets], { encoding: 'utf8' });
      expect(r.status, r.stderr.slice(0, 500)).toBe(0);
      expect(statSync(join(small, 'latency.csv')).size).toBeGreaterThan(2 * 40 * 1024 * 1024);
      expect(runCli(['run', big, '--out', free, ...sets]).status).toBe(0);
      for (const f of ['summary.csv', 'latency.csv', 'stages.csv', 'cpu.csv', 'exits.csv']) {
        expect(readFileSync(join(small, f)).equals(readFileSync(join(free, f))), f).toBe(true);
      }
    }, 120_000);
  });
});
