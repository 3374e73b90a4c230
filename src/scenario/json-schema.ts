/**
 * `iovsim schema`: the scenario file's JSON Schema (draft 2020-12) for editors, generated
 * from the zod schema and completed from the registries: every calibrated parameter under
 * `params` (type, unit, range, default, source), the registered path names under `paths`.
 * The CLI's own validation stays the authority (it also checks cross-field rules).
 */
import { z } from 'zod';
import { choiceOfNumber, params as paramRegistry, type ParamDef } from '../calibration/index.js';
import { PATHS } from '../paths/index.js';
import { TOOL } from '../version.js';
import { scenarioSchema } from './schema.js';

type JsonSchema = Record<string, unknown>;

function paramSchema(d: ParamDef): JsonSchema {
  const s: JsonSchema = {
    description: `${d.description} [${d.unit}] (source: ${d.source})`,
    default: d.default,
  };
  if (typeof d.default === 'number') {
    s['type'] = d.integer ? 'integer' : 'number';
    if (d.min !== undefined) s['minimum'] = d.min;
    if (d.max !== undefined) s['maximum'] = d.max;
    if (d.numberChoices) s['enum'] = [...d.numberChoices];
  } else if (typeof d.default === 'boolean') {
    s['type'] = 'boolean';
  } else {
    // An unquoted 1.0 is the number 1 in YAML; the CLI takes it as the choice "1.0" (ParamRegistry.check).
    const spelled = (d.choices ?? []).flatMap((c) => (choiceOfNumber(d.choices!, Number(c)) === c ? [Number(c)] : []));
    s['type'] = spelled.length > 0 ? ['string', 'number'] : 'string';
    if (d.choices) s['enum'] = [...d.choices, ...spelled];
  }
  return s;
}

/** The JSON Schema of scenario files, completed from the parameter and path registries. */
export function scenarioJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const props = schema['properties'] as Record<string, JsonSchema>;
  schema['title'] = `iovsim ${TOOL.version} scenario`;
  schema['description'] = 'A scenario for iovsim run: workload, paths, parameter overrides, sweep, seed, replications.';

  const defs = paramRegistry.list();
  const names = defs.map((d) => d.name);
  props['name'] = { ...props['name'], description: 'Names the results folder: results/<name>/' };
  props['params'] = {
    ...props['params'],
    description: 'Overrides of calibrated defaults (iovsim list params).',
    properties: Object.fromEntries(defs.map((d) => [d.name, paramSchema(d)])),
    additionalProperties: false,
  };
  const pathNames = PATHS.map((p) => p.name);
  if (pathNames.length > 0) {
    props['paths'] = {
      ...props['paths'],
      description: 'Paths to run the workload on; default: every path that supports it.',
      items: { type: 'string', enum: [...pathNames, 'custom'] },
    };
  }
  const escaped = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  props['sweep'] = {
    ...props['sweep'],
    description: 'Lists of values for parameters or workload.<field>; their cartesian product is run. zip: paired lists of equal length.',
    propertyNames: { pattern: `^(zip|workload\\..+|(timeline|faults)\\.\\d+\\.[a-z_]+${escaped.length > 0 ? `|${escaped.join('|')}` : ''})$` },
  };
  props['seed'] = { ...props['seed'], description: 'Root seed; replication r uses streams derived from (seed, r, name).' };
  props['replications'] = { ...props['replications'], description: 'Independent replications per point and path; the summary gains 95% confidence half-widths.' };
  return schema;
}
