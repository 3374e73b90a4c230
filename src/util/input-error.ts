/**
 * Bad input from a user (scenario file, flag, override). The command prints its message
 * as one line on stderr and exits with status 2, writing no result files.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** Up to three known names closest to an unknown one, nearest first. */
export function closestNames(unknown: string, known: Iterable<string>, limit = 3): string[] {
  const scored: [string, number][] = [];
  for (const k of known) {
    const d = editDistance(unknown.toLowerCase(), k.toLowerCase());
    const contains = k.includes(unknown) || unknown.includes(k);
    scored.push([k, contains ? Math.min(d, 1) : d]);
  }
  const cutoff = Math.max(2, Math.ceil(unknown.length / 2));
  return scored
    .filter(([, d]) => d <= cutoff)
    .sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1))
    .slice(0, limit)
    .map(([k]) => k);
}

/** " (did you mean a, b?)" or "" when nothing is close. */
export function didYouMean(unknown: string, known: Iterable<string>): string {
  const near = closestNames(unknown, known);
  return near.length > 0 ? ` (did you mean ${near.join(', ')}?)` : '';
}
