/**
 * Ctrl-C and SIGTERM: run the registered clean-ups (stop the progress bar, terminate
 * worker threads, remove staging folders), print one line and exit 130 (SIGINT) or 143
 * (SIGTERM). Installed as the process starts, so a signal at any moment is handled the
 * same way, except during long synchronous work before anything needs cleaning up
 * (withDefaultSignals), where the signal's default action ends the process at once; the result folder is only ever replaced by one atomic rename, so an
 * interrupted run leaves the previous result (or, if the rename already happened, the
 * complete new one, which the message then says).
 */

const cleanups = new Set<() => void>();
let installed = false;
let writtenTo: string | undefined;

/** Registers a clean-up; returns a function that unregisters it. */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Records that the result folder is in place (the message after a late signal says so). */
export function markResultWritten(dir: string): void {
  writtenTo = dir;
}

function runCleanups(): void {
  for (const c of [...cleanups].reverse()) {
    try {
      c();
    } catch {
      // exiting anyway
    }
  }
}

/** Runs the registered clean-ups and exits now (a signal, or standard output gone). */
export function exitAfterCleanups(code: number): never {
  runCleanups();
  process.exit(code);
}

function handle(signal: NodeJS.Signals): void {
  runCleanups();
  const what = writtenTo === undefined ? 'no result written' : `the result in ${writtenTo} was already complete`;
  process.stderr.write(`iovsim: interrupted by ${signal}; ${what}\n`);
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

/**
 * Runs synchronous work (reading, parsing and planning a scenario: seconds for a large
 * sweep) with the signals' default action. A handler runs only when the event loop is
 * free, so during such work Ctrl-C would wait for its end; with the default action it ends
 * the process at once (the shell sees status 130, or 143 for SIGTERM, as from the
 * handler). Only for work done before anything exists that a clean-up must undo: workers
 * started ahead of time end with the process, and no staging folder exists yet.
 */
export async function withDefaultSignals<T>(work: () => T): Promise<T> {
  if (!installed) return work();
  // A signal already caught but not yet dispatched is dropped with its handler: first let
  // the event loop deliver it (two turns: the first may end without polling again).
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  process.removeListener('SIGINT', handle);
  process.removeListener('SIGTERM', handle);
  try {
    return work();
  } finally {
    process.on('SIGINT', handle);
    process.on('SIGTERM', handle);
  }
}

/** Installs the SIGINT and SIGTERM handlers (once). */
export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
