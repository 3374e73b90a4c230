/**
 * `blk`: block I/O from fio-like jobs in the guest (on bare metal: on the host), in
 * fio's vocabulary: `rw` (read, write, randread, randwrite, randrw, rw), `bs`,
 * `iodepth`, `numjobs`, `rwmixread`, `ioengine` (psync, libaio, io_uring) with `hipri`
 * (polled completions), `rate_iops` (an open loop per job) with `rate_process`, `size`
 * (each job's region), `ops` (I/Os to measure) and `runtime_s` (a limit on the
 * measurement window in simulated seconds), `warmup_ops` and `warmup_s`.
 * `blk-read` and `blk-write` (design.md s4) are the same workload with `rw` defaulting to
 * randread and randwrite.
 *
 * Latency is fio's clat+slat (lat_ns): from the application's submission of an I/O to
 * the application seeing its completion.
 */
import { z } from 'zod';
import { SECTOR_BYTES } from '../actors/block/request.js';
import { PS_PER_S } from '../core/time.js';

/** A byte count: a number, or a string with fio's binary suffixes (4k, 1m, 2g). */
const byteCount = z.union([
  z.number(),
  z.string().transform((s, ctx) => {
    const m = /^\s*(\d+)\s*([kmgt]?)i?b?\s*$/i.exec(s);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `"${s}" is not a byte count (a number, or with a suffix k, m, g or t, e.g. 4k)` });
      return z.NEVER;
    }
    const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
    return Number(m[1]) * mult;
  }),
]);

const blockSize = byteCount.pipe(
  z
    .number()
    .int()
    .positive()
    .max(4 * 1024 * 1024)
    .refine((n) => n % SECTOR_BYTES === 0, { message: `a block size must be a multiple of ${SECTOR_BYTES} bytes` }),
);

export const RW_MODES = ['read', 'write', 'randread', 'randwrite', 'randrw', 'rw', 'readwrite'] as const;
export type RwMode = (typeof RW_MODES)[number];
export const IO_ENGINES = ['psync', 'libaio', 'io_uring'] as const;
export type IoEngine = (typeof IO_ENGINES)[number];

const blkFields = {
  /** fio's default is a sequential read. */
  rw: z.enum(RW_MODES).default('read'),
  bs: blockSize.default(4096),
  iodepth: z.number().int().gte(1).lte(65536).default(1),
  numjobs: z.number().int().gte(1).lte(1024).default(1),
  rwmixread: z.number().gte(0).lte(100).default(50),
  ioengine: z.enum(IO_ENGINES).default('libaio'),
  hipri: z.boolean().default(false),
  /** Open loop: I/Os per second per job (fio rate_iops); absent: closed loop at iodepth. */
  rate_iops: z.number().positive().optional(),
  /**
   * How an open loop spaces its I/Os (fio rate_process): poisson (exponential gaps) or
   * linear (evenly spaced, fio's default). Absent: poisson.
   */
  rate_process: z.enum(['poisson', 'linear']).optional(),
  /** Region each job addresses [bytes]; random offsets are bs-aligned within it. */
  size: byteCount.pipe(z.number().int().positive()).default(1024 ** 3),
  /** I/Os to measure (all jobs together) and to discard first. */
  ops: z.number().int().positive().default(100_000),
  warmup_ops: z.number().int().nonnegative().default(10_000),
  /**
   * A limit on the measurement window [simulated s] (fio runtime): the run ends after
   * `ops` I/Os or `runtime_s`, whichever comes first. Absent: `ops` alone.
   */
  runtime_s: z.number().positive().max(9000, "at most 9000 s (simulated time is kept in picoseconds, exact up to 2^53)").optional(),
  /**
   * Warm-up in simulated time [s] (fio ramp_time): the window opens once `warmup_ops`
   * I/Os have completed and `warmup_s` has passed. Absent: 0.
   */
  warmup_s: z.number().nonnegative().max(9000, "at most 9000 s (simulated time is kept in picoseconds, exact up to 2^53)").optional(),
  /** I/Os fio submits per io_submit / io_uring_enter when refilling (iodepth_batch_submit). */
  iodepth_batch_submit: z.number().int().gte(1).lte(65536).default(1),
};

