#!/usr/bin/env node
/**
 * The `iovsim` command. Exit status: 0 success, 2 bad input (one line on stderr, no
 * result files written or touched), 1 internal error, 130 interrupted (Ctrl-C).
 *
 * Every flag and the scenario are checked before any simulation starts; results are
 * rendered in memory and written with one atomic folder swap at the end, so bad input,
 * a crash or Ctrl-C leaves the previous result or none.
 */
// First: starts worker threads early (see prewarm.ts); must stay the first import.
import './scenario/prewarm.js';
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { params } from './calibration/index.js';
import { PATHS } from './paths/index.js';
import { comparePlan, compareTable } from './scenario/compare.js';
import { executePlan, manifestOf, renderManifest, runTasks, type Execution } from './scenario/execute.js';
import { evaluateTargets, targetCells, targetTable, type TargetResult } from './scenario/validation.js';
import { scenarioJsonSchema } from './scenario/json-schema.js';
import { loadPlan, type Plan } from './scenario/load.js';
import { terminateWorkers } from './scenario/pool.js';
import { planTasks, type Task } from './scenario/run.js';
import { mergeShards, parseShardSpec, shardFiles, shardTasks, type ShardSpec } from './scenario/shard.js';
import { formatTable, type TableColumn } from './output/table.js';
import { writeFolderAtomically } from './output/write.js';
import { InputError } from './util/input-error.js';
import { markResultWritten, onInterrupt } from './util/interrupt.js';
import { awaitBackgroundCompiles } from './util/jit-quiesce.js';
import { createProgress } from './util/progress.js';
import { TOOL } from './version.js';
import { WORKLOAD_KINDS } from './workloads/index.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Parses --seed: an integer from 0 to 2^32-1. */
export function parseSeed(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n > 2 ** 32 - 1) {
    throw new InputError(`--seed: must be an integer from 0 to 4294967295, got "${text}"`);
  }
  return n;
}

/** The most worker threads --jobs accepts. */
export const MAX_JOBS = 1024;

/** Parses --jobs (default: the number of cores). */
export function parseJobs(text: string | undefined): number {
  if (text === undefined) return availableParallelism();
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > MAX_JOBS) {
    throw new InputError(`--jobs: must be a whole number from 1 to ${MAX_JOBS} (default: ${availableParallelism()} cores), got "${text}"`);
  }
  return n;
}

/** Parses --ops of compare: a positive whole number. */
export function parseOps(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || !Number.isSafeInteger(n)) {
    throw new InputError(`--ops: must be a whole number of operations, at least 1, got "${text}"`);
  }
  return n;
}

/** The files an iovsim result folder (a run's, a merge's or a shard's) can hold. */
const RESULT_FILES = new Set(['summary.csv', 'latency.csv', 'stages.csv', 'cpu.csv', 'exits.csv', 'manifest.json', 'shard.json', 'tasks.jsonl']);

/**
 * Refuses an output folder that is a file, or a non-empty folder that is not an iovsim
 * result (the atomic swap replaces the whole folder): a result holds only the files
 * iovsim writes, and a manifest.json that names iovsim as its tool.
 */
export function checkOutFolder(dir: string, flag = '--out'): void {
  if (!existsSync(dir)) return;
  const st = statSync(dir);
  if (!st.isDirectory()) throw new InputError(`${flag} ${dir}: exists and is not a folder`);
  const entries = readdirSync(dir);
  if (entries.length === 0) return;
  const stranger = entries.find((e) => !RESULT_FILES.has(e));
  if (stranger !== undefined) {
    throw new InputError(`${flag} ${dir}: not an iovsim result (it holds ${stranger}, which no result contains); it would be replaced, so choose another folder`);
  }
  if (!entries.includes('manifest.json')) {
    throw new InputError(
      `${flag} ${dir}: is a non-empty folder without manifest.json, not an iovsim result; it would be replaced, so choose another folder`,
    );
  }
  let tool: unknown;
  try {
    tool = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { tool?: unknown } | null)?.tool;
  } catch {
    tool = undefined;
  }
  if (tool !== TOOL.name) {
    throw new InputError(`${flag} ${dir}: not an iovsim result (its manifest.json was not written by ${TOOL.name}); it would be replaced, so choose another folder`);
  }
}

