/**
 * parse-text.ts: what JSON and YAML allow but a scenario must not hold is refused with the
 * key path; valid text parses exactly as JSON.parse and yaml's parse would.
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { MAX_DEPTH, parseScenarioText, parseSetText } from '../../src/scenario/parse-text.js';
import { InputError } from '../../src/util/input-error.js';

const refusal = (text: string, file = 'f.json'): string => {
  try {
    parseScenarioText(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('accepted');
};

describe('parseScenarioText', () => {
  it('parses valid JSON and YAML as JSON.parse and yaml do, brackets and quotes in strings included', () => {
    const json = '{"a": "x[{\\"}", "b": [1, {"c": "]}"}], "d": {"e": null}, "f": "\\u005b"}';
    expect(parseScenarioText(json, 'f.json')).toEqual(JSON.parse(json));
    const yaml = 'a: "x[{"\nb: [1, {c: "]}"}]\nd: &n {e: 1}\ng: *n\nh: |\n  [[[[\n';
    expect(parseScenarioText(yaml, 'f.yaml')).toEqual(parseYaml(yaml));
  });

  it('accepts nesting of exactly MAX_DEPTH levels and refuses one more, in JSON and YAML', () => {
    const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    expect(() => parseScenarioText(nest(MAX_DEPTH), 'f.json')).not.toThrow();
    expect(refusal(nest(MAX_DEPTH + 1))).toMatch(/nested more than 64 levels deep/);
    expect(() => parseScenarioText(nest(MAX_DEPTH), 'f.yaml')).not.toThrow();
    expect(refusal(nest(MAX_DEPTH + 1), 'f.yaml')).toMatch(/nested more than 64 levels deep/);
  });

  it('finds a key given twice in any object of JSON, escaped spellings included, with its path', () => {
    expect(refusal('{"a": [{"b": 1}, {"c": 1, "c": 2}]}')).toBe('f.json: a[1].c: given twice (lines 1 and 1); give each key once');
    expect(refusal('{"a": 1,\n"\\u0061": 2}')).toBe('f.json: a: given twice (lines 1 and 2); give each key once');
    // The same key in two objects is no repetition.
    expect(parseScenarioText('{"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 1}, {"k": 2}]}', 'f.json')).toBeTruthy();
  });

  it('finds a key given twice in YAML, 1 and "1" alike (the parsed object has one key for both)', () => {
    expect(refusal('a:\n  1: x\n  "1": y\n', 'f.yaml')).toBe('f.yaml: a.1: given twice (lines 2 and 3); give each key once');
  });

  it('refuses reserved keys and dotted keys with a reserved part, leaving Object.prototype alone', () => {
    expect(refusal('{"a": {"__proto__": {"polluted": 1}}}')).toMatch(/^f\.json: a\.__proto__: "__proto__" is a reserved name/);
    expect(refusal('sweep: {workload.constructor.x: [1]}', 'f.yaml')).toMatch(/sweep\.workload\.constructor\.x: "constructor" is a reserved name/);
    expect(refusal('a: [{prototype: 1}]', 'f.yaml')).toMatch(/a\[0\]\.prototype: "prototype" is a reserved name/);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses a YAML alias cycle, naming where it points; a shared alias that is no cycle is fine', () => {
    expect(refusal('a: &x\n  b: [*x]\n', 'f.yaml')).toMatch(/^f\.yaml: a\.b\[0\]: refers back to a, which holds it/);
    expect(refusal('&x [*x]', 'f.yaml')).toMatch(/^f\.yaml: \[0\]: refers back to the top level/);
    expect(parseScenarioText('a: &x {b: 1}\nc: [*x, *x]\n', 'f.yaml')).toEqual({ a: { b: 1 }, c: [{ b: 1 }, { b: 1 }] });
  });

  it('refuses keys that are lists or mappings, and yaml warnings (an unresolved tag)', () => {
    expect(refusal('? [a]\n: 1\n', 'f.yaml')).toMatch(/a key must be a name/);
    expect(refusal('a: !custom 1\n', 'f.yaml')).toMatch(/^f\.yaml: not valid YAML: Unresolved tag: !custom at line 1/);
  });
});

describe('parseSetText', () => {
  it('keeps text that is not YAML as text, and parses the rest', () => {
    expect(parseSetText('[1, 2', 'workload.x')).toBe('[1, 2');
    expect(parseSetText('{kind: exponential, mean: 900}', 'workload.x')).toEqual({ kind: 'exponential', mean: 900 });
  });

  it('refuses what a file may not hold, naming the --set and the field path', () => {
    expect(() => parseSetText('&a [*a]', 'workload.x')).toThrow(/^--set workload\.x: workload\.x\[0\]: refers back to workload\.x/);
    expect(() => parseSetText('{a: 1, a: 2}', 'workload.x')).toThrow(/^--set workload\.x: workload\.x\.a: given twice/);
    // The name's parts count towards the depth, as in a file: the top level, workload, then x's value.
    const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    expect(() => parseSetText(nest(MAX_DEPTH - 2), 'workload.x')).not.toThrow();
    expect(() => parseSetText(nest(MAX_DEPTH - 1), 'workload.x')).toThrow(/nested more than 64/);
  });
});
