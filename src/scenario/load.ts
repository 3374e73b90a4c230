/**
 * From a scenario file (and --set overrides) to a validated plan: sweep points, each
 * with its workload and resolved parameters, and the paths to run them on.
 * Every failure is an InputError naming the file and the field.
 */
import { choiceOfNumber, params as paramRegistry, type ParamValues } from '../calibration/index.js';
import { PATHS, findPath } from '../paths/index.js';
import { SUMMARY_COLUMNS, TIMELINE_SUMMARY_COLUMNS } from '../output/rows.js';
import { InputError, clipText, didYouMean, showValue } from '../util/input-error.js';
import { readInputFile } from '../util/read-input.js';
import { workloadSchema, type WorkloadInput } from '../workloads/index.js';
import { formatPath, formatZodError, objectKeysAt } from './errors.js';
import { MAX_DEPTH, RESERVED_KEYS, parseScenarioText, parseSetText, reservedPart } from './parse-text.js';
import { checkSetups } from './setup-check.js';
import { hasSweptValues } from './validation.js';
import { scenarioSchema, type ScalarValue, type Scenario } from './schema.js';
import { faultsSchema, timelineSchema, toTimelineInput, type TimelineInput } from '../timeline/schema.js';

/** One point of a sweep: its swept values, workload and resolved parameters. */
export interface SweepPoint {
  index: number;
  /** The swept keys and their values at this point, in sweep order. */
  values: Readonly<Record<string, ScalarValue>>;
  workload: WorkloadInput;
  params: ParamValues;
  /** The point's timeline and faults (sweeps may change timeline.N.field); absent: none. */
  timeline?: TimelineInput;
}

/** A validated scenario, expanded: what to run (plain data, so it can go to workers and shards). */
export interface Plan {
  /** Where the scenario came from, for messages. */
  source: string;
  scenario: Scenario;
  /** The swept keys, in column order. */
  sweepKeys: string[];
  points: SweepPoint[];
  paths: string[];
  /** Block runs also hand over fio's figures (fio.json: `run --output-format fio-json`). */
  fioFigures?: boolean;
  /** --trace: the task whose requests are followed into a trace (TaskOutput.trace), and how many. */
  trace?: { task: number; sample: number };
}

/** Reads YAML or JSON (parse-text.ts says what it refuses); a syntax error is bad input. */
export function readScenarioFile(file: string): unknown {
  return parseScenarioText(readInputFile(file), file);
}

/** Splits "name=value" overrides; a malformed one is bad input. */
export function parseSets(sets: readonly string[]): [string, unknown][] {
  return sets.map((s) => {
    const eq = s.indexOf('=');
    const name = eq > 0 ? s.slice(0, eq).trim() : '';
    if (name === '' || !/^[A-Za-z0-9_.-]+$/.test(name)) {
      throw new InputError(`--set ${showValue(s)}: expected name=value, e.g. --set workload.ops=10000 or --set kvm.exit_user_ns=3200`);
    }
    const reserved = reservedPart(name);
    if (reserved !== undefined) {
      throw new InputError(`--set ${clipText(name)}: "${reserved}" is a reserved name, not a field; names with a part ${RESERVED_KEYS.join(', ')} are not allowed`);
    }
    if (name.split('.').length > MAX_DEPTH) throw new InputError(`--set ${clipText(name)}: more than ${MAX_DEPTH} dotted parts; at most ${MAX_DEPTH}`);
    const text = s.slice(eq + 1);
    const value = parseSetText(text, name);
    // A string parameter keeps its text: YAML would read virtio.version=1.1 as the number 1.1 (and 1.0 as 1).
    // A number that is not a choice's text stands for the choice it spells, as in a file (1 -> "1.0").
    const def = paramRegistry.get(name.replace(/^params\./, ''));
    const isStringParam = def !== undefined && typeof def.default === 'string' && !name.startsWith('workload.');
    if (!isStringParam || typeof value === 'string') return [name, value];
    const spelled = typeof value === 'number' && def.choices && !def.choices.includes(text.trim()) ? choiceOfNumber(def.choices, value) : undefined;
    return [name, spelled ?? text.trim()];
  });
}

/** Top-level scenario fields --set can change (besides workload.*, sweep.*, params.* and parameter names). */
export const TOP_LEVEL_SET_KEYS = ['name', 'description', 'seed', 'replications', 'paths', 'timeline', 'faults', 'timeline_bucket_ms'];

