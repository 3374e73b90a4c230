/**
 * Writes a run's files into a folder atomically: everything goes to a fresh sibling
 * folder first, which then replaces the target with renames, so an interrupted or
 * failed run leaves the previous result or none, never half a file.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeToString } from 'fast-csv';
import type { Row } from './rows.js';

export interface CsvFile {
  name: string;
  columns: readonly string[];
  rows: readonly Row[];
}

/** Renders rows as RFC 4180 CSV with the given columns first, then extra columns (param.*). */
export async function renderCsv(columns: readonly string[], extra: readonly string[], rows: readonly Row[]): Promise<string> {
  const headers = [...columns, ...extra];
  const body = await writeToString(
    rows.map((r) => headers.map((h) => r[h] ?? '')),
    { headers: headers, writeHeaders: true, includeEndRowDelimiter: true },
  );
  return rows.length === 0 ? `${headers.join(',')}\n` : body;
}

let tempCounter = 0;

/** A sibling temp folder name unique to this process. */
function tempSibling(dir: string, tag: string): string {
  return join(dirname(dir), `.${basename(dir)}.${tag}-${process.pid}-${tempCounter++}`);
}

/** Writes the files (already rendered) and swaps the folder into place. */
export function writeFolderAtomically(dir: string, files: Readonly<Record<string, string>>): void {
  const target = resolve(dir);
  mkdirSync(dirname(target), { recursive: true });
  const staging = tempSibling(target, 'tmp');
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
  }
}
