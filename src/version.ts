/** Tool name and version, read from package.json at startup (outside the model). */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function findPackageJson(): { name: string; version: string } {
  for (const up of ['..', '../..']) {
    try {
      return JSON.parse(readFileSync(join(here, up, 'package.json'), 'utf8')) as { name: string; version: string };
    } catch {
      // try the next level: src/ under dist/ is one deeper
    }
  }
  return { name: 'iovsim', version: 'unknown' };
}

export const TOOL = findPackageJson();

/** The git revision of the tool's checkout, when it is one. */
export function gitRevision(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: here, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}
