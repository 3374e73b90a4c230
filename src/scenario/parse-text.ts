/**
 * Scenario text (a file, or a --set value) to a plain tree of mappings, lists and scalars,
 * refusing what YAML or JSON allow but a scenario must not hold:
 * - a key given twice (JSON.parse keeps the last one silently; YAML's own check names no key);
 * - a key named __proto__, constructor or prototype, or a dotted key with such a part
 *   (sweep.workload.__proto__.ops): assigning one changes an object's prototype;
 * - nesting deeper than MAX_DEPTH, found before a recursive parser can overflow the stack;
 * - a YAML alias that refers back to a mapping or list holding it (a cycle), an alias bomb
 *   (yaml's maxAliasCount), and more values than the YAML reader handles in about a second.
 * Every refusal names the key path (or the line, before there is a tree).
 */
import { Lexer, LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { InputError, clipText } from '../util/input-error.js';
import { formatPath } from './errors.js';

/** The deepest nesting a scenario may have (its deepest real field is about 6 levels down). */
export const MAX_DEPTH = 64;
/**
 * The most values (scalars, aliases) a YAML scenario may hold: the yaml package needs about
 * 5 us and 1 KB per value, so a million-value list took seconds and a gigabyte to refuse.
 * A sweep has at most 100,000 points; this leaves room for two such lists.
 */
export const MAX_YAML_VALUES = 250_000;
/** yaml's guard against alias bombs (aliases' expanded sizes, counted against the document). */
const MAX_ALIAS_COUNT = 100;
/** Keys that would reach an object's prototype (or a constructor) when assigned. */
export const RESERVED_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

type Path = PropertyKey[];

/** A refusal before or after parsing: where (a key path, or a line) and what is wrong. */
class Problem {
  constructor(
    readonly path: Path | undefined,
    readonly what: string,
    readonly line?: number,
    /** For a cycle: the path of the mapping or list it refers back to. */
    readonly target?: Path,
  ) {}
}

const ALIAS_BOMB = `YAML aliases that would expand to too many values (an alias bomb); an anchor's values may be repeated by aliases about ${MAX_ALIAS_COUNT} times`;
const DEPTH_PROBLEM = `nested more than ${MAX_DEPTH} levels deep; at most ${MAX_DEPTH} are allowed`;

/** The reserved part of a key ("__proto__" in "workload.__proto__.ops"), or undefined. */
export function reservedPart(key: string): string | undefined {
  return key.split('.').find((part) => RESERVED_KEYS.includes(part));
}

function reservedProblem(path: Path, part: string): Problem {
  return new Problem(path, `"${part}" is a reserved name, not a field; keys named ${RESERVED_KEYS.join(', ')} are not allowed`);
}

/** A key path for a message, its parts and its whole length cut when a pasted key is huge. */
export function showPath(path: readonly PropertyKey[]): string {
  const text = formatPath(path.map((p) => (typeof p === 'string' ? clipText(p, 60) : p)));
  return text.length <= 160 ? text : `${text.slice(0, 100)}...${text.slice(-50)}`;
}

function describe(problem: Problem, root: Path): string {
  if (problem.path === undefined) return problem.line === undefined ? problem.what : `line ${problem.line}: ${problem.what}`;
  const at = showPath([...root, ...problem.path]);
  if (problem.target === undefined) return `${at}: ${problem.what}`;
  const target = problem.target.length + root.length === 0 ? 'the top level' : showPath([...root, ...problem.target]);
  return `${at}: refers back to ${target}, which holds it (a YAML alias cycle); ${problem.what}`;
}

/**
 * The first problem of a parsed tree: nesting deeper than MAX_DEPTH (counting `depth0`
 * levels above it), a cycle, or a reserved key. Values reached twice without a cycle (a
 * YAML alias used twice) are walked each time: yaml's maxAliasCount keeps that small.
 */
function checkTree(value: unknown, depth0 = 0): Problem | undefined {
  const ancestors: object[] = [];
  const path: Path = [];
  const walk = (v: unknown, depth: number): Problem | undefined => {
    if (v === null || typeof v !== 'object') return undefined;
    if (depth > MAX_DEPTH) return new Problem([...path], DEPTH_PROBLEM);
    const back = ancestors.indexOf(v);
    if (back >= 0) return new Problem([...path], 'a scenario is a tree: write the values out', undefined, path.slice(0, back));
    ancestors.push(v);
    const entries: [PropertyKey, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, x] of entries) {
      path.push(k);
      const part = typeof k === 'string' ? reservedPart(k) : undefined;
      const found = part !== undefined ? reservedProblem([...path], part) : walk(x, depth + 1);
      path.pop();
      if (found) return found;
    }
    ancestors.pop();
    return undefined;
  };
  return walk(value, depth0 + 1);
}

