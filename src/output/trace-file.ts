/**
 * The --trace file: checked before any simulation (a place we can write a file), written
 * at the end of a successful run through a temporary file beside it and a rename, so a
 * reader never sees half a trace and a failed run leaves the previous one.
 */
import { closeSync, openSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { InputError, showValue } from '../util/input-error.js';
import { OutputError } from '../util/output-error.js';

/** The most requests --trace-sample accepts (a trace of 10^5 journeys is already about 100 MB). */
export const MAX_TRACE_SAMPLE = 100_000;

/** Parses --trace-sample: a whole number of requests from 1 to MAX_TRACE_SAMPLE. */
export function parseTraceSample(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > MAX_TRACE_SAMPLE) {
    throw new InputError(`--trace-sample: must be a whole number of requests from 1 to ${MAX_TRACE_SAMPLE}, got ${showValue(text)}`);
  }
  return n;
}

function tempPathOf(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
}

/**
 * Checks --trace FILE: not a folder or a special file, not inside the output folder (which
 * is replaced at the end), and a file can be created beside it (tried: permission checks
 * alone miss read-only mounts and root). Returns the absolute path.
 */
export function checkTraceFile(text: string, outDir?: string): string {
  const target = resolve(text);
  let stat;
  try {
    stat = statSync(target);
  } catch {
    stat = null;
  }
  if (stat?.isDirectory()) throw new InputError(`--trace ${showValue(text)}: is a folder; give a file name, such as ${join(text, 'trace.json')}`);
  if (stat !== null && !stat.isFile()) throw new InputError(`--trace ${showValue(text)}: is not a regular file`);
  if (outDir !== undefined) {
    const rel = relative(resolve(outDir), target);
    if (rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'))) {
      throw new InputError(`--trace ${showValue(text)}: is inside the output folder, which the run replaces; put the trace beside it`);
    }
  }
  const temp = tempPathOf(target);
  try {
    closeSync(openSync(temp, 'wx'));
    unlinkSync(temp);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new InputError(`--trace ${showValue(text)}: cannot write a file in ${dirname(target)} (${code})`);
  }
  return target;
}

/** Writes the trace: a temporary file beside the target, then a rename over it. */
export function writeTraceFile(target: string, text: string): void {
  const temp = tempPathOf(target);
  try {
    writeFileSync(temp, text, { flag: 'w' });
    renameSync(temp, target);
  } catch (e) {
    try {
      unlinkSync(temp);
    } catch {
      // not created
    }
    throw new OutputError(`--trace ${target}: could not write the trace (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}
