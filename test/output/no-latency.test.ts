/**
 * Issue 17 item 13: a run in which every op was dropped has no latency; its latency cells
 * are empty (they read 0 before, a latency no op had), and the replications' confidence
 * columns leave such a run out.
 */
import { describe, expect, it } from 'vitest';
import { withConfidence } from '../../src/output/results.js';
import { toRows } from '../../src/output/rows.js';
import { Counters } from '../../src/metrics/counters.js';
import { LatencyRecorder } from '../../src/metrics/latency-recorder.js';
import type { RunResult } from '../../src/metrics/run-result.js';

function result(completed: number): RunResult {
  const latency = new LatencyRecorder();
  for (let i = 0; i < completed; i++) latency.record(1_000_000 * (i + 1));
  return {
    opsCompleted: completed,
    opsDropped: 100 - completed,
    windowPs: 1e9,
    bytesCompleted: completed * 64,
    latency,
    counters: new Counters(),
    hostCpuCores: 1,
    stages: [],
    cpu: [],
    eventsProcessed: 100,
  };
}

const key = (replication: number) => ({ scenario: 's', point: 0, path: 'p', workload: 'net-rr', replication, seed: 1, sweep: {} });
const LATENCY = ['latency_mean_ns', 'latency_p50_ns', 'latency_p90_ns', 'latency_p99_ns', 'latency_p999_ns', 'latency_max_ns'];

describe('a run with every op dropped', () => {
  it('leaves its latency cells empty and counts its drops', () => {
    const s = toRows(key(0), result(0)).summary;
    for (const c of LATENCY) expect(s[c], c).toBe('');
    expect(s['ops_dropped']).toBe(100);
    expect(s['throughput_ops_per_s']).toBe(0);
  });

  it('a run with ops keeps numbers', () => {
    const s = toRows(key(0), result(3)).summary;
    expect(s['latency_mean_ns']).toBe(2000);
    expect(s['latency_max_ns']).toBeGreaterThan(0);
  });

  it('is left out of the confidence interval of its (point, path)', () => {
    const rows = withConfidence([toRows(key(0), result(0)).summary, toRows(key(1), result(3)).summary, toRows(key(2), result(3)).summary]);
    expect(rows[0]!['latency_mean_ci95_ns']).toBe(0); // two equal runs: width 0, the empty one left out
  });
});
