/**
 * fio.json (issue 14 item 4): iovsim's fio JSON against real fio output.
 *
 * The fixtures are real fio output, made once with Debian 12's fio package (fio-3.33,
 * `apt-get install fio`) on this machine's ext4 disk (a file in /tmp), as root:
 *
 *   fio --ioengine=libaio --direct=1 --lat_percentiles=1 --name=t --filename=/tmp/fio.dat \
 *       --size=16M --rw=randread --bs=4k --iodepth=4 --runtime=2 --time_based \
 *       --output-format=json > test/fixtures/fio/real-fio-output.json
 *   fio --ioengine=libaio --direct=1 --lat_percentiles=1 --name=t --filename=/tmp/fio.dat \
 *       --size=16M --rw=randrw --rwmixread=70 --bs=4k --iodepth=4 --runtime=2 --time_based \
 *       --output-format=json > test/fixtures/fio/real-fio-output-randrw.json
 *
 * (--lat_percentiles=1 makes fio print lat_ns percentiles besides clat_ns's, as iovsim
 * does; the options before --name are fio's "global options".)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderFioJson } from '../../src/output/fio-json.js';
import { executePlan } from '../../src/scenario/execute.js';
import type { TaskOutput } from '../../src/output/results.js';
import { planFioJobText } from '../../src/scenario/fio-job-file.js';
import { FIXTURES, parseCsv } from '../cli/helpers.js';

const REAL = readFileSync(join(FIXTURES, 'fio', 'real-fio-output.json'), 'utf8');
const REAL_RW = readFileSync(join(FIXTURES, 'fio', 'real-fio-output-randrw.json'), 'utf8');

/**
 * fio's own reader of its JSON output (t/fiotestlib.py, FioJobCmdTest.get_json, ported):
 * the text from the line "{" to the last line "}", then a JSON parser.
 */
function fioTestlibGetJson(fileData: string): FioOutput {
  const lines = fileData.split(/\r?\n/);
  const last = lines.length - [...lines].reverse().indexOf('}');
  return JSON.parse(lines.slice(lines.indexOf('{'), last).join('\n')) as FioOutput;
}
interface FioDirection {
  iops: number;
  bw: number;
  io_bytes: number;
  total_ios: number;
  runtime: number;
  clat_ns: { mean: number; N: number; percentile?: Record<string, number> };
  lat_ns: { mean: number; N: number; percentile?: Record<string, number> };
}
interface FioOutput {
  'fio version': string;
  jobs: ({ jobname: string; groupid: number; read: FioDirection; write: FioDirection; usr_cpu: number; sys_cpu: number } & Record<string, unknown>)[];
}

type Kind = 'int' | 'float' | 'string' | 'object' | 'array' | 'bool' | 'null';
interface Shape {
  kind: Kind;
  keys?: Map<string, Shape>;
  items?: Shape[];
}

/** A JSON value's shape: keys (in order), and for numbers whether the text has a fraction (fio: %lld or %f). */
function shapeOf(text: string): Shape {
  let i = 0;
  const ws = (): void => {
    while (/\s/.test(text[i] ?? '')) i++;
  };
  const value = (): Shape => {
    ws();
    const c = text[i]!;
    if (c === '{') {
      i++;
      const keys = new Map<string, Shape>();
      ws();
      if (text[i] === '}') return i++, { kind: 'object', keys };
      for (;;) {
        ws();
        const k = JSON.parse(string()) as string;
        ws();
        expect(text[i]).toBe(':');
        i++;
        keys.set(k, value());
        ws();
        if (text[i++] === '}') return { kind: 'object', keys };
      }
    }
    if (c === '[') {
      i++;
      const items: Shape[] = [];
      ws();
      if (text[i] === ']') return i++, { kind: 'array', items };
      for (;;) {
        items.push(value());
        ws();
        if (text[i++] === ']') return { kind: 'array', items };
      }
    }
    if (c === '"') return string(), { kind: 'string' };
    const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?|^true|^false|^null/.exec(text.slice(i))!;
    i += m[0].length;
    if (m[0] === 'true' || m[0] === 'false') return { kind: 'bool' };
    if (m[0] === 'null') return { kind: 'null' };
    return { kind: m[1] !== undefined || m[2] !== undefined ? 'float' : 'int' };
  };
  const string = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return text.slice(start, i);
  };
  return value();
}

/**
 * Differences between two shapes: keys one has and the other lacks, and JSON types that
 * differ. Objects whose keys are data, not names (fio's options, percentile lists), are
 * compared by their values' types only; arrays by their first items.
 */
