/**
 * Instruction-count benchmark (`npm run bench:instructions`): how many machine
 * instructions one simulated event (M/M/1) or one 64-byte net-rr request (a path) costs
 * once the code is compiled, and in which JavaScript functions. Needs valgrind.
 *
 * Why: wall-clock figures on a shared machine swing by a third or more from minute to
 * minute (the memory system is shared with other tenants), so a 5% change is invisible in
 * them. Instruction counts do not depend on the machine's state: per function, the same
 * build, inputs and flags give the same count to within about 1%. Sums move more, 5-10%
 * for a path, whether over everything (`instructions_per_unit`: garbage collection and
 * compilation that fall in the measured pass are in it) or over JIT code and V8 builtins
 * (`js_instructions_per_unit`): judge a change by the functions it touches.
 *
 * Method. The model runs under `valgrind --tool=callgrind`, with V8 compiling on the main
 * thread (`--single-threaded`: tiering decisions do not depend on thread timing) and
 * writing a map of its JIT code (`--perf-basic-prof`), once with N passes and once with
 * N + 1 identical passes of the same model; the difference is one warm pass, without
 * process start, module loading or the JIT's first compilations. Callgrind attributes
 * JIT code to bare addresses; the perf map names them (`*` optimized code, `^` baseline,
 * `~` interpreted). A name is the code object, so a function's figure includes whatever
 * the compiler inlined into it. Callgrind charges code to the function last entered by a
 * call: optimized loop code entered by a jump (on-stack replacement, as the event loop's
 * is) counts under the code that jumped, shown as `^runAll`.
 *
 * Usage: node dist/bench/instructions.js [--case mm1|PATH] [--workload net-rr|blk] [--ops N] [--passes N] [--top K] [--set key=value ...] [--node-flags "F ..."]
 *   --case   mm1 (the engine benchmark's case (a)) or a path (default vhost-user)
 *   --workload a path's workload: net-rr (64-byte request/response, the default) or blk
 *            (4 KiB random reads at I/O depth 1)
 *   --ops    customers (mm1, default 200,000) or requests (a path, default 50,000) per pass
 *   --passes warm-up passes before the measured one (default 2)
 *   --set    a parameter override for a path case, repeatable (host.tick_hz=0: what a
 *            mechanism costs, against the default in the same session)
 *   --node-flags extra Node/V8 flags for the measured process (to compare V8 settings)
 * Prints one JSON line. Not a test: nothing asserts a count. Takes a few minutes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SEED = 1;

/** Runs the case `passes` times in this process (the child under valgrind). */
async function child(kind: string, passes: number, ops: number, overrides: Record<string, unknown>, workload: string): Promise<void> {
  if (kind === 'mm1') {
    const { runMm1 } = await import('./mm1-model.js');
    for (let p = 0; p < passes; p++) process.stdout.write(`${runMm1(ops, SEED)}\n`);
    return;
  }
  const { blkRunner, netRrRunner } = await import('./net-rr-model.js');
  const run = (workload === 'blk' ? blkRunner : netRrRunner)(kind, ops, 0, overrides);
  for (let i = 0; i < passes; i++) process.stdout.write(`${run().eventsProcessed}\n`);
}

interface CodeRange {
  start: number;
  end: number;
  name: string;
}

/** V8's perf map: "start size name" per line, hexadecimal. */
function readPerfMap(file: string): CodeRange[] {
  const ranges: CodeRange[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (!m) continue;
    const start = parseInt(m[1]!, 16);
    ranges.push({ start, end: start + parseInt(m[2]!, 16), name: m[3]!.replace(/ file:\/\/\S*\/(dist|node_modules)\//, ' $1/') });
  }
  return ranges.sort((a, b) => a.start - b.start);
}

function nameAt(ranges: CodeRange[], address: number): string {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]!.start <= address) lo = mid + 1;
    else hi = mid - 1;
  }
  const r = ranges[hi];
  return r !== undefined && address < r.end ? r.name : '(unnamed JIT code)';
}