/** Applies overrides to the raw file object: workload.x.y fields, top-level keys, or params. */
export function applySets(raw: unknown, sets: readonly [string, unknown][]): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw as Record<string, unknown>;
  const out = structuredClone(raw) as Record<string, unknown>;
  for (const [key, value] of sets) {
    const where = `--set ${key}`;
    if (key.startsWith('workload.') || key.startsWith('timeline.') || key.startsWith('faults.')) {
      setPath(out, key.split('.'), value, where);
    } else if (key.startsWith('sweep.')) {
      // Sweep keys are dotted names themselves: sweep.<key> or sweep.zip.<key>.
      const rest = key.slice('sweep.'.length);
      const isZip = rest.startsWith('zip.');
      setPath(out, isZip ? ['sweep', 'zip', rest.slice('zip.'.length)] : ['sweep', rest], value, where);
    } else if (TOP_LEVEL_SET_KEYS.includes(key)) {
      out[key] = key === 'paths' && typeof value === 'string' ? value.split(',').map((p) => p.trim()) : value;
    } else {
      const name = key.startsWith('params.') ? key.slice('params.'.length) : key;
      if (!paramRegistry.has(name)) {
        const known = [...paramRegistry.names(), ...TOP_LEVEL_SET_KEYS, 'workload.<field>', 'sweep.<name>', 'timeline.<i>.<field>'];
        throw new InputError(
          `${where}: unknown parameter or field ${showValue(key)}${didYouMean(name, known)}; allowed: a parameter (iovsim list params), workload.<field>, sweep.<name>, timeline.<i>.<field>, faults.<i>.<field>, ${TOP_LEVEL_SET_KEYS.join(', ')}`,
        );
      }
      const p = out['params'];
      out['params'] = { ...(p !== null && typeof p === 'object' && !Array.isArray(p) ? p : {}), [name]: value };
    }
  }
  return out;
}

function setPath(root: Record<string, unknown>, parts: string[], value: unknown, where: string): void {
  if (parts.some((p) => p === '')) throw new InputError(`${where}: empty field name in "${clipText(parts.join('.'))}"`);
  // Callers refuse these first; never assign one (it would reach Object.prototype).
  const reserved = parts.find((p) => RESERVED_KEYS.includes(p));
  if (reserved !== undefined) throw new InputError(`${where}: "${reserved}" is a reserved name, not a field`);
  let node: unknown = root;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const isLast = i === parts.length - 1;
    const at = parts.slice(0, i + 1).join('.');
    if (Array.isArray(node)) {
      const idx = Number(part);
      if (!/^\d+$/.test(part) || idx >= node.length) {
        throw new InputError(`${where}: ${clipText(at)}: a list index from 0 to ${node.length - 1} is needed here, got ${showValue(part)}`);
      }
      if (isLast) node[idx] = value;
      else node = node[idx];
      continue;
    }
    const obj = node as Record<string, unknown>;
    if (isLast) {
      obj[part] = value;
      break;
    }
    // Own fields only: "toString" is not a field of a scenario's mapping.
    const next = Object.hasOwn(obj, part) ? obj[part] : undefined;
    if (next === undefined || next === null) obj[part] = {};
    else if (typeof next !== 'object') throw new InputError(`${where}: ${clipText(at)} is ${showValue(next)}, not a mapping or list`);
    node = obj[part];
  }
}

/** The most points a sweep may have. */
export const MAX_SWEEP_POINTS = 100_000;
/** The most values a sweep's lists may hold together (a zip of many keys multiplies them). */
export const MAX_SWEEP_VALUES = 1_000_000;

/**
 * The sweep's size from its lists' lengths alone, before any value is validated or any
 * point built: a million-value list used to take seconds and a gigabyte to be refused.
 * Shapes are left to the schema (a zip's longest list counts; unequal ones are its error).
 */
