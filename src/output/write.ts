/**
 * CSV rendering (fast-csv) and atomic folder writes.
 *
 * A run's files go to a fresh hidden sibling folder first (`.<name>.tmp-<pid>-<n>`),
 * which then replaces the target with renames, so an interrupted or failed run leaves
 * the previous result or none, never half a file. A process killed while staging leaves
 * its hidden sibling behind; the next write to the same target removes siblings whose
 * process is gone. `removeStagingFolders()` is for signal handlers.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FieldFormatter } from '@fast-csv/format/build/src/formatter/index.js';
import { FormatterOptions } from 'fast-csv';
import type { Row } from './rows.js';

/**
 * fast-csv's own field formatter (the class its CsvFormatterStream formats every field
 * with), used directly: the stream API costs about 6 us per row (latency.csv has some
 * 10^4 rows per task), the formatter alone a fraction of that, and both give the same
 * bytes (test/output/csv.test.ts checks against writeToString). Default options: comma,
 * double quote, "\n" rows, quoting only where needed.
 */
const fieldFormatter = new FieldFormatter(new FormatterOptions({}));

/**
 * One CSV field as fast-csv writes it. Numbers skip the formatter: String(n) never holds
 * a quote, comma, CR, LF, "|" or NUL, so fast-csv returns it unchanged.
 */
export function formatCsvField(value: string | number): string {
  return typeof value === 'number' ? String(value) : fieldFormatter.format(value, 0, false);
}

/** CSV cells joined by commas, without a line end. */
export function formatCsvCells(cells: readonly (string | number)[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) line += (i === 0 ? '' : ',') + formatCsvField(cells[i]!);
  return line;
}

/** One CSV line, ending in \n. */
export function formatCsvLine(cells: readonly (string | number)[]): string {
  return `${formatCsvCells(cells)}\n`;
}

/** Renders rows as RFC 4180 CSV lines (each ending in \n) for the given columns, no header. */
export function renderCsvBody(columns: readonly string[], extra: readonly string[], rows: readonly Row[]): string {
  const headers = [...columns, ...extra];
  let out = '';
  for (const r of rows) out += formatCsvLine(headers.map((h) => r[h] ?? ''));
  return out;
}

/** The header line of a CSV file. */
export function renderCsvHeader(columns: readonly string[]): string {
  return formatCsvLine(columns);
}

/** Renders rows as RFC 4180 CSV with the given columns first, then extra columns (param.*). */
export function renderCsv(columns: readonly string[], extra: readonly string[], rows: readonly Row[]): string {
  return renderCsvHeader([...columns, ...extra]) + renderCsvBody(columns, extra, rows);
}

let tempCounter = 0;
const activeStaging = new Set<string>();

/** A sibling temp folder name unique to this process. */
function tempSibling(dir: string, tag: 'tmp' | 'old'): string {
  return join(dirname(dir), `.${basename(dir)}.${tag}-${process.pid}-${tempCounter++}`);
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes hidden siblings of `target` left by processes that were killed while writing it. */
export function removeStaleSiblings(target: string): void {
  const prefix = `.${basename(target)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(tmp|old)-(\d+)-\d+$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && !isProcessAlive(pid)) rmSync(join(dirname(target), name), { recursive: true, force: true });
  }
}

/** Removes the staging folders this process is writing (for a signal handler about to exit). */
export function removeStagingFolders(): void {
  for (const dir of activeStaging) rmSync(dir, { recursive: true, force: true });
  activeStaging.clear();
}

/** Writes the files (already rendered) and swaps the folder into place. */
export function writeFolderAtomically(dir: string, files: Readonly<Record<string, string>>): void {
  const target = resolve(dir);
  mkdirSync(dirname(target), { recursive: true });
  removeStaleSiblings(target);
  const staging = tempSibling(target, 'tmp');
  activeStaging.add(staging);
  mkdirSync(staging);
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(staging, name), text);
    if (existsSync(target)) {
      const old = tempSibling(target, 'old');
      renameSync(target, old);
      renameSync(staging, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(staging, target);
    }
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  } finally {
    activeStaging.delete(staging);
  }
}
