/**
 * --trace's collector: the file follows the trace event format (required fields per
 * phase, dur >= 0, flows that pair up and go forward in time, slices that never partly
 * overlap on a track), a traced request's slices add up to its latency, and a traced
 * run is the same run.
 */
import { describe, expect, it } from 'vitest';
import { params } from '../../src/calibration/index.js';
import { findPath } from '../../src/paths/index.js';
import type { RunResult } from '../../src/metrics/run-result.js';
import type { TraceEvent } from '../../src/metrics/trace-collector.js';
import { workloadSchema } from '../../src/workloads/index.js';

interface TraceFile {
  traceEvents: TraceEvent[];
  displayTimeUnit?: string;
  otherData?: Record<string, unknown>;
}

/** What is wrong with a trace (empty when it follows the format as this file uses it). */
export function traceErrors(trace: TraceFile): string[] {
  const errs: string[] = [];
  if (!Array.isArray(trace.traceEvents)) return ['traceEvents is not an array'];
  if (trace.displayTimeUnit !== undefined && !['ms', 'ns'].includes(trace.displayTimeUnit)) errs.push(`displayTimeUnit ${trace.displayTimeUnit}`);
  const isNum = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
  const flows = new Map<string, TraceEvent[]>();
  const slices = new Map<string, TraceEvent[]>();
  trace.traceEvents.forEach((e, i) => {
    const at = `event ${i} (${e.ph} ${e.name})`;
    if (typeof e.name !== 'string' || !isNum(e.pid)) errs.push(`${at}: name and pid required`);
    switch (e.ph) {
      case 'X':
        if (!isNum(e.ts) || !isNum(e.tid) || !isNum(e.dur)) errs.push(`${at}: ts, tid and dur required`);
        else if (e.dur! < 0) errs.push(`${at}: dur ${e.dur} < 0`);
        if (typeof e.cat !== 'string') errs.push(`${at}: cat required`);
        (slices.get(`${e.pid}/${e.tid}`) ?? slices.set(`${e.pid}/${e.tid}`, []).get(`${e.pid}/${e.tid}`)!).push(e);
        break;
      case 's':
      case 't':
      case 'f': {
        if (!isNum(e.ts) || !isNum(e.tid) || e.id === undefined || typeof e.cat !== 'string') errs.push(`${at}: ts, tid, id and cat required`);
        if (e.ph === 'f' && e.bp !== 'e') errs.push(`${at}: a flow end binds to its enclosing slice (bp "e")`);
        const key = `${e.cat}/${e.id}`;
        (flows.get(key) ?? flows.set(key, []).get(key)!).push(e);
        break;
      }
      case 'C':
        if (!isNum(e.ts) || e.args === undefined || Object.values(e.args).some((v) => !isNum(v))) errs.push(`${at}: ts and numeric args required`);
        break;
      case 'M':
        if (!['process_name', 'thread_name', 'thread_sort_index', 'process_sort_index'].includes(e.name) || e.args === undefined) errs.push(`${at}: unknown metadata`);
        if (e.name.startsWith('thread') && !isNum(e.tid)) errs.push(`${at}: tid required`);
        break;
      default:
        errs.push(`${at}: phase not used here`);
    }
  });
  for (const [key, evs] of flows) {
    const s = evs.filter((e) => e.ph === 's').length;
    const f = evs.filter((e) => e.ph === 'f').length;
    if (s !== 1 || f !== 1 || evs[0]!.ph !== 's' || evs[evs.length - 1]!.ph !== 'f') errs.push(`flow ${key}: ${s} start(s), ${f} end(s)`);
    for (let i = 1; i < evs.length; i++) if (evs[i]!.ts! < evs[i - 1]!.ts!) errs.push(`flow ${key}: goes back in time`);
    // each end lies inside a slice of its track (it binds to it)
    for (const e of evs) {
      const inside = (slices.get(`${e.pid}/${e.tid}`) ?? []).some((x) => x.ts! <= e.ts! && e.ts! <= x.ts! + x.dur!);
      if (!inside) errs.push(`flow ${key}: its ${e.ph} at ${e.ts} is in no slice of its track`);
    }
  }
  // slices on one track nest or follow each other, never partly overlap
  for (const [key, list] of slices) {
    const sorted = [...list].sort((a, b) => a.ts! - b.ts!);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      const cur = sorted[i]!;
      if (cur.ts! < prev.ts! + prev.dur! - 1e-9 && cur.ts! + cur.dur! > prev.ts! + prev.dur! + 1e-9) errs.push(`track ${key}: slices at ${prev.ts} and ${cur.ts} overlap`);
    }
  }
  return errs;
}

/** Slices of each request, in file order (the order it went through them). */
function journeys(trace: TraceFile): Map<number, TraceEvent[]> {
  const by = new Map<number, TraceEvent[]>();
  for (const e of trace.traceEvents) {
    if (e.ph !== 'X') continue;
    const r = Number(e.args!['request']);
    (by.get(r) ?? by.set(r, []).get(r)!).push(e);
  }
  return by;
}

function run(path: string, workload: Record<string, unknown>, sample?: number): RunResult {
  const model = findPath(path)!;
  return model.run({ workload: workloadSchema.parse(workload), params: params.resolve({}), seed: 3, replication: 0, ...(sample !== undefined ? { trace: { sample } } : {}) });
}

