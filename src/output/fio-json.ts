/**
 * fio.json (`iovsim run --output-format fio-json`): a block run's results in fio 3.x's
 * `--output-format=json` layout, so that fio's own parsing and plotting scripts read it.
 * One entry of "jobs" per run (sweep point or job-file step, path, replication), its
 * jobs reported together (fio's group_reporting). The keys, their order, their JSON
 * types (fio prints integers with %lld and floats with %f) and the text layout (fio's
 * json.c: `"key" : value`, two spaces per level) are fio's; the figures are the
 * simulation's (README "fio.json" says which figures are not simulated: 0).
 */
import { FIO_PERCENTILES, type DirectionFigures, type FioFigures, type LatencyFigures } from '../metrics/fio-figures.js';
import type { Plan } from '../scenario/load.js';
import { TOOL } from '../version.js';
import type { TaskOutput } from './results.js';

/** The fio version whose JSON layout this file follows (Debian 12's fio package). */
export const FIO_LAYOUT_VERSION = 'fio-3.33';

/** A float: printed as fio's %f (six decimals). */
class Float {
  constructor(readonly value: number) {}
}
type Json = number | string | Float | Json[] | { [key: string]: Json };

const f = (v: number): Float => new Float(Number.isFinite(v) ? v : 0);
const int = (v: number): number => (Number.isFinite(v) ? Math.round(v) : 0);

/** What a job entry is called and which options it lists. */
export interface FioJobNaming {
  /** fio's "global options" (a job file's [global] options). */
  globalOptions: Record<string, string>;
  /** Per sweep point: its job name, group and options (a job file's step); absent: made from the workload. */
  steps?: readonly { name: string; groupid: number; options: Record<string, string> }[];
}

/** fio's *_ns object of one latency; percentiles only where fio prints them (N > 0). */
function latencyJson(l: LatencyFigures | null, withPercentiles: boolean): Json {
  if (l === null || l.n === 0) return { min: 0, max: 0, mean: f(0), stddev: f(0), N: 0 };
  const out: Record<string, Json> = { min: int(l.minNs), max: int(l.maxNs), mean: f(l.meanNs), stddev: f(l.stddevNs), N: l.n };
  if (withPercentiles) {
    const p: Record<string, Json> = {};
    FIO_PERCENTILES.forEach((q, i) => (p[q.toFixed(6)] = int(l.percentilesNs[i]!)));
    out['percentile'] = p;
  }
  return out;
}

/** fio's read, write or trim object. The bandwidth and IOPS "samples" are the window as one sample. */
function directionJson(d: DirectionFigures | null, windowNs: number): Json {
  const ios = d?.ios ?? 0;
  const bytes = d?.bytes ?? 0;
  const seconds = windowNs / 1e9;
  const has = ios > 0 && seconds > 0;
  const bwBytes = has ? bytes / seconds : 0;
  const bw = int(bwBytes / 1024);
  const iops = has ? ios / seconds : 0;
  return {
    io_bytes: bytes,
    io_kbytes: Math.floor(bytes / 1024),
    bw_bytes: int(bwBytes),
    bw,
    iops: f(iops),
    runtime: has ? Math.max(1, int(windowNs / 1e6)) : 0,
    total_ios: ios,
    short_ios: 0,
    drop_ios: 0,
    slat_ns: latencyJson(d?.slat ?? null, false),
    clat_ns: latencyJson(d?.clat ?? null, true),
    lat_ns: latencyJson(d?.lat ?? null, true),
    bw_min: bw,
    bw_max: bw,
    bw_agg: f(has ? 100 : 0),
    bw_mean: f(has ? bw : 0),
    bw_dev: f(0),
    bw_samples: has ? 1 : 0,
    iops_min: int(iops),
    iops_max: int(iops),
    iops_mean: f(iops),
    iops_stddev: f(0),
    iops_samples: has ? 1 : 0,
  };
}

/** fio's iodepth maps (not simulated: 0). */
function depthMap(keys: readonly string[]): Json {
  return Object.fromEntries(keys.map((k) => [k, f(0)]));
}

function rangeMap(keys: readonly string[], percent: readonly number[]): Json {
  return Object.fromEntries(keys.map((k, i) => [k, f(percent[i] ?? 0)]));
}

