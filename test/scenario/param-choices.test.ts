/**
 * String parameters with choices given as numbers: YAML reads an unquoted `1.0` as the
 * number 1 (and 1.1, 0.95 as numbers), so a number stands for the choice it spells. The
 * plan (params, sweep values, the manifest's scenario and the param.* columns) is the same
 * as with the quoted string.
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ParamRegistry, choiceOfNumber, params } from '../../src/calibration/index.js';
import { applySets, parseSets, planScenario, type Plan } from '../../src/scenario/load.js';
import { InputError } from '../../src/util/input-error.js';

const rr = { kind: 'net-rr', ops: 100, warmup_ops: 10 };
const VERSIONS = ['0.95', '1.0', '1.1'];

function plan(yamlText: string, sets: string[] = []): Plan {
  return planScenario(applySets(parseYaml(yamlText), parseSets(sets)), 'f.yaml');
}

/** A plan without its source, for comparing plans of two texts. */
function body(p: Plan): Omit<Plan, 'source'> {
  const { source: _source, ...rest } = p;
  return rest;
}

describe('choiceOfNumber', () => {
  it('maps a number to the one choice of that decimal value', () => {
    expect(choiceOfNumber(VERSIONS, 1)).toBe('1.0');
    expect(choiceOfNumber(VERSIONS, 1.1)).toBe('1.1');
    expect(choiceOfNumber(VERSIONS, 0.95)).toBe('0.95');
    expect(choiceOfNumber(VERSIONS, 1.2)).toBeUndefined();
    expect(choiceOfNumber(VERSIONS, Number.NaN)).toBeUndefined();
    // Not a decimal spelling, or two spellings of one value: no choice.
    expect(choiceOfNumber(['1e0', 'one'], 1)).toBeUndefined();
    expect(choiceOfNumber(['1', '1.0'], 1)).toBeUndefined();
  });
});

describe('ParamRegistry.check of a string parameter with choices', () => {
  it('takes a number as the choice it spells and returns the canonical string', () => {
    expect(params.check('virtio.version', 1, 'p')).toBe('1.0');
    expect(params.check('virtio.version', 1.1, 'p')).toBe('1.1');
    expect(params.check('virtio.version', 0.95, 'p')).toBe('0.95');
    expect(params.check('virtio.version', '1.0', 'p')).toBe('1.0');
  });

  it('still rejects a number that spells no choice, naming the value as written', () => {
    expect(() => params.check('virtio.version', 1.2, 'p')).toThrow(InputError);
    expect(() => params.check('virtio.version', 1.2, 'p')).toThrow('p.virtio.version: must be one of 0.95, 1.0, 1.1, got 1.2');
    expect(() => params.check('virtio.version', true, 'p')).toThrow('must be one of 0.95, 1.0, 1.1, got true');
  });

  it('leaves a string parameter without choices text-only', () => {
    const r = new ParamRegistry([{ name: 'x.mode', default: 'a', unit: 'text', source: 'test', description: 'test' }]);
    expect(() => r.check('x.mode', 1, 'p')).toThrow('p.x.mode: must be a string, got 1');
  });
});

describe('scenario plans with an unquoted version', () => {
  it('params: { virtio.version: 1.0 } plans exactly as the quoted "1.0"', () => {
    for (const [bare, quoted] of [['1.0', "'1.0'"], ['1.1', "'1.1'"], ['0.95', "'0.95'"], ['1', "'1.0'"]] as const) {
      const text = (v: string): string => `name: t\nworkload: { kind: net-rr, ops: 100 }\npaths: [vhost-user]\nparams: { virtio.version: ${v} }\n`;
      const a = plan(text(bare));
      const b = plan(text(quoted));
      expect(body(a)).toEqual(body(b));
      expect(a.scenario.params['virtio.version']).toBe(quoted.slice(1, -1));
      expect(a.points[0]!.params['virtio.version']).toBe(quoted.slice(1, -1));
    }
  });

  it('a sweep list of numbers gives the canonical strings in the points, param values and scenario', () => {
    const text = (list: string): string =>
      `name: t\nworkload: { kind: net-rr, ops: 100 }\npaths: [vhost-user]\nsweep: { virtio.version: ${list} }\n`;
    const a = plan(text('[0.95, 1.0, 1.1]'));
    const b = plan(text("['0.95', '1.0', '1.1']"));
    expect(body(a)).toEqual(body(b));
    expect(a.points.map((p) => p.values['virtio.version'])).toEqual(VERSIONS);
    expect(a.points.map((p) => p.params['virtio.version'])).toEqual(VERSIONS);
    expect(a.scenario.sweep!['virtio.version']).toEqual(VERSIONS);
  });

  it('under zip too, and the file object is not changed', () => {
    const raw = { name: 't', workload: rr, paths: ['vhost-user'], sweep: { zip: { 'virtio.version': [1, 1.1], 'vm.vcpus': [1, 2] } } };
    const copy = structuredClone(raw);
    const p = planScenario(raw, 'f');
    expect(p.points.map((x) => x.values['virtio.version'])).toEqual(['1.0', '1.1']);
    expect((p.scenario.sweep!['zip'] as Record<string, unknown>)['virtio.version']).toEqual(['1.0', '1.1']);
    expect(raw).toEqual(copy);
  });

  it('--set sweep.virtio.version=[0.95, 1.0, 1.1] and --set virtio.version=1.0 plan as the quoted strings', () => {
    const base = 'name: t\nworkload: { kind: net-rr, ops: 100 }\npaths: [vhost-user]\n';
    expect(body(plan(base, ['sweep.virtio.version=[0.95, 1.0, 1.1]']))).toEqual(
      body(plan(base, ["sweep.virtio.version=['0.95', '1.0', '1.1']"])),
    );
    expect(plan(base, ['virtio.version=1.0']).scenario.params['virtio.version']).toBe('1.0');
    expect(plan(base, ['params.virtio.version=1']).scenario.params['virtio.version']).toBe('1.0');
  });

  it('a swept number that spells no choice is an input error naming the sweep key', () => {
    const raw = { name: 't', workload: rr, paths: ['vhost-user'], sweep: { 'virtio.version': [1.0, 1.2] } };
    expect(() => planScenario(raw, 'f')).toThrow('f: sweep.virtio.version: must be one of 0.95, 1.0, 1.1, got 1.2');
  });

  it('numeric parameters keep their values as written (no change of behaviour)', () => {
    const p = planScenario({ name: 't', workload: rr, paths: ['vhost-user'], params: { 'vm.vcpus': 2 }, sweep: { 'vm.queue_pairs': [1, 2] } }, 'f');
    expect(p.scenario.params['vm.vcpus']).toBe(2);
    expect(p.points.map((x) => x.values['vm.queue_pairs'])).toEqual([1, 2]);
  });
});