function checkSweepSize(raw: Record<string, unknown>, source: string): void {
  const sweep = raw['sweep'];
  if (sweep === null || typeof sweep !== 'object' || Array.isArray(sweep)) return;
  let points = 1;
  let values = 0;
  for (const [key, v] of Object.entries(sweep)) {
    const isZip = key === 'zip' && v !== null && typeof v === 'object' && !Array.isArray(v);
    let longest = 0;
    for (const list of isZip ? Object.values(v) : [v]) {
      if (!Array.isArray(list)) continue;
      longest = Math.max(longest, list.length);
      values += list.length;
    }
    if (longest > 0) points *= longest;
  }
  if (points > MAX_SWEEP_POINTS) {
    const count = Number.isSafeInteger(points) ? String(points) : `more than ${Number.MAX_SAFE_INTEGER}`;
    throw new InputError(`${source}: sweep: ${count} points; at most ${MAX_SWEEP_POINTS}`);
  }
  if (values > MAX_SWEEP_VALUES) throw new InputError(`${source}: sweep: ${values} values in its lists; at most ${MAX_SWEEP_VALUES}`);
}

/** A point's timeline: the scenario's, or its own when the sweep changes a timeline field. */
function pointTimeline(scenario: Scenario, swept: Record<string, unknown> | null, source: string, index: number, values: Record<string, ScalarValue>): TimelineInput | null {
  if (swept === null) return toTimelineInput(scenario.timeline, scenario.faults, scenario.timeline_bucket_ms);
  const at = `${source}: sweep point ${index} (${describeValues(values)})`;
  const t = timelineSchema.safeParse(swept['timeline']);
  if (!t.success) throw new InputError(`${at}: timeline${formatZodError(t.error, swept['timeline']).replace(/^(\d)/, '.$1')}`);
  const f = faultsSchema.safeParse(swept['faults']);
  if (!f.success) throw new InputError(`${at}: faults${formatZodError(f.error, swept['faults']).replace(/^(\d)/, '.$1')}`);
  return toTimelineInput(t.data, f.data, scenario.timeline_bucket_ms);
}

/** Validates a raw scenario object and expands its sweep. */
/** Options of planning. */
export interface PlanOptions {
  /**
   * Called with the expanded plan before each task's set-up is checked (which costs a
   * set-up per point and path): the plan-size check, so that a plan too large to run is
   * refused at once.
   */
  beforeSetUp?: (plan: Plan) => void;
}

