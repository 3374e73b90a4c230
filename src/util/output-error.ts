/**
 * Writing a result failed part-way (a full disk, a file size limit): not bad input, but
 * not a bug either. The command prints its message as one line and exits with status 1;
 * the staging folder is gone and the previous result is untouched.
 */
export class OutputError extends Error {
  override readonly name = 'OutputError';
}
