/**
 * Invariants of the block paths, checked over random valid parameter combinations on all
 * eight paths (the combinations are drawn with seedrandom from a fixed seed, so a failure
 * is reproducible by its index; IOVSIM_INVARIANT_SEED explores other draws, as in the
 * network invariants, and IOVSIM_BLOCK_INVARIANT_COUNT other counts):
 *  - ring bounds: no violation reported by the virtqueues, and no queue ever held more
 *    requests than blk.queue_size;
 *  - exactly-once completion (no duplicate) and ordering (no stage mark back in time);
 *  - conservation: every I/O created either finished (completed, failed, or after the
 *    stop) or is still in flight in its job at the end, and no I/O failed;
 *  - the closed loop keeps at most iodepth I/Os in flight per job (1 with psync);
 *  - the stages tile each request's life: sum of visits x (wait + service) = mean latency;
 *  - reads + writes = completed, in the proportion rw and rwmixread ask for;
 *  - the run made progress (IOPS > 0) and no core was busy more than 100% of the time.
 * Then the refusals of impossible combinations (InputError at plan time and at run time),
 * and determinism: the same seed gives the same summary numbers, byte for byte.
 */
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { params } from '../../src/calibration/index.js';
import { findPath } from '../../src/paths/index.js';
import type { BlockRunResult } from '../../src/paths/block/support/block-run.js';
import { toRows } from '../../src/output/rows.js';
import { InputError } from '../../src/util/input-error.js';
import { workloadSchema } from '../../src/workloads/index.js';

const ALL_PATHS = ['bare-metal', 'passthrough', 'sriov', 'vhost-user', 'vhost-kernel', 'virtio-qemu', 'emulated', 'emulated-vmm'] as const;
/** Paths whose own device reaches the SSD: no RAM disk behind them. */
const NVME_ONLY = new Set(['bare-metal', 'passthrough', 'sriov']);
const VIRTIO_PATHS = new Set(['vhost-user', 'vhost-kernel', 'virtio-qemu']);

const BASE_SEED = Number(process.env['IOVSIM_INVARIANT_SEED'] ?? 20260101);
const COUNT = Number(process.env['IOVSIM_BLOCK_INVARIANT_COUNT'] ?? 200);
const OPS = 2_000;
const WARMUP = 200;

/** Runs one block path on a workload given as scenario-file fields, with parameter overrides. */
function runBlock(path: string, workload: Record<string, unknown>, overrides: Record<string, unknown> = {}, seed = 1): BlockRunResult {
  const model = findPath(path);
  if (!model) throw new Error(`no path ${path}`);
  const w = workloadSchema.parse(workload);
  return model.run({ workload: w, params: params.resolve(overrides), seed, replication: 0 }) as BlockRunResult;
}

/** The plan-time check of a (path, workload, parameters), as a sweep point would get it. */
function checkBlock(path: string, workload: Record<string, unknown>, overrides: Record<string, unknown>): void {
  const model = findPath(path)!;
  model.check!(params.resolve(overrides), workloadSchema.parse(workload));
}

interface Config {
  path: string;
  workload: Record<string, unknown>;
  params: Record<string, unknown>;
  seed: number;
}

const rng = seedrandom(`${BASE_SEED}/block-invariants/configs`);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const intIn = (lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));

