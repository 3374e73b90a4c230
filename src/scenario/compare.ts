/**
 * `iovsim compare`: one workload, with its defaults, on several paths, side by side.
 * It builds an in-memory scenario (the same validation and the same run code as a file)
 * and summarises each path's summary rows, averaged over replications, as a table.
 */
import { PATHS } from '../paths/index.js';
import type { Row } from '../output/rows.js';
import { formatNumber, formatTable } from '../output/table.js';
import { InputError, didYouMean, showValue } from '../util/input-error.js';
import { WORKLOAD_KINDS } from '../workloads/index.js';
import { applySets, parseSets, planScenario, withSetBlame, type Plan } from './load.js';

/** The workload compare runs when --workload is not given (as `npm start` does). */
export const DEFAULT_COMPARE_WORKLOAD = 'net-rr';

/** The flags of `iovsim compare`, already parsed. */
export interface CompareOptions {
  workload?: string;
  /** Comma-separated path names; default: every path that runs the workload. */
  paths?: string;
  sets?: readonly string[];
  ops?: number;
  seed?: number;
  /** See PlanOptions. */
  beforeSetUp?: (plan: Plan) => void;
}

/** The in-memory scenario `compare` runs, as a plan. */
export function comparePlan(options: CompareOptions): Plan {
  const kind = options.workload ?? DEFAULT_COMPARE_WORKLOAD;
  const sets = [...(options.sets ?? [])];
  if (options.ops !== undefined) sets.push(`workload.ops=${options.ops}`);
  if (options.seed !== undefined) sets.push(`seed=${options.seed}`);
  const parsedSets = parseSets(sets);
  const kinds = WORKLOAD_KINDS.map((w) => w.kind);
  if (!kinds.includes(kind)) {
    throw new InputError(`--workload: unknown workload ${showValue(kind)}${didYouMean(kind, kinds)}; allowed: ${kinds.join(', ')}`);
  }
  const raw: Record<string, unknown> = { name: `compare-${kind}`, workload: { kind } };
  if (options.paths !== undefined) {
    const names = options.paths.split(',').map((p) => p.trim());
    if (names.some((n) => n === '')) throw new InputError(`--paths: a comma-separated list of path names, got ${showValue(options.paths)}`);
    raw['paths'] = names;
  } else if (kind !== 'custom' && !PATHS.some((p) => p.workloads.includes(kind))) {
    throw new InputError(`--workload: no registered path runs ${showValue(kind)} yet; see iovsim list paths`);
  }
  const applied = applySets(raw, parsedSets);
  return withSetBlame(() => planScenario(applied, 'compare', options.beforeSetUp ? { beforeSetUp: options.beforeSetUp } : {}), sets);
}

function mean(rows: readonly Row[], column: string): number {
  return rows.reduce((s, r) => s + Number(r[column]), 0) / rows.length;
}

/** A latency column's mean in us, over the rows that have one ('-' when none has: every op dropped). */
function latencyUs(rows: readonly Row[], column: string): string {
  const having = rows.filter((r) => r[column] !== '');
  return having.length === 0 ? '-' : formatNumber(mean(having, column) / 1000, 3);
}

/** The compare table from summary rows: one line per path (in plan order), means over replications and points. */
export function compareTable(plan: Plan, summaries: readonly Row[]): string {
  // a timeline adds what its events cost: the migration's total and downtime, ops lost, recovery
  const isTimed = summaries.some((r) => 'migration_total_ms' in r);
  const timed = (rows: readonly Row[]): string[] => {
    if (!isTimed) return [];
    const ms = (column: string): string => {
      const having = rows.filter((r) => r[column] !== '' && r[column] !== undefined);
      return having.length === 0 ? '-' : formatNumber(mean(having, column), 1);
    };
    return [ms('migration_total_ms'), ms('migration_downtime_ms'), formatNumber(mean(rows, 'ops_lost'), 1), ms('recovery_ms')];
  };
  const lines = plan.paths.map((path) => {
    const rows = summaries.filter((r) => r['path'] === path);
    if (rows.length === 0) return [path, '-', '-', '-', '-', '-', ...(isTimed ? ['-', '-', '-', '-'] : [])];
    return [
      path,
      latencyUs(rows, 'latency_p50_ns'),
      latencyUs(rows, 'latency_p99_ns'),
      formatNumber(mean(rows, 'throughput_ops_per_s'), 0),
      formatNumber(mean(rows, 'exits_per_op'), 3),
      formatNumber(mean(rows, 'host_cpu_cores'), 3),
      ...timed(rows),
    ];
  });
  return formatTable(
    [
      { header: 'path', align: 'left' },
      { header: 'p50 (us)', align: 'right' },
      { header: 'p99 (us)', align: 'right' },
      { header: 'throughput (ops/s)', align: 'right' },
      { header: 'exits/op', align: 'right' },
      { header: 'host cores', align: 'right' },
      ...(isTimed
        ? ([
            { header: 'migration (ms)', align: 'right' },
            { header: 'downtime (ms)', align: 'right' },
            { header: 'ops lost', align: 'right' },
            { header: 'recovery (ms)', align: 'right' },
          ] as const)
        : []),
    ],
    lines,
  );
}
