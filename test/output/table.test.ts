/** The aligned terminal table of `iovsim compare`. */
import { describe, expect, it } from 'vitest';
import { formatNumber, formatTable } from '../../src/output/table.js';
import { compareTable } from '../../src/scenario/compare.js';
import type { Plan } from '../../src/scenario/load.js';

describe('tables', () => {
  it('aligns text left and numbers right, two spaces apart', () => {
    const t = formatTable(
      [
        { header: 'path', align: 'left' },
        { header: 'p99 (us)', align: 'right' },
      ],
      [
        ['bare-metal', '1.5'],
        ['virtio-qemu', '123.25'],
      ],
    );
    expect(t).toBe('path         p99 (us)\nbare-metal        1.5\nvirtio-qemu    123.25\n');
    const widths = t.trimEnd().split('\n').map((l) => l.length);
    expect(new Set(widths).size).toBe(1);
  });

  it('formats numbers with fixed decimals and thousands separators', () => {
    expect(formatNumber(1234567.891, 1)).toBe('1,234,567.9');
    expect(formatNumber(-999.5, 0)).toBe('-1,000');
    expect(formatNumber(0.1234, 3)).toBe('0.123');
    expect(formatNumber(Number.NaN, 2)).toBe('-');
  });

  it('compare averages each path over its rows, in plan order', () => {
    const plan = { paths: ['b-path', 'a-path', 'missing'] } as unknown as Plan;
    const rows = [
      { path: 'a-path', latency_p50_ns: 1000, latency_p99_ns: 3000, throughput_ops_per_s: 100000, exits_per_op: 0, host_cpu_cores: 1 },
      { path: 'b-path', latency_p50_ns: 20000, latency_p99_ns: 50000, throughput_ops_per_s: 40000, exits_per_op: 2, host_cpu_cores: 1.5 },
      { path: 'b-path', latency_p50_ns: 30000, latency_p99_ns: 70000, throughput_ops_per_s: 50000, exits_per_op: 3, host_cpu_cores: 2.5 },
    ];
    const lines = compareTable(plan, rows).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^path\s+p50 \(us\)\s+p99 \(us\)\s+throughput \(ops\/s\)\s+exits\/op\s+host cores$/);
    expect(lines[1]!.split(/\s+/)).toEqual(['b-path', '25.000', '60.000', '45,000', '2.500', '2.000']);
    expect(lines[2]!.split(/\s+/)).toEqual(['a-path', '1.000', '3.000', '100,000', '0.000', '1.000']);
    expect(lines[3]!.split(/\s+/)).toEqual(['missing', '-', '-', '-', '-', '-']);
  });

  it('compare of runs with a timeline adds the migration, downtime, ops lost and recovery (empty cells left out of the mean)', () => {
    const plan = { paths: ['p'] } as unknown as Plan;
    const base = { path: 'p', latency_p50_ns: 1000, latency_p99_ns: 3000, throughput_ops_per_s: 100000, exits_per_op: 0, host_cpu_cores: 1 };
    const rows = [
      { ...base, migration_total_ms: 1000, migration_downtime_ms: 100, ops_lost: 2, recovery_ms: '' },
      { ...base, migration_total_ms: '', migration_downtime_ms: '', ops_lost: 0, recovery_ms: 50 },
    ];
    const lines = compareTable(plan, rows).trimEnd().split('\n');
    expect(lines[0]).toMatch(/host cores\s+migration \(ms\)\s+downtime \(ms\)\s+ops lost\s+recovery \(ms\)$/);
    expect(lines[1]!.split(/\s+/).slice(6)).toEqual(['1,000.0', '100.0', '1.0', '50.0']);
  });
});