export function planScenario(raw: unknown, source: string, options: PlanOptions = {}): Plan {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    const got = raw === null || raw === undefined ? 'an empty file' : Array.isArray(raw) ? 'a list' : showValue(raw);
    throw new InputError(`${source}: (top level): must be a mapping with at least name and workload, got ${got}`);
  }
  checkSweepSize(raw as Record<string, unknown>, source);
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InputError(`${source}: ${formatZodError(parsed.error, raw, (p) => objectKeysAt(scenarioSchema, raw, p))}`);
  }
  const scenario = parsed.data;
  checkDroppedKeys(raw as Record<string, unknown>, scenario, source);
  for (const [k, v] of Object.entries(scenario.params)) {
    if (!paramRegistry.has(k)) {
      throw new InputError(`${source}: params.${k}: unknown parameter${didYouMean(k, paramRegistry.names())}; ${allowedParams()}`);
    }
    scenario.params[k] = canonical(k, v, paramRegistry.check(k, v, `${source}: params`));
  }

  const isCustom = scenario.workload.kind === 'custom';
  const paths = resolvePaths(scenario, source, isCustom);

  // Sweep dimensions: each plain key is one list; `zip` is one dimension of paired lists.
  const dims: { keys: string[]; rows: ScalarValue[][] }[] = [];
  for (const [key, value] of Object.entries(scenario.sweep ?? {})) {
    if (key === 'zip') {
      const lists = value as Record<string, ScalarValue[]>;
      for (const k of Object.keys(lists)) lists[k] = canonicalList(k, lists[k]!, `${source}: sweep.zip`);
      const keys = Object.keys(lists);
      const n = lists[keys[0]!]!.length;
      dims.push({ keys, rows: Array.from({ length: n }, (_, i) => keys.map((k) => lists[k]![i]!)) });
    } else {
      const list = canonicalList(key, value as ScalarValue[], `${source}: sweep`);
      scenario.sweep![key] = list;
      dims.push({ keys: [key], rows: list.map((v) => [v]) });
    }
  }
  const sweepKeys = dims.flatMap((d) => d.keys);
  const seenKeys = new Set<string>();
  for (const d of dims) {
    for (const key of d.keys) {
      const at = d.keys.length > 1 || (scenario.sweep && !(key in scenario.sweep)) ? `sweep.zip.${key}` : `sweep.${key}`;
      if (seenKeys.has(key)) throw new InputError(`${source}: ${at}: swept twice (once plainly and once under zip); keep one`);
      seenKeys.add(key);
      if (key === 'workload.kind') throw new InputError(`${source}: ${at}: the workload kind cannot be swept; write one scenario per kind`);
    }
  }
  for (const key of sweepKeys) {
    if (/^(timeline|faults)\.\d+\.[a-z_]+$/.test(key)) continue;
    if (!key.startsWith('workload.') && !paramRegistry.has(key)) {
      throw new InputError(
        `${source}: sweep.${key}: unknown parameter${didYouMean(key, paramRegistry.names())}; sweep workload.<field> or ${allowedParams()}`,
      );
    }
  }

  const pointCount = dims.reduce((n, d) => n * d.rows.length, 1);
  if (pointCount > MAX_SWEEP_POINTS) throw new InputError(`${source}: sweep: ${pointCount} points; at most ${MAX_SWEEP_POINTS}`);
  const combos: ScalarValue[][] = [[]];
  for (const d of dims) {
    const next: ScalarValue[][] = [];
    for (const c of combos) for (const row of d.rows) next.push([...c, ...row]);
    combos.splice(0, combos.length, ...next);
  }

  const rawWorkload = (raw as Record<string, unknown>)['workload'];
  const rawTimeline = { timeline: (raw as Record<string, unknown>)['timeline'] ?? [], faults: (raw as Record<string, unknown>)['faults'] ?? [] };
  const points = combos.map((combo, index): SweepPoint => {
    const values: Record<string, ScalarValue> = {};
    sweepKeys.forEach((k, i) => (values[k] = combo[i]!));
    const overrides: Record<string, unknown> = { ...scenario.params };
    const workloadRaw = structuredClone(rawWorkload) as Record<string, unknown>;
    let timelineRaw: Record<string, unknown> | null = null;
    for (const [k, v] of Object.entries(values)) {
      if (k.startsWith('workload.')) setPath({ workload: workloadRaw }, k.split('.'), v, `${source}: sweep.${k}`);
      else if (k.startsWith('timeline.') || k.startsWith('faults.')) {
        timelineRaw ??= structuredClone(rawTimeline);
        setPath(timelineRaw, k.split('.'), v, `${source}: sweep.${k}`);
      } else overrides[k] = v;
    }
    const timeline = pointTimeline(scenario, timelineRaw, source, index, values);
    const w = workloadSchema.safeParse(workloadRaw);
    if (!w.success) {
      const line = formatZodError(w.error, workloadRaw, (p) => objectKeysAt(workloadSchema, workloadRaw, p));
      throw new InputError(`${source}: sweep point ${index} (${describeValues(values)}): workload.${line}`);
    }
    return { index, values, workload: w.data, params: paramRegistry.resolve(overrides, `${source}: sweep`), ...(timeline ? { timeline } : {}) };
  });
  const isSwept = sweepKeys.length > 0;
  options.beforeSetUp?.({ source, scenario, sweepKeys, points, paths });
  checkSetups(points, paths, source, scenario.seed, (p) => (isSwept ? `sweep point ${p.index} (${describeValues(p.values)})` : ''));
  checkValidationTargets(scenario, paths, points, sweepKeys, source);
  return { source, scenario, sweepKeys, points, paths };
}

/**
 * A validation target must name a numeric summary column, a path of the run and swept
 * keys, and each selection must match exactly one sweep point. Its where values are made
 * canonical here, as the sweep's are (virtio.version: 1.0 -> "1.0"), so that they compare
 * equal to the param.* cells.
 */