function shapeDiff(ours: Shape, real: Shape, at: string, dataKeyed: readonly string[]): string[] {
  if (ours.kind !== real.kind) return [`${at}: ${ours.kind} in fio.json, ${real.kind} in fio's`];
  const out: string[] = [];
  if (ours.kind === 'object') {
    const name = at.split('.').pop()!;
    if (dataKeyed.includes(name)) {
      for (const [k, v] of [...ours.keys!, ...real.keys!]) if (v.kind !== 'string' && v.kind !== 'int') out.push(`${at}.${k}: ${v.kind}`);
      return out;
    }
    for (const k of new Set([...ours.keys!.keys(), ...real.keys!.keys()])) {
      const a = ours.keys!.get(k);
      const b = real.keys!.get(k);
      if (!a) out.push(`${at}.${k}: missing in fio.json`);
      else if (!b) out.push(`${at}.${k}: not in fio's`);
      else out.push(...shapeDiff(a, b, `${at}.${k}`, dataKeyed));
    }
    expect([...ours.keys!.keys()].filter((k) => real.keys!.has(k)), `${at}: key order`).toEqual([...real.keys!.keys()].filter((k) => ours.keys!.has(k)));
  }
  if (ours.kind === 'array' && ours.items!.length > 0 && real.items!.length > 0) out.push(...shapeDiff(ours.items![0]!, real.items![0]!, `${at}[0]`, dataKeyed));
  return out;
}

/** Options and percentile lists: their keys are data (which options, which percentiles). */
const DATA_KEYED = ['global options', 'job options', 'percentile'];

interface Run {
  text: string;
  summary: Record<string, string>[];
}

async function runJobFile(jobFile: string): Promise<Run> {
  const job = planFioJobText(jobFile, 'fixture.fio', { env: {} });
  job.plan.fioFigures = true; // as run --output-format fio-json does
  const outputs: TaskOutput[] = [];
  const exec = await executePlan(job.plan, { onOutput: (o) => outputs.push(o) });
  return {
    text: renderFioJson(job.plan, outputs, { globalOptions: job.globalOptions, steps: job.steps }),
    summary: parseCsv(exec.files['summary.csv']!),
  };
}

// the fixtures' jobs, as job files (the paths: one each, and two for the second)
const RANDREAD = '[global]\nioengine=libaio\ndirect=1\nlat_percentiles=1\niovsim_path=vhost-user\n[t]\nfilename=/tmp/fio.dat\nsize=16M\nrw=randread\nbs=4k\niodepth=4\nnumber_ios=3000\n';
const RANDRW = '[global]\nioengine=libaio\ndirect=1\nlat_percentiles=1\niovsim_path=virtio-qemu,bare-metal\n[t]\nfilename=/tmp/fio.dat\nsize=16M\nrw=randrw\nrwmixread=70\nbs=4k\niodepth=4\nnumber_ios=3000\n';