/**
 * One pass over JSON text, before JSON.parse: the first place nested deeper than MAX_DEPTH
 * (JSON.parse and what follows it recurse), and the first key given twice in one object.
 * Strings are skipped whole, so brackets and quotes inside them do not count. Text that is
 * not JSON may confuse it; JSON.parse then says what is wrong.
 */
function scanJson(text: string): { deep?: Problem; duplicate?: Problem } {
  interface Frame {
    isList: boolean;
    index: number;
    key: string | undefined;
    keys: Map<string, number> | undefined;
    expectKey: boolean;
  }
  const frames: Frame[] = [];
  const pathOf = (): Path => frames.map((f) => (f.isList ? f.index : (f.key ?? '')));
  let line = 1;
  let duplicate: Problem | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) line++;
    else if (c === 0x22) {
      // a string: find its closing quote, stepping over escapes
      let j = i + 1;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) j += 2;
        else if (d === 0x22) break;
        else j++;
      }
      const top = frames[frames.length - 1];
      if (top && !top.isList && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          key = text.slice(i + 1, j);
        }
        top.expectKey = false;
        top.key = key;
        const first = top.keys!.get(key);
        if (first !== undefined && duplicate === undefined) {
          duplicate = new Problem(pathOf(), `given twice (lines ${first} and ${line}); give each key once`);
        }
        top.keys!.set(key, line);
      }
      for (let k = i; k < j && k < text.length; k++) if (text.charCodeAt(k) === 0x0a) line++;
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      // { or [
      if (frames.length >= MAX_DEPTH) return { deep: new Problem(pathOf(), DEPTH_PROBLEM) };
      const isList = c === 0x5b;
      frames.push({ isList, index: 0, key: undefined, keys: isList ? undefined : new Map(), expectKey: !isList });
    } else if (c === 0x7d || c === 0x5d) {
      if (frames.pop() === undefined) break;
    } else if (c === 0x2c) {
      const top = frames[frames.length - 1];
      if (top?.isList) top.index++;
      else if (top) top.expectKey = true;
    }
  }
  return duplicate ? { duplicate } : {};
}

/**
 * One pass over YAML tokens (yaml's lexer is fast and does not recurse), before the parser
 * and composer (which recurse, and cost microseconds and a kilobyte per value): the first
 * flow collection nested deeper than MAX_DEPTH, or a count of values above MAX_YAML_VALUES.
 * Block nesting deeper than the parser's stack is found as its error; shallower, by checkTree.
 */
function scanYaml(text: string): Problem | undefined {
  let line = 1;
  let flowDepth = 0;
  let values = 0;
  for (const token of new Lexer().lex(text)) {
    const c = token.charCodeAt(0);
    if (token === '[' || token === '{') {
      if (++flowDepth > MAX_DEPTH) return new Problem(undefined, DEPTH_PROBLEM, line);
    } else if (token === ']' || token === '}') flowDepth--;
    else if (c === 0x1f || c === 0x22 || c === 0x27 || c === 0x2a || c === 0x7c || c === 0x3e) {
      // a plain scalar (U+001F marks it), a quoted one, an alias (*), a block scalar (| or >)
      if (++values > MAX_YAML_VALUES) {
        return new Problem(undefined, `more than ${MAX_YAML_VALUES} values; at most ${MAX_YAML_VALUES} in a YAML scenario (a sweep has at most 100000 points)`, line);
      }
    }
    for (let k = token.indexOf('\n'); k >= 0; k = token.indexOf('\n', k + 1)) line++;
  }
  return undefined;
}

/** The key a mapping's key node becomes in the parsed object (yaml's own conversion). */
function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null || key.value === undefined ? '' : String(key.value);
  return undefined;
}

/**
 * The first key given twice in a YAML mapping (as the parsed object would hold it: 1 and
 * "1" are the same key there), the first key that is not a scalar, or a reserved key.
 * Aliases are not followed (their anchors are checked where they are defined).
 */
