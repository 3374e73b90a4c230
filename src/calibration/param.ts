/**
 * Calibrated parameters: every default cost of the model is a ParamDef with its unit,
 * allowed range and source, and any of them can be overridden from a scenario
 * (`params:`), a sweep or `--set`. `iovsim list params` prints the table.
 */
import { InputError, didYouMean, showValue } from '../util/input-error.js';

export type ParamValue = number | boolean | string;

export interface ParamDef {
  /** Dotted name, e.g. `kvm.exit_user_ns`; the suffix names the unit. */
  name: string;
  default: ParamValue;
  /** Unit as printed, e.g. "ns", "GB/s", "count", "bool". */
  unit: string;
  /** Inclusive bounds for numbers. */
  min?: number;
  max?: number;
  /** True when a number must be an integer. */
  integer?: boolean;
  /** Allowed values for strings. */
  choices?: readonly string[];
  /** Allowed values for a number that is one of a few sizes (within min and max). */
  numberChoices?: readonly number[];
  /** Paper, spec section, commit or report; "modelling estimate: why" when there is none. */
  source: string;
  description: string;
}

/** Resolved values of every parameter, defaults overlaid with overrides. */
export type ParamValues = Readonly<Record<string, ParamValue>>;

export class ParamRegistry {
  private readonly defs = new Map<string, ParamDef>();

  constructor(defs: readonly ParamDef[]) {
    for (const d of defs) {
      if (this.defs.has(d.name)) throw new Error(`parameter ${d.name} is defined twice`);
      this.defs.set(d.name, d);
    }
  }

  list(): ParamDef[] {
    return [...this.defs.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  has(name: string): boolean {
    return this.defs.has(name);
  }

  get(name: string): ParamDef | undefined {
    return this.defs.get(name);
  }

  names(): string[] {
    return [...this.defs.keys()];
  }

  /**
   * Checks one override and returns it (a number becomes the string choice it spells, the
   * text "true" or "false" a boolean). A number parameter takes a number, never text: a
   * file's "0x10" is not 16, and --set values are read as YAML already (--set host.cores=0x10).
   */
  check(name: string, raw: unknown, where: string): ParamValue {
    const def = this.defs.get(name);
    if (!def) throw new InputError(`${where}: unknown parameter ${showValue(name)}${didYouMean(name, this.defs.keys())}`);
    const at = `${where}.${name}`;
    if (typeof def.default === 'number') {
      if (typeof raw !== 'number' || !Number.isFinite(raw)) {
        throw new InputError(`${at}: must be a ${typeof raw === 'number' ? 'finite ' : ''}number [${def.unit}]${typeof raw === 'string' ? ' (unquoted)' : ''}, got ${showValue(raw)}`);
      }
      const v = raw;
      if (def.integer && !Number.isInteger(v)) throw new InputError(`${at}: must be an integer, got ${v}`);
      if ((def.min !== undefined && v < def.min) || (def.max !== undefined && v > def.max)) {
        throw new InputError(`${at}: must be in [${def.min ?? '-inf'}, ${def.max ?? 'inf'}] ${def.unit}, got ${v}`);
      }
      if (def.numberChoices && !def.numberChoices.includes(v)) {
        throw new InputError(`${at}: must be one of ${def.numberChoices.join(', ')} ${def.unit}, got ${v}`);
      }
      return v;
    }
    if (typeof def.default === 'boolean') {
      const v = raw === 'true' ? true : raw === 'false' ? false : raw;
      if (typeof v !== 'boolean') throw new InputError(`${at}: must be true or false, got ${showValue(raw)}`);
      return v;
    }
    // YAML reads an unquoted 1.0 as the number 1: a number stands for the choice it spells.
    const v = typeof raw === 'number' && def.choices ? (choiceOfNumber(def.choices, raw) ?? raw) : raw;
    if (typeof v !== 'string' || (def.choices && !def.choices.includes(v))) {
      throw new InputError(
        `${at}: must be ${def.choices ? `one of ${def.choices.join(', ')}` : 'a string'}, got ${showValue(raw)}`,
      );
    }
    return v;
  }

  /** Defaults overlaid with checked overrides. */
  resolve(overrides: Readonly<Record<string, unknown>>, where = 'params'): ParamValues {
    const out: Record<string, ParamValue> = {};
    for (const d of this.defs.values()) out[d.name] = d.default;
    for (const [k, v] of Object.entries(overrides)) out[k] = this.check(k, v, where);
    return out;
  }
}

/**
 * The choice a number spells (1 -> "1.0" when "1.0" is a choice, 0.95 -> "0.95"): the one
 * choice written as a decimal number of that value; undefined when none or several are.
 */
export function choiceOfNumber(choices: readonly string[], n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  const matches = choices.filter((c) => /^[+-]?(\d+\.?\d*|\.\d+)$/.test(c) && Number(c) === n);
  return matches.length === 1 ? matches[0] : undefined;
}

/** Reads a numeric parameter that the registry guarantees exists. */
export function num(values: ParamValues, name: string): number {
  const v = values[name];
  if (typeof v !== 'number') throw new Error(`parameter ${name} is not a number (${String(v)})`);
  return v;
}

/** A time parameter as integer ps, in the unit its name ends in: _us, _ms, _s, else ns. */
export function psOf(values: ParamValues, name: string): number {
  const scale = name.endsWith('_us') ? 1e6 : name.endsWith('_ms') ? 1e9 : name.endsWith('_s') ? 1e12 : 1000;
  return Math.round(num(values, name) * scale);
}

export function bool(values: ParamValues, name: string): boolean {
  const v = values[name];
  if (typeof v !== 'boolean') throw new Error(`parameter ${name} is not a boolean (${String(v)})`);
  return v;
}

export function str(values: ParamValues, name: string): string {
  const v = values[name];
  if (typeof v !== 'string') throw new Error(`parameter ${name} is not a string (${String(v)})`);
  return v;
}
