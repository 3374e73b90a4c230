/**
 * Helpers for tests that run the built command (`node dist/bundle/iovsim.js`, what the
 * `iovsim` bin runs), as users do. `ensureBuilt()` compiles and bundles once when dist/
 * is older than src/ (the worker threads of --jobs need the compiled JS); a lock folder
 * keeps parallel test files from building at the same time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'bundle', 'iovsim.js');
/** The same command unbundled, as tsc emits it (it starts dist/src/scenario/worker.js). */
export const UNBUNDLED_CLI = join(ROOT, 'dist', 'src', 'cli.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const SMALL = join(FIXTURES, 'small.yaml');
/** Set-up hooks build and run the command several times: allow for a busy 2-core machine. */
export const HOOK_TIMEOUT_MS = 180_000;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  const outputs = [CLI, UNBUNDLED_CLI, join(ROOT, 'dist', 'bundle', 'worker.js'), join(ROOT, 'dist', 'src', 'scenario', 'worker.js')];
  if (!outputs.every(existsSync)) return false;
  const built = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  return built >= newestMtime(join(ROOT, 'src'));
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Builds dist/ when it is missing or older than src/. */
export function ensureBuilt(): void {
  if (isFresh()) return;
  const lock = join(ROOT, 'dist', '.test-build-lock');
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (waited > 120_000 || Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      sleepMs(200);
      if (isFresh()) return;
    }
  }
  try {
    // tsc emits even when another engineer's file has a type error; only the JS matters here.
    spawnSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', ROOT], { stdio: 'ignore' });
    spawnSync(join(ROOT, 'node_modules', '.bin', 'rolldown'), ['-c', 'rolldown.config.mjs', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'ignore' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  if (!existsSync(CLI)) throw new Error('the build did not produce dist/bundle/iovsim.js');
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built command and waits for it. */
export function runCli(args: readonly string[], cwd: string = ROOT): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the built command; the caller may signal it. */
export function startCli(args: readonly string[], cwd: string = ROOT) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((res) => {
    child.on('close', (status, signal) => res({ status, signal, stdout, stderr }));
  });
  return { child, done };
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `iovsim-${tag}-`));
}

/** Every file under a folder (relative name -> contents), hidden ones included. */
export function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
      if (e.isDirectory()) walk(join(d, e.name), rel);
      else out[rel] = readFileSync(join(d, e.name), 'utf8');
    }
  };
  walk(dir, '');
  return out;
}

/** The CSV files of a result folder. */
export function readCsvs(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.csv')).sort()) out[f] = readFileSync(join(dir, f), 'utf8');
  return out;
}

/** Parses a CSV with no quoted fields (all of ours but free-text ones) into objects. */
export function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trimEnd().split('\n');
  const cols = header!.split(',');
  return lines.map((l) => {
    const cells = l.split(',');
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? '']));
  });
}
