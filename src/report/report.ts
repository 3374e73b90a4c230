/**
 * `iovsim report DIR`: DIR/report.html, one self-contained page (inline SVG and CSS, no
 * script, nothing fetched), and each chart as DIR/report-<chart>.svg. Charts are
 * Vega-Lite specs compiled to Vega and rendered to SVG in Node by View.toSVG() (no
 * canvas, no browser). Everything is aggregated before it is plotted (replications
 * summed or averaged, CDFs thinned to a few hundred points), so the page's size depends
 * on the number of paths and sweep points shown, not on the number of runs.
 *
 * Mark names (the SVG classes `<name>_marks`) are what tests count: cdf_line,
 * p50_line, p99_line, p50_point, p99_point, p50_band, p99_band, stage_bar, cost_bar,
 * cpu_bar.
 */
import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { params as registry } from '../calibration/index.js';
import { studentTQuantile } from '../util/student-t.js';
import { loadResult, type Csv, type ResultData } from './load.js';

/** The SVG files a report can write (also in RESULT_FILES). */
export const REPORT_SVGS = ['report-latency-cdf.svg', 'report-percentiles.svg', 'report-stages.svg', 'report-cost.svg', 'report-cpu.svg', 'report-timeline.svg'] as const;
export const REPORT_HTML = 'report.html';

/** The most sweep points the CDF chart draws (evenly chosen when there are more). */
const MAX_CDF_POINTS = 12;
/** The most points of one CDF line (log-spaced). */
const MAX_CDF_STEPS = 200;
/** The most rows of the summary table. */
const MAX_TABLE_ROWS = 300;

type Datum = Record<string, string | number>;

interface Chart {
  file: (typeof REPORT_SVGS)[number];
  title: string;
  caption: string;
  svg?: string;
  /** Why it was skipped, when it was. */
  note?: string;
}

export interface Report {
  html: string;
  svgs: Record<string, string>;
  charts: Chart[];
}

/** Column accessor of a Csv. */
function col(csv: Csv, name: string): (row: string[]) => string {
  const i = csv.cols.indexOf(name);
  return (row) => (i < 0 ? '' : (row[i] ?? ''));
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** 95% confidence half-width of the mean of xs (Student t); 0 for fewer than two. */
function ci95(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
  return (studentTQuantile(0.975, xs.length - 1) * sd) / Math.sqrt(xs.length);
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = m.get(k);
    if (list) list.push(t);
    else m.set(k, [t]);
  }
  return m;
}

function esc(s: unknown): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const num = (s: string): number => (s === '' ? NaN : Number(s));

/** What the summary says about the plan: points, their swept values, paths, replications. */
interface Shape {
  points: number[];
  paths: string[];
  /** param.* columns whose value changes between points. */
  swept: string[];
  /** point -> param column -> value. */
  values: Map<number, Record<string, string>>;
  replications: number;
}

function shapeOf(d: ResultData): Shape {
  const s = d.summary;
  const point = col(s, 'point');
  const path = col(s, 'path');
  const paramCols = s.cols.filter((c) => c.startsWith('param.'));
  const values = new Map<number, Record<string, string>>();
  const paths: string[] = [];
  const reps = new Set<string>();
  for (const r of s.rows) {
    const p = Number(point(r));
    if (!values.has(p)) values.set(p, Object.fromEntries(paramCols.map((c) => [c, col(s, c)(r)])));
    if (!paths.includes(path(r))) paths.push(path(r));
    reps.add(col(s, 'replication')(r));
  }
  const points = [...values.keys()].sort((a, b) => a - b);
  const swept = paramCols.filter((c) => new Set(points.map((p) => values.get(p)![c])).size > 1);
  return { points, paths, swept, values, replications: reps.size };
}

function pointLabel(shape: Shape, p: number): string {
  const v = shape.values.get(p) ?? {};
  const parts = shape.swept.map((c) => `${c.slice('param.'.length)}=${v[c]}`);
  return parts.length > 0 ? parts.join(', ') : `point ${p}`;
}

/** Up to `max` items spread evenly over the list, first and last included. */
function spread<T>(xs: readonly T[], max: number): T[] {
  if (xs.length <= max) return [...xs];
  return Array.from({ length: max }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (max - 1))]!);
}

