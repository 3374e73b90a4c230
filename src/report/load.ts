/**
 * Reading a result folder for `iovsim report`: checks that it is an iovsim result of a
 * compatible version with the columns the report needs (else InputError, exit 2), and
 * aggregates as it reads, so that a 1,000-run sweep costs a few seconds, not minutes.
 * latency.csv, the largest file by far, is never held as rows: its counts are summed per
 * (point, path, latency bucket) over the replications while it is parsed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../util/input-error.js';
import { TOOL } from '../version.js';
import { CPU_COLUMNS, LATENCY_COLUMNS, STAGE_COLUMNS, SUMMARY_COLUMNS, TIMELINE_COLUMNS } from '../output/rows.js';

/** A parsed CSV: its header and its rows as cells (strings). */
export interface Csv {
  cols: string[];
  rows: string[][];
}

/** One CSV line's cells; quoted fields ("a,b", "say ""x""") are read as CSV writes them. */
function splitLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cell);
      cell = '';
    } else cell += c;
  }
  out.push(cell);
  return out;
}

function readText(dir: string, name: string): string {
  const file = join(dir, name);
  let ok = false;
  try {
    ok = statSync(file).isFile();
  } catch {
    ok = false;
  }
  if (!ok) throw new InputError(`${dir}: has no ${name} (a result holds summary.csv, latency.csv, stages.csv, cpu.csv, exits.csv and manifest.json)`);
  return readFileSync(file, 'utf8');
}

function header(text: string, dir: string, name: string, required: readonly string[]): string[] {
  const end = text.indexOf('\n');
  const cols = splitLine((end < 0 ? text : text.slice(0, end)).replace(/\r$/, ''));
  const missing = required.filter((c) => !cols.includes(c));
  if (missing.length > 0) {
    throw new InputError(`${join(dir, name)}: lacks column(s) ${missing.join(', ')}; not a result of this iovsim version (${TOOL.version}): run it again`);
  }
  return cols;
}

/** A whole CSV (small files: summary, stages, cpu). */
function readCsv(dir: string, name: string, required: readonly string[]): Csv {
  const text = readText(dir, name);
  const cols = header(text, dir, name, required);
  const rows: string[][] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!.replace(/\r$/, '');
    if (l !== '') rows.push(splitLine(l));
  }
  return { cols, rows };
}

/** latency.csv summed over replications: per "point\tpath", bucket latency [ns] -> count. */
export type LatencyBuckets = Map<string, Map<number, number>>;

function readLatency(dir: string): LatencyBuckets {
  const text = readText(dir, 'latency.csv');
  const cols = header(text, dir, 'latency.csv', LATENCY_COLUMNS);
  const iPoint = cols.indexOf('point');
  const iPath = cols.indexOf('path');
  const iLat = cols.indexOf('latency_ns');
  const iCount = cols.indexOf('count');
  const out: LatencyBuckets = new Map();
  let pos = text.indexOf('\n') + 1;
  let lastKey = '';
  let last: Map<number, number> | undefined;
  while (pos > 0 && pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end);
    pos = end + 1;
    if (line === '') continue;
    const cells = splitLine(line);
    const key = `${cells[iPoint]}\t${cells[iPath]}`;
    if (key !== lastKey || last === undefined) {
      last = out.get(key);
      if (last === undefined) out.set(key, (last = new Map()));
      lastKey = key;
    }
    const lat = Number(cells[iLat]);
    const n = Number(cells[iCount]);
    if (Number.isFinite(lat) && Number.isFinite(n)) last.set(lat, (last.get(lat) ?? 0) + n);
  }
  return out;
}

export interface Manifest {
  tool: string;
  version: string;
  [k: string]: unknown;
}

/** What the report reads of a result folder. */
export interface ResultData {
  dir: string;
  manifest: Manifest;
  summary: Csv;
  stages: Csv;
  cpu: Csv;
  latency: LatencyBuckets;
  /** timeline.csv of a run with a timeline or faults; null without one. */
  timeline: Csv | null;
}

function major(version: string): string {
  return version.split('.')[0] ?? version;
}

/** Checks `dir` is a result of a compatible iovsim and reads it; InputError (exit 2) otherwise. */
export function loadResult(dir: string): ResultData {
  if (!existsSync(dir)) throw new InputError(`${dir}: no such folder`);
  if (!statSync(dir).isDirectory()) throw new InputError(`${dir}: is not a folder; report reads a result folder (iovsim run --out DIR)`);
  const file = join(dir, 'manifest.json');
  let manifest: Manifest | undefined;
  try {
    if (statSync(file).isFile()) {
      const m = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (m !== null && typeof m === 'object' && (m as { tool?: unknown }).tool === TOOL.name) manifest = m as Manifest;
    }
  } catch {
    manifest = undefined;
  }
  if (manifest === undefined) throw new InputError(`${dir}: not an iovsim result (no manifest.json written by ${TOOL.name})`);
  const version = typeof manifest.version === 'string' ? manifest.version : '';
  if (major(version) !== major(TOOL.version)) {
    throw new InputError(`${dir}: a result of iovsim ${version || '(no version)'}, incompatible with this iovsim ${TOOL.version} (major version differs); run it again with this version`);
  }
  const summary = readCsv(dir, 'summary.csv', SUMMARY_COLUMNS);
  if (summary.rows.length === 0) throw new InputError(`${join(dir, 'summary.csv')}: holds no runs; nothing to report`);
  return {
    dir,
    manifest,
    summary,
    stages: readCsv(dir, 'stages.csv', STAGE_COLUMNS),
    cpu: readCsv(dir, 'cpu.csv', CPU_COLUMNS),
    latency: readLatency(dir),
    timeline: existsSync(join(dir, 'timeline.csv')) ? readCsv(dir, 'timeline.csv', TIMELINE_COLUMNS) : null,
  };
}