function randomConfig(i: number): Config {
  const path = ALL_PATHS[i % ALL_PATHS.length]!;
  const rw = pick(['randread', 'randwrite', 'randrw', 'read', 'write'] as const);
  // the kind: blk for any rw, or the read/write flavour that accepts it
  const kind = rw.includes('read') && !rw.endsWith('rw') && rng() < 0.3 ? 'blk-read' : rw.includes('write') && rng() < 0.3 ? 'blk-write' : 'blk';
  const ioengine = pick(['psync', 'libaio', 'io_uring'] as const);
  const workload: Record<string, unknown> = {
    kind,
    rw,
    bs: pick([512, 4096, 4096, 16384, 131072]),
    // small depths are the common case; up to 64
    iodepth: rng() < 0.5 ? pick([1, 2, 4, 8, 16, 32, 64]) : intIn(1, 64),
    numjobs: intIn(1, 4),
    ioengine,
    ops: OPS,
    warmup_ops: WARMUP,
  };
  // (the emulated IDE disk has no poll queues: hipri there is refused, checked below)
  if (ioengine === 'io_uring' && !path.startsWith('emulated') && rng() < 0.5) workload['hipri'] = true;
  if (rw === 'randrw') workload['rwmixread'] = pick([10, 30, 50, 70, 90]);
  if (rng() < 0.2) workload['rate_iops'] = pick([5_000, 20_000, 100_000]);
  if (rng() < 0.2) workload['size'] = pick(['1m', '64m']);
  if (rng() < 0.3) workload['iodepth_batch_submit'] = pick([1, 4, 16]);

  const isVirtual = path !== 'bare-metal';
  const p: Record<string, unknown> = {
    'vm.vcpus': intIn(1, 4),
    'virtio.version': pick(['0.95', '1.0', '1.1']),
    'virtio.event_idx': rng() < 0.6,
    'virtio.indirect': rng() < 0.6,
    'qemu.aio': pick(['threads', 'native', 'io_uring']),
    'qemu.blk_iothread': rng() < 0.5,
    'virtio.ioeventfd': rng() < 0.8,
    'disk.kind': !NVME_ONLY.has(path) && rng() < 0.35 ? 'ram' : 'nvme',
  };
  if (path === 'vhost-kernel' && p['virtio.version'] === '1.1') p['virtio.version'] = pick(['0.95', '1.0']);
  // an IOThread needs ioeventfd (QEMU refuses the pair)
  if (p['qemu.blk_iothread'] === true) p['virtio.ioeventfd'] = true;
  if (isVirtual && path !== 'passthrough') p['host.vms'] = intIn(1, 3);
  if (rng() < 0.3) p['blk.queue_size'] = pick([16, 64, 256]);
  // without indirect descriptors one request must fit the ring (2 + bs/4096 descriptors);
  // a larger one is refused (the guest would split it), which the refusal tests check
  const bs = workload['bs'] as number;
  if (p['virtio.indirect'] === false && 2 + Math.ceil(bs / 4096) > ((p['blk.queue_size'] as number | undefined) ?? 256)) p['blk.queue_size'] = 256;
  if (rng() < 0.2) p['blk.num_queues'] = pick([1, 2]);
  if (rng() < 0.2) p['host.cores'] = pick([2, 4]);
  const seed = 1 + Math.floor(rng() * 100_000);
  return { path, workload, params: p, seed };
}

const CONFIGS = Array.from({ length: COUNT }, (_, i) => randomConfig(i));

const seen = { ram: 0, hipri: 0, randrw: 0, multiVm: 0, psync: 0, openLoop: 0, packed: 0, iothread: 0, deep: 0 };

