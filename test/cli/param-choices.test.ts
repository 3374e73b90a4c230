/**
 * The built command with an unquoted virtio.version (YAML reads 1.0 as the number 1):
 * validate accepts it, and a run writes the same files as with the quoted strings (the
 * manifest and the param.* column say "1.0"); the ready virtio-versions scenario still
 * validates; the JSON Schema accepts the unquoted numbers too.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOOK_TIMEOUT_MS, ROOT, ensureBuilt, parseCsv, readCsvs, runCli, tempDir } from './helpers.js';

const scenario = (version: string, list: string): string =>
  `name: pc\nworkload: { kind: net-rr, ops: 300, warmup_ops: 30 }\npaths: [vhost-user]\nparams: { virtio.version: ${version} }\nsweep: { vm.vcpus: [1], virtio.version: ${list} }\n`;

describe('unquoted virtio.version on the command line', () => {
  beforeAll(() => ensureBuilt(), HOOK_TIMEOUT_MS);

  it('validate accepts params: { virtio.version: 1.0 } unquoted, and the ready scenario', () => {
    const cwd = tempDir('param-choices');
    writeFileSync(join(cwd, 'a.yaml'), 'name: a\nworkload: { kind: net-rr, ops: 100 }\nparams: { virtio.version: 1.0 }\n');
    const r = runCli(['validate', join(cwd, 'a.yaml')], cwd);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('valid:');
    const bad = runCli(['validate', join(cwd, 'a.yaml'), '--set', 'virtio.version=1.2'], cwd);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('params.virtio.version: must be one of 0.95, 1.0, 1.1, got "1.2"');
    const ready = runCli(['validate', join(ROOT, 'scenarios', 'net-virtio-versions.yaml')], cwd);
    expect(ready.status, ready.stderr).toBe(0);
  });

  it('a run with numbers writes the same CSVs and manifest scenario as with quoted strings', () => {
    const cwd = tempDir('param-choices-run');
    writeFileSync(join(cwd, 'bare.yaml'), scenario('1.0', '[0.95, 1.0, 1.1]'));
    writeFileSync(join(cwd, 'quoted.yaml'), scenario("'1.0'", "['0.95', '1.0', '1.1']"));
    for (const f of ['bare', 'quoted']) {
      const r = runCli(['run', join(cwd, `${f}.yaml`), '--out', join(cwd, f), '--quiet'], cwd);
      expect(r.status, r.stderr).toBe(0);
    }
    expect(readCsvs(join(cwd, 'bare'))).toEqual(readCsvs(join(cwd, 'quoted')));
    const summary = parseCsv(readFileSync(join(cwd, 'bare', 'summary.csv'), 'utf8'));
    expect(summary.map((r) => r['param.virtio.version'])).toEqual(['0.95', '1.0', '1.1']);
    const manifest = (f: string): Record<string, unknown> => JSON.parse(readFileSync(join(cwd, f, 'manifest.json'), 'utf8'));
    const [a, b] = [manifest('bare'), manifest('quoted')];
    expect(a['scenario']).toEqual(b['scenario']);
    expect(a['params']).toEqual(b['params']);
    expect((a['params'] as Record<string, unknown>)['virtio.version']).toBe('1.0');
  });

  it('the JSON Schema lets an editor accept the unquoted numbers', () => {
    const r = runCli(['schema']);
    expect(r.status, r.stderr).toBe(0);
    const props = JSON.parse(r.stdout).properties.params.properties as Record<string, { enum: unknown[]; type: unknown }>;
    expect(props['virtio.version']!.type).toEqual(['string', 'number']);
    expect(props['virtio.version']!.enum).toEqual(['0.95', '1.0', '1.1', 0.95, 1, 1.1]);
  });
});