function checkValidationTargets(scenario: Scenario, paths: string[], points: readonly SweepPoint[], sweepKeys: string[], source: string): void {
  const hasTimeline = points.some((p) => p.timeline !== undefined);
  const numeric = [...SUMMARY_COLUMNS, ...(hasTimeline ? TIMELINE_SUMMARY_COLUMNS : [])].filter((c) => !['scenario', 'point', 'path', 'workload', 'replication', 'seed'].includes(c));
  (scenario.validation ?? []).forEach((t, i) => {
    const at = `${source}: validation[${i}]`;
    if (t.metric === 'cpu.busy_fraction') {
      if (t.thread === undefined) throw new InputError(`${at}.thread: metric cpu.busy_fraction needs the thread (a cpu.csv name, e.g. vm0/qemu-main)`);
    } else if (t.thread !== undefined) {
      throw new InputError(`${at}.thread: only metric cpu.busy_fraction reads a thread`);
    } else if (!(numeric as readonly string[]).includes(t.metric)) {
      throw new InputError(`${at}.metric: unknown summary column ${showValue(t.metric)}${didYouMean(t.metric, numeric)}; allowed: ${numeric.join(', ')}, cpu.busy_fraction`);
    }
    for (const [sel, name] of [[t, ''], [t.relative_to, '.relative_to']] as const) {
      if (sel === undefined) continue;
      if (sel.path === undefined && paths.length > 1) throw new InputError(`${at}${name}.path: the scenario runs ${paths.join(', ')}; say which`);
      if (sel.path !== undefined && !paths.includes(sel.path)) {
        throw new InputError(`${at}${name}.path: ${showValue(sel.path)} is not among the scenario's paths (${paths.join(', ')})`);
      }
      const where = sel.where ?? {};
      for (const [k, v] of Object.entries(where)) {
        if (!sweepKeys.includes(k)) throw new InputError(`${at}${name}.where.${k}: not a swept key (swept: ${sweepKeys.join(', ') || 'none'})`);
        if (!k.startsWith('workload.') && paramRegistry.has(k)) where[k] = canonical(k, v, paramRegistry.check(k, v, `${at}${name}.where`));
      }
      checkSelectsOnePoint(where, points, sweepKeys, `${at}${name}.where`);
    }
  });
}

/** A selection's where values must match exactly one sweep point (every path runs every point). */
function checkSelectsOnePoint(where: Readonly<Record<string, ScalarValue>>, points: readonly SweepPoint[], sweepKeys: readonly string[], at: string): void {
  const matched = points.filter((p) => hasSweptValues(where, (k) => p.values[k]));
  if (matched.length === 1) return;
  const distinct = (key: string, among: readonly SweepPoint[]): string[] => [...new Set(among.map((p) => String(p.values[key])))];
  if (matched.length === 0) {
    const swept = Object.keys(where).map((k) => `${k}: ${distinct(k, points).join(', ')}`);
    throw new InputError(`${at}: matches no sweep point (swept values of ${swept.join('; ')})`);
  }
  const unnamed = sweepKeys.filter((k) => !(k in where) && distinct(k, matched).length > 1);
  throw new InputError(
    unnamed.length > 0
      ? `${at}: matches ${matched.length} sweep points; name ${unnamed.join(', ')} too`
      : `${at}: matches ${matched.length} sweep points with the same swept values; list each swept value once`,
  );
}

/**
 * A parameter value as the plan keeps it: a string parameter's number becomes the choice it
 * spells (YAML reads virtio.version: 1.0 as 1; the plan, manifest and param.* columns say
 * "1.0", as if it had been quoted). Other values stay as written.
 */
function canonical(name: string, raw: ScalarValue, checked: ScalarValue): ScalarValue {
  return typeof checked === 'string' && typeof raw === 'number' && paramRegistry.get(name) !== undefined ? checked : raw;
}

/** A sweep list with string parameters' numbers canonical (a new list; the file's is unchanged). */
function canonicalList(key: string, list: ScalarValue[], where: string): ScalarValue[] {
  const def = paramRegistry.get(key);
  if (key.startsWith('workload.') || def === undefined || typeof def.default !== 'string') return list;
  return list.map((v) => canonical(key, v, paramRegistry.check(key, v, where)));
}

/**
 * zod's records drop a key named __proto__ (assigning it sets the prototype instead): a
 * params or sweep key of the file that did not survive parsing is refused, not ignored.
 */