/** Instructions per function of one callgrind run, JIT addresses named by the perf map. */
function countByFunction(callgrindOut: string, perfMap: string): { total: number; byName: Map<string, number> } {
  const annotate = spawnSync('callgrind_annotate', ['--threshold=100', callgrindOut], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (annotate.status !== 0) throw new Error(`callgrind_annotate failed: ${annotate.stderr}`);
  const ranges = readPerfMap(perfMap);
  const byName = new Map<string, number>();
  let total = 0;
  for (const line of annotate.stdout.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (!m) continue;
    const count = Number(m[1]!.replace(/,/g, ''));
    const where = m[2]!;
    if (where.startsWith('PROGRAM TOTALS')) {
      total = count;
      continue;
    }
    const jit = /^\?\?\?:0x([0-9a-f]+)/.exec(where);
    const name = jit ? nameAt(ranges, parseInt(jit[1]!, 16)) : where.replace(/ \[.*\]$/, '').replace(/^\?\?\?:/, '');
    byName.set(name, (byName.get(name) ?? 0) + count);
  }
  return { total, byName };
}

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * The --set overrides as parameter values, read as `iovsim run --set` reads them
 * (parseSets: a string parameter keeps its text, virtio.version=1.0 stays "1.0") and
 * checked here, before any valgrind run. The modules are loaded in the parent process only,
 * so the measured child loads nothing more than the model.
 */
async function parameterOverrides(sets: string[]): Promise<Record<string, unknown>> {
  if (sets.length === 0) return {};
  const { parseSets } = await import('../src/scenario/load.js');
  const { params } = await import('../src/calibration/index.js');
  const { InputError, didYouMean } = await import('../src/util/input-error.js');
  const overrides: Record<string, unknown> = {};
  for (const [key, value] of parseSets(sets)) {
    const name = key.replace(/^params\./, '');
    if (!params.has(name)) {
      throw new InputError(`--set ${key}: unknown parameter${didYouMean(name, params.names())}; only a parameter applies here (iovsim list params), the workload is fixed`);
    }
    params.check(name, value, '--set params'); // a bad value fails here, not in the measured child
    overrides[name] = value;
  }
  return overrides;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1]!, Number(args[2]), Number(args[3]), JSON.parse(args[4]!) as Record<string, unknown>, args[5]!);
  const kind = arg(args, '--case') ?? 'vhost-user';
  const workload = arg(args, '--workload') ?? 'net-rr';
  if (workload !== 'net-rr' && workload !== 'blk') throw new Error(`--workload: net-rr or blk, got ${workload}`);
  const ops = Number(arg(args, '--ops') ?? (kind === 'mm1' ? 200_000 : 50_000));
  const passes = Number(arg(args, '--passes') ?? 2);
  const top = Number(arg(args, '--top') ?? 25);
  const nodeFlags = (arg(args, '--node-flags') ?? '').split(' ').filter((f) => f !== '');
  const overrides = await parameterOverrides(args.flatMap((a, i) => (a === '--set' ? [args[i + 1] ?? ''] : [])));
  if (!(ops > 0 && Number.isInteger(ops) && passes >= 1 && Number.isInteger(passes) && top >= 1)) {
    throw new Error('--ops and --passes must be positive integers');
  }
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    process.stderr.write('bench:instructions needs valgrind (Debian: apt-get install valgrind)\n');
    process.exit(2);
  }
  const self = fileURLToPath(import.meta.url);
  const dir = mkdtempSync(join(tmpdir(), 'iovsim-instructions-'));
  try {
    const runs: { total: number; byName: Map<string, number>; events: number }[] = [];
    for (const n of [passes, passes + 1]) {
      const out = join(dir, `callgrind.${n}`);
      const r = spawnSync(
        'valgrind',
        ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, ...nodeFlags, '--perf-basic-prof', '--single-threaded', self, '--child', kind, String(n), String(ops), JSON.stringify(overrides), workload],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      if (r.status !== 0) throw new Error(`valgrind run failed (status ${r.status}):\n${r.stderr.slice(-2000)}`);
      const map = `/tmp/perf-${r.pid}.map`;
      try {
        const counted = countByFunction(out, map);
        const lines = r.stdout.trim().split('\n');
        runs.push({ ...counted, events: Number(lines[lines.length - 1]) });
      } finally {
        rmSync(map, { force: true });
      }
    }
    const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];
    const units = kind === 'mm1' ? b.events : ops;
    const unit = kind === 'mm1' ? 'event' : workload === 'blk' ? 'I/O' : 'request';
    const names = new Set([...a.byName.keys(), ...b.byName.keys()]);
    const perUnit = [...names]
      .map((name) => ({ name, n: ((b.byName.get(name) ?? 0) - (a.byName.get(name) ?? 0)) / units }))
      .sort((x, y) => y.n - x.n);
    process.stdout.write(
      `${JSON.stringify({
        case: kind,
        ...(kind !== 'mm1' ? { workload } : {}),
        ...(Object.keys(overrides).length > 0 ? { set: overrides } : {}),
        unit,
        units_per_pass: units,
        events_per_pass: b.events,
        instructions_per_unit: Math.round((b.total - a.total) / units),
        js_instructions_per_unit: Math.round(perUnit.filter((x) => /^(JS:|Builtins_)/.test(x.name)).reduce((sum, x) => sum + x.n, 0)),
        top: perUnit.slice(0, top).map((x) => ({ function: x.name, instructions_per_unit: Math.round(x.n) })),
      })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  // Bad input (InputError, as the command names it): its one line and status 2.
  const isInput = e instanceof Error && e.name === 'InputError';
  process.stderr.write(`${isInput ? `bench:instructions: ${e.message}` : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(isInput ? 2 : 1);
});
