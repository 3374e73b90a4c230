/**
 * CSV rendering with fast-csv's field formatter. Folders are written by
 * result-folder.ts.
 */
import { FieldFormatter } from '@fast-csv/format/build/src/formatter/index.js';
import { FormatterOptions } from 'fast-csv';
import type { Row } from './rows.js';

/**
 * fast-csv's own field formatter (the class its CsvFormatterStream formats every field
 * with), used directly: the stream API costs about 6 us per row (latency.csv has some
 * 10^4 rows per task), the formatter alone a fraction of that, and both give the same
 * bytes (test/output/csv.test.ts checks against writeToString). Default options: comma,
 * double quote, "\n" rows, quoting only where needed.
 */
const fieldFormatter = new FieldFormatter(new FormatterOptions({}));

/**
 * One CSV field as fast-csv writes it. Numbers skip the formatter: String(n) never holds
 * a quote, comma, CR, LF, "|" or NUL, so fast-csv returns it unchanged.
 */
export function formatCsvField(value: string | number): string {
  return typeof value === 'number' ? String(value) : fieldFormatter.format(value, 0, false);
}

/** CSV cells joined by commas, without a line end. */
export function formatCsvCells(cells: readonly (string | number)[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) line += (i === 0 ? '' : ',') + formatCsvField(cells[i]!);
  return line;
}

/** One CSV line, ending in \n. */
export function formatCsvLine(cells: readonly (string | number)[]): string {
  return `${formatCsvCells(cells)}\n`;
}

/** Renders rows as RFC 4180 CSV lines (each ending in \n) for the given columns, no header. */
export function renderCsvBody(columns: readonly string[], extra: readonly string[], rows: readonly Row[]): string {
  const headers = [...columns, ...extra];
  let out = '';
  for (const r of rows) out += formatCsvLine(headers.map((h) => r[h] ?? ''));
  return out;
}

/** The header line of a CSV file. */
export function renderCsvHeader(columns: readonly string[]): string {
  return formatCsvLine(columns);
}

/** Renders rows as RFC 4180 CSV with the given columns first, then extra columns (param.*). */
export function renderCsv(columns: readonly string[], extra: readonly string[], rows: readonly Row[]): string {
  return renderCsvHeader([...columns, ...extra]) + renderCsvBody(columns, extra, rows);
}
