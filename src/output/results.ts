/**
 * Gathers the rows of every task of a plan into the output files of design.md section 5.
 */
import type { Plan } from '../scenario/load.js';
import {
  CPU_COLUMNS, EXIT_COLUMNS, LATENCY_COLUMNS, STAGE_COLUMNS, SUMMARY_COLUMNS,
  type Row, type TaskRows,
} from './rows.js';
import { renderCsv } from './write.js';

export interface Manifest {
  tool: string;
  version: string;
  git_revision: string | null;
  node: string;
  scenario_file: string;
  scenario: unknown;
  overrides: string[];
  seed: number;
  replications: number;
  points: number;
  paths: string[];
  tasks: number;
  events_processed: number;
  wall_time_s: number;
}

/** Renders the CSV files; rows must be in task order. */
export async function renderResultFiles(plan: Plan, rows: readonly TaskRows[]): Promise<Record<string, string>> {
  const extra = plan.sweepKeys.map((k) => `param.${k}`);
  const flat = (pick: (t: TaskRows) => Row[]): Row[] => rows.flatMap(pick);
  return {
    'summary.csv': await renderCsv(SUMMARY_COLUMNS, extra, rows.map((t) => t.summary)),
    'latency.csv': await renderCsv(LATENCY_COLUMNS, extra, flat((t) => t.latency)),
    'stages.csv': await renderCsv(STAGE_COLUMNS, extra, flat((t) => t.stages)),
    'cpu.csv': await renderCsv(CPU_COLUMNS, extra, flat((t) => t.cpu)),
    'exits.csv': await renderCsv(EXIT_COLUMNS, extra, flat((t) => t.exits)),
  };
}