function checkDroppedKeys(raw: Record<string, unknown>, scenario: Scenario, source: string): void {
  const ownKeys = (v: unknown): string[] => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : []);
  for (const k of ownKeys(raw['params'])) {
    if (!Object.hasOwn(scenario.params, k)) throw new InputError(`${source}: params.${k}: unknown parameter; ${allowedParams()}`);
  }
  const sweep = raw['sweep'];
  for (const k of ownKeys(sweep)) {
    if (!Object.hasOwn(scenario.sweep ?? {}, k)) throw new InputError(`${source}: sweep.${k}: unknown parameter; sweep workload.<field> or ${allowedParams()}`);
  }
  const zip = (sweep as Record<string, unknown> | undefined)?.['zip'];
  const parsedZip = scenario.sweep?.['zip'] ?? {};
  for (const k of ownKeys(zip)) {
    if (!Object.hasOwn(parsedZip, k)) throw new InputError(`${source}: sweep.zip.${k}: unknown parameter; sweep workload.<field> or ${allowedParams()}`);
  }
}

/** "allowed: a, b, c" for a few parameters, or a pointer to the full list. */
function allowedParams(): string {
  const names = paramRegistry.names();
  if (names.length === 0) return 'no parameters are registered yet';
  return names.length <= 8 ? `parameters: ${names.join(', ')}` : `parameters: see iovsim list params (${names.length} of them)`;
}

function describeValues(values: Record<string, ScalarValue>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
}

function resolvePaths(scenario: Scenario, source: string, isCustom: boolean): string[] {
  const kind = scenario.workload.kind;
  if (isCustom) {
    const bad = (scenario.paths ?? []).findIndex((p) => p !== 'custom');
    if (bad >= 0) {
      const name = scenario.paths![bad]!;
      throw new InputError(
        `${source}: paths[${bad}]: ${name === '' || !/^[a-z]/i.test(name) ? showValue(name) : `path ${showValue(name)}`}${didYouMean(name, ['custom', ...PATHS.map((p) => p.name)])} cannot run the custom workload; it runs without a path: omit paths or write [custom]`,
      );
    }
    if ((scenario.paths?.length ?? 0) > 1) throw new InputError(`${source}: paths: list custom once`);
    return ['custom'];
  }
  const supporting = PATHS.filter((p) => p.workloads.includes(kind)).map((p) => p.name);
  const names = scenario.paths ?? supporting;
  const seen = new Set<string>();
  names.forEach((name, i) => {
    const path = findPath(name);
    if (!path) {
      throw new InputError(
        `${source}: paths[${i}]: unknown path ${showValue(name)}${didYouMean(name, PATHS.map((p) => p.name))}; allowed: ${PATHS.map((p) => p.name).join(', ')}`,
      );
    }
    if (!path.workloads.includes(kind)) {
      throw new InputError(`${source}: paths[${i}]: path ${showValue(name)} cannot run workload ${kind}; it runs ${path.workloads.join(', ')}`);
    }
    if (seen.has(name)) throw new InputError(`${source}: paths[${i}]: ${showValue(name)} is listed twice`);
    seen.add(name);
  });
  if (names.length === 0) throw new InputError(`${source}: workload.kind: no path runs ${kind} yet`);
  return names;
}

/** Loads, overrides and plans a scenario file. */
export function loadPlan(file: string, sets: readonly string[] = [], seed?: number, options: PlanOptions = {}): Plan {
  let raw = readScenarioFile(file);
  const overrides = parseSets(sets);
  if (seed !== undefined) overrides.push(['seed', seed]);
  raw = applySets(raw, overrides);
  return withSetBlame(() => planScenario(raw, file, options), sets);
}

/**
 * Runs a planning step; when its error is about a field an override set, the message
 * says so ("... (from --set workload.ops=abc)").
 */
export function withSetBlame<T>(step: () => T, sets: readonly string[]): T {
  try {
    return step();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    for (const s of [...sets].reverse()) {
      const key = s.slice(0, Math.max(0, s.indexOf('='))).trim();
      if (key === '') continue;
      const fields = ['workload.', 'sweep.', 'timeline.', 'faults.'].some((prefix) => key.startsWith(prefix)) || TOP_LEVEL_SET_KEYS.includes(key)
        ? [key, key.replace(/\.(\d+)(?=\.|$)/g, '[$1]')]
        : [`params.${key.replace(/^params\./, '')}`];
      if (fields.some((f) => e.message.includes(`${f}:`) || e.message.includes(`${f}[`) || e.message.includes(`${f}.`))) {
        throw new InputError(`${e.message} (from --set ${clipText(s)})`);
      }
    }
    throw e;
  }
}

export { formatPath };
