/**
 * fio job files in (issue 14 item 3): fio's INI dialect, its size and time suffixes, the
 * options iovsim models, ignores or refuses, jobs in steps (stonewall, wait_for) and
 * side by side (numjobs), and fio's own example files (test/fixtures/fio).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOB_FILE_OPS_CAP, isFioJobFile, loadFioJobFile, parseFioIni, parseSize, planFioJobText } from '../../src/scenario/fio-job-file.js';
import { InputError } from '../../src/util/input-error.js';
import { FIXTURES } from '../cli/helpers.js';

const FIO = join(FIXTURES, 'fio');

/** Plans a job file's text; the first point's workload. */
function plan(text: string, opts: Parameters<typeof planFioJobText>[2] = {}) {
  return planFioJobText(text, 'j.fio', { env: {}, ...opts });
}
function workloadOf(text: string, opts: Parameters<typeof planFioJobText>[2] = {}) {
  return plan(text, opts).plan.points[0]!.workload as Record<string, unknown>;
}
/** The InputError message of planning the text. */
function refusal(text: string, opts: Parameters<typeof planFioJobText>[2] = {}): string {
  try {
    plan(text, opts);
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
  throw new Error('planned without an error');
}

describe('the INI dialect', () => {
  it('reads sections, key=value, bare flags, comments anywhere on a line', () => {
    const s = parseFioIni('; a comment\n[global]\nbs = 4k ; inline\n  # another\n[job one]\ntime_based\nrw=randread#x\n', 'j.fio', {});
    expect(s.map((x) => [x.name, x.isGlobal, x.line])).toEqual([['global', true, 2], ['job one', false, 5]]);
    expect(s[0]!.options).toEqual([{ key: 'bs', value: '4k', line: 3 }]);
    expect(s[1]!.options).toEqual([{ key: 'time_based', value: null, line: 6 }, { key: 'rw', value: 'randread', line: 7 }]);
  });

  it('expands ${VAR} from the environment and refuses an unset one, $ncpus and include', () => {
    expect(workloadOf('[j]\nsize=${SZ}\nbs=${BS}\n', { env: { SZ: '8m', BS: '8k' } })).toMatchObject({ size: 8 * 1024 ** 2, bs: 8192 });
    expect(refusal('[j]\nsize=${NOPE}\n')).toMatch(/^j\.fio:2: \$\{NOPE\}: not set in the environment/);
    expect(refusal('[j]\nnumjobs=$ncpus\nsize=1m\n')).toMatch(/^j\.fio:2: \$ncpus: /);
    expect(refusal('[j]\ninclude other.fio\n')).toMatch(/^j\.fio:2: include: not supported/);
  });

  it('refuses malformed files with the line', () => {
    expect(refusal('bs=4k\n[j]\n')).toMatch(/^j\.fio:1: "bs=4k": option outside of a \[section\]/);
    expect(refusal('[j\nsize=1m\n')).toMatch(/^j\.fio:1: "\[j": a section header is \[name\]/);
    expect(refusal('[j]\nsize=1m\nbad key=1\n')).toMatch(/^j\.fio:3: "bad key=1": expected key=value/);
    expect(refusal('[global]\nbs=4k\n')).toMatch(/^j\.fio: no job sections/);
    expect(refusal('[j]\nsize=1m\nrw\n')).toMatch(/^j\.fio:3: rw: needs a value/);
    expect(refusal('[j]\nsize=1m\ntime_based=yes\n')).toMatch(/^j\.fio:3: time_based=yes: a flag is 0 or 1/);
  });

  it('tells a job file from a scenario file', () => {
    expect(isFioJobFile(join(FIO, 'ssd-test.fio'))).toBe(true);
    expect(isFioJobFile(join(FIXTURES, 'small.yaml'))).toBe(false);
  });
});

describe("fio's suffixes", () => {
  const o = { key: 'size', value: 'x', line: 1 };
  it('k, m, g are powers of 1024 (kb_base=1024), KiB the other base (fio compatibility mode)', () => {
    expect(parseSize('4k', o, 'f')).toBe(4096);
    expect(parseSize('4K', o, 'f')).toBe(4096);
    expect(parseSize('1m', o, 'f')).toBe(1024 ** 2);
    expect(parseSize('2G', o, 'f')).toBe(2 * 1024 ** 3);
    expect(parseSize('1kb', o, 'f')).toBe(1024);
    expect(parseSize('1KiB', o, 'f')).toBe(1000);
    expect(parseSize('512', o, 'f')).toBe(512);
    expect(parseSize('1k', o, 'f', 1000)).toBe(1000);
    expect(parseSize('1kib', o, 'f', 1000)).toBe(1024);
    expect(() => parseSize('1.5g', o, 'f')).toThrow(/not a size/);
    expect(() => parseSize('4x', o, 'f')).toThrow(/unknown suffix/);
  });

  it('kb_base in the file changes every size, wherever it is written', () => {
    expect(workloadOf('[j]\nsize=1m\nkb_base=1000\nbs=4kib\nrw=read\n')).toMatchObject({ size: 1e6, bs: 4096 });
    // 4k with kb_base=1000 is 4000 bytes: not a multiple of 512
    expect(refusal('[global]\nkb_base=1000\n[j]\nbs=4k\nsize=1m\n')).toMatch(/^j\.fio:4: bs=4k: a block size is a multiple of 512/);
  });

  it('runtime is in seconds unless a unit says otherwise', () => {
    expect(workloadOf('[j]\nsize=1m\nruntime=2\n')['runtime_s']).toBe(2);
    expect(workloadOf('[j]\nsize=1m\nruntime=250ms\n')['runtime_s']).toBe(0.25);
    expect(workloadOf('[j]\nsize=1m\nruntime=2m\n')['runtime_s']).toBe(120);
    expect(workloadOf('[j]\nsize=1m\nramp_time=500ms\n')['warmup_s']).toBe(0.5);
  });
});

describe('options to the block workload', () => {
  it("maps fio's options and defaults (psync, rw=read, bs 4k, depth 1, no warm-up)", () => {
    const w = workloadOf('[j]\nsize=1m\n');
    expect(w).toMatchObject({ kind: 'blk', rw: 'read', bs: 4096, iodepth: 1, numjobs: 1, ioengine: 'psync', warmup_ops: 0, ops: 256, size: 1024 ** 2 });
    const m = workloadOf('[global]\nioengine=io_uring\nhipri\n[j]\nrw=randrw\nrwmixwrite=30\nbs=16k\niodepth=32\nnumjobs=2\nsize=64m\niodepth_batch_submit=8\n', { paths: 'vhost-user' });
    expect(m).toMatchObject({ rw: 'randrw', rwmixread: 70, bs: 16384, iodepth: 32, numjobs: 2, ioengine: 'io_uring', hipri: true, iodepth_batch_submit: 8 });
    expect(m['ops']).toBe(2 * 4096); // size/bs per job, both jobs
    expect(workloadOf('[j]\nioengine=sync\nsize=1m\n')['ioengine']).toBe('psync');
  });

  it('bounds a job by io_size, number_ios, runtime; time_based by runtime alone (ops is the cap)', () => {
    expect(workloadOf('[j]\nsize=1g\nio_size=1m\n')).toMatchObject({ size: 1024 ** 3, ops: 256 });
    expect(workloadOf('[j]\nsize=1g\nnumber_ios=100\nnumjobs=3\n')['ops']).toBe(300);
    const t = workloadOf('[j]\nsize=1m\ntime_based\nruntime=5\n');
    expect(t).toMatchObject({ runtime_s: 5, ops: JOB_FILE_OPS_CAP, size: 1024 ** 2 });
    expect(plan('[j]\nsize=1m\ntime_based\nruntime=5\n').cappedSteps).toEqual([0]);
    expect(plan('[j]\nsize=1m\n').cappedSteps).toEqual([]);
    expect(refusal('[j]\nsize=1m\ntime_based\n')).toMatch(/^j\.fio:3: \[j\]: time_based needs a runtime/);
    expect(refusal('[j]\nrw=randread\n')).toMatch(/^j\.fio:1: \[j\]: no size: fio would move the whole file or device/);
  });

  it('rate_iops and rate (bytes/s) are an open loop, linear unless rate_process=poisson', () => {
    expect(workloadOf('[j]\nsize=1m\nrate_iops=500\n')).toMatchObject({ rate_iops: 500, rate_process: 'linear' });
    expect(workloadOf('[j]\nsize=1m\nrw=write\nbs=8k\nrate=4m\nrate_process=poisson\n')).toMatchObject({ rate_iops: 512, rate_process: 'poisson' });
    expect(workloadOf('[j]\nsize=1m\nrw=write\nrate_iops=,300\n')['rate_iops']).toBe(300);
    expect(refusal('[j]\nsize=1m\nrw=randrw\nrate_iops=500\n')).toMatch(/^j\.fio:4: rate_iops: not modelled by iovsim \(a rate for a mixed job/);
  });

  it('refuses bad values with the line: bs=0, iodepth=0, an unknown rw', () => {
    expect(refusal('[j]\nsize=1m\nbs=0\n')).toMatch(/^j\.fio:3: bs=0: a block size is a multiple of 512 bytes/);
    expect(refusal('[j]\nsize=1m\niodepth=0\n')).toMatch(/^j\.fio:3: iodepth=0: must be a whole number, at least 1/);
    expect(refusal('[j]\nsize=1m\nnumjobs=0\n')).toMatch(/^j\.fio:3: numjobs=0: must be a whole number, at least 1/);
    expect(refusal('[j]\nsize=1m\nrw=randred\n')).toMatch(/^j\.fio:3: rw=randred: unknown value \(did you mean randread/);
    expect(refusal('[j]\nsize=1m\nrwmixread=120\nrw=randrw\n')).toMatch(/^j\.fio:3: rwmixread=120: a percentage/);
  });

  it('refuses an unknown option (with the nearest names) and one that matters but is not modelled', () => {
    expect(refusal('[j]\nsize=1m\niodepht=4\n')).toMatch(/^j\.fio:3: unknown fio option "iodepht" \(did you mean iodepth/);
    expect(refusal('[j]\nsize=1m\nbssplit=4k/50:8k/50\n')).toMatch(/^j\.fio:3: bssplit=4k\/50:8k\/50: not modelled by iovsim \(a mix of block sizes\)/);
    expect(refusal('[j]\nsize=1m\nioengine=mmap\n')).toMatch(/^j\.fio:3: ioengine=mmap: not modelled/);
    expect(refusal('[j]\nsize=1m\nrw=trim\n')).toMatch(/^j\.fio:3: rw=trim: not modelled by iovsim \(trims\)/);
    expect(refusal('[j]\nsize=1m\nrw=read:8k\n')).toMatch(/^j\.fio:3: rw=read:8k: not modelled/);
    expect(refusal('[j]\nsize=1m\nthinktime=10\n')).toMatch(/^j\.fio:3: thinktime=10: not modelled/);
    expect(refusal('[j]\nsize=1m\nhipri\nioengine=libaio\n')).toMatch(/^j\.fio:3: hipri: not modelled .*io_uring only/);
    expect(refusal('[j]\nsize=1m\nbs=4k,8k\n')).toMatch(/^j\.fio:3: bs=4k,8k: not modelled .*different block sizes/);
    expect(refusal('[j]\nsize=50%\n')).toMatch(/^j\.fio:2: size=50%: not modelled/);
    // the value that is what the model does passes
    expect(workloadOf('[j]\nsize=1m\nthinktime=0\nloops=1\nverify=none\nbsrange=8k-8k\nblockalign=8k\n')['bs']).toBe(8192);
  });

  it('lists the ignored options once, sorted', () => {
    const p = plan('[global]\nfilename=/dev/x\ndirect=1\n[a]\nname=x\nsize=1m\ndirect=0\ngroup_reporting\n');
    expect(p.ignored).toEqual(['direct', 'filename', 'group_reporting', 'name']);
    expect(p.globalOptions).toEqual({ filename: '/dev/x', direct: '1' });
    expect(p.steps[0]!.options).toEqual({ name: 'x', size: '1m', direct: '0' });
  });
});

describe('jobs in steps and side by side', () => {
  it('stonewall: one point per step, in order; the fields that differ are a zip sweep', () => {
    const p = plan('[global]\nsize=1m\n[a]\nrw=read\n[b]\nstonewall\nrw=randwrite\niodepth=4\n[c]\nwait_for_previous\nrw=randwrite\niodepth=4\n');
    expect(p.plan.points.map((x) => [x.workload.kind, (x.workload as { rw: string }).rw, (x.workload as { iodepth: number }).iodepth])).toEqual([
      ['blk', 'read', 1],
      ['blk', 'randwrite', 4],
      ['blk', 'randwrite', 4],
    ]);
    expect(p.plan.sweepKeys).toEqual(['workload.rw', 'workload.iodepth']);
    expect(p.steps.map((s) => [s.name, s.groupid])).toEqual([['a', 0], ['b', 1], ['c', 2]]);
  });

  it('repeated identical stonewalled jobs are points too', () => {
    const p = plan('[global]\nsize=1m\n[a]\n[a]\nstonewall\n');
    expect(p.plan.points).toHaveLength(2);
    expect(p.plan.sweepKeys).toEqual(['workload.rw']);
  });

  it('jobs side by side with the same settings are one job with numjobs added up; other settings are refused', () => {
    const p = plan('[global]\nsize=1m\nrw=randread\n[a]\nnumjobs=2\n[b]\n[c]\nnew_group\nstonewall\n');
    expect(p.plan.points.map((x) => [(x.workload as { numjobs: number }).numjobs, (x.workload as { ops: number }).ops])).toEqual([[3, 768], [1, 256]]);
    expect(p.steps.map((s) => s.name)).toEqual(['a+b', 'c']);
    expect(refusal('[global]\nsize=1m\n[a]\niodepth=4\n[b]\niodepth=8\n')).toMatch(
      /^j\.fio:5: \[b\] runs at the same time as \[a\] in fio \(no stonewall between them\) with other settings \(iodepth\)/,
    );
  });

  it('wait_for: the whole step before, a known section before it; otherwise refused', () => {
    const p = plan('[global]\nsize=1m\n[w]\nrw=write\n[r]\nwait_for=w\nrw=read\n[r2]\nwait_for=w\nrw=read\n');
    expect(p.steps.map((s) => s.name)).toEqual(['w', 'r+r2']);
    expect(refusal('[global]\nsize=1m\n[w]\n[r]\nwait_for=nosuch\n')).toMatch(/^j\.fio:5: wait_for=nosuch: no job section \[nosuch\] before \[r\]/);
    expect(refusal('[global]\nsize=1m\n[w]\n[x]\n[r]\nwait_for=w\nrw=write\n')).toMatch(/^j\.fio:6: wait_for=w: not modelled .*\[r\] would start while \[x\] still runs/);
    expect(refusal('[global]\nsize=1m\n[w]\n[r]\nwait_for=w\nrw=write\n[z]\n')).toMatch(/^j\.fio:7: \[z\]: has no stonewall or wait_for/);
  });

  it('steps cannot mix open- and closed-loop jobs (one scenario)', () => {
    expect(refusal('[global]\nsize=1m\n[a]\n[b]\nstonewall\nrate_iops=100\n')).toMatch(/^j\.fio:3: \[a\] has no rate and \[b\] has one/);
  });
});

describe('paths and overrides', () => {
  it('iovsim_path picks the paths; --paths wins; jobs must agree', () => {
    expect(plan('[global]\niovsim_path=vhost-user,virtio-qemu\n[j]\nsize=1m\n').plan.paths).toEqual(['vhost-user', 'virtio-qemu']);
    expect(plan('[global]\niovsim_path=vhost-user\n[j]\nsize=1m\n', { paths: 'bare-metal' }).plan.paths).toEqual(['bare-metal']);
    expect(plan('[j]\nsize=1m\n').plan.paths).toHaveLength(8);
    expect(refusal('[global]\nsize=1m\n[a]\niovsim_path=vhost-user\n[b]\nstonewall\n')).toMatch(/^j\.fio:5: \[b\]: iovsim_path differs/);
    expect(refusal('[j]\nsize=1m\niovsim_path=vhost-usr\n')).toMatch(/^j\.fio: paths\[0\]: unknown path "vhost-usr" \(did you mean vhost-user/);
  });

  it('--set workload.* sets every job; --set sweep.* is refused', () => {
    const p = plan('[global]\nsize=1m\ntime_based\n[a]\nruntime=10\n[b]\nstonewall\nruntime=20\n', { sets: ['workload.runtime_s=0.01', 'replications=2'] });
    expect(p.plan.points.map((x) => (x.workload as { runtime_s: number }).runtime_s)).toEqual([0.01, 0.01]);
    expect(p.plan.scenario.replications).toBe(2);
    expect(() => plan('[j]\nsize=1m\n', { sets: ['sweep.workload.iodepth=[1,2]'] })).toThrow(/a job file's jobs are its points/);
    expect(() => plan('[j]\nsize=1m\n', { sets: ['workload.iodepth=0'] })).toThrow(/workload\.iodepth: .*\(from --set workload\.iodepth=0\)/);
  });
});

describe("fio's example job files", () => {
  const load = (f: string) => loadFioJobFile(join(FIO, f), { env: {} });

  it('fio-rand-read.fio: time_based 900 s of 4 KiB random reads at depth 16 (libaio); direct=0 ignored', () => {
    const p = load('fio-rand-read.fio');
    expect(p.plan.points[0]!.workload).toMatchObject({ rw: 'randread', bs: 4096, iodepth: 16, ioengine: 'libaio', numjobs: 1, runtime_s: 900, ops: JOB_FILE_OPS_CAP, size: 10 * 1024 ** 3 });
    expect(p.ignored).toEqual(['direct', 'filename', 'name']);
    expect(p.plan.scenario.name).toBe('fio-rand-read');
  });

  it('fio-seq-RW.fio: sequential mixed 60/40, four jobs', () => {
    expect(load('fio-seq-RW.fio').plan.points[0]!.workload).toMatchObject({ rw: 'rw', rwmixread: 60, numjobs: 4, bs: 256 * 1024, runtime_s: 900 });
  });

  it('ssd-test.fio: four stonewalled steps, each bounded by size (10g / 4k) and a 60 s runtime', () => {
    const p = load('ssd-test.fio');
    expect(p.steps.map((s) => s.name)).toEqual(['seq-read', 'rand-read', 'seq-write', 'rand-write']);
    expect(p.plan.points.map((x) => (x.workload as { rw: string }).rw)).toEqual(['read', 'randread', 'write', 'randwrite']);
    expect(p.plan.points[0]!.workload).toMatchObject({ ops: 2_621_440, runtime_s: 60, iodepth: 4, ioengine: 'libaio' });
  });

  it('tiobench-example.fio: bsrange 4k-4k, timeout, psync by default, the inline comment after numjobs', () => {
    const p = load('tiobench-example.fio');
    expect(p.plan.points.map((x) => (x.workload as { rw: string }).rw)).toEqual(['write', 'randwrite', 'read', 'randread']);
    expect(p.plan.points[0]!.workload).toMatchObject({ bs: 4096, numjobs: 4, ioengine: 'psync', runtime_s: 60, ops: 4 * 131072 });
  });

  it('waitfor.fio: a chain of wait_for is four steps in four reporting groups', () => {
    const p = load('waitfor.fio');
    expect(p.steps.map((s) => [s.name, s.groupid])).toEqual([['writers', 0], ['readers', 1], ['writers2', 2], ['readers2', 3]]);
    expect(p.plan.points[0]!.workload).toMatchObject({ rw: 'write', bs: 128 * 1024, numjobs: 4, size: 128 * 1024 ** 2, ops: 4 * 1024, runtime_s: 10 });
  });

  it('poisson-rate-submission.fio is refused: io_submit_mode=offload (submission from other threads) is not modelled', () => {
    expect(() => load('poisson-rate-submission.fio')).toThrow(/poisson-rate-submission\.fio:10: io_submit_mode=offload: not modelled by iovsim/);
  });

  it('aio-read.fio is refused: four jobs at different depths at the same time', () => {
    expect(() => load('aio-read.fio')).toThrow(/aio-read\.fio:14: \[file2\] runs at the same time as \[file1\] .*\(iodepth\)/);
  });
});
