#!/usr/bin/env node
/**
 * The `iovsim` command. Exit status: 0 success, 2 bad input (one line on stderr, no
 * result files written or touched), 1 internal error, 130 interrupted (Ctrl-C).
 *
 * Every flag, the scenario and the output folder are checked before any simulation
 * starts; results go to a locked staging folder as the runs finish and replace the
 * output folder in one swap at the end (output/result-folder.ts), so bad input, a crash,
 * a full disk or Ctrl-C leaves the previous result or none.
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
import { DEFAULT_EXPLAIN_OPS, explain, explainText } from './scenario/explain.js';
import { executePlan, runTasks, type Execution, type ShardPlace } from './scenario/execute.js';
import { evaluateTargets, targetCells, targetTable, type TargetResult } from './scenario/validation.js';
import { scenarioJsonSchema } from './scenario/json-schema.js';
import { JOB_FILE_OPS_CAP, isFioJobFile, loadFioJobFile, type FioJobFilePlan } from './scenario/fio-job-file.js';
import { renderFioJson } from './output/fio-json.js';
import { checkPlanSize, describeEstimate, estimatePlan, formatBytes, formatDuration, planLimits, probeNsPerEvent } from './scenario/estimate.js';
import { loadPlan, type Plan } from './scenario/load.js';
import { terminateWorkers } from './scenario/pool.js';
import { planTasks, type Task } from './scenario/run.js';
import { mergeShards, parseShardSpec, shardTasks, type ShardSpec } from './scenario/shard.js';
import { formatTable, type TableColumn } from './output/table.js';
import { ResultFolder, writeFolderAtomically } from './output/result-folder.js';
import { DISCARD, type FileSink, type TaskOutput } from './output/results.js';
import { checkTraceFile, parseTraceSample, writeTraceFile } from './output/trace-file.js';
import { OutputError } from './util/output-error.js';
import { InputError, showValue } from './util/input-error.js';
import { exitAfterCleanups, markResultWritten, onInterrupt, withDefaultSignals } from './util/interrupt.js';
import { readInputFile } from './util/read-input.js';
import { awaitBackgroundCompiles } from './util/jit-quiesce.js';
import { createProgress } from './util/progress.js';
import { TOOL } from './version.js';
import { WORKLOAD_KINDS } from './workloads/index.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The wall clock [ms], read only here: for the manifest's wall_time_s and the plan estimate's probe, never by a simulation. */
const wallClockMs = (): number => performance.now();

/** Parses --seed: an integer from 0 to 2^32-1. */
export function parseSeed(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n > 2 ** 32 - 1) {
    throw new InputError(`--seed: must be an integer from 0 to 4294967295, got ${showValue(text)}`);
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
    throw new InputError(`--jobs: must be a whole number from 1 to ${MAX_JOBS} (default: ${availableParallelism()} cores), got ${showValue(text)}`);
  }
  return n;
}

/**
 * The worker threads a run uses: --jobs, but at most this machine's cores (more workers
 * than cores only contend for them); says so once on stderr when it caps, unless quiet.
 */
export function capJobs(requested: number, quiet: boolean, cores: number = availableParallelism()): number {
  if (requested <= cores) return requested;
  if (!quiet) process.stderr.write(`iovsim: --jobs ${requested}: this machine has ${cores} core${cores === 1 ? '' : 's'}; using ${cores} worker thread${cores === 1 ? '' : 's'}\n`);
  return cores;
}

/** --output-format of run: the CSV files (always), and fio-json: fio.json too. */
const OUTPUT_FORMATS = ['csv', 'fio-json'];

/**
 * The plan of a scenario file or a fio job file (README "fio job files"); --paths is
 * --set paths=... (recorded so in the manifest).
 */
function loadRunPlan(
  file: string,
  sets: string[],
  seed: number | undefined,
  paths: string | undefined,
  beforeSetUp?: (plan: Plan) => void,
): { plan: Plan; sets: string[]; job?: FioJobFilePlan } {
  const all = paths === undefined ? sets : [...sets, `paths=${paths}`];
  const options = beforeSetUp ? { beforeSetUp } : {};
  if (!isFioJobFile(file)) return { plan: loadPlan(file, all, seed, options), sets: all };
  const job = loadFioJobFile(file, { sets, ...(seed !== undefined ? { seed } : {}), ...(paths !== undefined ? { paths } : {}), ...options });
  return { plan: job.plan, sets: all, job };
}