const BASE_CONFIG = {
  background: 'white',
  font: 'sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 300 },
};

async function render(spec: TopLevelSpec): Promise<string> {
  const vg = compile({ ...spec, config: { ...BASE_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none', logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

// ---------------------------------------------------------------- charts

function cdfChart(d: ResultData, shape: Shape): { spec?: TopLevelSpec; note?: string; caption: string } {
  const shown = spread(shape.points, MAX_CDF_POINTS);
  const facet = shown.length > 1;
  const values: Datum[] = [];
  for (const p of shown) {
    for (const path of shape.paths) {
      const buckets = d.latency.get(`${p}\t${path}`);
      if (!buckets || buckets.size === 0) continue;
      const sorted = [...buckets.entries()].filter(([l]) => l > 0).sort((a, b) => a[0] - b[0]);
      const total = sorted.reduce((a, [, n]) => a + n, 0);
      if (total <= 0) continue;
      const lo = Math.log10(sorted[0]![0]);
      const hi = Math.log10(sorted[sorted.length - 1]![0]);
      const step = (hi - lo) / MAX_CDF_STEPS;
      let cum = 0;
      let lastKept = -Infinity;
      for (let i = 0; i < sorted.length; i++) {
        const [lat, n] = sorted[i]!;
        cum += n;
        const l = Math.log10(lat);
        if (i === sorted.length - 1 || i === 0 || l - lastKept >= step) {
          values.push({ path, point: pointLabel(shape, p), idx: p, latency_us: lat / 1000, fraction: Math.min(1, cum / total) });
          lastKept = l;
        }
      }
    }
  }
  const caption =
    'Fraction of requests completed within a time, per path (replications summed per latency bucket); logarithmic time axis.' +
    (shape.points.length > shown.length ? ` ${shown.length} of the ${shape.points.length} sweep points, evenly spread, are shown.` : '');
  if (values.length === 0) return { note: 'latency.csv holds no latencies (every op dropped?): no CDF.', caption };
  const unit = {
    name: 'cdf_line',
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.6 },
    encoding: {
      x: { field: 'latency_us', type: 'quantitative', scale: { type: 'log' }, title: 'latency (µs, log scale)' },
      y: { field: 'fraction', type: 'quantitative', title: 'fraction of requests', scale: { domain: [0, 1] } },
      color: { field: 'path', type: 'nominal', title: 'path' },
    },
  };
  const spec = facet
    ? { data: { values }, facet: { field: 'point', type: 'nominal', title: null, sort: { field: 'idx', op: 'min' } }, columns: 3, spec: { width: 260, height: 180, ...unit } }
    : { data: { values }, width: 560, height: 300, ...unit };
  return { spec: spec as unknown as TopLevelSpec, caption };
}

function percentileChart(d: ResultData, shape: Shape): { spec?: TopLevelSpec; note?: string; caption: string } {
  const caption =
    'p50 (dashed) and p99 (solid) latency against each swept parameter, one line per path' +
    (shape.replications > 1 ? `; the band is the 95% confidence interval of the mean over the ${shape.replications} replications.` : '.');
  if (shape.swept.length === 0) return { note: 'One point, no swept parameter: no percentile-against-parameter chart (see the summary table).', caption };
  const s = d.summary;
  const byRun = groupBy(s.rows, (r) => `${col(s, 'point')(r)}\t${col(s, 'path')(r)}`);
  const charts: unknown[] = [];
  for (const x of shape.swept) {
    const others = shape.swept.filter((c) => c !== x);
    const facetBy = others.length === 1 ? others[0] : undefined;
    const numeric = shape.points.every((p) => Number.isFinite(Number(shape.values.get(p)![x])));
    // points that share every swept value but x's (beyond a facet) are averaged together
    const groups = new Map<string, { p50: number[]; p99: number[] }>();
    for (const [key, rows] of byRun) {
      const [p, path] = key.split('\t') as [string, string];
      const v = shape.values.get(Number(p))!;
      const g = `${path}\t${v[x]}\t${facetBy ? v[facetBy] : ''}`;
      const p50 = rows.map((r) => num(col(s, 'latency_p50_ns')(r))).filter(Number.isFinite);
      const p99 = rows.map((r) => num(col(s, 'latency_p99_ns')(r))).filter(Number.isFinite);
      const acc = groups.get(g) ?? { p50: [], p99: [] };
      acc.p50.push(...p50);
      acc.p99.push(...p99);
      groups.set(g, acc);
    }
    const values: Datum[] = [];
    for (const [g, { p50, p99 }] of groups) {
      const [path, xv, fv] = g.split('\t') as [string, string, string];
      for (const [q, list] of [['p50', p50], ['p99', p99]] as const) {
        if (list.length === 0) continue;
        const m = mean(list) / 1000;
        const h = ci95(list) / 1000;
        values.push({ path, x: numeric ? Number(xv) : xv, facet: fv, quantile: q, us: m, lo: Math.max(m - h, m * 0.01), hi: m + h });
      }
    }
    const xEnc = { field: 'x', type: numeric ? 'quantitative' : 'ordinal', title: x.slice('param.'.length), ...(numeric ? { scale: { zero: false } } : {}) };
    const yEnc = { field: 'us', type: 'quantitative', title: 'latency (µs, log scale)', scale: { type: 'log' } };
    const layers: unknown[] = [];
    for (const q of ['p50', 'p99'] as const) {
      const filter = { filter: `datum.quantile === '${q}'` };
      if (shape.replications > 1) {
        layers.push({
          name: `${q}_band`,
          transform: [filter],
          mark: { type: 'area', opacity: 0.18 },
          encoding: { x: xEnc, y: { ...yEnc, field: 'lo' }, y2: { field: 'hi' }, color: { field: 'path', type: 'nominal' } },
        });
      }
      layers.push({
        name: `${q}_line`,
        transform: [filter],
        mark: { type: 'line', strokeWidth: 1.6, ...(q === 'p50' ? { strokeDash: [4, 3] } : {}) },
        encoding: { x: xEnc, y: yEnc, color: { field: 'path', type: 'nominal', title: 'path' } },
      });
      layers.push({
        name: `${q}_point`,
        transform: [filter],
        mark: { type: 'point', filled: true, size: 30 },
        encoding: { x: xEnc, y: yEnc, color: { field: 'path', type: 'nominal' }, tooltip: [{ field: 'path' }, { field: 'quantile' }, { field: 'us', format: '.2f' }] },
      });
    }
    const unit = { width: 300, height: 220, layer: layers };
    const title = `p50 and p99 against ${x.slice('param.'.length)}`;
    if (facetBy) {
      // one panel per value of the other swept parameter (hconcat: Vega-Lite's facet of named layers fails)
      const fvs = [...new Set(values.map((v) => String(v['facet'])))].sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : 1));
      charts.push({ title, hconcat: fvs.map((fv) => ({ data: { values: values.filter((v) => v['facet'] === fv) }, title: `${facetBy.slice('param.'.length)}=${fv}`, ...unit })) });
    } else charts.push({ data: { values }, title, ...unit });
  }
  const spec = charts.length === 1 ? charts[0] : { vconcat: charts };
  return { spec: spec as TopLevelSpec, caption: caption + (shape.swept.length > 2 ? ' With more than two swept parameters, points that share a value of the plotted one are averaged.' : '') };
}

/** The most sweep points the timeline chart draws, and the most buckets of one of its lines. */
const MAX_TIMELINE_POINTS = 6;
const MAX_TIMELINE_STEPS = 600;

/**
 * Over time (runs with a timeline): per path, the p99 of each bucket's completed ops and
 * the ops completed per second, replication 0; buckets are merged (p99: the largest, ops:
 * summed) so a line has at most MAX_TIMELINE_STEPS of them.
 */
function timelineChart(d: ResultData, shape: Shape): { spec?: TopLevelSpec; note?: string; caption: string } {
  const t = d.timeline!;
  const c = (name: string): ((row: string[]) => string) => col(t, name);
  const [point, path, rep, time, ops, p99, phase] = ['point', 'path', 'replication', 'time_ms', 'ops_completed', 'latency_p99_ns', 'migration_phase'].map(c) as [
    (r: string[]) => string, (r: string[]) => string, (r: string[]) => string, (r: string[]) => string, (r: string[]) => string, (r: string[]) => string, (r: string[]) => string,
  ];
  const shown = new Set(spread(shape.points, MAX_TIMELINE_POINTS));
  const lines = groupBy(t.rows.filter((r) => rep(r) === '0' && shown.has(Number(point(r)))), (r) => `${point(r)}\t${path(r)}`);
  const values: Datum[] = [];
  let stops = 0;
  for (const rows of lines.values()) {
    const stride = Math.max(1, Math.ceil(rows.length / MAX_TIMELINE_STEPS));
    const bucketS = rows.length > 1 ? (Number(time(rows[1]!)) - Number(time(rows[0]!))) / 1000 : 1;
    for (let i = 0; i < rows.length; i += stride) {
      const group = rows.slice(i, i + stride);
      const tails = group.map((r) => p99(r)).filter((v) => v !== '').map(Number);
      const done = group.reduce((s, r) => s + Number(ops(r)), 0);
      if (group.some((r) => phase(r) === 'stop-copy')) stops++;
      const r0 = group[0]!;
      const base = { path: path(r0), point: pointLabel(shape, Number(point(r0))), idx: Number(point(r0)), time_s: Number(time(r0)) / 1000 };
      values.push({ ...base, panel: 'ops completed per second', value: done / (bucketS * group.length) });
      if (tails.length > 0) values.push({ ...base, panel: 'p99 latency (µs, log scale)', value: Math.max(...tails) / 1000 });
    }
  }
  const caption =
    'What happens over time in replication 0: per path, the p99 latency of the ops completed in each time bucket (top, log scale; gaps: nothing completed) and the ops completed per second (bottom).' +
    (stops > 0 ? ' A migration\'s stop-and-copy shows as the gap in completions and the spike of p99 after it.' : '') +
    (shape.points.length > shown.size ? ` ${shown.size} of the ${shape.points.length} sweep points, evenly spread, are shown.` : '');
  if (values.length === 0) return { note: 'timeline.csv holds no buckets of replication 0.', caption };
  const panel = (name: string, mark: string, log: boolean): unknown => ({
    name: mark,
    transform: [{ filter: { field: 'panel', equal: name } }],
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.4 },
    encoding: {
      x: { field: 'time_s', type: 'quantitative', title: 'simulated time (s)' },
      y: { field: 'value', type: 'quantitative', title: name, ...(log ? { scale: { type: 'log' } } : {}) },
      color: { field: 'path', type: 'nominal', title: 'path' },
    },
    width: shown.size > 1 ? 260 : 560,
    height: shown.size > 1 ? 120 : 180,
  });
  const unit = { vconcat: [panel('p99 latency (µs, log scale)', 'timeline_p99', true), panel('ops completed per second', 'timeline_ops', false)] };
  const spec =
    shown.size > 1
      ? { data: { values }, facet: { field: 'point', type: 'nominal', title: null, sort: { field: 'idx', op: 'min' } }, columns: 3, spec: unit }
      : { data: { values }, ...unit };
  return { spec: spec as unknown as TopLevelSpec, caption };
}

