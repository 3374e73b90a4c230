/**
 * `iovsim merge` of shard folders that were edited or damaged (issue 17 item 12): each is
 * bad input, checked like a scenario: exit 2, one line naming the shard folder, the file
 * and the field, nothing on stdout and nothing written.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOOK_TIMEOUT_MS, SMALL, ensureBuilt, readTree, runCli, tempDir } from './helpers.js';

type Json = Record<string, unknown>;

interface Case {
  name: string;
  /** Edits the copy of shard 1/2 in `dir`. */
  tamper: (dir: string) => void;
  /** The file the line must name, and other parts it must contain. */
  file: 'shard.json' | 'tasks.jsonl';
  expect: string[];
}

const header = (dir: string): Json => JSON.parse(readFileSync(join(dir, 'shard.json'), 'utf8')) as Json;
const editHeader = (edit: (h: Json) => void) => (dir: string): void => {
  const h = header(dir);
  edit(h);
  writeFileSync(join(dir, 'shard.json'), `${JSON.stringify(h)}\n`);
};
const lines = (dir: string): string[] => readFileSync(join(dir, 'tasks.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
/** Edits the first task line in place, or replaces it with what `edit` returns (not undefined). */
const editLine = (edit: (task: Json) => void, replace?: unknown) => (dir: string): void => {
  const ls = lines(dir);
  const task = JSON.parse(ls[0]!) as Json;
  edit(task);
  ls[0] = JSON.stringify(replace === undefined ? task : replace);
  writeFileSync(join(dir, 'tasks.jsonl'), `${ls.join('\n')}\n`);
};
const sub = (h: Json, key: string): Json => h[key] as Json;

const CASES: Case[] = [
  { name: 'shard.json not JSON', tamper: (d) => writeFileSync(join(d, 'shard.json'), '{"format": '), file: 'shard.json', expect: ['not valid JSON'] },
  { name: 'shard.json null', tamper: (d) => writeFileSync(join(d, 'shard.json'), 'null\n'), file: 'shard.json', expect: ['(top level)', 'mapping'] },
  { name: 'shard.json a list', tamper: (d) => writeFileSync(join(d, 'shard.json'), '[]\n'), file: 'shard.json', expect: ['(top level)', 'mapping'] },
  { name: 'shard.count a string', tamper: editHeader((h) => (sub(h, 'shard')['count'] = '2')), file: 'shard.json', expect: ['shard.count', 'must be a number', '"2"'] },
  { name: 'shard.index zero', tamper: editHeader((h) => (sub(h, 'shard')['index'] = 0)), file: 'shard.json', expect: ['shard.index', '>= 1'] },
  { name: 'shard.index above count', tamper: editHeader((h) => (sub(h, 'shard')['index'] = 3)), file: 'shard.json', expect: ['shard.index', 'at most shard.count'] },
  { name: 'shard missing', tamper: editHeader((h) => delete h['shard']), file: 'shard.json', expect: ['shard', 'is required'] },
  { name: 'tasks null', tamper: editHeader((h) => (h['tasks'] = null)), file: 'shard.json', expect: ['tasks', 'must be a list', 'null'] },
  { name: 'tasks of strings', tamper: editHeader((h) => (h['tasks'] = ['0', '2'])), file: 'shard.json', expect: ['tasks[0]', 'must be a number'] },
  { name: 'tasks of another shard', tamper: editHeader((h) => (h['tasks'] = [1, 3])), file: 'shard.json', expect: ['tasks', 'runs [0,2]', 'got [1,3]'] },
  { name: 'plan_tasks wrong', tamper: editHeader((h) => (h['plan_tasks'] = 3)), file: 'shard.json', expect: ['plan_tasks', 'the plan has 4 tasks', 'got 3'] },
  { name: 'plan_tasks a string', tamper: editHeader((h) => (h['plan_tasks'] = 'four')), file: 'shard.json', expect: ['plan_tasks', 'must be a number'] },
  { name: 'plan missing', tamper: editHeader((h) => delete h['plan']), file: 'shard.json', expect: ['plan', 'is required'] },
  { name: 'plan edited', tamper: editHeader((h) => (sub(sub(h, 'plan'), 'scenario')['seed'] = 8)), file: 'shard.json', expect: ['plan', 'does not match the fingerprint'] },
  { name: 'plan a number', tamper: editHeader((h) => (h['plan'] = 5)), file: 'shard.json', expect: ['plan', 'must be a mapping'] },
  { name: 'fingerprint a number', tamper: editHeader((h) => (h['fingerprint'] = 12)), file: 'shard.json', expect: ['fingerprint', 'must be a string'] },
  { name: 'manifest missing', tamper: editHeader((h) => delete h['manifest']), file: 'shard.json', expect: ['manifest', 'is required'] },
  { name: 'manifest.wall_time_s a string', tamper: editHeader((h) => (sub(h, 'manifest')['wall_time_s'] = 'fast')), file: 'shard.json', expect: ['manifest.wall_time_s', '"fast"'] },
  { name: 'shard.json unknown field', tamper: editHeader((h) => (h['extra'] = 1)), file: 'shard.json', expect: ['extra', 'unknown field'] },
  { name: 'task line without index', tamper: editLine((t) => delete t['index']), file: 'tasks.jsonl', expect: ['line 1', 'index', 'is required'] },
  { name: 'task line without csv', tamper: editLine((t) => delete t['csv']), file: 'tasks.jsonl', expect: ['line 1', 'csv', 'is required'] },
  { name: 'task line csv.latency a number', tamper: editLine((t) => (sub(t, 'csv')['latency'] = 5)), file: 'tasks.jsonl', expect: ['line 1', 'csv.latency', 'must be a string'] },
  { name: 'task line eventsProcessed a string', tamper: editLine((t) => (t['eventsProcessed'] = '9')), file: 'tasks.jsonl', expect: ['line 1', 'eventsProcessed', '"9"'] },
  { name: 'task line summary without a column', tamper: editLine((t) => delete sub(t, 'summary')['latency_mean_ns']), file: 'tasks.jsonl', expect: ['line 1', 'summary', 'every summary column'] },
  { name: 'task line null', tamper: editLine(() => undefined, null), file: 'tasks.jsonl', expect: ['line 1', '(top level)', 'mapping'] },
  { name: 'task line not JSON', tamper: (d) => writeFileSync(join(d, 'tasks.jsonl'), `${lines(d)[0]}\n{"index": 2,\n`), file: 'tasks.jsonl', expect: ['line 2', 'not valid JSON'] },
  { name: 'task line missing', tamper: (d) => writeFileSync(join(d, 'tasks.jsonl'), `${lines(d)[0]}\n`), file: 'tasks.jsonl', expect: ['holds tasks [0]', 'lists [0,2]'] },
];

describe('merge of tampered shard folders: exit 2, one line naming folder, file and field', () => {
  let cwd: string;
  let shard1: string;
  let shard2: string;

  beforeAll(() => {
    ensureBuilt();
    cwd = tempDir('merge-tampered');
    shard1 = join(cwd, 'shard1');
    shard2 = join(cwd, 'shard2');
    for (const [i, dir] of [[1, shard1], [2, shard2]] as const) {
      const r = runCli(['run', SMALL, '--shard', `${i}/2`, '--out', dir, '--set', 'workload.ops=200', '--jobs', '1', '--quiet'], cwd);
      expect(r.status, r.stderr).toBe(0);
    }
    const ok = runCli(['merge', shard1, shard2, '--out', join(cwd, 'merged-ok'), '--quiet'], cwd);
    expect(ok.status, ok.stderr).toBe(0);
  }, HOOK_TIMEOUT_MS);

  CASES.forEach((c, i) => {
    it(c.name, () => {
      const dir = join(cwd, `tampered-${i}`);
      cpSync(shard1, dir, { recursive: true });
      c.tamper(dir);
      const before = readTree(cwd);
      const out = join(cwd, `merged-${i}`);
      const r = runCli(['merge', dir, shard2, '--out', out], cwd);
      expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      const errLines = r.stderr.split('\n');
      expect(errLines.length, r.stderr).toBe(2);
      const line = errLines[0]!;
      expect(line.startsWith('iovsim: merge: ')).toBe(true);
      expect(line).toContain(`${dir}/${c.file}`);
      for (const part of c.expect) expect(line).toContain(part);
      expect(existsSync(out)).toBe(false);
      expect(readTree(cwd)).toEqual(before);
    });
  });
});
