/**
 * A result folder, written so that it is never lost or half-written.
 *
 * - The target is checked before any simulation: it must be writable, and hold an iovsim
 *   result or nothing (the swap replaces the whole folder).
 * - A lock beside it (`.<name>.lock`, created exclusively, holding the process id) keeps
 *   a second writer out; a lock whose process is gone is taken over.
 * - Files go to a fresh hidden sibling (`.<name>.tmp-<pid>-<n>`) as the run produces them,
 *   which then replaces the target with two renames (target -> `.<name>.old-<pid>-<n>`,
 *   staging -> target). Killed between the two, the target is missing and the old result
 *   sits in the `.old-` sibling: the next writer puts it back before anything else.
 * - A write that fails part-way (a full disk) removes the staging folder; the previous
 *   result is untouched.
 */
import {
  closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, statfsSync,
  unlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describeErrno } from '../util/errno.js';
import { InputError } from '../util/input-error.js';
import { OutputError } from '../util/output-error.js';
import { TOOL } from '../version.js';

/** The files an iovsim result folder (a run's, a merge's or a shard's) can hold. */
export const RESULT_FILES: ReadonlySet<string> = new Set([
  'summary.csv', 'latency.csv', 'stages.csv', 'cpu.csv', 'exits.csv', 'timeline.csv', 'manifest.json', 'shard.json', 'tasks.jsonl', 'fio.json',
  // iovsim report (src/report/report.ts REPORT_HTML, REPORT_SVGS)
  'report.html', 'report-latency-cdf.svg', 'report-percentiles.svg', 'report-stages.svg', 'report-cost.svg', 'report-cpu.svg', 'report-timeline.svg',
]);

/** Below this much free space the target's disk is called full before a run starts [bytes]. */
const MIN_FREE_BYTES = 1 << 20;

let tempCounter = 0;
/** Staging folders and locks this process holds (removed by a signal handler). */
const activeStaging = new Set<string>();
const heldLocks = new Set<string>();

/** A sibling name unique to this process. */
function tempSibling(target: string, tag: 'tmp' | 'old'): string {
  return join(dirname(target), `.${basename(target)}.${tag}-${process.pid}-${tempCounter++}`);
}

function lockPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.lock`);
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A path for a message: at most about 100 characters, its middle cut. */
function shorten(path: string): string {
  return path.length <= 100 ? path : `${path.slice(0, 48)}...${path.slice(-48)}`;
}

/** The nearest ancestor of `dir` (itself included) that exists and is not a folder, if any. */
function fileAncestor(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    try {
      return statSync(d).isDirectory() ? undefined : d;
    } catch {
      if (dirname(d) === d) return undefined;
    }
  }
}

/**
 * Refuses an output folder that is a file, or a non-empty folder that is not an iovsim
 * result (the atomic swap replaces the whole folder): a result holds only the files
 * iovsim writes, and a manifest.json that names iovsim as its tool.
 */
export function checkOutFolder(dir: string, flag = '--out'): void {
  if (!existsSync(dir)) return;
  const st = statSync(dir);
  if (!st.isDirectory()) throw new InputError(`${flag} ${dir}: exists and is not a folder`);
  const entries = readdirSync(dir);
  if (entries.length === 0) return;
  const stranger = entries.find((e) => !RESULT_FILES.has(e));
  if (stranger !== undefined) {
    throw new InputError(`${flag} ${dir}: not an iovsim result (it holds ${stranger}, which no result contains); it would be replaced, so choose another folder`);
  }
  if (!entries.includes('manifest.json')) {
    throw new InputError(
      `${flag} ${dir}: is a non-empty folder without manifest.json, not an iovsim result; it would be replaced, so choose another folder`,
    );
  }
  let tool: unknown;
  try {
    // (a FIFO or device named manifest.json would block or never end: only a regular file is read)
    const manifest = join(dir, 'manifest.json');
    tool = statSync(manifest).isFile() ? (JSON.parse(readFileSync(manifest, 'utf8')) as { tool?: unknown } | null)?.tool : undefined;
  } catch {
    tool = undefined;
  }
  if (tool !== TOOL.name) {
    throw new InputError(`${flag} ${dir}: not an iovsim result (its manifest.json was not written by ${TOOL.name}); it would be replaced, so choose another folder`);
  }
}

/**
 * Takes the lock of `target` (created exclusively, holding this process's id); a lock
 * left by a process that is gone is taken over. A live holder is bad input: exit 2.
 */
/** `flag` names the flag and the folder, for messages. */
function takeLock(target: string, flag: string): string {
  const lock = lockPath(target);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      heldLocks.add(lock);
      return lock;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new InputError(`${flag}: cannot write there (${describeErrno(e)})`);
      }
    }
    let text = '';
    try {
      text = readFileSync(lock, 'utf8');
    } catch {
      continue; // released meanwhile: try again
    }
    const holder = Number(text.trim());
    if (Number.isInteger(holder) && holder > 0 && isProcessAlive(holder)) {
      throw new InputError(`${flag}: another iovsim (process ${holder}) is writing this folder; wait for it to end, or choose another folder (lock ${lock})`);
    }
    // Left by a process that is gone (or unreadable): remove it unless someone took it meanwhile.
    try {
      if (readFileSync(lock, 'utf8') === text) unlinkSync(lock);
    } catch {
      // gone already
    }
  }
  throw new InputError(`${flag}: could not take the lock ${lock}; other iovsim processes keep taking it`);
}

function releaseLock(lock: string): void {
  if (!heldLocks.delete(lock)) return;
  try {
    if (readFileSync(lock, 'utf8').trim() === String(process.pid)) unlinkSync(lock);
  } catch {
    // already gone
  }
}

/**
 * Tidies what killed writers left beside `target`: an old result whose swap was cut
 * between its two renames goes back in place (when the target is missing), then every
 * staging or old folder of a dead process is removed. Returns a line for the user when
 * a result was restored. Call with the lock held.
 */
export function recoverSiblings(target: string): string | undefined {
  const prefix = `.${basename(target)}.`;
  const parent = dirname(target);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return undefined;
  }
  const dead: { name: string; tag: string; pid: number; n: number }[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(tmp|old)-(\d+)-(\d+)$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && !isProcessAlive(pid)) dead.push({ name, tag: m[1]!, pid, n: Number(m[3]) });
  }
  let restored: string | undefined;
  if (!existsSync(target)) {
    // Normally there is one; after several killed writers, the one set aside last is the latest result.
    const setAsideMs = (name: string): number => {
      try {
        return statSync(join(parent, name)).ctimeMs;
      } catch {
        return -Infinity;
      }
    };
    const old = dead.filter((d) => d.tag === 'old').sort((a, b) => setAsideMs(b.name) - setAsideMs(a.name) || b.n - a.n)[0];
    if (old) {
      renameSync(join(parent, old.name), target);
      dead.splice(dead.indexOf(old), 1);
      restored = `restored the previous result in ${target} from ${old.name}, left by process ${old.pid}, which was killed while replacing it`;
    }
  }
  for (const d of dead) rmSync(join(parent, d.name), { recursive: true, force: true });
  return restored;
}

/** Removes the staging folders and locks this process holds (for a signal handler about to exit). */
export function removeStagingFolders(): void {
  for (const dir of activeStaging) rmSync(dir, { recursive: true, force: true });
  activeStaging.clear();
  for (const lock of [...heldLocks]) releaseLock(lock);
}

/** Options of ResultFolder.open. */
export interface OpenOptions {
  /** The flag named in messages (default --out). */
  flag?: string;
  /** Told about a restored result (stderr by default). */
  notice?: (line: string) => void;
}

/** A result folder being written: files are appended as the run produces them, then committed. */
export class ResultFolder {
  private readonly fds = new Map<string, number>();
  private isClosed = false;

  private constructor(
    readonly target: string,
    private readonly staging: string,
    private readonly lock: string,
    private readonly flag: string,
  ) {}

  /**
   * Checks and claims `dir` before a run: takes its lock, restores a result a killed
   * writer left aside, checks it holds an iovsim result or nothing, and creates the
   * staging folder. Every failure is an InputError (exit 2), and leaves nothing behind.
   */
  static open(dir: string, options: OpenOptions = {}): ResultFolder {
    const flag = `${options.flag ?? '--out'} ${shorten(dir)}`;
    const target = resolve(dir);
    const parent = dirname(target);
    const file = fileAncestor(parent);
    if (file !== undefined) throw new InputError(`${flag}: ${shorten(file)} is a file, not a folder`);
    try {
      mkdirSync(parent, { recursive: true });
    } catch (e) {
      throw new InputError(`${flag}: cannot create its parent folder (${describeErrno(e)})`);
    }
    const lock = takeLock(target, flag);
    let staging: string | undefined;
    try {
      const restored = recoverSiblings(target);
      if (restored !== undefined) (options.notice ?? ((l) => process.stderr.write(`iovsim: ${l}\n`)))(restored);
      checkOutFolder(target, options.flag ?? '--out');
      try {
        const fs = statfsSync(parent);
        const freeBytes = fs.bavail * fs.bsize;
        if (freeBytes < MIN_FREE_BYTES) {
          throw new InputError(`${flag}: the disk holding it is full (${Math.floor(freeBytes / 1024)} KiB free); free some space or choose another folder`);
        }
      } catch (e) {
        if (e instanceof InputError) throw e;
        // statfs not supported here: the writes will tell
      }
      staging = tempSibling(target, 'tmp');
      try {
        mkdirSync(staging);
      } catch (e) {
        staging = undefined;
        throw new InputError(`${flag}: cannot write there (${describeErrno(e)})`);
      }
      activeStaging.add(staging);
      return new ResultFolder(target, staging, lock, flag);
    } catch (e) {
      if (staging !== undefined) {
        rmSync(staging, { recursive: true, force: true });
        activeStaging.delete(staging);
      }
      releaseLock(lock);
      throw e;
    }
  }

  /** The hidden folder the files are written to until commit (for a step that reads them back, such as the report). */
  get stagingDir(): string {
    return this.staging;
  }

  /** Appends text to one of the folder's files (created on first use). */
  append(name: string, text: string): void {
    if (this.isClosed) throw new Error(`result folder ${this.target}: append after commit or abort`);
    try {
      let fd = this.fds.get(name);
      if (fd === undefined) {
        fd = openSync(join(this.staging, name), 'wx');
        this.fds.set(name, fd);
      }
      if (text.length > 0) writeSync(fd, text);
    } catch (e) {
      this.abort();
      const kept = existsSync(this.target) ? 'the previous result is kept' : 'nothing was written';
      throw new OutputError(`${this.flag}: writing ${name} failed (${describeErrno(e)}); ${kept}`);
    }
  }

  private closeFiles(): void {
    for (const fd of this.fds.values()) {
      try {
        closeSync(fd);
      } catch {
        // closing after a failed write
      }
    }
    this.fds.clear();
  }

  /** Swaps the staging folder into place and releases the lock. */
  commit(): void {
    if (this.isClosed) throw new Error(`result folder ${this.target}: commit after commit or abort`);
    this.closeFiles();
    try {
      if (existsSync(this.target)) {
        const old = tempSibling(this.target, 'old');
        renameSync(this.target, old);
        renameSync(this.staging, this.target);
        rmSync(old, { recursive: true, force: true });
      } else {
        renameSync(this.staging, this.target);
      }
    } catch (e) {
      this.abort();
      throw new OutputError(`${this.flag}: could not put the result in place (${describeErrno(e)}); the previous result is kept`);
    }
    this.isClosed = true;
    activeStaging.delete(this.staging);
    releaseLock(this.lock);
  }

  /** Removes the staging folder and releases the lock; the target is untouched. */
  abort(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeFiles();
    rmSync(this.staging, { recursive: true, force: true });
    activeStaging.delete(this.staging);
    releaseLock(this.lock);
  }
}

/** Writes the files (already rendered) and swaps the folder into place. */
export function writeFolderAtomically(dir: string, files: Readonly<Record<string, string>>, options: OpenOptions = {}): void {
  const folder = ResultFolder.open(dir, options);
  for (const [name, text] of Object.entries(files)) folder.append(name, text);
  folder.commit();
}