interface RunFlags {
  jobs: number;
  quiet: boolean;
  overrides: string[];
}

/** Runs tasks of a plan with the progress bar (when stderr is a terminal and not --quiet). */
async function runWithProgress(plan: Plan, tasks: Task[], flags: RunFlags) {
  const perPoint = new Map<number, number>();
  for (const t of tasks) perPoint.set(t.point, (perPoint.get(t.point) ?? 0) + 1);
  const progress = createProgress({ tasks: tasks.length, tasksPerPoint: perPoint, quiet: flags.quiet });
  const taskPoint = new Map(tasks.map((t) => [t.index, t.point]));
  const unregister = onInterrupt(() => progress.stop());
  try {
    return await executePlan(plan, {
      tasks,
      jobs: flags.jobs,
      overrides: flags.overrides,
      clockMs: () => performance.now(), // the manifest's wall_time_s only
      onTaskDone: (o) => progress.taskDone(taskPoint.get(o.index) ?? 0, o.eventsProcessed),
    });
  } finally {
    progress.stop();
    unregister();
  }
}

/** Runs tasks of a plan, then writes `out` atomically (with the shard files for a shard). */
async function runAndWrite(plan: Plan, tasks: Task[], out: string, flags: RunFlags, shard?: { spec: ShardSpec; planTasks: number }) {
  const exec = await runWithProgress(plan, tasks, flags);
  const files = { ...exec.files };
  if (shard) {
    const manifest = {
      ...manifestOf(plan, tasks.length, exec.eventsProcessed, exec.wallTimeS, flags.overrides),
      shard: { index: shard.spec.index, count: shard.spec.count, tasks: shard.planTasks },
    };
    files['manifest.json'] = renderManifest(manifest);
    Object.assign(files, shardFiles(plan, shard.spec, shard.planTasks, exec.rows, manifest));
  }
  writeFolderAtomically(out, files);
  markResultWritten(relativeOrAbsolute(out));
  return exec;
}

/**
 * The run's speed for the closing line: events and measured ops (completed or dropped,
 * warm-up excluded) per second of wall time, the whole run (workers' start-up and CSV
 * rendering included); empty when the run took no measurable time.
 */
function speedNote(exec: Execution): string {
  if (!(exec.wallTimeS > 0)) return '';
  let ops = 0;
  for (const r of exec.rows) ops += Number(r.summary['ops_completed'] ?? 0) + Number(r.summary['ops_dropped'] ?? 0);
  // Grouped by hand: toLocaleString starts ICU's number formatting, about 20 ms.
  const rate = (n: number): string => String(Math.round(n / exec.wallTimeS)).replace(/\B(?=(\d{3})+$)/g, ',');
  return `: ${rate(exec.eventsProcessed)} events/s, ${rate(ops)} ops/s`;
}

function say(quiet: boolean | undefined, text: string): void {
  if (!quiet) process.stdout.write(text);
}

