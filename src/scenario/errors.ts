/** Turns a zod error into one line: file, field path, bad value, what is allowed. */
import type { z } from 'zod';
import { didYouMean } from '../util/input-error.js';

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
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

function show(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return 'nothing';
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Known keys of the object schema at a path, for suggestions on unknown keys. */
function describeIssue(issue: z.core.$ZodIssue, root: unknown, knownKeys: (path: readonly PropertyKey[]) => string[]): string {
  const path = issue.path;
  const value = valueAt(root, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0]!;
      const at = formatPath([...path, key]);
      const known = knownKeys(path);
      return `${at}: unknown field${didYouMean(key, known)}${known.length > 0 ? `; allowed: ${known.join(', ')}` : ''}`;
    }
    case 'invalid_union': {
      const disc = (issue as { discriminator?: string }).discriminator;
      if (disc !== undefined || (issue as { note?: string }).note) {
        const field = disc ?? 'kind';
        const options = (issue as { options?: unknown[] }).options;
        const bad = valueAt(root, [...path, field]);
        return `${formatPath([...path, field])}: ${bad === undefined ? 'is required' : `unknown value ${show(bad)}`}${
          options ? `; allowed: ${options.map(String).join(', ')}` : ''
        }`;
      }
      return `${formatPath(path)}: ${issue.message}, got ${show(value)}`;
    }
    case 'invalid_type':
      if (value === undefined) return `${formatPath(path)}: is required (${issue.expected})`;
      return `${formatPath(path)}: must be ${issue.expected}, got ${show(value)}`;
    default:
      return `${formatPath(path)}: ${issue.message}${value === undefined ? '' : `, got ${show(value)}`}`;
  }
}

export function formatZodError(
  error: z.ZodError,
  root: unknown,
  knownKeys: (path: readonly PropertyKey[]) => string[] = () => [],
): string {
  // The deepest issue is usually the most precise one.
  const issues = [...error.issues].sort((a, b) => b.path.length - a.path.length);
  return describeIssue(issues[0]!, root, knownKeys);
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
    // Prefer the option whose literal `kind` matches the value.
    const kind = value !== null && typeof value === 'object' ? (value as { kind?: unknown }).kind : undefined;
    const matching = objects.filter((o) => {
      const k = defOf(o).shape?.['kind'];
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