const NET = { kind: 'net-rr', ops: 4000, warmup_ops: 1000 };
const BLK = { kind: 'blk', rw: 'randread', bs: 4096, iodepth: 1, ops: 3000, warmup_ops: 300 };

describe.each([
  ['vhost-user', NET, ['guest.tx', 'backend.tx', 'nic.tx', 'wire', 'peer', 'nic.rx', 'backend.rx', 'guest.rx']],
  ['virtio-qemu', BLK, ['guest.submit', 'guest.blk-mq', 'backend.submit', 'host.io', 'backend.complete', 'guest.complete', 'guest.reap']],
] as const)('a trace of %s', (path, workload, stages) => {
  const traced = run(path, workload, 40);
  const trace = JSON.parse(traced.trace!) as TraceFile;

  it('follows the trace event format', () => {
    expect(trace.displayTimeUnit).toBe('ns');
    expect(traceErrors(trace)).toEqual([]);
    const phases = new Set(trace.traceEvents.map((e) => e.ph));
    for (const ph of ['X', 's', 'f', 'C', 'M']) expect(phases).toContain(ph);
  });

  it('follows the sample, spread over the measurement window, each request through every stage', () => {
    const js = journeys(trace);
    expect(js.size).toBe(40);
    const ids = [...js.keys()];
    // every k-th request begun after the warm-up: k = ops / sample
    expect(Math.min(...ids)).toBe(workload.warmup_ops);
    expect(Math.max(...ids)).toBeGreaterThan(workload.warmup_ops + 0.9 * workload.ops - 2 * (workload.ops / 40));
    for (const slices of js.values()) for (const s of stages) expect(slices.map((e) => e.name)).toContain(s);
  });

  it("adds a request's slices up to its latency (within 1 ns), slice after slice", () => {
    for (const slices of journeys(trace).values()) {
      const sumNs = slices.reduce((a, e) => a + e.dur!, 0) * 1000;
      const latencyNs = Number(slices[slices.length - 1]!.args!['latency_ns']);
      expect(latencyNs).toBeGreaterThan(0);
      expect(Math.abs(sumNs - latencyNs)).toBeLessThan(1);
      for (let i = 1; i < slices.length; i++) expect(Math.abs(slices[i]!.ts! - (slices[i - 1]!.ts! + slices[i - 1]!.dur!))).toBeLessThan(1e-6);
    }
  });

  it('has counter tracks of thread state and ring occupancy', () => {
    const names = new Set(trace.traceEvents.filter((e) => e.ph === 'C').map((e) => e.name));
    expect([...names].some((n) => n.includes('vcpu0 state'))).toBe(true);
    expect([...names].some((n) => n.includes('buffers in flight'))).toBe(true);
    for (const e of trace.traceEvents.filter((x) => x.ph === 'C' && x.name.includes('state'))) expect([0, 1, 2]).toContain(e.args!['state']);
  });

  it('does not change the run', () => {
    const plain = run(path, workload);
    expect(plain.trace).toBeUndefined();
    expect(traced.eventsProcessed).toBe(plain.eventsProcessed);
    expect(traced.latency.mean).toBe(plain.latency.mean);
    expect(traced.stages).toEqual(plain.stages);
    expect(traced.cpu).toEqual(plain.cpu);
  });
});

describe('the trace checks', () => {
  const trace = JSON.parse(run('vhost-user', NET, 5).trace!) as TraceFile;
  it('catch a flow without its end, a negative duration and a flow going back', () => {
    const events = trace.traceEvents;
    const firstF = events.findIndex((e) => e.ph === 'f');
    const noEnd = { ...trace, traceEvents: events.filter((_, i) => i !== firstF) };
    expect(traceErrors(noEnd).join()).toMatch(/1 start\(s\), 0 end\(s\)/);
    const negative = { ...trace, traceEvents: events.map((e, i) => (i === events.findIndex((x) => x.ph === 'X') ? { ...e, dur: -1 } : e)) };
    expect(traceErrors(negative).join()).toMatch(/dur -1 < 0/);
    const back = { ...trace, traceEvents: events.map((e, i) => (i === firstF ? { ...e, ts: 0 } : e)) };
    expect(traceErrors(back).join()).toMatch(/goes back in time/);
  });
});

describe('requests that overlap', () => {
  it('go on separate lanes of a track, so slices on a track never partly overlap; tracks are the host threads and vCPUs', () => {
    // depth 8, every request followed: several are on the disk at once
    const trace = JSON.parse(run('virtio-qemu', { ...BLK, iodepth: 8, ops: 400, warmup_ops: 100 }, 400).trace!) as TraceFile;
    expect(traceErrors(trace)).toEqual([]);
    const names = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => String(e.args!['name']));
    expect(names.filter((n) => n.includes('(overlap ')).length).toBeGreaterThan(0);
    // one track per thread whose code ends a stage: the vCPU and QEMU's thread
    expect(names).toContain('vm0/vcpu0');
    expect(names.some((n) => n.startsWith('vm0/qemu-main') || n.startsWith('vm0/iothread'))).toBe(true);
    // the few begun at the end that the run stops before measuring are left out
    expect(journeys(trace).size).toBeGreaterThan(380);
    expect(journeys(trace).size).toBeLessThanOrEqual(400);
  });
});