function checkYamlKeys(root: unknown, lines: LineCounter): Problem | undefined {
  const path: Path = [];
  const lineOf = (n: Node | null | undefined): number => (n?.range ? lines.linePos(n.range[0]).line : 0);
  const walk = (node: unknown, depth: number): Problem | undefined => {
    if (isAlias(node)) return undefined;
    if ((isMap(node) || isSeq(node)) && depth > MAX_DEPTH) return new Problem([...path], DEPTH_PROBLEM);
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        const key = keyText(pair.key);
        if (key === undefined) return new Problem([...path], `a key must be a name, not a list or mapping (line ${lineOf(pair.key as Node)})`);
        path.push(key);
        const first = seen.get(key);
        const line = lineOf(pair.key as Node);
        const part = reservedPart(key);
        const found =
          first !== undefined
            ? new Problem([...path], `given twice (lines ${first} and ${line}); give each key once`)
            : part !== undefined
              ? reservedProblem([...path], part)
              : walk(pair.value, depth + 1);
        path.pop();
        if (found) return found;
        seen.set(key, line);
      }
    } else if (isSeq(node)) {
      for (const [i, item] of node.items.entries()) {
        path.push(i);
        const found = walk(item, depth + 1);
        path.pop();
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(root, 1);
}

/** The first line of a yaml error, as one line (its position included), in a scenario's words. */
function yamlMessage(message: string): string {
  const line = (message.split('\n')[0] ?? '').replace(/:\s*$/, '');
  // yaml's advice (parseAllDocuments) is for programmers.
  return line.replace(/^Source contains multiple documents; please use YAML.parseAllDocuments\(\)/, 'more than one YAML document (a --- line); a scenario is one');
}

/** Parses YAML into a plain tree, or says what a scenario must not hold, or why it is not YAML. */
function parseYamlTree(text: string, depth0: number): { value?: unknown; problem?: Problem; syntax?: string } {
  const early = scanYaml(text);
  if (early) return { problem: early };
  const lines = new LineCounter();
  const tooDeep = (e: unknown): boolean => e instanceof RangeError || /maximum call stack/i.test((e as Error).message);
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { uniqueKeys: false, lineCounter: lines, logLevel: 'error' });
  } catch (e) {
    if (tooDeep(e)) return { problem: new Problem(undefined, DEPTH_PROBLEM, lines.linePos(text.length).line) };
    throw e;
  }
  // Warnings too (an unresolved tag, say): yaml would print them as more lines, and accept.
  const error = doc.errors[0] ?? doc.warnings[0];
  if (error) {
    // The parser recursed out of stack: block nesting (or "- - - -") thousands deep.
    if (tooDeep(error)) return { problem: new Problem(undefined, DEPTH_PROBLEM, error.linePos?.[0]?.line) };
    return { syntax: yamlMessage(error.message) };
  }
  const keys = checkYamlKeys(doc.contents, lines);
  if (keys) return { problem: keys };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (tooDeep(e)) return { problem: new Problem(undefined, DEPTH_PROBLEM) };
    // yaml: "Excessive alias count indicates a resource exhaustion attack".
    if (/alias/i.test((e as Error).message)) return { problem: new Problem(undefined, ALIAS_BOMB) };
    throw e;
  }
  const tree = checkTree(value, depth0);
  return tree ? { problem: tree } : { value };
}

/** Parses a scenario file's text (JSON when the name ends in .json, else YAML). */
export function parseScenarioText(text: string, file: string): unknown {
  const isJson = file.endsWith('.json');
  const fail = (problem: Problem): never => {
    throw new InputError(`${file}: ${describe(problem, [])}`);
  };
  if (!isJson) {
    const r = parseYamlTree(text, 0);
    if (r.problem) fail(r.problem);
    if (r.syntax !== undefined) throw new InputError(`${file}: not valid YAML: ${r.syntax}`);
    return r.value;
  }
  const scan = scanJson(text);
  if (scan.deep) fail(scan.deep);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not valid JSON: ${yamlMessage((e as Error).message)}`);
  }
  if (scan.duplicate) fail(scan.duplicate);
  const tree = checkTree(value);
  if (tree) fail(tree);
  return value;
}

/**
 * Parses a --set value as YAML ("3", "true", "[1, 2]", "{kind: exponential, mean: 900}");
 * text that is not YAML stays text. `at` is the field it sets (its parts count towards
 * the depth); a problem is reported as `--set <name>: <path>: ...`.
 */
export function parseSetText(text: string, name: string): unknown {
  const at = name.split('.');
  const r = parseYamlTree(text, at.length);
  if (r.problem) throw new InputError(`--set ${clipText(name)}: ${describe(r.problem, r.problem.path ? at : [])}`);
  return r.syntax !== undefined ? text : r.value;
}
