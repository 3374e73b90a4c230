/**
 * Offered load: batching and notification suppression make exits and interrupts per
 * packet fall as the rate rises (EVENT_IDX, NAPI, busy back ends keeping kicks off), and
 * latency rises to a knee when the bottleneck saturates. Poisson 64-byte net-tx.
 */
import { describe, expect, it } from 'vitest';
import { perOp, runPath } from './helpers.js';

const at = (rate: number) => ({ kind: 'net-tx', size_bytes: 64, rate_per_s: rate, ops: 20_000, warmup_ops: 2_000 });

describe.each(['vhost-kernel', 'virtio-qemu'])('%s under rising load', (path) => {
  const rates = [20_000, 150_000, 400_000, 550_000];
  const runs = rates.map((r) => runPath(path, at(r)));

  it('exits and interrupts per packet fall monotonically', () => {
    const exits = runs.map((r) => perOp(r, r.counters.exits));
    const irqs = runs.map((r) => perOp(r, r.counters.interrupts));
    for (let i = 1; i < runs.length; i++) {
      expect(exits[i]!).toBeLessThan(exits[i - 1]!);
      expect(irqs[i]!).toBeLessThan(irqs[i - 1]!);
    }
    expect(exits[0]!).toBeGreaterThan(0.8); // at low load nearly every packet kicks
    expect(exits.at(-1)!).toBeLessThan(0.2); // near saturation the back end polls its ring
  });

  it('throughput follows the offered load below saturation', () => {
    runs.forEach((r, i) => expect(r.opsCompleted / (r.windowPs / 1e12)).toBeGreaterThan(rates[i]! * 0.95));
  });

  it('latency rises to a knee at saturation', () => {
    const p99 = runs.map((r) => r.latency.quantile(0.99));
    expect(p99.at(-1)!).toBeGreaterThan(2 * p99[0]!);
    const overloaded = runPath(path, at(2_000_000));
    const p50 = runs.map((r) => r.latency.quantile(0.5));
    // beyond the knee the queue builds without bound: far above any point below it
    expect(overloaded.latency.quantile(0.5)).toBeGreaterThan(10 * Math.max(...p50));
  });
});
