/**
 * Ctrl-C and SIGTERM: run the registered clean-ups (stop the progress bar, terminate
 * worker threads, remove staging folders), print one line and exit 130 (SIGINT) or 143
 * (SIGTERM). Installed as the process starts, so a signal at any moment is handled the
 * same way; the result folder is only ever replaced by one atomic rename, so an
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

/** Installs the SIGINT and SIGTERM handlers (once). */
export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