describe('block invariants over random valid configurations', () => {
  it.each(CONFIGS.map((c, i) => [i, c.path, c.workload['rw'], c] as const))('#%i %s %s', (_i, _p, _rw, c) => {
    if (process.env['IOVSIM_PRINT_CONFIG']) console.log(JSON.stringify(c));
    const r = runBlock(c.path, c.workload, c.params, c.seed);
    const d = r.details;
    const w = workloadSchema.parse(c.workload) as Extract<ReturnType<typeof workloadSchema.parse>, { kind: 'blk' }>;

    // the run measured its ops, none failed
    expect(r.opsCompleted).toBe(OPS);
    expect(r.opsDropped).toBe(0);
    expect(d.opsFailedTotal).toBe(0);

    // ring bounds
    expect(d.violations).toEqual([]);
    const queueSize = (c.params['blk.queue_size'] as number | undefined) ?? 256;
    for (const [k, v] of Object.entries(d.extra)) {
      if (k.endsWith('.max_outstanding')) expect(v, k).toBeLessThanOrEqual(queueSize);
    }

    // exactly once, ordering
    expect(d.duplicateCompletions).toBe(0);
    expect(d.backwardMarks).toBe(0);

    // conservation: created = finished + in flight at the end
    const finished = d.opsCompletedTotal + d.opsFailedTotal + d.opsFinishedAfterStop;
    const inflight = d.inflightAtEnd.reduce((s, n) => s + n, 0);
    expect(d.opsCreated).toBeGreaterThanOrEqual(finished);
    expect(d.opsCreated - finished).toBe(inflight);
    // the ledger stops at warm-up + ops finished, none failed
    expect(d.opsCompletedTotal).toBe(OPS + WARMUP);

    // the loop keeps its depth: one job per (VM, numjobs), each with at most iodepth in flight
    const vms = (c.params['host.vms'] as number | undefined) ?? 1;
    expect(d.inflightAtEnd.length).toBe(vms * w.numjobs);
    const depth = w.ioengine === 'psync' ? 1 : w.iodepth;
    for (const n of d.inflightAtEnd) {
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThanOrEqual(depth);
    }

    // the stages tile each request's life
    const sum = r.stages.reduce((s, st) => s + st.visitsPerOp * (st.waitMeanNs + st.serviceMeanNs), 0);
    const meanNs = r.latency.mean / 1000;
    expect(meanNs).toBeGreaterThan(0);
    expect(Math.abs(sum - meanNs) / meanNs, `stages ${sum} ns vs mean ${meanNs} ns`).toBeLessThan(0.005);

    // reads and writes in the asked proportion
    const reads = d.extra['blk.reads']!;
    const writes = d.extra['blk.writes']!;
    expect(reads + writes).toBe(r.opsCompleted);
    if (w.rw === 'read' || w.rw === 'randread') expect(writes).toBe(0);
    else if (w.rw === 'write' || w.rw === 'randwrite') expect(reads).toBe(0);
    else {
      // Each I/O is a read with probability rwmixread/100 when issued, but the window's
      // completions are not a plain sample of the issues: I/Os in flight when it opened
      // and when it closed shift the mix (reads take longer than buffered writes). So:
      // 4.5 binomial sd, plus twice the most I/Os that can be in flight, over the ops.
      const p = w.rwmixread / 100;
      const capacity = vms * w.numjobs * depth;
      const tol = 4.5 * Math.sqrt((p * (1 - p)) / r.opsCompleted) + (2 * capacity) / r.opsCompleted;
      expect(Math.abs(reads / r.opsCompleted - p), `read fraction ${reads / r.opsCompleted} for rwmixread ${w.rwmixread}, ${capacity} in flight at most`).toBeLessThan(tol);
    }
    const perVm = d.perVm.reduce((s, v) => s + v.opsCompleted, 0);
    expect(perVm).toBe(r.opsCompleted);
    expect(r.bytesCompleted).toBe(r.opsCompleted * w.bs);

    // progress
    expect(r.windowPs).toBeGreaterThan(0);
    expect(r.opsCompleted / (r.windowPs / 1e12)).toBeGreaterThan(0);

    // no core used more than 100% of the time
    for (const [k, v] of Object.entries(d.extra)) {
      if (/^core\d+\.busy_fraction$/.test(k)) expect(v, k).toBeLessThanOrEqual(1.001);
    }

    if (c.params['disk.kind'] === 'ram') seen.ram++;
    if (w.hipri) seen.hipri++;
    if (w.rw === 'randrw') seen.randrw++;
    if (vms > 1) seen.multiVm++;
    if (w.ioengine === 'psync') seen.psync++;
    if (w.rate_iops !== undefined) seen.openLoop++;
    if (VIRTIO_PATHS.has(c.path) && c.params['virtio.version'] === '1.1') seen.packed++;
    if (c.path === 'virtio-qemu' && c.params['qemu.blk_iothread'] === true) seen.iothread++;
    if (depth >= 16 && w.numjobs * vms >= 4) seen.deep++;
  });

  it('the random configurations covered RAM disks, polling, mixed I/O, several VMs, psync, open loops, packed rings, IOThreads and deep queues', () => {
    // (meaningful after the cases above; skipped counts stay 0 when run alone)
    if (COUNT < 100) return;
    for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(2);
  });
});

/**
 * Minimal forms of configurations the random draws found crashing (valid input that
 * must run to its op count with every invariant intact).
 */