/** The options of a point's workload in fio's words (a scenario file's job options). */
function workloadOptions(w: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['rw', 'bs', 'iodepth', 'numjobs', 'ioengine', 'rwmixread', 'hipri', 'rate_iops', 'rate_process', 'size', 'iodepth_batch_submit']) {
    const v = w[k];
    if (v === undefined || (k === 'hipri' && v === false)) continue;
    if (k === 'rwmixread' && !['randrw', 'rw', 'readwrite'].includes(String(w['rw']))) continue;
    out[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  }
  if (typeof w['runtime_s'] === 'number') out['runtime'] = `${w['runtime_s']}s`;
  if (typeof w['warmup_s'] === 'number' && w['warmup_s'] > 0) out['ramp_time'] = `${w['warmup_s']}s`;
  return out;
}

/** One entry of "jobs". */
function jobJson(fig: FioFigures, name: string, groupid: number, options: Record<string, string>): Json {
  const lat = ['2', '4', '10', '20', '50', '100', '250', '500', '750', '1000'];
  return {
    jobname: name,
    groupid,
    error: 0,
    eta: 0,
    elapsed: int(fig.endNs / 1e9),
    'job options': options,
    read: directionJson(fig.read, fig.windowNs),
    write: directionJson(fig.write, fig.windowNs),
    trim: directionJson(null, fig.windowNs),
    sync: { total_ios: 0, lat_ns: latencyJson(null, false) },
    job_runtime: int(fig.windowNs / 1e6),
    usr_cpu: f(100 * fig.usr),
    sys_cpu: f(100 * fig.sys),
    ctx: int(fig.contextSwitches),
    majf: 0,
    minf: 0,
    iodepth_level: depthMap(['1', '2', '4', '8', '16', '32', '>=64']),
    iodepth_submit: depthMap(['0', '4', '8', '16', '32', '64', '>=64']),
    iodepth_complete: depthMap(['0', '4', '8', '16', '32', '64', '>=64']),
    latency_ns: rangeMap(lat, fig.clatPercent.ns),
    latency_us: rangeMap(lat, fig.clatPercent.us),
    latency_ms: rangeMap([...lat, '2000', '>=2000'], fig.clatPercent.ms),
    latency_depth: fig.iodepth,
    latency_target: 0,
    latency_percentile: f(100),
    latency_window: 0,
  };
}

/**
 * fio.json of a plan's outputs (in task order; every one a block run). The timestamp is
 * 0: a simulation has no wall-clock start, and the same scenario and seed give the same bytes.
 */
export function renderFioJson(plan: Plan, outputs: readonly TaskOutput[], naming: FioJobNaming): string {
  const jobs: Json[] = outputs.map((o) => {
    const fig = o.fio;
    const point = Number(o.summary['point']);
    const path = String(o.summary['path']);
    const replication = Number(o.summary['replication']);
    if (fig === undefined) throw new Error(`task ${o.index} (${path}) has no fio figures: not a block run`);
    const step = naming.steps?.[point];
    let name = step?.name ?? (plan.points.length > 1 ? `${plan.scenario.name}/point${point}` : plan.scenario.name);
    if (plan.paths.length > 1) name += `@${path}`;
    if (plan.scenario.replications > 1) name += `#${replication}`;
    const options = { ...(step?.options ?? workloadOptions(plan.points[point]!.workload as Record<string, unknown>)), iovsim_path: path };
    return jobJson(fig, name, step?.groupid ?? point, options);
  });
  const root: Json = {
    'fio version': `${TOOL.name}-${TOOL.version} (${FIO_LAYOUT_VERSION} JSON layout)`,
    timestamp: 0,
    timestamp_ms: 0,
    time: 'Thu Jan  1 00:00:00 1970',
    'global options': naming.globalOptions,
    jobs,
    disk_util: [],
  };
  return `${print(root, 0)}\n`;
}

/** fio's json.c layout. */
function print(v: Json, level: number): string {
  if (v instanceof Float) return v.value.toFixed(6);
  if (typeof v === 'number') return String(int(v));
  if (typeof v === 'string') return JSON.stringify(v);
  const pad = (n: number): string => '  '.repeat(n);
  if (Array.isArray(v)) {
    return `[\n${v.map((x) => pad(level + 1) + print(x, level + 1)).join(',\n')}\n${pad(level)}]`;
  }
  const pairs = Object.entries(v).map(([k, x]) => `${pad(level + 1)}${JSON.stringify(k)} : ${print(x, level + 1)}`);
  return `{\n${pairs.join(',\n')}\n${pad(level)}}`;
}
