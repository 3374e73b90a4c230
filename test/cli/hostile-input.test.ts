/**
 * Inputs and surroundings a hostile or careless user brings (issue 17 items 8 and 11):
 * special files given as the scenario, files too large to read, signals while the
 * command is busy, a reader of standard output that goes away, enormous sweeps.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, FIXTURES, HOOK_TIMEOUT_MS, SMALL, ensureBuilt, startCli, tempDir, type CliResult } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the command; kills it after `limitMs` (a command that blocks then fails its test). */
async function runLimited(args: readonly string[], cwd: string, limitMs = 20_000): Promise<CliResult & { ms: number }> {
  const t0 = Date.now();
  const { child, done } = startCli(args, cwd);
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const r = await done;
  clearTimeout(timer);
  return { ...r, ms: Date.now() - t0 };
}

/** Bad input: exit 2, one line on stderr holding every part, nothing on stdout. */
function expectOneLine(r: CliResult, ...parts: string[]): void {
  expect(r.signal, r.stderr).toBe(null);
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.split('\n'), r.stderr).toHaveLength(2);
  for (const p of parts) expect(r.stderr).toContain(p);
}

/** A valid custom scenario sweeping workload.ops over `points` values (JSON); all 1 with `ones` (a short file). */
function bigSweep(points: number, ones = false): string {
  const s = JSON.parse(JSON.stringify({
    name: 'big',
    workload: { kind: 'custom', arrival: { kind: 'poisson', rate_per_s: 500000 }, stages: [{ name: 'server', service_ns: 1000 }], ops: 1000 },
  })) as Record<string, unknown>;
  s['sweep'] = { 'workload.ops': Array.from({ length: points }, (_, i) => (ones ? 1 : i + 1)) };
  return JSON.stringify(s);
}

/** Starts the command with its standard output's reader gone before it writes anything. */
function runWithClosedStdout(args: string[]): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // as `| head -c 100` does once it has its bytes
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res) => child.on('close', (status, signal) => res({ status, signal, stderr })));
}

