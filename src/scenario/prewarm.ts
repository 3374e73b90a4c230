/**
 * What the `iovsim` process does before anything else (cli.ts imports this module first;
 * ES modules evaluate their imports in order, so this body runs before the heavy modules
 * such as zod, yaml and the path models are evaluated):
 * - installs the Ctrl-C / SIGTERM handlers (util/interrupt.ts), with the clean-ups that
 *   terminate worker threads and remove staging folders;
 * - for `run` and `compare`, starts the worker threads, so that their module loading
 *   (about 0.2 s) overlaps the main thread's.
 * It only reads the command line, and only acts when the process runs the CLI itself.
 * Anything unusual (help, a bad --jobs) starts no workers; the CLI then reports as usual.
 */
import { realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { removeStagingFolders } from '../output/result-folder.js';
import { installInterruptHandlers, onInterrupt } from '../util/interrupt.js';
import { prewarmWorkers, terminateWorkers } from './pool.js';

function isCliProcess(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    // The compiled command (dist/src/cli.js), or the bundle this module was bundled into.
    const path = realpathSync(script);
    return path === fileURLToPath(new URL('../cli.js', import.meta.url)) || path === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

function jobsFromArgv(args: readonly string[]): number | undefined {
  let text: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--jobs') text = args[i + 1];
    else if (a.startsWith('--jobs=')) text = a.slice('--jobs='.length);
  }
  if (text === undefined) return availableParallelism();
  return /^\d+$/.test(text) && Number(text) >= 1 ? Number(text) : undefined;
}

if (isCliProcess()) {
  installInterruptHandlers();
  onInterrupt(() => void terminateWorkers(true));
  onInterrupt(removeStagingFolders);
  const args = process.argv.slice(2).filter((a) => a !== '--debug'); // a global option may come first
  const isRun = args[0] === 'run' || args[0] === 'compare';
  if (isRun && !args.includes('--help') && !args.includes('-h')) {
    const jobs = jobsFromArgv(args);
    if (jobs !== undefined) prewarmWorkers(Math.min(jobs, availableParallelism()));
  }
}
