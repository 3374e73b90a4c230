/**
 * Calibration targets: selection of summary rows, ratio and difference targets, ranges
 * and tolerances, known gaps, and the plan-time checks that name the bad field.
 */
import { describe, expect, it } from 'vitest';
import { planScenario } from '../../src/scenario/load.js';
import { evaluateTargets } from '../../src/scenario/validation.js';

const base = {
  name: 'v',
  workload: { kind: 'net-rr' },
  paths: ['bare-metal', 'vhost-kernel'],
  sweep: { 'kvm.halt_poll_ns': [200000, 0] },
};
const rows = [
  { path: 'bare-metal', 'param.kvm.halt_poll_ns': 200000, latency_mean_ns: 20000 },
  { path: 'bare-metal', 'param.kvm.halt_poll_ns': 0, latency_mean_ns: 20000 },
  { path: 'vhost-kernel', 'param.kvm.halt_poll_ns': 200000, latency_mean_ns: 27000 },
  { path: 'vhost-kernel', 'param.kvm.halt_poll_ns': 0, latency_mean_ns: 33000 },
  { path: 'vhost-kernel', 'param.kvm.halt_poll_ns': 0, latency_mean_ns: 35000 }, // a second replication
];

function evaluate(validation: unknown[]) {
  return evaluateTargets(planScenario({ ...base, validation }, 'v.yaml'), rows.map((summary) => ({ summary, cpu: [] })));
}

describe('calibration targets', () => {
  it('selects by path and swept value, averages replications, and checks the tolerance', () => {
    const [a, b] = evaluate([
      { target: 'a', metric: 'latency_mean_ns', path: 'vhost-kernel', where: { 'kvm.halt_poll_ns': 0 }, published: 30000, source: 's', tolerance: 0.1 },
      { target: 'b', metric: 'latency_mean_ns', path: 'vhost-kernel', where: { 'kvm.halt_poll_ns': 0 }, published: 40000, source: 's' },
    ]);
    expect(a!.measured).toBe(34000);
    expect(a!.status).toBe('FAIL'); // 13% off, 10% allowed
    expect(b!.ratio).toBeCloseTo(0.85, 9);
    expect(b!.status).toBe('pass'); // exactly at the 15% default
  });

  it('ratio and difference targets, and ranges', () => {
    const [d, r] = evaluate([
      { target: 'd', metric: 'latency_mean_ns', path: 'vhost-kernel', where: { 'kvm.halt_poll_ns': 0 }, relative_to: { where: { 'kvm.halt_poll_ns': 200000 }, path: 'vhost-kernel', op: 'difference' }, published: 7000, source: 's' },
      { target: 'r', metric: 'latency_mean_ns', path: 'bare-metal', where: { 'kvm.halt_poll_ns': 0 }, relative_to: { path: 'vhost-kernel', where: { 'kvm.halt_poll_ns': 200000 }, op: 'ratio' }, published: [0.7, 0.72], tolerance: 0.03, source: 's' },
    ]);
    expect(d!.measured).toBe(7000);
    expect(d!.status).toBe('pass');
    expect(r!.measured).toBeCloseTo(20000 / 27000, 9); // 0.7407: above 0.72 x 1.03 = 0.7416? no: within
    expect(r!.status).toBe('pass');
  });

  it('a known gap is reported as a gap while it misses, and fails the check once it passes', () => {
    const [g, u] = evaluate([
      { target: 'g', metric: 'latency_mean_ns', path: 'bare-metal', where: { 'kvm.halt_poll_ns': 0 }, published: 40000, source: 's', known_gap: 'docs/model.md s9' },
      { target: 'u', metric: 'latency_mean_ns', path: 'bare-metal', where: { 'kvm.halt_poll_ns': 0 }, published: 20000, source: 's', known_gap: 'docs/model.md s9' },
    ]);
    expect(g!.status).toBe('gap');
    expect(u!.status).toBe('UNEXPECTED PASS');
  });

  it('bad targets are refused at plan time, naming the field', () => {
    const t = { target: 't', metric: 'latency_mean_ns', published: 1, source: 's' };
    expect(() => evaluate([{ ...t, metric: 'latency_mena_ns', path: 'bare-metal' }])).toThrow(/validation\[0\]\.metric: unknown summary column "latency_mena_ns" \(did you mean latency_mean_ns/);
    expect(() => evaluate([t])).toThrow(/validation\[0\]\.path: the scenario runs bare-metal, vhost-kernel; say which/);
    expect(() => evaluate([{ ...t, path: 'sriov' }])).toThrow(/validation\[0\]\.path: "sriov" is not among/);
    expect(() => evaluate([{ ...t, path: 'bare-metal', where: { 'kvm.apicv': true } }])).toThrow(/validation\[0\]\.where\.kvm\.apicv: not a swept key/);
    expect(() => evaluate([{ ...t, path: 'bare-metal', published: 'x' }])).toThrow(/validation\[0\]\.published/);
  });
});
