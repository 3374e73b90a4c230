#!/usr/bin/env node
/**
 * The `iovsim` command. Exit status: 0 success, 2 bad input (one line on stderr, no
 * result files written), 1 internal error.
 */
import { readdirSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { params } from './calibration/index.js';
import { PATHS } from './paths/index.js';
import { executePlan } from './scenario/execute.js';
import { loadPlan } from './scenario/load.js';
import { writeFolderAtomically } from './output/write.js';
import { InputError } from './util/input-error.js';
import { TOOL } from './version.js';
import { WORKLOAD_KINDS } from './workloads/index.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function parseSeed(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n > 2 ** 32 - 1) {
    throw new InputError(`--seed: must be an integer from 0 to 4294967295, got "${text}"`);
  }
  return n;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('iovsim')
    .description('Discrete-event simulator of host/guest I/O virtualization pipelines')
    .version(TOOL.version)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('run')
    .description('run a scenario file: its sweep points, paths and replications')
    .argument('<file>', 'scenario file (YAML or JSON)')
    .option('--out <dir>', 'output folder (default results/<scenario name>)')
    .option('--seed <n>', 'override the scenario seed')
    .option('--set <name=value>', 'override a parameter or workload field (repeatable)', collect, [])
    .option('--quiet', 'print nothing but errors')
    .action(async (file: string, opts: { out?: string; seed?: string; set: string[]; quiet?: boolean }) => {
      const seed = opts.seed === undefined ? undefined : parseSeed(opts.seed);
      const plan = loadPlan(file, opts.set, seed);
      const out = resolve(opts.out ?? join('results', plan.scenario.name));
      const exec = await executePlan(plan, { overrides: opts.set });
      writeFolderAtomically(out, exec.files);
      if (!opts.quiet) {
        process.stdout.write(`wrote ${exec.rows.length} runs (${exec.eventsProcessed} events) to ${out}\n`);
      }
    });

  program
    .command('validate')
    .description('check a scenario file without running it')
    .argument('<file>', 'scenario file (YAML or JSON)')
    .option('--set <name=value>', 'override a parameter or workload field (repeatable)', collect, [])
    .action((file: string, opts: { set: string[] }) => {
      const plan = loadPlan(file, opts.set);
      const runs = plan.points.length * plan.paths.length * plan.scenario.replications;
      process.stdout.write(
        `${file}: valid: ${plan.points.length} point(s) x ${plan.paths.length} path(s) x ${plan.scenario.replications} replication(s) = ${runs} runs\n`,
      );
    });

  program
    .command('list')
    .description('list what exists: paths, workloads, params or scenarios')
    .argument('<what>', 'paths | workloads | params | scenarios')
    .action((what: string) => {
      process.stdout.write(listing(what));
    });

  return program;
}

function listing(what: string): string {
  switch (what) {
    case 'paths':
      return PATHS.map((p) => `${p.name.padEnd(14)} ${p.workloads.join(',').padEnd(36)} ${p.description}\n`).join('') ||
        'no paths are registered yet\n';
    case 'workloads':
      return WORKLOAD_KINDS.map((w) => `${w.kind.padEnd(10)} ${w.description}\n`).join('');
    case 'params':
      return params
        .list()
        .map((p) => {
          const range = p.choices ? p.choices.join('|') : p.min !== undefined || p.max !== undefined ? `[${p.min ?? ''}..${p.max ?? ''}]` : '';
          return `${p.name}\t${String(p.default)}\t${p.unit}\t${range}\t${p.description}\tsource: ${p.source}\n`;
        })
        .join('');
    case 'scenarios': {
      const dir = resolve('scenarios');
      let files: string[] = [];
      try {
        files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
      } catch {
        // no scenarios folder here
      }
      return files.map((f) => `scenarios/${f}\n`).join('');
    }
    default:
      throw new InputError(`list: unknown list "${what}"; allowed: paths, workloads, params, scenarios`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
      return 2; // commander already printed its one-line message
    }
    if (e instanceof InputError) {
      process.stderr.write(`iovsim: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`iovsim: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