/** The commander program with every subcommand. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('iovsim')
    .description('Discrete-event simulator of host/guest I/O virtualization pipelines')
    .version(TOOL.version)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // Commander puts "(Did you mean ...?)" on a second line; bad input gets one line.
      outputError: (s, write) => write(`iovsim: ${s.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()}\n`),
    });

  program
    .command('run')
    .description('run a scenario file: its sweep points, paths and replications')
    .argument('<file>', 'scenario file (YAML or JSON)')
    .option('--out <dir>', 'output folder (default results/<scenario name>)')
    .option('--seed <n>', 'override the scenario seed')
    .option('--set <name=value>', 'override a parameter or workload field (repeatable)', collect, [])
    .option('--jobs <n>', 'worker threads (default: number of cores)')
    .option('--shard <I/N>', 'run shard I of N (tasks whose index mod N is I-1); join with iovsim merge')
    .option('--quiet', 'print nothing but errors')
    .action(async (file: string, opts: { out?: string; seed?: string; set: string[]; jobs?: string; shard?: string; quiet?: boolean }) => {
      const seed = opts.seed === undefined ? undefined : parseSeed(opts.seed);
      const jobs = parseJobs(opts.jobs);
      const shard = opts.shard === undefined ? undefined : parseShardSpec(opts.shard);
      const plan = loadPlan(file, opts.set, seed);
      const defaultOut = shard ? `${plan.scenario.name}-shard-${shard.index}-of-${shard.count}` : plan.scenario.name;
      const out = resolve(opts.out ?? join('results', defaultOut));
      checkOutFolder(out);
      const all = planTasks(plan);
      const tasks = shard ? shardTasks(all, shard) : all;
      const flags = { jobs, quiet: opts.quiet === true, overrides: opts.set };
      const exec = await runAndWrite(plan, tasks, out, flags, shard ? { spec: shard, planTasks: all.length } : undefined);
      const what = shard ? `shard ${shard.index}/${shard.count}: ${tasks.length} of ${all.length} runs` : `${tasks.length} runs`;
      say(opts.quiet, `wrote ${what} (${exec.eventsProcessed} events, ${exec.wallTimeS} s${speedNote(exec)}) to ${relativeOrAbsolute(out)}\n`);
    });

  program
    .command('compare')
    .description('the same workload on several paths, side by side; prints a table')
    .option('--workload <kind>', 'workload kind (default net-rr)')
    .option('--paths <a,b,...>', 'paths to compare (default: every path that runs the workload)')
    .option('--set <name=value>', 'override a parameter or workload field (repeatable)', collect, [])
    .option('--ops <n>', 'operations to measure per path (workload.ops)')
    .option('--seed <n>', 'seed (default 1)')
    .option('--out <dir>', 'also write the result files to this folder')
    .option('--jobs <n>', 'worker threads (default: number of cores)')
    .option('--quiet', 'no progress bar and no "wrote" line; the table is still printed')
    .action(async (opts: { workload?: string; paths?: string; set: string[]; ops?: string; seed?: string; out?: string; jobs?: string; quiet?: boolean }) => {
      const seed = opts.seed === undefined ? undefined : parseSeed(opts.seed);
      const ops = opts.ops === undefined ? undefined : parseOps(opts.ops);
      const jobs = parseJobs(opts.jobs);
      const plan = comparePlan({
        ...(opts.workload !== undefined ? { workload: opts.workload } : {}),
        ...(opts.paths !== undefined ? { paths: opts.paths } : {}),
        sets: opts.set,
        ...(ops !== undefined ? { ops } : {}),
        ...(seed !== undefined ? { seed } : {}),
      });
      const out = opts.out === undefined ? undefined : resolve(opts.out);
      if (out) checkOutFolder(out);
      const tasks = planTasks(plan);
      const flags = { jobs, quiet: opts.quiet === true, overrides: opts.set };
      const exec = out
        ? await runAndWrite(plan, tasks, out, flags)
        : await runWithProgress(plan, tasks, flags);
      const w = plan.points[0]!.workload;
      process.stdout.write(`workload ${w.kind}, ${'ops' in w ? `${String(w.ops)} ops, ` : ''}seed ${plan.scenario.seed}\n`);
      process.stdout.write(compareTable(plan, exec.rows.map((r) => r.summary)));
      if (out) say(opts.quiet, `wrote ${tasks.length} runs to ${relativeOrAbsolute(out)}\n`);
    });

  program
    .command('merge')
    .description('join the folders of iovsim run --shard I/N into one result')
    .argument('<dirs...>', 'shard folders, one per shard')
    .option('--out <dir>', 'output folder (default results/<scenario name>)')
    .option('--quiet', 'print nothing but errors')
    .action(async (dirs: string[], opts: { out?: string; quiet?: boolean }) => {
      const merged = await mergeShards(dirs);
      const out = resolve(opts.out ?? join('results', merged.plan.scenario.name));
      if (dirs.some((d) => resolve(d) === out)) throw new InputError(`--out ${opts.out ?? out}: must not be one of the shard folders`);
      checkOutFolder(out);
      writeFolderAtomically(out, merged.files);
      markResultWritten(relativeOrAbsolute(out));
      say(opts.quiet, `merged ${dirs.length} shard(s), ${merged.tasks} runs, into ${relativeOrAbsolute(out)}\n`);
    });

  program
    .command('validate')
    .description('check a scenario file without running it')
    .argument('<file>', 'scenario file (YAML or JSON)')
    .option('--set <name=value>', 'override a parameter or workload field (repeatable)', collect, [])
    .option('--seed <n>', 'override the scenario seed')
    .action((file: string, opts: { set: string[]; seed?: string }) => {
      const seed = opts.seed === undefined ? undefined : parseSeed(opts.seed);
      const plan = loadPlan(file, opts.set, seed);
      const runs = plan.points.length * plan.paths.length * plan.scenario.replications;
      process.stdout.write(
        `${file}: valid: ${plan.points.length} point(s) x ${plan.paths.length} path(s) x ${plan.scenario.replications} replication(s) = ${runs} runs\n`,
      );
    });

  program
    .command('calibrate-check')
    .description('run the published calibration targets (scenarios/validation) and print target, measured, ratio, pass or fail')
    .argument('[files...]', 'validation scenarios or folders of them (default: the scenarios/validation folder)')
    .option('--jobs <n>', 'worker threads (default: number of cores)')
    .option('--set <name=value>', 'override a parameter or workload field in every file (repeatable; to see what a change does to the targets)', collect, [])
    .option('--markdown', 'print the table as Markdown (as in the README)')
    .option('--quiet', 'no per-file lines on stderr')
    .action(async (files: string[], opts: { jobs?: string; set: string[]; markdown?: boolean; quiet?: boolean }) => {
      const jobs = parseJobs(opts.jobs);
      const list = validationFiles(files.length > 0 ? files : [join(scenariosFolder(), 'validation')]);
      const plans = list.map((f) => loadPlan(f, opts.set));
      for (const plan of plans) {
        if (!plan.scenario.validation) throw new InputError(`${plan.source}: validation: missing; a calibration scenario lists its published targets`);
      }
      const results: TargetResult[] = [];
      for (const plan of plans) {
        const rows = await runTasks(plan, planTasks(plan), { jobs });
        results.push(...evaluateTargets(plan, rows.map((r) => ({ summary: r.summary, cpu: r.cpu ?? [] }))));
        if (!opts.quiet) process.stderr.write(`${relativeOrAbsolute(resolve(plan.source))}: ${rows.length} runs\n`);
      }
      process.stdout.write(opts.markdown ? targetTable(results) : plainTargetTable(results));
      const bad = results.filter((r) => r.status === 'FAIL' || r.status === 'UNEXPECTED PASS');
      const gaps = results.filter((r) => r.status === 'gap').length;
      process.stdout.write(`${results.length - bad.length - gaps} pass, ${gaps} known gaps (docs/model.md), ${bad.length} failed\n`);
      if (bad.length > 0) {
        process.stderr.write(`iovsim: ${bad.length} calibration target(s) failed: ${bad.map((b) => `${b.target.target} (${b.status})`).join('; ')}\n`);
        process.exitCode = 1;
      }
    });

  program
    .command('list')
    .description('list what exists: paths, workloads, params or scenarios')
    .argument('<what>', 'paths | workloads | params | scenarios')
    .action((what: string) => {
      process.stdout.write(listing(what));
    });

  program
    .command('schema')
    .description('print the JSON Schema of scenario files (for editor completion)')
    .action(() => {
      process.stdout.write(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
    });

  return program;
}

/** The scenario files (.yaml, .yml, .json) in a folder, by name, sorted. */
function scenarioFilesIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
}

