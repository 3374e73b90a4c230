/**
 * Issue 17, data loss: a run replaces its --out folder whole, so only a folder that is an
 * iovsim result may be replaced (its files all ones iovsim writes, its manifest naming
 * iovsim), and a scenario name, which names the folder under results/, is one safe path
 * component. Each case was answered with exit 0 and a lost folder before.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOOK_TIMEOUT_MS, SMALL, ensureBuilt, runCli, tempDir } from './helpers.js';

describe('--out: only an iovsim result is replaced', () => {
  let base: string;
  beforeAll(() => {
    ensureBuilt();
    base = tempDir('out-folder');
  }, HOOK_TIMEOUT_MS);

  it('a folder with a manifest.json of its own and another file is refused, and left as it was', () => {
    const dir = join(base, 'foreign');
    mkdirSync(dir);
    writeFileSync(join(dir, 'manifest.json'), '{}\n');
    writeFileSync(join(dir, 'precious.txt'), 'keep\n');
    const r = runCli(['run', SMALL, '--out', dir, '--quiet']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('precious.txt');
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).toBe('keep\n');
  });

  it('a folder whose only file is a manifest.json that iovsim did not write is refused', () => {
    const dir = join(base, 'fake-manifest');
    mkdirSync(dir);
    writeFileSync(join(dir, 'manifest.json'), '{"tool": "something-else"}\n');
    const r = runCli(['run', SMALL, '--out', dir, '--quiet']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('its manifest.json was not written by');
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe('{"tool": "something-else"}\n');
  });

  it('an earlier result is replaced', () => {
    const dir = join(base, 'result');
    expect(runCli(['run', SMALL, '--out', dir, '--quiet']).status).toBe(0);
    const r = runCli(['run', SMALL, '--out', dir, '--quiet', '--seed', '2']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).tool).toBe('iovsim');
  });
});

describe('scenario names are one safe path component', () => {
  let base: string;
  beforeAll(() => {
    ensureBuilt();
    base = tempDir('names');
  }, HOOK_TIMEOUT_MS);

  for (const name of ['..', '.', '.hidden', 'x'.repeat(101)]) {
    it(`name ${name.length > 20 ? `of ${name.length} characters` : JSON.stringify(name)} is refused with exit 2`, () => {
      const cwd = join(base, `cwd-${name.length}-${name.startsWith('.') ? 'dot' : 'x'}`);
      mkdirSync(cwd, { recursive: true });
      const r = runCli(['run', SMALL, '--set', `name=${name}`, '--quiet'], cwd);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('name');
      expect(existsSync(join(cwd, 'results'))).toBe(false);
    });
  }
});