/** A job file's ignored options, named once on stderr (once the input is known to be good). */
function noteIgnored(file: string, job: FioJobFilePlan | undefined, quiet: boolean): void {
  if (job && job.ignored.length > 0 && !quiet) process.stderr.write(`iovsim: ${file}: ignored (no effect on a simulation): ${job.ignored.join(', ')}\n`);
}

/** Parses --ops of compare: a positive whole number. */
export function parseOps(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || !Number.isSafeInteger(n)) {
    throw new InputError(`--ops: must be a whole number of operations, at least 1, got ${showValue(text)}`);
  }
  return n;
}

/** --trace and --trace-sample as given (the file is checked once the output folder is known). */
interface TraceFlags {
  trace?: string;
  traceSample?: string;
}

/**
 * Sets up --trace for a plan: checks the flags and the file, marks the first task this
 * command runs as the traced one (plan.trace); returns where to write and a catcher of
 * its trace text, or null without --trace.
 */
function setUpTrace(opts: TraceFlags, plan: Plan, tasks: readonly Task[], out: string | undefined): { file: string; catch: (o: TaskOutput) => void; text: () => string } | null {
  if (opts.trace === undefined) {
    if (opts.traceSample !== undefined) throw new InputError('--trace-sample: needs --trace FILE');
    return null;
  }
  const sample = opts.traceSample === undefined ? 200 : parseTraceSample(opts.traceSample);
  const file = checkTraceFile(opts.trace, out);
  const first = tasks[0];
  if (first === undefined) throw new InputError('--trace: this run has no task to trace');
  if (plan.points[first.point]!.workload.kind === 'custom') throw new InputError('--trace: a custom workload has no request journeys to trace; use a path workload');
  plan.trace = { task: first.index, sample };
  let text: string | undefined;
  return {
    file,
    catch: (o) => {
      if (o.trace !== undefined) text = o.trace;
    },
    text: () => {
      if (text === undefined) throw new Error(`task ${first.index} returned no trace`);
      return text;
    },
  };
}

interface RunFlags {
  jobs: number;
  quiet: boolean;
  overrides: string[];
}

/** Runs tasks of a plan with the progress bar (when stderr is a terminal and not --quiet), writing to `sink`. */
async function runWithProgress(plan: Plan, tasks: Task[], flags: RunFlags, sink?: FileSink, shard?: ShardPlace, onOutput?: (o: TaskOutput) => void) {
  const opsOfPoint = plan.points.map((p) => p.workload.ops + p.workload.warmup_ops);
  const progress = createProgress({ tasks: tasks.map((t) => ({ index: t.index, point: t.point, ops: opsOfPoint[t.point]! })), quiet: flags.quiet });
  const unregister = onInterrupt(() => progress.stop());
  try {
    return await executePlan(plan, {
      tasks,
      jobs: flags.jobs,
      overrides: flags.overrides,
      clockMs: wallClockMs, // the manifest's wall_time_s only
      onTaskDone: (o) => progress.taskDone(o.index, o.eventsProcessed),
      onTaskProgress: (task, opsFinished, events) => progress.taskProgress(task, opsFinished, events),
      ...(sink ? { sink } : {}),
      ...(shard ? { shard } : {}),
      ...(onOutput ? { onOutput } : {}),
    });
  } finally {
    progress.stop();
    unregister();
  }
}

/**
 * Runs tasks of a plan into `folder` (opened, so checked and locked, before any
 * simulation): its files grow as the tasks finish; the folder is swapped into place at
 * the end, or removed on any failure.
 */
