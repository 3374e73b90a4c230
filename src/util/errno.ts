/** What an errno of a file operation means to a user, for one-line messages. */
const WORDS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
  EISDIR: 'is a folder',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for this process or file system',
  EIO: 'input/output error',
};

/** "permission denied, EACCES"; an error without a known code: its first line. */
export function describeErrno(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const word = WORDS[code] ?? ((e as Error).message?.split('\n')[0] ?? 'error');
  return code !== '' ? `${word}, ${code}` : word;
}