/** Summary rows of the first point, for the per-path charts of a sweep. */
function firstPointNote(shape: Shape): string {
  return shape.points.length > 1 ? ` The sweep's first point (${pointLabel(shape, shape.points[0]!)}) is shown.` : '';
}

function stagesChart(d: ResultData, shape: Shape): { spec?: TopLevelSpec; note?: string; caption: string } {
  const st = d.stages;
  const first = String(shape.points[0]);
  const caption =
    'Where the time goes: per path, the mean time per operation at each stage, visits_per_op × (wait_mean_ns + service_mean_ns), and below it (p99) the mean time at each stage of the slowest 1% of operations (tail_mean_ns, which adds up to their latency), averaged over replications.' +
    firstPointNote(shape);
  const rows = st.rows.filter((r) => col(st, 'point')(r) === first);
  if (rows.length === 0) return { note: 'stages.csv holds no stages for this result (a workload without stages): no stage chart.', caption };
  const order: string[] = [];
  const values: Datum[] = [];
  const bars: string[] = [];
  for (const [key, list] of groupBy(rows, (r) => `${col(st, 'path')(r)}\t${col(st, 'stage')(r)}\t${col(st, 'actor')(r)}`)) {
    const [path, stage, actor] = key.split('\t') as [string, string, string];
    if (!order.includes(stage)) order.push(stage);
    const ns = mean(list.map((r) => num(col(st, 'visits_per_op')(r)) * (num(col(st, 'wait_mean_ns')(r)) + num(col(st, 'service_mean_ns')(r)))));
    values.push({ bar: `${path} mean`, path, stage, actor, us: Number.isFinite(ns) ? ns / 1000 : 0, order: order.indexOf(stage) });
    // the tail: empty where the run records none (custom workloads)
    const tails = list.map((r) => col(st, 'tail_mean_ns')(r)).filter((v) => v !== '');
    if (tails.length > 0) {
      const tailNs = mean(tails.map((v) => num(v)));
      values.push({ bar: `${path} p99`, path, stage, actor, us: Number.isFinite(tailNs) ? tailNs / 1000 : 0, order: order.indexOf(stage) });
    }
  }
  for (const path of shape.paths) for (const kind of ['mean', 'p99']) if (values.some((v) => v['bar'] === `${path} ${kind}`)) bars.push(`${path} ${kind}`);
  const spec = {
    data: { values },
    width: 560,
    height: { step: 24 },
    name: 'stage_bar',
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'bar', type: 'nominal', title: null, sort: bars },
      x: { field: 'us', type: 'quantitative', stack: 'zero', title: 'time per operation (µs): mean, and of the slowest 1% (p99)' },
      color: { field: 'stage', type: 'nominal', sort: order, scale: { scheme: 'tableau20' }, title: 'stage' },
      order: { field: 'order', type: 'quantitative' },
      tooltip: [{ field: 'bar', title: 'path' }, { field: 'stage' }, { field: 'actor' }, { field: 'us', format: '.3f', title: 'µs per op' }],
    },
  };
  return { spec: spec as TopLevelSpec, caption };
}