async function runAndWrite(
  plan: Plan,
  tasks: Task[],
  folder: ResultFolder,
  flags: RunFlags,
  shard?: ShardPlace,
  extra?: { onOutput: (o: TaskOutput) => void; files: () => Record<string, string>; beforeCommit?: (stagingDir: string) => Promise<void> },
) {
  let exec: Execution;
  try {
    exec = await runWithProgress(plan, tasks, flags, folder, shard, extra?.onOutput);
    for (const [name, text] of Object.entries(extra?.files() ?? {})) folder.append(name, text);
    // (the report reads the complete files and joins them in the same swap)
    await extra?.beforeCommit?.(folder.stagingDir);
    folder.commit();
  } catch (e) {
    folder.abort();
    throw e;
  }
  markResultWritten(relativeOrAbsolute(folder.target));
  return exec;
}

/**
 * The run's speed for the closing line: events and measured ops (completed or dropped,
 * warm-up excluded) per second of wall time, the whole run (workers' start-up and CSV
 * rendering included); empty when the run took no measurable time.
 */
function speedNote(exec: Execution): string {
  if (!(exec.wallTimeS > 0)) return '';
  const ops = exec.opsMeasured;
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
    .option('--debug', 'print the stack trace of an internal error (or set IOVSIM_DEBUG=1)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // Commander puts "(Did you mean ...?)" on a second line; bad input gets one line.
      outputError: (s, write) => write(`iovsim: ${oneLine(s.replace(/^error: /, '').trim())}\n`),
    });

  program
    .command('run')
    .description('run a scenario file: its sweep points, paths and replications')
    .argument('<file>', 'scenario file (YAML or JSON) or fio job file (.fio, .job)')
    .option('--out <dir>', 'output folder (default results/<scenario name>)')
    .option('--seed <n>', 'override the scenario seed')
    .option('--set <name=value>', 'override a parameter or workload field (repeatable; a job file: workload.* sets every job)', collect, [])
    .option('--paths <a,b,...>', 'the paths to run on (as --set paths=a,b; a job file: instead of its iovsim_path)')
    .option('--output-format <format>', `also write fio.json with fio-json (block workloads); one of ${OUTPUT_FORMATS.join(', ')}`, 'csv')
    .option('--jobs <n>', 'worker threads (default: number of cores)')
    .option('--shard <I/N>', 'run shard I of N (tasks whose index mod N is I-1); join with iovsim merge')
    .option('--force', 'run a plan estimated above the limits (a day of wall time, 80% of memory)')
    .option('--trace <file>', 'write the journeys of sampled requests of the first run as a Chrome trace (Perfetto)')
    .option('--trace-sample <n>', 'requests to trace, spread over the measurement window (default 200)')
    .option('--report', 'also write report.html (and its charts as report-*.svg) in the result folder, in the same atomic swap')
    .option('--quiet', 'print nothing but errors')
    .action(async (file: string, opts: TraceFlags & { report?: boolean; out?: string; seed?: string; set: string[]; paths?: string; outputFormat: string; jobs?: string; shard?: string; force?: boolean; quiet?: boolean }) => {
      const seed = opts.seed === undefined ? undefined : parseSeed(opts.seed);
      const jobs = capJobs(parseJobs(opts.jobs), opts.quiet === true);
      const shard = opts.shard === undefined ? undefined : parseShardSpec(opts.shard);
      if (!OUTPUT_FORMATS.includes(opts.outputFormat)) {
        throw new InputError(`--output-format: unknown format "${opts.outputFormat}"; allowed: ${OUTPUT_FORMATS.join(', ')}`);
      }
      const fioJson = opts.outputFormat === 'fio-json';
      if (fioJson && shard) throw new InputError('--output-format fio-json: not with --shard (merge writes no fio.json); run without --shard');
      // a plan too large to run is refused before each task's set-up is checked
      const sizeCheck = (p: Plan): void => checkPlanSize(p, jobs, opts.force === true, wallClockMs, shard ? 1 / shard.count : 1);
      const { plan, sets, job } = await withDefaultSignals(() => loadRunPlan(file, opts.set, seed, opts.paths, sizeCheck));
      if (fioJson) plan.fioFigures = true;
      if (fioJson && !plan.points.every((p) => p.workload.kind.startsWith('blk'))) {
        throw new InputError(`--output-format fio-json: needs a block workload (blk, blk-read, blk-write), not ${plan.points[0]!.workload.kind}`);
      }
      const defaultOut = shard ? `${plan.scenario.name}-shard-${shard.index}-of-${shard.count}` : plan.scenario.name;
      const out = resolve(opts.out ?? join('results', defaultOut));
      const all = await withDefaultSignals(() => planTasks(plan));
      const tasks = shard ? shardTasks(all, shard) : all;
      const flags = { jobs, quiet: opts.quiet === true, overrides: sets };
      const trace = setUpTrace(opts, plan, tasks, out);
      const folder = ResultFolder.open(out);
      noteIgnored(file, job, opts.quiet === true);
      // fio.json and the cap notes need each run's summary and fio figures (small), not its rows.
      const kept: TaskOutput[] = [];
      const keep = (o: TaskOutput): void => {
        if (fioJson || job) kept.push({ ...o, csv: { latency: '', stages: '', cpu: '', exits: '' }, cpu: [] });
      };
      const naming = { globalOptions: job?.globalOptions ?? {}, ...(job ? { steps: job.steps } : {}) };
      const files = (): Record<string, string> => (fioJson ? { 'fio.json': renderFioJson(plan, kept, naming) } : {});
      const onOutput = (o: TaskOutput): void => {
        trace?.catch(o);
        keep(o);
      };
      const report = opts.report
        ? async (stagingDir: string): Promise<void> => {
            const { writeReport } = await import('./report/report.js');
            await writeReport(stagingDir);
          }
        : undefined;
      const exec = await runAndWrite(plan, tasks, folder, flags, shard ? { spec: shard, planTasks: all.length } : undefined, {
        onOutput,
        files,
        ...(report ? { beforeCommit: report } : {}),
      });
      if (trace) writeTraceFile(trace.file, trace.text());
      if (job && !opts.quiet) {
        const capped = kept.filter((r) => job.cappedSteps.includes(Number(r.summary['point'])) && Number(r.summary['ops_completed']) + Number(r.summary['ops_dropped']) >= JOB_FILE_OPS_CAP);
        for (const r of capped) {
          process.stderr.write(`iovsim: ${file}: [${job.steps[Number(r.summary['point'])]!.name}] on ${String(r.summary['path'])} stopped at ${JOB_FILE_OPS_CAP} I/Os, before its runtime (iovsim's cap for a job file's step; --set workload.ops=N changes it)\n`);
        }
      }
      const what = shard ? `shard ${shard.index}/${shard.count}: ${tasks.length} of ${all.length} runs` : `${tasks.length} runs`;
      say(opts.quiet, `wrote ${what} (${exec.eventsProcessed} events, ${exec.wallTimeS} s${speedNote(exec)}) to ${relativeOrAbsolute(out)}\n`);
      if (trace) say(opts.quiet, `wrote the trace of task ${plan.trace!.task} to ${relativeOrAbsolute(trace.file)}\n`);
      if (opts.report) say(opts.quiet, `wrote the report to ${relativeOrAbsolute(join(out, 'report.html'))}\n`);
    });

  program
    .command('report')
    .description('write DIR/report.html (self-contained: charts as inline SVG, also saved as report-*.svg) from a result folder')
    .argument('<dir>', 'a result folder (iovsim run --out DIR)')
    .option('--quiet', 'print nothing but errors')
    .action(async (dir: string, opts: { quiet?: boolean }) => {
      const { writeReport } = await import('./report/report.js');
      const r = await writeReport(resolve(dir));
      const skipped = r.charts.filter((c) => c.svg === undefined).map((c) => c.title);
      say(opts.quiet, `wrote ${relativeOrAbsolute(join(resolve(dir), 'report.html'))} (${Object.keys(r.svgs).length} charts${skipped.length > 0 ? `; skipped: ${skipped.join(', ')}` : ''})\n`);
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
    .option('--force', 'run a plan estimated above the limits (a day of wall time, 80% of memory)')
    .option('--trace <file>', 'write the journeys of sampled requests on the first path as a Chrome trace (Perfetto)')
    .option('--trace-sample <n>', 'requests to trace, spread over the measurement window (default 200)')
    .option('--quiet', 'no progress bar and no "wrote" line; the table is still printed')
    .action(async (opts: TraceFlags & { workload?: string; paths?: string; set: string[]; ops?: string; seed?: string; out?: string; jobs?: string; force?: boolean; quiet?: boolean }) => {
      const seed = opts.seed === undefined ? undefined : parseSeed(opts.seed);
      const ops = opts.ops === undefined ? undefined : parseOps(opts.ops);
      const jobs = capJobs(parseJobs(opts.jobs), opts.quiet === true);
      const plan = await withDefaultSignals(() => comparePlan({
        ...(opts.workload !== undefined ? { workload: opts.workload } : {}),
        ...(opts.paths !== undefined ? { paths: opts.paths } : {}),
        sets: opts.set,
        ...(ops !== undefined ? { ops } : {}),
        ...(seed !== undefined ? { seed } : {}),
        beforeSetUp: (p: Plan) => checkPlanSize(p, jobs, opts.force === true, wallClockMs),
      }));
      const out = opts.out === undefined ? undefined : resolve(opts.out);
      const tasks = await withDefaultSignals(() => planTasks(plan));
      const flags = { jobs, quiet: opts.quiet === true, overrides: opts.set };
      const trace = setUpTrace(opts, plan, tasks, out);
      const folder = out === undefined ? undefined : ResultFolder.open(out);
      const exec = folder
        ? await runAndWrite(plan, tasks, folder, flags, undefined, trace ? { onOutput: trace.catch, files: () => ({}) } : undefined)
        : await runWithProgress(plan, tasks, flags, DISCARD, undefined, trace?.catch);
      if (trace) writeTraceFile(trace.file, trace.text());
      const w = plan.points[0]!.workload;
      process.stdout.write(`workload ${w.kind}, ${'ops' in w ? `${String(w.ops)} ops, ` : ''}seed ${plan.scenario.seed}\n`);
      process.stdout.write(compareTable(plan, exec.summaries));
      if (out) say(opts.quiet, `wrote ${tasks.length} runs to ${relativeOrAbsolute(out)}\n`);
      if (trace) say(opts.quiet, `wrote the trace of ${plan.paths[0]} to ${relativeOrAbsolute(trace.file)}\n`);
    });

  program
    .command('explain')
    .description("the steps of one request through a path as the model runs them: time, thread, exits, interrupts, copies, syscalls per step")
    .argument('<path>', 'path name (iovsim list paths)')
    .option('--workload <kind>', 'workload kind (default net-rr)')
    .option('--set <name=value>', 'override a parameter or workload field (repeatable)', collect, [])
    .option('--ops <n>', `operations to measure (default ${DEFAULT_EXPLAIN_OPS})`)
    .option('--seed <n>', 'seed (default 1)')
    .action(async (path: string, opts: { workload?: string; set: string[]; ops?: string; seed?: string }) => {
      const seed = opts.seed === undefined ? undefined : parseSeed(opts.seed);
      const ops = opts.ops === undefined ? undefined : parseOps(opts.ops);
      const e = await withDefaultSignals(() => explain({
        path,
        ...(opts.workload !== undefined ? { workload: opts.workload } : {}),
        sets: opts.set,
        ...(ops !== undefined ? { ops } : {}),
        ...(seed !== undefined ? { seed } : {}),
      }));
      process.stdout.write(explainText(e));
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
      writeFolderAtomically(out, merged.files);
      markResultWritten(relativeOrAbsolute(out));
      say(opts.quiet, `merged ${dirs.length} shard(s), ${merged.tasks} runs, into ${relativeOrAbsolute(out)}\n`);
    });

  program
    .command('validate')
    .description('check a scenario file without running it')
    .argument('<file>', 'scenario file (YAML or JSON) or fio job file (.fio, .job)')
    .option('--set <name=value>', 'override a parameter or workload field (repeatable)', collect, [])
    .option('--seed <n>', 'override the scenario seed')
    .option('--paths <a,b,...>', 'the paths to run on (as --set paths=a,b)')
    .action(async (file: string, opts: { set: string[]; seed?: string; paths?: string }) => {
      const seed = opts.seed === undefined ? undefined : parseSeed(opts.seed);
      const { plan, job } = await withDefaultSignals(() => loadRunPlan(file, opts.set, seed, opts.paths));
      noteIgnored(file, job, false);
      const runs = plan.points.length * plan.paths.length * plan.scenario.replications;
      const estimate = estimatePlan(plan, availableParallelism(), probeNsPerEvent(wallClockMs));
      const limits = planLimits();
      const over = estimate.wallS > limits.wallS || estimate.memoryBytes > limits.memoryBytes;
      process.stdout.write(
        `${file}: valid: ${plan.points.length} point(s) x ${plan.paths.length} path(s) x ${plan.scenario.replications} replication(s) = ${runs} runs\n` +
          `estimate: ${describeEstimate(estimate)}${over ? `; above the limits (${formatDuration(limits.wallS)}, ${formatBytes(limits.memoryBytes)}): run needs --force` : ''}\n`,
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
      const jobs = capJobs(parseJobs(opts.jobs), opts.quiet === true);
      const plans = await withDefaultSignals(() => {
        const list = validationFiles(files.length > 0 ? files : [join(scenariosFolder(), 'validation')]);
        return list.map((f) => loadPlan(f, opts.set));
      });
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
  let text: string;
  try {
    text = readInputFile(file);
  } catch (e) {
    if (e instanceof InputError) return `(${e.message})`;
    throw e;
  }
  const comments = text
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
      throw new InputError(`list: unknown list ${showValue(what)}; allowed: paths, workloads, params, scenarios`);
  }
}

/** Runs the command line and returns the exit status (0, 1 or 2). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    return report(e, wantsDebug(argv));
  } finally {
    await terminateWorkers(); // prewarmed workers a failed or short run did not use
    awaitBackgroundCompiles(); // before this isolate goes away (util/jit-quiesce.ts)
  }
}

/**
 * Stack traces are for whoever debugs iovsim: --debug (a global option, anywhere before a
 * lone --) or IOVSIM_DEBUG=1. Read from the words themselves so that it holds for errors
 * thrown before or while commander parses them.
 */
export function wantsDebug(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--debug') || /^(1|true|yes|on)$/i.test(process.env['IOVSIM_DEBUG'] ?? '');
}

/** The most characters of an error line: a pasted 5 MB value must not become a 5 MB line. */
export const MAX_ERROR_LINE_CHARS = 1000;

/** One line: newlines folded, and cut in the middle when longer than MAX_ERROR_LINE_CHARS. */
export function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ');
  if (line.length <= MAX_ERROR_LINE_CHARS) return line;
  const keep = MAX_ERROR_LINE_CHARS - 30;
  const cut = line.length - keep;
  return `${line.slice(0, Math.ceil(keep * 0.6))} ...(${cut} characters cut)... ${line.slice(line.length - Math.floor(keep * 0.4))}`;
}

/** Prints an error and returns the exit status. */
function report(e: unknown, debug: boolean): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
    return 2; // commander already printed its one-line message
  }
  // bad input (exit 2) and a write that failed part-way (exit 1): one line, no stack
  if (e instanceof InputError || e instanceof OutputError) {
    process.stderr.write(`iovsim: ${oneLine(e.message)}\n`);
    return e instanceof InputError ? 2 : 1;
  }
  reportInternal(e, debug);
  return 1;
}

/** An internal error: one line, or with debug the stack trace. */
function reportInternal(e: unknown, debug: boolean): void {
  const err = e instanceof Error ? e : new Error(String(e));
  if (debug) process.stderr.write(`iovsim: internal error: ${err.stack ?? err.message}\n`);
  else process.stderr.write(`iovsim: internal error: ${oneLine(err.message)} (run with --debug for the stack trace)\n`);
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
  const argv = process.argv.slice(2);
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    // The reader went away (iovsim schema | head): stop quietly with success, as Unix tools do.
    if (e.code === 'EPIPE') exitAfterCleanups(0);
    process.stderr.write(`iovsim: cannot write to standard output (${e.code ?? e.message})\n`);
    exitAfterCleanups(1);
  });
  process.stderr.on('error', () => {
    // Nowhere left to say anything: carry on, the exit status still tells.
  });
  // An error outside main's try (an event handler, a stray rejection) is reported as one too.
  process.on('uncaughtException', (e) => {
    reportInternal(e, wantsDebug(argv));
    exitAfterCleanups(1);
  });
  main(argv).then((code) => {
    process.exitCode = code;
  });
}
