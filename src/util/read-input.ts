/**
 * Reading a user's input file (a scenario, a calibration target): a regular file of
 * bounded size, read with that bound, so that no file name can make the command block
 * (a FIFO without a writer), deaf to Ctrl-C, or read without end (/dev/zero).
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { describeErrno } from './errno.js';
import { InputError } from './input-error.js';

/** The most bytes an input file may hold: a scenario is a few KiB; this leaves room for long sweeps. */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;
const MAX_INPUT_TEXT = '4 MiB';

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}


/**
 * The text of an input file (UTF-8, a leading byte order mark dropped). Opened without
 * blocking (a FIFO's open waits for a writer otherwise) and checked with fstat before any
 * read: anything but a regular file is refused; then at most MAX_INPUT_BYTES + 1 bytes are
 * read, whatever size the file claims (it may grow while read).
 */
export function readInputFile(file: string, what = 'scenario file'): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new InputError(`${file}: cannot read the ${what}: ${describeErrno(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputError(`${file}: is not a regular file (${kindOf(st)}); the ${what} must be a file of at most ${MAX_INPUT_TEXT}`);
    if (st.size > MAX_INPUT_BYTES) throw tooLarge(file, what);
    const buf = Buffer.allocUnsafe(MAX_INPUT_BYTES + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > MAX_INPUT_BYTES) throw tooLarge(file, what);
    }
    return decode(buf.subarray(0, got), file, what);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${file}: cannot read the ${what}: ${describeErrno(e)}`);
  } finally {
    closeSync(fd);
  }
}

function tooLarge(file: string, what: string): InputError {
  return new InputError(`${file}: is larger than ${MAX_INPUT_TEXT}, the most a ${what} may hold`);
}

/** UTF-8 text; invalid UTF-8 or a NUL byte means a binary file, not YAML or JSON. */
function decode(bytes: Uint8Array, file: string, what: string): string {
  let text: string;
  try {
    // ignoreBOM false: a leading byte order mark is dropped (editors on Windows write one).
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new InputError(`${file}: is not UTF-8 text (a binary file?); the ${what} must be YAML or JSON text`);
  }
  const nul = text.indexOf('\0');
  if (nul >= 0) throw new InputError(`${file}: holds a NUL character at character ${nul} (a binary file?); the ${what} must be YAML or JSON text`);
  return text;
}
