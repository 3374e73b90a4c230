/** Turns a zod error into one line: file, field path, bad value, what is allowed. */
import type { z } from 'zod';
import { clipText, didYouMean, showValue } from '../util/input-error.js';

/** A field path as users write it: `workload.stages[0].service_ns`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? clipText(String(p)) : `.${clipText(String(p))}`; // a pasted key stays short
  }
  return out === '' ? '(top level)' : out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

const show = showValue;

const EXPECTED: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function expected(name: string): string {
  return EXPECTED[name] ?? name;
}

type Issue = z.core.$ZodIssue;

/** Issues of a union's options, re-rooted at the union's path. */
function optionIssues(issue: Issue): Issue[][] {
  const errors = (issue as { errors?: Issue[][] }).errors ?? [];
  return errors.map((list) => list.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as Issue));
}

/** True when an option failed only because the value has another type (it is not the option the user meant). */
function isTypeMismatch(list: readonly Issue[], path: readonly PropertyKey[]): boolean {
  return list.length > 0 && list.every((i) => i.code === 'invalid_type' && i.path.length === path.length);
}

/** How deep an issue points (an unknown key points one level below its object). */
function depth(i: Issue): number {
  return i.path.length + (i.code === 'unrecognized_keys' ? 1 : 0);
}

/** The most precise issue: deepest first; at equal depth, unknown keys before missing ones. */
function pickIssue(issues: readonly Issue[]): Issue {
  return [...issues].sort((a, b) => depth(b) - depth(a) || Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'))[0]!;
}

function describeIssue(issue: Issue, root: unknown, knownKeys: (path: readonly PropertyKey[]) => string[]): string {
  const path = issue.path;
  const value = valueAt(root, path);
  const got = value === undefined ? '' : `, got ${show(value)}`;
  // YAML's .inf and .nan, JSON's 1e400: numbers to JavaScript, not to zod (or to a run).
  if (typeof value === 'number' && !Number.isFinite(value) && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
    return `${formatPath(path)}: must be a finite number${got}`;
  }
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0]!;
      const at = formatPath([...path, key]);
      const known = knownKeys(path);
      return `${at}: unknown field${didYouMean(key, known)}${known.length > 0 ? `; allowed: ${known.join(', ')}` : ''}`;
    }
    case 'invalid_union': {
      const disc = (issue as { discriminator?: string }).discriminator;
      if (disc !== undefined) {
        // zod puts the discriminator in the path already when the value has one.
        const at = path[path.length - 1] === disc ? path : [...path, disc];
        const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
        const bad = valueAt(root, at);
        if (bad === undefined) return `${formatPath(at)}: is required; allowed: ${options.join(', ')}`;
        return `${formatPath(at)}: unknown value ${show(bad)}${typeof bad === 'string' ? didYouMean(bad, options) : ''}; allowed: ${options.join(', ')}`;
      }
      const lists = optionIssues(issue);
      const meant = lists.filter((l) => !isTypeMismatch(l, path));
      if (meant.length > 0) {
        // Describe the failure inside the option whose shape the value has.
        return describeIssue(pickIssue(meant.map(pickIssue)), root, knownKeys);
      }
      if (issue.message !== 'Invalid input') return `${formatPath(path)}: ${issue.message}${got}`;
      const types = lists.flatMap((l) => l.map((i) => expected((i as { expected?: string }).expected ?? 'valid')));
      return `${formatPath(path)}: must be ${[...new Set(types)].join(' or ')}${got}`;
    }
    case 'invalid_type':
      if (value === undefined) return `${formatPath(path)}: is required (${expected(issue.expected)})`;
      return `${formatPath(path)}: must be ${expected(issue.expected)}${got}`;
    case 'too_small':
    case 'too_big': {
      const i = issue as { origin?: string; minimum?: number | bigint; maximum?: number | bigint; inclusive?: boolean };
      if (!/^Too (small|big)/.test(issue.message)) return `${formatPath(path)}: ${issue.message}${got}`;
      const isSmall = issue.code === 'too_small';
      const bound = String(isSmall ? i.minimum : i.maximum);
      if (i.origin === 'array') return `${formatPath(path)}: must have ${isSmall ? 'at least' : 'at most'} ${bound} entries${got}`;
      if (i.origin === 'string') return `${formatPath(path)}: must have ${isSmall ? 'at least' : 'at most'} ${bound} characters${got}`;
      const op = isSmall ? (i.inclusive ? '>=' : '>') : i.inclusive ? '<=' : '<';
      return `${formatPath(path)}: must be ${op} ${bound}${got}`;
    }
    case 'invalid_value': {
      const values = ((issue as { values?: unknown[] }).values ?? []).map((v) => String(v));
      const near = typeof value === 'string' ? didYouMean(value, values) : '';
      return `${formatPath(path)}: must be one of ${values.join(', ')}${got}${near}`;
    }
    default:
      return `${formatPath(path)}: ${issue.message}${got}`;
  }
}

/** One line for a zod error: its most precise issue, with the bad value and what is allowed. */
export function formatZodError(
  error: z.ZodError,
  root: unknown,
  knownKeys: (path: readonly PropertyKey[]) => string[] = () => [],
): string {
  return describeIssue(pickIssue(error.issues), root, knownKeys);
}

type AnyDef = { type: string; shape?: Record<string, unknown>; innerType?: unknown; options?: unknown[]; element?: unknown; valueType?: unknown; in?: unknown };
const defOf = (s: unknown): AnyDef => (s as { _zod: { def: AnyDef } })._zod.def;

/** The keys an object schema allows at a path of a value, following unions by the value. */
export function objectKeysAt(schema: unknown, root: unknown, path: readonly PropertyKey[]): string[] {
  const candidates = resolveAt(schema, root, path, 0);
  const keys = new Set<string>();
  for (const c of candidates) {
    const d = defOf(c);
    if (d.type === 'object' && d.shape) for (const k of Object.keys(d.shape)) keys.add(k);
  }
  return [...keys].sort();
}

function unwrap(schema: unknown): unknown {
  let s = schema;
  for (;;) {
    const d = defOf(s);
    if ((d.type === 'optional' || d.type === 'default' || d.type === 'nullable' || d.type === 'prefault') && d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else return s;
  }
}

function resolveAt(schema: unknown, value: unknown, path: readonly PropertyKey[], i: number): unknown[] {
  const s = unwrap(schema);
  const d = defOf(s);
  if (d.type === 'union' && d.options) {
    const objects = d.options.map(unwrap).filter((o) => defOf(o).type === 'object');
    // Prefer the option whose literal `kind` (or, for a discriminated union, its discriminator) matches the value.
    const tag = (d as { discriminator?: string }).discriminator ?? 'kind';
    const kind = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[tag] : undefined;
    const matching = objects.filter((o) => {
      const k = defOf(o).shape?.[tag];
      const kd = k ? (defOf(k) as { values?: unknown[] }) : undefined;
      return kd?.values?.includes(kind);
    });
    const chosen = matching.length > 0 ? matching : objects;
    return chosen.flatMap((o) => resolveAt(o, value, path, i));
  }
  if (i === path.length) return [s];
  const key = path[i]!;
  const next = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  if (d.type === 'object' && d.shape && typeof key === 'string' && key in d.shape) {
    return resolveAt(d.shape[key], next, path, i + 1);
  }
  if (d.type === 'array' && d.element) return resolveAt(d.element, next, path, i + 1);
  if (d.type === 'record' && d.valueType) return resolveAt(d.valueType, next, path, i + 1);
  return [];
}