const COST_METRICS = ['host_cpu_cores', 'exits_per_op', 'interrupts_per_op', 'kicks_per_op', 'copies_per_op'] as const;

function costChart(d: ResultData, shape: Shape): { spec?: TopLevelSpec; note?: string; caption: string } {
  const s = d.summary;
  const first = String(shape.points[0]);
  const values: Datum[] = [];
  for (const [path, rows] of groupBy(s.rows.filter((r) => col(s, 'point')(r) === first), col(s, 'path'))) {
    for (const m of COST_METRICS) values.push({ path, metric: m, value: mean(rows.map((r) => num(col(s, m)(r))).filter(Number.isFinite)) || 0 });
  }
  const spec = {
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', sort: [...COST_METRICS], title: null } },
    spec: {
      width: 130,
      height: { step: 22 },
      name: 'cost_bar',
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'path', type: 'nominal', title: null, sort: shape.paths },
        x: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'path', type: 'nominal', legend: null },
        tooltip: [{ field: 'path' }, { field: 'metric' }, { field: 'value', format: '.4f' }],
      },
    },
    resolve: { scale: { x: 'independent' } },
  };
  return { spec: spec as TopLevelSpec, caption: 'Cost per path: host cores used, and exits, interrupts, kicks and copies per operation (means over replications).' + firstPointNote(shape) };
}