function refineBlk(
  w: { bs: number; size: number; iodepth: number; ioengine: string; hipri: boolean; rate_iops?: number | undefined; rate_process?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (w.size < w.bs) ctx.addIssue({ code: 'custom', path: ['size'], message: `must be at least bs (${w.bs} bytes)` });
  if (w.hipri && w.ioengine !== 'io_uring') ctx.addIssue({ code: 'custom', path: ['hipri'], message: 'polled completions need ioengine io_uring' });
  if (w.rate_process !== undefined && w.rate_iops === undefined) {
    ctx.addIssue({ code: 'custom', path: ['rate_process'], message: 'spaces the I/Os of an open loop: it needs rate_iops' });
  }
}

export const blkWorkloadSchema = z.strictObject({ kind: z.literal('blk'), ...blkFields }).superRefine(refineBlk);
export const blkReadWorkloadSchema = z
  .strictObject({ kind: z.literal('blk-read'), ...blkFields, rw: z.enum(['read', 'randread']).default('randread') })
  .superRefine(refineBlk);
export const blkWriteWorkloadSchema = z
  .strictObject({ kind: z.literal('blk-write'), ...blkFields, rw: z.enum(['write', 'randwrite']).default('randwrite') })
  .superRefine(refineBlk);

export type BlkWorkloadInput = z.infer<typeof blkWorkloadSchema> | z.infer<typeof blkReadWorkloadSchema> | z.infer<typeof blkWriteWorkloadSchema>;

export interface BlkWorkloadSpec {
  kind: 'blk' | 'blk-read' | 'blk-write';
  rw: RwMode;
  isRandom: boolean;
  /** Fraction of I/Os that are reads (1 for read modes, 0 for write modes). */
  readFraction: number;
  blockBytes: number;
  iodepth: number;
  jobs: number;
  engine: IoEngine;
  /** io_uring with IORING_SETUP_IOPOLL: the job polls for completions, no interrupts. */
  isPolled: boolean;
  /** Open-loop rate per job [I/O per s]; null: closed loop at iodepth. */
  ratePerJob: number | null;
  /** Open loop: evenly spaced I/Os instead of Poisson arrivals. */
  isLinearRate: boolean;
  regionBytes: number;
  submitBatch: number;
  ops: number;
  warmupOps: number;
  /** Limit on the measurement window [ps]; null: none. */
  runtimePs: number | null;
  /** Warm-up time [ps] (0: none). */
  warmupPs: number;
}

export function toBlkSpec(w: BlkWorkloadInput): BlkWorkloadSpec {
  const rw = w.rw;
  const readFraction = rw === 'read' || rw === 'randread' ? 1 : rw === 'write' || rw === 'randwrite' ? 0 : w.rwmixread / 100;
  return {
    kind: w.kind,
    rw,
    isRandom: rw.startsWith('rand'),
    readFraction,
    blockBytes: w.bs,
    // psync is synchronous: one I/O in flight per job, whatever iodepth says (as in fio)
    iodepth: w.ioengine === 'psync' ? 1 : w.iodepth,
    jobs: w.numjobs,
    engine: w.ioengine,
    isPolled: w.hipri,
    ratePerJob: w.rate_iops ?? null,
    isLinearRate: w.rate_process === 'linear',
    regionBytes: w.size - (w.size % w.bs),
    submitBatch: Math.min(w.iodepth_batch_submit, w.iodepth),
    ops: w.ops,
    warmupOps: w.warmup_ops,
    runtimePs: w.runtime_s === undefined ? null : Math.round(w.runtime_s * PS_PER_S),
    warmupPs: Math.round((w.warmup_s ?? 0) * PS_PER_S),
  };
}

export const BLK_WORKLOADS = ['blk', 'blk-read', 'blk-write'] as const;