describe('block regressions found by the random draws', () => {
  const check = (r: BlockRunResult, ops: number): void => {
    expect(r.opsCompleted).toBe(ops);
    expect(r.details.violations).toEqual([]);
    expect(r.details.duplicateCompletions).toBe(0);
  };

  // Without indirect descriptors a request takes 2 + bs/4096 descriptors. A ring that
  // fills before its tags run out sends the request back to wait (Linux: virtio_queue_rq
  // gets -ENOSPC and returns BLK_STS_DEV_RESOURCE); a request that can never fit (the
  // guest would split it by seg_max) is refused up front, naming blk.queue_size.
  for (const path of ['vhost-kernel', 'virtio-qemu', 'vhost-user']) {
    it(`${path}: 128 KiB requests on a 16-entry ring without indirect descriptors are refused`, () => {
      const w = workloadSchema.parse({ kind: 'blk', rw: 'randread', bs: 131072, iodepth: 1, ops: 500, warmup_ops: 50 });
      let err: unknown;
      try {
        runBlock(path, w, { 'virtio.indirect': false, 'blk.queue_size': 16 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect(String((err as Error).message)).toContain('blk.queue_size');
    });
    it(`${path}: 64 KiB requests at depth 16 on a 64-entry ring without indirect descriptors wait for ring room`, () => {
      const w = { kind: 'blk', rw: 'randread', bs: 65536, iodepth: 16, ops: 2000, warmup_ops: 200 };
      const r = runBlock(path, w, { 'virtio.indirect': false, 'blk.queue_size': 64 });
      check(r, 2000);
    });
  }
  it('vhost-kernel: 16 KiB requests at iodepth 64 without indirect descriptors (6 descriptors each, 85 tags on a 256 ring)', () => {
    const w = { kind: 'blk', rw: 'randread', bs: 16384, iodepth: 64, ops: OPS, warmup_ops: WARMUP };
    check(runBlock('vhost-kernel', w, { 'virtio.indirect': false }), OPS);
  });

  // With a RAM disk the host block layer completes the I/O inside the bus-master start
  // exit, so VmmIde raises the INTx before that exit has resumed the guest; the ISR on
  // vCPU 0 calls GuestIde.ack, which overwrites the one continuation (vcpu, step, fn)
  // the issue sequence of the other vCPU is still using, and the issue sequence then
  // continues on vCPU 0: "thread vm0/vcpu0: exec while not running its loop (state 3)".
  it('emulated-vmm: a RAM disk with jobs on two vCPUs (seeds 1-3)', () => {
    const w = { kind: 'blk', rw: 'randread', numjobs: 2, rate_iops: 20_000, ops: OPS, warmup_ops: WARMUP };
    for (const seed of [1, 2, 3]) check(runBlock('emulated-vmm', w, { 'vm.vcpus': 2, 'disk.kind': 'ram' }, seed), OPS);
  });

  // A request that finds no free tag goes on the hardware queue's waiting list when its
  // submit step starts; a completion on another vCPU can dispatch it (publish from
  // dispatchWaiting marks guest.blk-mq) before the submitting vCPU's syscall + plug step
  // has ended; that step's publish then marks guest.submit at its end less the plug time,
  // before the blk-mq mark: a backward mark (one IDE tag, jobs on two vCPUs).
  it('emulated-vmm: a request dispatched from the tag wait list is not marked back in time (seeds 2-4)', () => {
    const w = { kind: 'blk', rw: 'randwrite', numjobs: 4, ioengine: 'psync', rate_iops: 5_000, ops: OPS, warmup_ops: WARMUP };
    for (const seed of [2, 3, 4]) expect(runBlock('emulated-vmm', w, { 'vm.vcpus': 2 }, seed).details.backwardMarks, `seed ${seed}`).toBe(0);
  });
});

describe('block input errors: impossible combinations are refused with an InputError', () => {
  const blk = { kind: 'blk', rw: 'randread', ops: 500, warmup_ops: 50 };

  const expectInputError = (fn: () => unknown, ...parts: string[]): void => {
    let err: unknown = null;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err, 'expected an InputError').toBeInstanceOf(InputError);
    for (const part of parts) expect((err as Error).message).toContain(part);
  };

  for (const path of NVME_ONLY) {
    it(`${path}: disk.kind ram is refused (check and run)`, () => {
      expectInputError(() => checkBlock(path, blk, { 'disk.kind': 'ram' }), 'disk.kind');
      expectInputError(() => runBlock(path, blk, { 'disk.kind': 'ram' }), 'disk.kind');
    });
  }

  for (const path of ALL_PATHS.filter((p) => !NVME_ONLY.has(p))) {
    it(`${path}: disk.kind ram is accepted`, () => {
      expect(() => checkBlock(path, blk, { 'disk.kind': 'ram' })).not.toThrow();
      expect(runBlock(path, blk, { 'disk.kind': 'ram' }).opsCompleted).toBe(500);
    });
  }

  it('vhost-kernel: virtio 1.1 (packed ring) is refused', () => {
    expectInputError(() => checkBlock('vhost-kernel', blk, { 'virtio.version': '1.1' }), 'virtio.version');
    expectInputError(() => runBlock('vhost-kernel', blk, { 'virtio.version': '1.1' }), 'virtio.version');
  });

  it('passthrough: more than one VM is refused', () => {
    expectInputError(() => checkBlock('passthrough', blk, { 'host.vms': 2 }), 'host.vms');
  });

  it('bare-metal: more than one VM is refused', () => {
    expectInputError(() => checkBlock('bare-metal', blk, { 'host.vms': 2 }), 'host.vms');
  });

  it('virtio-qemu: an IOThread without ioeventfd is refused', () => {
    expectInputError(() => checkBlock('virtio-qemu', blk, { 'qemu.blk_iothread': true, 'virtio.ioeventfd': false }), 'virtio.ioeventfd');
  });

  it('a write workload on a read-only disk is refused on every path', () => {
    for (const path of ALL_PATHS) {
      expectInputError(() => checkBlock(path, { ...blk, rw: 'randwrite' }, { 'disk.read_only': true }), 'workload.rw');
      expectInputError(() => checkBlock(path, { ...blk, rw: 'randrw' }, { 'disk.read_only': true }), 'workload.rw');
      expect(() => checkBlock(path, blk, { 'disk.read_only': true })).not.toThrow();
    }
  });

  it('hipri is accepted with io_uring on every path with poll queues, refused on IDE and by the schema with libaio and psync', () => {
    for (const path of ALL_PATHS) {
      if (path.startsWith('emulated')) {
        expectInputError(() => checkBlock(path, { ...blk, ioengine: 'io_uring', hipri: true, iodepth: 4 }, {}), 'workload.hipri');
        continue;
      }
      const r = runBlock(path, { ...blk, ioengine: 'io_uring', hipri: true, iodepth: 4 });
      expect(r.opsCompleted, path).toBe(500);
    }
    expect(workloadSchema.safeParse({ ...blk, ioengine: 'libaio', hipri: true }).success).toBe(false);
    expect(workloadSchema.safeParse({ ...blk, ioengine: 'psync', hipri: true }).success).toBe(false);
  });
});

describe('block determinism', () => {
  const cases: Config[] = [
    {
      path: 'virtio-qemu',
      workload: { kind: 'blk', rw: 'randrw', rwmixread: 70, iodepth: 16, numjobs: 2, ioengine: 'libaio', ops: OPS, warmup_ops: WARMUP },
      params: { 'host.vms': 2, 'vm.vcpus': 2, 'qemu.aio': 'threads' },
      seed: 42,
    },
    {
      path: 'vhost-user',
      workload: { kind: 'blk-write', rw: 'write', bs: 16384, iodepth: 8, numjobs: 3, ioengine: 'io_uring', hipri: true, ops: OPS, warmup_ops: WARMUP },
      params: { 'host.vms': 3, 'vm.vcpus': 3, 'virtio.version': '1.1' },
      seed: 7,
    },
    {
      path: 'sriov',
      workload: { kind: 'blk', rw: 'randread', iodepth: 32, numjobs: 4, ops: OPS, warmup_ops: WARMUP },
      params: { 'host.vms': 2, 'vm.vcpus': 4 },
      seed: 3,
    },
  ];
  const key = (c: Config) => ({ scenario: 'det', point: 0, path: c.path, workload: String(c.workload['kind']), replication: 0, seed: c.seed, sweep: {} });

  for (const c of cases) {
    it(`${c.path}: the same seed gives byte-identical summary numbers`, () => {
      const a = runBlock(c.path, c.workload, c.params, c.seed);
      const b = runBlock(c.path, c.workload, c.params, c.seed);
      const rowsA = toRows(key(c), a);
      const rowsB = toRows(key(c), b);
      expect(JSON.stringify(rowsB.summary)).toBe(JSON.stringify(rowsA.summary));
      expect(JSON.stringify(rowsB.stages)).toBe(JSON.stringify(rowsA.stages));
      expect(b.eventsProcessed).toBe(a.eventsProcessed);
      expect(b.windowPs).toBe(a.windowPs);
      expect(JSON.stringify(b.details)).toBe(JSON.stringify(a.details));
      // and another seed gives other numbers
      const other = runBlock(c.path, c.workload, c.params, c.seed + 1);
      expect(JSON.stringify(toRows(key(c), other).summary)).not.toBe(JSON.stringify(rowsA.summary));
    });
  }
});