describe('fio.json against real fio output', () => {
  let read: Run;
  let rw: Run;
  beforeAll(async () => {
    read = await runJobFile(RANDREAD);
    rw = await runJobFile(RANDRW);
  }, 120_000);

  it('has every key fio writes, in its order, with the same JSON types (a randread job)', () => {
    expect(shapeDiff(shapeOf(read.text), shapeOf(REAL), '', DATA_KEYED)).toEqual([]);
  });

  it('has every key fio writes, in its order, with the same JSON types (a randrw job, two paths)', () => {
    expect(shapeDiff(shapeOf(rw.text), shapeOf(REAL_RW), '', DATA_KEYED)).toEqual([]);
    // and the check can fail: the randrw file has write percentiles the randread fixture lacks
    expect(shapeDiff(shapeOf(rw.text), shapeOf(REAL), '', DATA_KEYED)).toContain('.jobs[0].write.clat_ns.percentile: not in fio\'s');
  });

  it("is laid out as fio's json.c prints (fio's test library reads it line by line)", () => {
    const lines = read.text.split('\n');
    expect(lines[0]).toBe('{');
    expect(lines.at(-2)).toBe('}');
    expect(lines).toContain('      "jobname" : "t",');
    expect(read.text).toMatch(/"iops" : \d+\.\d{6},\n/);
    expect(read.text.endsWith('}\n')).toBe(true);
  });

  it("parses with fio's own reader, the same as the real fixture, and reads the same fields", () => {
    for (const text of [REAL, read.text, rw.text]) {
      const out = fioTestlibGetJson(text);
      expect(out['fio version']).toMatch(/fio-3\.33/);
      const job = out.jobs[0]!;
      expect(job.read.iops).toBeGreaterThan(0);
      expect(job.read.total_ios).toBe(job.read.clat_ns.N);
      expect(Object.keys(job.read.clat_ns.percentile!)).toEqual(Object.keys(fioTestlibGetJson(REAL).jobs[0]!.read.clat_ns.percentile!));
      expect(job.read.lat_ns.mean).toBeGreaterThan(job.read.clat_ns.mean);
    }
  });

  it('agrees with summary.csv: IOPS, mean latency and p99 (randread)', () => {
    const job = fioTestlibGetJson(read.text).jobs[0]!;
    const s = read.summary[0]!;
    expect(job.jobname).toBe('t');
    expect(job.read.total_ios).toBe(Number(s['ops_completed']));
    expect(job.read.iops).toBeCloseTo(Number(s['throughput_ops_per_s']), 2);
    expect(job.read.lat_ns.mean).toBeCloseTo(Number(s['latency_mean_ns']), 2);
    expect(Math.abs(job.read.lat_ns.percentile!['99.000000']! - Number(s['latency_p99_ns']))).toBeLessThanOrEqual(0.5 + 1e-3);
    expect(Math.abs(job.read.lat_ns.percentile!['50.000000']! - Number(s['latency_p50_ns']))).toBeLessThanOrEqual(0.5 + 1e-3);
    expect(job.read.bw).toBe(Math.round((job.read.io_bytes / (Number(s['ops_completed']) / Number(s['throughput_ops_per_s']))) / 1024));
    expect(job.write.total_ios).toBe(0);
    expect(job.write.iops).toBe(0);
  });

  it('agrees with summary.csv for reads and writes together, one job per path (randrw)', () => {
    const out = fioTestlibGetJson(rw.text);
    expect(out.jobs.map((j) => j.jobname)).toEqual(['t@virtio-qemu', 't@bare-metal']);
    out.jobs.forEach((job, i) => {
      const s = rw.summary[i]!;
      const n = job.read.total_ios + job.write.total_ios;
      expect(n).toBe(Number(s['ops_completed']));
      expect(job.read.total_ios / n).toBeGreaterThan(0.65);
      expect(job.read.total_ios / n).toBeLessThan(0.75);
      expect(job.read.iops + job.write.iops).toBeCloseTo(Number(s['throughput_ops_per_s']), 2);
      const mean = (job.read.lat_ns.mean * job.read.total_ios + job.write.lat_ns.mean * job.write.total_ios) / n;
      expect(mean).toBeCloseTo(Number(s['latency_mean_ns']), 2);
      expect(job.usr_cpu).toBeGreaterThan(0);
      expect(job.sys_cpu).toBeGreaterThan(job.usr_cpu);
      expect(job.usr_cpu + job.sys_cpu).toBeLessThanOrEqual(100);
    });
    // the paths differ: the figures are each run's
    expect(out.jobs[0]!.read.lat_ns.mean).not.toBe(out.jobs[1]!.read.lat_ns.mean);
  });

  it.skipIf(spawnSync('python3', ['--version']).status !== 0)("parses with fio's Python reader (t/fiotestlib.py get_json) like the real fixture", () => {
    // fiotestlib.py's lines, verbatim (GPL-2.0, fio), then the fields its tests read
    const script = [
      'import json, sys',
      'for name in sys.argv[1:]:',
      '    file_data = open(name).read()',
      '    lines = file_data.splitlines()',
      '    last = len(lines) - lines[::-1].index("}")',
      "    file_data = '\\n'.join(lines[lines.index(\"{\"):last])",
      '    json_data = json.loads(file_data)',
      "    job = json_data['jobs'][0]",
      "    print(type(job['read']['iops']).__name__, type(job['read']['total_ios']).__name__, job['read']['clat_ns']['N'] == job['read']['total_ios'], sorted(job['read']['lat_ns']['percentile'])[0])",
    ].join('\n');
    const ours = join(mkdtempSync(join(tmpdir(), 'iovsim-fio-json-')), 'fio.json');
    writeFileSync(ours, read.text);
    const r = spawnSync('python3', ['-c', script, join(FIXTURES, 'fio', 'real-fio-output.json'), ours], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const [real, sim] = r.stdout.trim().split('\n');
    expect(sim).toBe(real);
    expect(real).toBe('float int True 1.000000');
  });
});
