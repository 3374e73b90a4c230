/**
 * The command tour: schema (checked by a small JSON Schema validator against every ready
 * scenario and a set of malformed ones), list, validate, default output folders, compare,
 * and the progress bar (shown on a terminal, silent on a pipe and with --quiet).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { params } from '../../src/calibration/index.js';
import { PATHS } from '../../src/paths/index.js';
import { HOOK_TIMEOUT_MS, CLI, FIXTURES, ROOT, SMALL, ensureBuilt, parseCsv, readTree, runCli, tempDir } from './helpers.js';

type Schema = boolean | Record<string, unknown>;

const IGNORED = new Set(['$schema', 'title', 'description', 'default']);
const typeOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v;

/** A JSON Schema validator for the keywords our schema uses; it throws on any other keyword. */
function schemaErrors(schema: Schema, v: unknown, at = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at}: not allowed`];
  const errs: string[] = [];
  for (const [k, s] of Object.entries(schema)) {
    if (IGNORED.has(k)) continue;
    switch (k) {
      case 'type': {
        const types = (Array.isArray(s) ? s : [s]) as string[];
        const t = typeOf(v);
        if (!types.some((x) => x === t || (x === 'number' && t === 'integer'))) errs.push(`${at}: type ${t}, not ${types.join('|')}`);
        break;
      }
      case 'const':
        if (v !== s) errs.push(`${at}: not ${JSON.stringify(s)}`);
        break;
      case 'enum':
        if (!(s as unknown[]).includes(v)) errs.push(`${at}: not in enum`);
        break;
      case 'properties':
        if (typeOf(v) === 'object') {
          for (const [p, ps] of Object.entries(s as Record<string, Schema>)) {
            if (p in (v as object)) errs.push(...schemaErrors(ps, (v as Record<string, unknown>)[p], `${at}.${p}`));
          }
        }
        break;
      case 'required':
        if (typeOf(v) === 'object') for (const p of s as string[]) if (!(p in (v as object))) errs.push(`${at}.${p}: required`);
        break;
      case 'additionalProperties':
        if (typeOf(v) === 'object') {
          const known = Object.keys((schema['properties'] ?? {}) as object);
          for (const [p, pv] of Object.entries(v as object)) if (!known.includes(p)) errs.push(...schemaErrors(s as Schema, pv, `${at}.${p}`));
        }
        break;
      case 'propertyNames':
        if (typeOf(v) === 'object') for (const p of Object.keys(v as object)) errs.push(...schemaErrors(s as Schema, p, `${at}[key ${p}]`));
        break;
      case 'items':
        if (Array.isArray(v)) v.forEach((x, i) => errs.push(...schemaErrors(s as Schema, x, `${at}[${i}]`)));
        break;
      case 'minItems':
        if (Array.isArray(v) && v.length < (s as number)) errs.push(`${at}: fewer than ${String(s)} items`);
        break;
      case 'maxItems':
        if (Array.isArray(v) && v.length > (s as number)) errs.push(`${at}: more than ${String(s)} items`);
        break;
      case 'minimum':
        if (typeof v === 'number' && v < (s as number)) errs.push(`${at}: < ${String(s)}`);
        break;
      case 'maximum':
        if (typeof v === 'number' && v > (s as number)) errs.push(`${at}: > ${String(s)}`);
        break;
      case 'exclusiveMinimum':
        if (typeof v === 'number' && v <= (s as number)) errs.push(`${at}: <= ${String(s)}`);
        break;
      case 'minLength':
        if (typeof v === 'string' && v.length < (s as number)) errs.push(`${at}: too short`);
        break;
      case 'maxLength':
        if (typeof v === 'string' && v.length > (s as number)) errs.push(`${at}: too long`);
        break;
      case 'pattern':
        if (typeof v === 'string' && !new RegExp(s as string, 'u').test(v)) errs.push(`${at}: does not match ${String(s)}`);
        break;
      case 'anyOf':
        if (!(s as Schema[]).some((x) => schemaErrors(x, v, at).length === 0)) errs.push(`${at}: matches no anyOf option`);
        break;
      case 'oneOf': {
        const n = (s as Schema[]).filter((x) => schemaErrors(x, v, at).length === 0).length;
        if (n !== 1) errs.push(`${at}: matches ${n} oneOf options`);
        break;
      }
      default:
        throw new Error(`the test validator does not know the keyword ${k}`);
    }
  }
  return errs;
}

describe('iovsim schema', () => {
  let schema: Record<string, unknown>;
  beforeAll(() => {
    ensureBuilt();
    const r = runCli(['schema']);
    expect(r.status, r.stderr).toBe(0);
    schema = JSON.parse(r.stdout) as Record<string, unknown>;
  }, HOOK_TIMEOUT_MS);

  it('is a draft 2020-12 schema naming every parameter', () => {
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema['required']).toEqual(expect.arrayContaining(['name', 'workload']));
    const props = schema['properties'] as Record<string, { properties?: Record<string, unknown> }>;
    expect(Object.keys(props['params']!.properties ?? {}).sort()).toEqual(params.names().sort());
  });

  it('accepts every ready scenario and the valid fixture', () => {
    const dir = join(ROOT, 'scenarios');
    const files = [...readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f)), SMALL];
    for (const f of files) expect(schemaErrors(schema, parseYaml(readFileSync(f, 'utf8'))), f).toEqual([]);
  });

  it('rejects malformed files that a schema can judge', () => {
    const bad = [
      'ops-wrong-type.yaml', 'ops-missing.yaml', 'top-unknown-field.yaml', 'workload-unknown-field.yaml', 'rate-negative.yaml',
      'distribution-unknown-kind.yaml', 'stages-empty.yaml', 'cv-too-large.yaml', 'sweep-not-a-list.yaml',
      'sweep-unknown-param.yaml', 'params-unknown.yaml', 'name-with-space.yaml', 'replications-zero.yaml', 'servers-fraction.yaml',
    ];
    for (const f of bad) {
      const doc = parseYaml(readFileSync(join(FIXTURES, 'malformed', f), 'utf8'));
      expect(schemaErrors(schema, doc).length, f).toBeGreaterThan(0);
    }
  });
});

describe('list and validate', () => {
  beforeAll(() => ensureBuilt(), HOOK_TIMEOUT_MS);

  it('lists workloads, paths, params (with unit and source) and scenarios (with their question)', () => {
    const w = runCli(['list', 'workloads']);
    expect(w.status).toBe(0);
    expect(w.stdout).toMatch(/^custom\s/m);
    const p = runCli(['list', 'paths']);
    expect(p.status).toBe(0);
    if (PATHS.length === 0) expect(p.stdout).toBe('no paths are registered yet\n');
    else for (const path of PATHS) expect(p.stdout).toMatch(new RegExp(`^${path.name}\\s`, 'm'));
    const pr = runCli(['list', 'params']);
    expect(pr.status).toBe(0);
    const lines = pr.stdout.trimEnd().split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(params.names().length);
    for (const l of lines) {
      const cells = l.split('\t');
      expect(cells, l).toHaveLength(6);
      expect(cells[5]!.replace(/^source: /, '').trim().length, l).toBeGreaterThan(0);
    }
    const s = runCli(['list', 'scenarios']);
    expect(s.status).toBe(0);
    const ready = readdirSync(join(ROOT, 'scenarios')).filter((f) => /\.(ya?ml|json)$/.test(f));
    for (const f of ready) expect(s.stdout).toMatch(new RegExp(`^scenarios/${f.replace('.', '\\.')}\\s+\\S.*\\?`, 'm'));
  });

  it('validate reports the size of the run and writes nothing', () => {
    const cwd = tempDir('validate');
    const r = runCli(['validate', SMALL, '--set', 'replications=3'], cwd);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`${SMALL}: valid: 2 point(s) x 1 path(s) x 3 replication(s) = 6 runs`);
    expect(r.stdout.split('\n')[1]).toMatch(/^estimate: .* of memory \(26400 ops, 52800 events\)$/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("the README's example scenario is valid and makes the runs the README says", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = /### Scenario files[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const cwd = tempDir('readme');
    writeFileSync(join(cwd, 'example.yaml'), example!);
    const r = runCli(['validate', join(cwd, 'example.yaml')], cwd);
    expect(r.status, r.stderr).toBe(0);
    const runs = /(\d+) runs\n/.exec(r.stdout)?.[1];
    expect(readme).toContain(`that is ${runs} runs`);
  });

  it('JSON scenarios run like YAML ones, to the same bytes', () => {
    const cwd = tempDir('json');
    for (const f of ['small.yaml', 'small.json']) {
      const r = runCli(['run', join(FIXTURES, f), '--out', join(cwd, f), '--set', 'workload.ops=500', '--quiet'], cwd);
      expect(r.status, r.stderr).toBe(0);
    }
    for (const csv of ['summary.csv', 'latency.csv', 'stages.csv']) {
      expect(readFileSync(join(cwd, 'small.json', csv), 'utf8')).toBe(readFileSync(join(cwd, 'small.yaml', csv), 'utf8'));
    }
  });
});

describe('output folders', () => {
  beforeAll(() => ensureBuilt(), HOOK_TIMEOUT_MS);

  it('run writes results/<scenario>/ by default and a shard results/<scenario>-shard-I-of-N/', () => {
    const cwd = tempDir('defaults');
    const r = runCli(['run', SMALL, '--set', 'workload.ops=300', '--jobs', '1'], cwd);
    expect(r.status, r.stderr).toBe(0);
    const line = /^wrote 4 runs \((\d+) events, ([\d.]+) s: ([\d,]+) events\/s, ([\d,]+) ops\/s\) to results\/small\n$/.exec(r.stdout);
    expect(line, r.stdout).not.toBeNull();
    // the speeds are the counts over the wall time (4 runs of 300 measured ops)
    const [events, wallS, eventsPerS, opsPerS] = [line![1], line![2], line![3], line![4]].map((x) => Number(x!.replace(/,/g, ''))) as [number, number, number, number];
    expect(eventsPerS).toBe(Math.round(events / wallS));
    expect(opsPerS).toBe(Math.round(1200 / wallS));
    expect(r.stderr).toBe(''); // not a terminal: no progress bar
    expect(readdirSync(join(cwd, 'results', 'small')).sort()).toEqual(['cpu.csv', 'exits.csv', 'latency.csv', 'manifest.json', 'stages.csv', 'summary.csv']);
    const s = runCli(['run', SMALL, '--set', 'workload.ops=300', '--shard', '2/2', '--quiet'], cwd);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout).toBe('');
    expect(existsSync(join(cwd, 'results', 'small-shard-2-of-2', 'shard.json'))).toBe(true);
    const m = runCli(['merge', join(cwd, 'results', 'small-shard-2-of-2')], cwd);
    expect(m.status).toBe(2);
    expect(m.stderr).toContain('missing shard 1/2');
  });
});

describe('iovsim compare', () => {
  beforeAll(() => ensureBuilt(), HOOK_TIMEOUT_MS);

  it('runs a workload over paths and prints one aligned row per path', () => {
    const cwd = tempDir('compare');
    const out = join(cwd, 'cmp');
    const r = runCli(
      [
        'compare', '--workload', 'custom', '--ops', '2000', '--out', out, '--quiet',
        '--set', 'workload.arrival={kind: poisson, rate_per_s: 500000}',
        '--set', 'workload.stages=[{name: s, service_ns: {kind: exponential, mean: 1000}}]',
      ],
      cwd,
    );
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('workload custom, 2000 ops, seed 1');
    expect(lines[1]).toMatch(/^path\s+p50 \(us\)\s+p99 \(us\)\s+throughput \(ops\/s\)\s+exits\/op\s+host cores$/);
    expect(lines).toHaveLength(3);
    const cells = lines[2]!.split(/\s+/);
    expect(cells[0]).toBe('custom');
    const summary = parseCsv(readFileSync(join(out, 'summary.csv'), 'utf8'));
    expect(summary).toHaveLength(1);
    expect(Number(cells[1])).toBeCloseTo(Number(summary[0]!['latency_p50_ns']) / 1000, 3);
    expect(Number(cells[3]!.replace(/,/g, ''))).toBeCloseTo(Number(summary[0]!['throughput_ops_per_s']), -1);
    // Header and rows line up: every line is as wide as the header.
    expect(new Set(lines.slice(1).map((l) => l.length)).size).toBe(1);
  });

  it('by default compares every path that runs the workload (or says none does yet)', () => {
    const kind = PATHS[0]?.workloads[0];
    if (kind === undefined) {
      const r = runCli(['compare', '--ops', '1000']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^iovsim: --workload: (unknown workload "net-rr"|no registered path runs "net-rr")/);
      return;
    }
    const r = runCli(['compare', '--workload', kind, '--ops', '2000', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trimEnd().split('\n').slice(2);
    const expected = PATHS.filter((p) => p.workloads.includes(kind)).map((p) => p.name);
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(expected);
  });
});

describe('progress bar', () => {
  beforeAll(() => ensureBuilt(), HOOK_TIMEOUT_MS);
  const underTerminal = (args: string[], cwd: string): string => {
    const cmd = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };

  it('shows runs, points, events/s and time left on a terminal', () => {
    const cwd = tempDir('progress');
    const text = underTerminal(['run', SMALL, '--out', join(cwd, 'a'), '--set', 'workload.ops=20000', '--jobs', '1'], cwd);
    expect(text).toMatch(/\d+\/4 runs \| \d+\/2 points \| [\d.]+[kM]? ops \| [\d.]+[kM]? events\/s \| \S+ left/);
    expect(text).toContain('wrote 4 runs');
  });

  it('moves inside a long run: ops done before the run ends, and a time left (issue 17 item 15)', () => {
    const cwd = tempDir('progress-inside');
    // One run of 10 million ops: about 20 million events, about a second here, so the bar
    // (redrawn five times a second) shows several frames from inside it even on a fast machine.
    const one = join(cwd, 'one.yaml');
    writeFileSync(one, readFileSync(SMALL, 'utf8').replace(/^sweep:\n.*\n/m, '').replace('replications: 2', 'replications: 1'));
    const text = underTerminal(['run', one, '--out', join(cwd, 'a'), '--set', 'workload.ops=10000000', '--jobs', '1'], cwd);
    const inside = [...text.matchAll(/0\/1 runs \| 0\/1 points \| ([\d.]+)([kM]?) ops \| \S+ events\/s \| (\S+) left/g)];
    const ops = inside.map((m) => Number(m[1]) * (m[2] === 'M' ? 1e6 : m[2] === 'k' ? 1e3 : 1));
    expect(Math.max(...ops)).toBeGreaterThan(100_000); // ops counted while the only run was still going
    expect(inside.some((m) => /^\d/.test(m[3]!))).toBe(true); // a time left, not "NULL" or "-"
    expect(text).toContain('wrote 1 runs');
  }, 60_000);

  it('is silent with --quiet, even on a terminal', () => {
    const cwd = tempDir('progress-quiet');
    const text = underTerminal(['run', SMALL, '--out', join(cwd, 'a'), '--set', 'workload.ops=2000', '--quiet'], cwd);
    expect(text).toBe('');
    expect(Object.keys(readTree(join(cwd, 'a')))).toContain('summary.csv');
  });
});