function cpuChart(d: ResultData, shape: Shape): { spec?: TopLevelSpec; note?: string; caption: string } {
  const c = d.cpu;
  const first = String(shape.points[0]);
  const caption = 'CPU per thread: the fraction of the measurement window each thread was busy, and the fraction it spent polling, per path (means over replications).' + firstPointNote(shape);
  const rows = c.rows.filter((r) => col(c, 'point')(r) === first);
  if (rows.length === 0) return { note: 'cpu.csv holds no threads for this result (a custom workload has no host or guest threads): no CPU chart.', caption };
  const values: Datum[] = [];
  for (const [key, list] of groupBy(rows, (r) => `${col(c, 'path')(r)}\t${col(c, 'thread')(r)}`)) {
    const [path, thread] = key.split('\t') as [string, string];
    values.push({ path, thread, kind: 'busy', fraction: mean(list.map((r) => num(col(c, 'busy_fraction')(r)))) || 0 });
    values.push({ path, thread, kind: 'polling', fraction: mean(list.map((r) => num(col(c, 'poll_fraction')(r)))) || 0 });
  }
  const spec = {
    data: { values },
    facet: { row: { field: 'path', type: 'nominal', sort: shape.paths, title: null, header: { labelAngle: 0, labelAlign: 'left' } } },
    spec: {
      width: 420,
      height: { step: 12 },
      name: 'cpu_bar',
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'thread', type: 'nominal', title: null },
        yOffset: { field: 'kind', type: 'nominal', sort: ['busy', 'polling'] },
        x: { field: 'fraction', type: 'quantitative', scale: { domain: [0, 1] }, title: 'fraction of the window' },
        color: { field: 'kind', type: 'nominal', sort: ['busy', 'polling'], title: null, scale: { range: ['#4c78a8', '#f58518'] } },
        tooltip: [{ field: 'path' }, { field: 'thread' }, { field: 'kind' }, { field: 'fraction', format: '.3f' }],
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
  return { spec: spec as TopLevelSpec, caption };
}

// ---------------------------------------------------------------- tables

function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const SUMMARY_SHOWN = [
  'throughput_ops_per_s', 'latency_mean_ns', 'latency_p50_ns', 'latency_p99_ns', 'latency_p999_ns', 'exits_per_op', 'interrupts_per_op',
  'kicks_per_op', 'copies_per_op', 'syscalls_per_op', 'host_cpu_cores',
];

function fmt(n: number): string {
  if (!Number.isFinite(n)) return '';
  if (Math.abs(n) >= 1000) return n.toFixed(0);
  return String(Number(n.toPrecision(4)));
}

function summaryTable(d: ResultData, shape: Shape): string {
  const s = d.summary;
  const rows: string[][] = [];
  for (const [key, list] of groupBy(s.rows, (r) => `${col(s, 'point')(r)}\t${col(s, 'path')(r)}`)) {
    const [p, path] = key.split('\t') as [string, string];
    rows.push([p, pointLabel(shape, Number(p)), path, col(s, 'workload')(list[0]!), String(list.length), ...SUMMARY_SHOWN.map((c) => fmt(mean(list.map((r) => num(col(s, c)(r))).filter(Number.isFinite))))]);
  }
  const note = rows.length > MAX_TABLE_ROWS ? `<p class="note">The first ${MAX_TABLE_ROWS} of ${rows.length} (point, path) rows; summary.csv holds them all.</p>` : '';
  return `<p class="caption">One row per (point, path): means over its replications (summary.csv has one row per run).</p>${note}` +
    table(['point', 'swept values', 'path', 'workload', 'runs', ...SUMMARY_SHOWN], rows.slice(0, MAX_TABLE_ROWS));
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function manifestTables(d: ResultData, shape: Shape): string {
  const m = d.manifest as Record<string, unknown>;
  const scenario = (m['scenario'] ?? {}) as Record<string, unknown>;
  const workload = (scenario['workload'] ?? {}) as Record<string, unknown>;
  const facts: [string, unknown][] = [
    ['scenario', scenario['name']],
    ['scenario file', m['scenario_file']],
    ['workload', workload['kind']],
    ['paths', Array.isArray(m['paths']) ? (m['paths'] as unknown[]).join(', ') : shape.paths.join(', ')],
    ['sweep', scenario['sweep'] && Object.keys(scenario['sweep'] as object).length > 0 ? show(scenario['sweep']) : '(none)'],
    ['points × paths × replications', `${shape.points.length} × ${shape.paths.length} × ${shape.replications} = ${d.summary.rows.length} runs`],
    ['seed', m['seed']],
    ['overrides (--set)', Array.isArray(m['overrides']) && m['overrides'].length > 0 ? (m['overrides'] as unknown[]).join(' ') : '(none)'],
    ['iovsim version', m['version']],
    ['git revision', m['git_revision'] ?? '(not a checkout)'],
    ['node', m['node']],
    ['events processed', m['events_processed']],
    ['wall time (s)', m['wall_time_s']],
  ];
  const effective = (m['params'] ?? {}) as Record<string, unknown>;
  const set = (scenario['params'] ?? {}) as Record<string, unknown>;
  const defaults = new Map(registry.list().map((p) => [p.name, p.default as unknown]));
  const changed: string[][] = [];
  for (const [name, value] of Object.entries(effective)) {
    const def = defaults.get(name);
    if (def === undefined || show(def) !== show(value) || name in set) changed.push([name, show(value), def === undefined ? '(no default)' : show(def), name in set ? 'scenario' : 'derived']);
  }
  const params = changed.length === 0
    ? '<p class="note">Every parameter has its default value.</p>'
    : table(['parameter', 'value', 'default', 'set by'], changed);
  return table(['', ''], facts.map(([k, v]) => [k, v ?? ''])) + '<h3>Parameters changed from the defaults</h3>' + params;
}

// ---------------------------------------------------------------- page

const CSS = `
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1200px; color: #222; padding: 0 16px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
.caption { color: #444; font-size: 0.92em; } .note { color: #8a5a00; background: #fff8e6; padding: 6px 10px; }
figure { margin: 0; overflow-x: auto; } figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.82em; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; } th { background: #f4f4f4; }
td:nth-child(-n+3) { text-align: left; }
`;

/** Builds the report of a loaded result (no file written). */
export async function buildReport(d: ResultData): Promise<Report> {
  const shape = shapeOf(d);
  const makers: [Chart['file'], string, typeof cdfChart][] = [
    ['report-latency-cdf.svg', 'Latency CDF', cdfChart],
    ['report-percentiles.svg', 'p50 and p99 against the swept parameters', percentileChart],
    ['report-stages.svg', 'Where the time goes', stagesChart],
    ['report-cost.svg', 'Cost', costChart],
    ['report-cpu.svg', 'CPU per thread', cpuChart],
    // only for a run with a timeline or faults (it wrote timeline.csv)
    ...(d.timeline !== null ? [['report-timeline.svg', 'Over time: the events of the timeline', timelineChart] as [Chart['file'], string, typeof cdfChart]] : []),
  ];
  const charts: Chart[] = [];
  const svgs: Record<string, string> = {};
  for (const [file, title, make] of makers) {
    const { spec, note, caption } = make(d, shape);
    const chart: Chart = { file, title, caption, ...(note !== undefined ? { note } : {}) };
    if (spec) {
      chart.svg = await render(spec);
      svgs[file] = chart.svg;
    }
    charts.push(chart);
  }
  const m = d.manifest as Record<string, unknown>;
  const name = String(((m['scenario'] ?? {}) as Record<string, unknown>)['name'] ?? 'result');
  const sections = charts.map((c) =>
    `<section id="${c.file.replace(/\.svg$/, '')}"><h2>${esc(c.title)}</h2><p class="caption">${esc(c.caption)}</p>` +
    (c.svg ? `<figure>${c.svg.replace(/^<\?xml[^>]*>\s*/, '')}</figure><p class="caption">Also in ${esc(c.file)}.</p>` : `<p class="note">${esc(c.note ?? 'skipped')}</p>`) +
    '</section>');
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>iovsim report: ${esc(name)}</title><style>${CSS}</style></head>
<body>
<h1>iovsim report: ${esc(name)}</h1>
<p class="caption">${shape.points.length} point(s), ${shape.paths.length} path(s) (${esc(shape.paths.join(', '))}), ${shape.replications} replication(s); written by iovsim ${esc(String(m['version']))} from the files of this folder.</p>
${sections.join('\n')}
<section id="summary"><h2>Summary</h2>${summaryTable(d, shape)}</section>
<section id="manifest"><h2>Manifest</h2>${manifestTables(d, shape)}</section>
</body></html>
`;
  return { html, svgs, charts };
}

/** Writes a file through a temporary sibling and a rename (never half-written). */
function writeWhole(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Reads DIR, writes DIR/report.html and its SVGs (and removes SVGs of an earlier report that this one has not). */
export async function writeReport(dir: string): Promise<Report> {
  const report = await buildReport(loadResult(dir));
  for (const [file, svg] of Object.entries(report.svgs)) writeWhole(join(dir, file), svg);
  for (const f of readdirSync(dir)) {
    if ((REPORT_SVGS as readonly string[]).includes(f) && !(f in report.svgs)) rmSync(join(dir, f), { force: true });
  }
  writeWhole(join(dir, REPORT_HTML), report.html);
  return report;
}
