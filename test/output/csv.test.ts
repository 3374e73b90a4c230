/**
 * CSV rendering (fast-csv's field formatter, used directly) against fast-csv's public
 * writeToString: the same bytes for ordinary and awkward fields, numbers included (they
 * skip the formatter); a file is its header plus the tasks' bodies.
 */
import { writeToString } from 'fast-csv';
import { describe, expect, it } from 'vitest';
import { formatCsvField, renderCsv, renderCsvBody, renderCsvHeader } from '../../src/output/write.js';
import { renderLatencyBody } from '../../src/output/results.js';
import { LATENCY_COLUMNS, type LatencyRows, type Row } from '../../src/output/rows.js';

const AWKWARD: (string | number)[] = [
  '', 'plain', 'with,comma', 'with "quotes"', 'line\nbreak', 'cr\rreturn', 'pipe|char', 'nul\0byte', ' padded ',
  'ünïcödé', "'single'", 0, -0.5, 1234567.891, 1e21, 1e-7, 123456789012345, Number.MAX_SAFE_INTEGER, -42,
];

describe('CSV rendering', () => {
  it('formats every field exactly as fast-csv does', async () => {
    for (const v of AWKWARD) {
      const reference = await writeToString([[v]], { writeHeaders: false, includeEndRowDelimiter: true });
      expect(formatCsvField(v) + '\n', JSON.stringify(v)).toBe(reference);
    }
  });

  it('renders whole files exactly as fast-csv does', async () => {
    const columns = ['a', 'b', 'c'];
    const rows: Row[] = AWKWARD.map((v, i) => ({ a: i, b: v, c: `x${i}` }));
    rows.push({ a: 99 }); // missing cells are empty
    const reference = await writeToString(
      rows.map((r) => columns.map((c) => r[c] ?? '')),
      { headers: columns, writeHeaders: true, includeEndRowDelimiter: true },
    );
    expect(renderCsv(columns, [], rows)).toBe(reference);
  });

  it('a file is its header followed by the bodies of its parts', () => {
    const rows: Row[] = [{ a: 1, b: 'x' }, { a: 2, b: 'y,z' }, { a: 3, b: 'w' }];
    const whole = renderCsv(['a'], ['b'], rows);
    const parts = renderCsvHeader(['a', 'b']) + renderCsvBody(['a'], ['b'], rows.slice(0, 1)) + renderCsvBody(['a'], ['b'], rows.slice(1));
    expect(parts).toBe(whole);
    expect(whole).toBe('a,b\n1,x\n2,"y,z"\n3,w\n');
    expect(renderCsvBody(['a'], [], [])).toBe('');
  });

  it('renders latency rows from columns exactly as from one row object per bucket', () => {
    const t: LatencyRows = {
      id: { point: 3, path: 'odd,"path"', replication: 1 },
      params: { 'param.a': 'x|y', 'param.b': 0.25, 'param.c': 'true' },
      latencyNs: Float64Array.from([0.001, 21.348, 1234567.891, 1e21]),
      count: Float64Array.from([1, 40, 2, 7]),
      cumulativeFraction: Float64Array.from([0.0000025, 0.5, 0.99999999, 1]),
    };
    const extra = ['param.a', 'param.b', 'param.missing', 'param.c'];
    const rows: Row[] = Array.from(t.latencyNs, (v, k) => ({
      ...t.id,
      latency_ns: v,
      count: t.count[k]!,
      cumulative_fraction: t.cumulativeFraction[k]!,
      ...t.params,
    }));
    expect(renderLatencyBody(extra, t)).toBe(renderCsvBody(LATENCY_COLUMNS, extra, rows));
    expect(renderLatencyBody([], t)).toBe(renderCsvBody(LATENCY_COLUMNS, [], rows));
    expect(renderLatencyBody(extra, { ...t, latencyNs: new Float64Array(0) })).toBe('');
  });
});
