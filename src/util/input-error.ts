/**
 * Bad input from a user (scenario file, flag, override). The command prints its message
 * as one line on stderr and exits with status 2, writing no result files.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** The most characters of a value (or a key) a message quotes. */
export const MAX_QUOTED_CHARS = 100;

/** Text cut at `max` characters, with "..." when cut: a pasted 5 MB value stays out of messages. */
export function clipText(text: string, max = MAX_QUOTED_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}

/**
 * A value as a message quotes it: JSON, cut at about MAX_QUOTED_CHARS characters; numbers
 * JSON cannot spell by name (Infinity, -Infinity, NaN: JSON.stringify says null).
 */
export function showValue(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(clipText(v));
  let s: string | undefined;
  try {
    s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
  } catch {
    s = String(v); // a cycle
  }
  return s === undefined ? 'nothing' : clipText(s);
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
  // No name is this long; comparing a pasted megabyte with each would take minutes.
  if (unknown.length > MAX_QUOTED_CHARS) return [];
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