/** Scenario files named, folders expanded to their .yaml/.yml/.json files (sorted). */
function validationFiles(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (!existsSync(a)) throw new InputError(`${a}: no such file or folder`);
    if (statSync(a).isDirectory()) {
      const found = scenarioFilesIn(a).map((f) => join(a, f));
      if (found.length === 0) throw new InputError(`${a}: no scenario files (.yaml, .yml, .json) in the folder`);
      out.push(...found);
    } else out.push(a);
  }
  return out;
}

/** The calibration table for a terminal: the target's name left-aligned, the rest right-aligned. */
function plainTargetTable(results: readonly TargetResult[]): string {
  const right = (header: string): TableColumn => ({ header, align: 'right' });
  const columns = [{ header: 'target', align: 'left' } as const, ...['published', 'tol', 'measured', 'ratio', 'result'].map(right)];
  return formatTable(columns, targetCells(results));
}

function relativeOrAbsolute(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel !== '' && !rel.startsWith('..') ? rel : dir;
}

/** The folder of ready scenarios: ./scenarios when there is one, else the package's. */
function scenariosFolder(): string {
  const local = resolve('scenarios');
  if (existsSync(local)) return local;
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scenarios');
}

/** The question a scenario file answers: its "# Question: ...?" comment, up to the question mark. */
function scenarioQuestion(file: string): string {
  const comments = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('#'))
    .map((l) => l.replace(/^#\s?/, '').trim());
  const m = /question:\s*([^?]*\?)/i.exec(comments.join(' '));
  return m ? m[1]! : (comments[0] ?? '');
}

function listing(what: string): string {
  switch (what) {
    case 'paths':
      return PATHS.map((p) => `${p.name.padEnd(14)} ${p.workloads.join(',').padEnd(44)} ${p.description}\n`).join('') ||
        'no paths are registered yet\n';
    case 'workloads':
      return WORKLOAD_KINDS.map((w) => `${w.kind.padEnd(10)} ${w.description}\n`).join('');
    case 'params':
      return params
        .list()
        .map((p) => {
          const range = p.choices ? p.choices.join('|') : p.numberChoices ? p.numberChoices.join('|') : p.min !== undefined || p.max !== undefined ? `[${p.min ?? ''}..${p.max ?? ''}]` : '';
          return `${p.name}\t${String(p.default)}\t${p.unit}\t${range}\t${p.description}\tsource: ${p.source}\n`;
        })
        .join('');
    case 'scenarios': {
      const dir = scenariosFolder();
      let files: string[] = [];
      try {
        files = scenarioFilesIn(dir);
      } catch {
        // no scenarios folder here
      }
      const width = Math.max(0, ...files.map((f) => f.length)) + 'scenarios/'.length;
      return files.map((f) => `${`scenarios/${f}`.padEnd(width)}  ${scenarioQuestion(join(dir, f))}\n`).join('');
    }
    default:
      throw new InputError(`list: unknown list "${what}"; allowed: paths, workloads, params, scenarios`);
  }
}

/** Runs the command line and returns the exit status (0, 1 or 2). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    return report(e);
  } finally {
    await terminateWorkers(); // prewarmed workers a failed or short run did not use
    awaitBackgroundCompiles(); // before this isolate goes away (util/jit-quiesce.ts)
  }
}

/** Prints an error and returns the exit status. */
function report(e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
    return 2; // commander already printed its one-line message
  }
  if (e instanceof InputError) {
    process.stderr.write(`iovsim: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
    return 2;
  }
  process.stderr.write(`iovsim: internal error: ${(e as Error).stack ?? String(e)}\n`);
  return 1;
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