describe('hostile input and surroundings', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = tempDir('hostile');
  }, HOOK_TIMEOUT_MS);

  it('a FIFO without a writer is refused at once (it used to block forever, deaf to Ctrl-C)', async () => {
    mkdirSync(join(dir, 'fifos'));
    const fifo = join(dir, 'fifos', 'fifo.yaml'); // in a folder of its own: reading it (readTree) would block
    execFileSync('mkfifo', [fifo]);
    for (const args of [['run', fifo, '--out', join(dir, 'never')], ['validate', fifo], ['calibrate-check', fifo]]) {
      const r = await runLimited(args, dir);
      expectOneLine(r, `${fifo}: is not a regular file (a FIFO)`);
    }
    // calibrate-check given a folder reads every .yaml in it, the FIFO too.
    const folder = join(dir, 'fifos', 'targets');
    mkdirSync(folder);
    execFileSync('mkfifo', [join(folder, 'a.yaml')]);
    expectOneLine(await runLimited(['calibrate-check', folder], dir), 'a.yaml: is not a regular file (a FIFO)');
  });

  it('list scenarios is not held up by a FIFO among the scenarios', async () => {
    const cwd = join(dir, 'fifos', 'listing');
    mkdirSync(join(cwd, 'scenarios'), { recursive: true });
    writeFileSync(join(cwd, 'scenarios', 'a.yaml'), '# Question: is it listed?\nname: a\n');
    execFileSync('mkfifo', [join(cwd, 'scenarios', 'b.yaml')]);
    const r = await runLimited(['list', 'scenarios'], cwd);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('scenarios/a.yaml  is it listed?\n');
    expect(r.stdout).toMatch(/scenarios\/b\.yaml {2}\(.*b\.yaml: is not a regular file \(a FIFO\)/);
  });

  it('a device or a folder is refused before a byte is read (/dev/zero grew to 12 GB)', async () => {
    // 5 s at most: the previous build read /dev/zero until memory ran out.
    expectOneLine(await runLimited(['run', '/dev/zero', '--out', join(dir, 'never')], dir, 5000), '/dev/zero: is not a regular file (a device)');
    expectOneLine(await runLimited(['validate', '/dev/null'], dir), '/dev/null: is not a regular file (a device)');
    expectOneLine(await runLimited(['validate', dir], dir), `${dir}: is not a regular file (a folder)`);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('a scenario file larger than 4 MiB is refused, saying the limit; one of 4 MiB is read', async () => {
    const over = join(dir, 'over.yaml');
    writeFileSync(over, `# ${'x'.repeat(4 * 1024 * 1024 - 2)}\n`); // 4 MiB + 1 byte of comment
    const r = await runLimited(['validate', over], dir);
    expectOneLine(r, `${over}: is larger than 4 MiB`);
    const at = join(dir, 'at-limit.yaml');
    const small = readFileSync(SMALL, 'utf8');
    writeFileSync(at, `${small}\n# ${'x'.repeat(4 * 1024 * 1024 - small.length - 4)}\n`);
    const ok = await runLimited(['validate', at], dir);
    expect(ok.status, ok.stderr).toBe(0);
  });

  it('a symbolic link to a scenario file is read as the file', async () => {
    const link = join(dir, 'link.yaml');
    symlinkSync(SMALL, link);
    const r = await runLimited(['validate', link], dir);
    expect(r.status, r.stderr).toBe(0);
  });

  it('Ctrl-C or SIGTERM while a large sweep is read and planned ends the command at once', async () => {
    const big = join(dir, 'big.json');
    writeFileSync(big, bigSweep(50_000)); // seconds of planning
    for (const [command, signal, delayMs] of [
      ['validate', 'SIGINT', 900],
      ['run', 'SIGTERM', 900],
      ['run', 'SIGINT', 1400],
    ] as const) {
      const args = command === 'run' ? ['run', big, '--out', join(dir, 'big-result'), '--quiet'] : ['validate', big];
      const { child, done } = startCli(args, dir);
      await sleep(delayMs);
      const sentAt = Date.now();
      child.kill(signal);
      const r = await done;
      const afterMs = Date.now() - sentAt;
      // Ended by the signal (its default action) or by the handler's exit (130, 143).
      expect([r.signal, r.status], r.stderr).toSatisfy(([sig, st]: [string | null, number | null]) => sig === signal || st === (signal === 'SIGINT' ? 130 : 143));
      expect(afterMs, `${command} ${signal} after ${delayMs} ms`).toBeLessThan(1500);
    }
    expect(existsSync(join(dir, 'big-result'))).toBe(false);
  });

  it('Ctrl-C or SIGTERM at any moment of a run, from its start on, ends it at once', async () => {
    // Minutes of simulation: every moment below falls before its end.
    const endless = ['run', SMALL, '--out', join(dir, 'endless'), '--set', 'workload.ops=50000000', '--jobs', '2', '--quiet'];
    const moments = [0, 60, 120, 180, 240, 300, 400, 500, 700, 1000];
    for (const [i, delayMs] of moments.entries()) {
      const signal = i % 3 === 2 ? 'SIGTERM' : 'SIGINT';
      const { child, done } = startCli(endless, dir);
      await sleep(delayMs);
      const sentAt = Date.now();
      child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const r = await done;
      clearTimeout(killer);
      const afterMs = Date.now() - sentAt;
      const ended = r.signal === signal || r.status === (signal === 'SIGINT' ? 130 : 143);
      expect({ delayMs, signal, ended, status: r.status, by: r.signal }).toEqual({ delayMs, signal, ended: true, status: r.status, by: r.signal });
      expect(afterMs, `${signal} after ${delayMs} ms`).toBeLessThan(1500);
    }
    expect(existsSync(join(dir, 'endless'))).toBe(false);
  });

  it('a sweep of a million values is refused in seconds, before it is validated or expanded', async () => {
    // JSON: the list's length alone gives the sweep's size.
    const json = join(dir, 'million.json');
    writeFileSync(json, bigSweep(1_000_000, true));
    const j = await runLimited(['validate', json], dir);
    expectOneLine(j, `${json}: sweep: 1000000 points; at most 100000`);
    expect(j.ms).toBeLessThan(4000);
    // YAML: the yaml package needs about a gigabyte for a million values; refused from its tokens.
    const yaml = join(dir, 'million.yaml');
    const base = readFileSync(SMALL, 'utf8').replace(/^sweep:[\s\S]*?(?=^seed)/m, '');
    writeFileSync(yaml, `${base}\nsweep:\n  workload.ops: [${new Array(1_000_000).fill('1').join(',')}]\n`);
    const y = await runLimited(['validate', yaml], dir);
    expectOneLine(y, `${yaml}: line `, 'more than 250000 values', 'a sweep has at most 100000 points');
    expect(y.ms).toBeLessThan(4000);
    // Eleven zipped lists of 100,000 values: 100,000 points, but 1.1 million values to check.
    const zipped = JSON.parse(bigSweep(1)) as { sweep: Record<string, unknown> };
    const list = new Array<number>(100_000).fill(1);
    zipped.sweep = { zip: Object.fromEntries(Array.from({ length: 11 }, (_, k) => [`workload.f${k}`, list])) };
    const zip = join(dir, 'zipped.json');
    writeFileSync(zip, JSON.stringify(zipped));
    const z = await runLimited(['validate', zip], dir);
    expectOneLine(z, `${zip}: sweep: 1100000 values in its lists; at most 1000000`);
    expect(z.ms).toBeLessThan(4000);
  });

  it('a JSON or YAML scenario with a byte order mark is read as without one', async () => {
    for (const [name, text] of [
      ['bom.json', readFileSync(join(FIXTURES, 'small.json'), 'utf8')],
      ['bom.yaml', readFileSync(SMALL, 'utf8')],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, `\ufeff${text}`);
      const r = await runLimited(['validate', file], dir);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.split('\n')[0]).toBe(`${file}: valid: 2 point(s) x 1 path(s) x 2 replication(s) = 4 runs`);
    }
  });

  it('standard output closed by its reader (iovsim schema | head): exit 0, quietly', async () => {
    for (const args of [['schema'], ['list', 'params'], ['--help']]) {
      const r = await runWithClosedStdout(args);
      expect({ args, status: r.status, stderr: r.stderr }).toEqual({ args, status: 0, stderr: '' });
    }
  });
});
