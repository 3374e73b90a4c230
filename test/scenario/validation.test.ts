/**
 * Calibration targets: selection of summary rows, ratio and difference targets, ranges
 * and tolerances, known gaps, and the plan-time checks that name the bad field.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Row } from '../../src/output/rows.js';
import { loadPlan, planScenario } from '../../src/scenario/load.js';
import { evaluateTargets, targetCells, targetTable } from '../../src/scenario/validation.js';
import { ROOT } from '../cli/helpers.js';

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

  it('where values are canonical, as sweep values are (YAML virtio.version: 1.0 is the number 1)', () => {
    const p = planScenario(
      parseYaml(`
name: v
workload: { kind: net-rr }
paths: [virtio-qemu]
sweep: { virtio.version: [0.95, 1.0] }
validation:
  - { target: t, metric: latency_mean_ns, where: { virtio.version: 1.0 }, published: 1, source: s }
`),
      'v.yaml',
    );
    expect(p.points.map((pt) => pt.values['virtio.version'])).toEqual(['0.95', '1.0']);
    expect(p.scenario.validation![0]!.where).toEqual({ 'virtio.version': '1.0' });
    const summaries = [
      { path: 'virtio-qemu', 'param.virtio.version': '0.95', latency_mean_ns: 10 },
      { path: 'virtio-qemu', 'param.virtio.version': '1.0', latency_mean_ns: 30 },
    ];
    expect(evaluateTargets(p, summaries.map((summary) => ({ summary, cpu: [] })))[0]!.measured).toBe(30);
  });

  it('a selection must match exactly one sweep point, at plan time', () => {
    const t = { target: 't', metric: 'latency_mean_ns', published: 1, source: 's', path: 'bare-metal' };
    expect(() => evaluate([{ ...t, where: { 'kvm.halt_poll_ns': 5 } }])).toThrow(
      'v.yaml: validation[0].where: matches no sweep point (swept values of kvm.halt_poll_ns: 200000, 0)',
    );
    expect(() => evaluate([t])).toThrow('v.yaml: validation[0].where: matches 2 sweep points; name kvm.halt_poll_ns too');
    expect(() => evaluate([{ ...t, where: { 'kvm.halt_poll_ns': 0 } }, { ...t, where: { 'kvm.halt_poll_ns': 0 }, relative_to: { path: 'vhost-kernel', op: 'ratio' } }])).toThrow(
      'v.yaml: validation[1].relative_to.where: matches 2 sweep points; name kvm.halt_poll_ns too',
    );
    // A where value is checked as the parameter's values are.
    expect(() => evaluate([{ ...t, where: { 'kvm.halt_poll_ns': 'x' } }])).toThrow(/validation\[0\]\.where\.kvm\.halt_poll_ns: must be a number/);
    // Two swept keys: naming one of them leaves several points.
    const two = (where: Record<string, unknown>) =>
      planScenario({ ...base, sweep: { 'kvm.halt_poll_ns': [200000, 0], 'kvm.vtd_pi': [true, false] }, validation: [{ ...t, where }] }, 'v.yaml');
    expect(() => two({ 'kvm.halt_poll_ns': 0 })).toThrow('v.yaml: validation[0].where: matches 2 sweep points; name kvm.vtd_pi too');
    expect(() => two({ 'kvm.halt_poll_ns': 0, 'kvm.vtd_pi': 'false' })).not.toThrow();
    // Zipped keys vary together: one of them names the point; a pair the zip lacks names none.
    const zip = (where: Record<string, unknown>) =>
      planScenario({ ...base, sweep: { zip: { 'kvm.vtd_pi': [true, false], 'kvm.apicv': [true, false] } }, validation: [{ ...t, where }] }, 'v.yaml');
    expect(() => zip({ 'kvm.vtd_pi': false })).not.toThrow();
    expect(() => zip({ 'kvm.vtd_pi': false, 'kvm.apicv': true })).toThrow(
      'v.yaml: validation[0].where: matches no sweep point (swept values of kvm.vtd_pi: true, false; kvm.apicv: true, false)',
    );
    // A sweep listing a value twice: nothing to name.
    expect(() => planScenario({ ...base, sweep: { 'kvm.halt_poll_ns': [0, 0] }, validation: [t] }, 'v.yaml')).toThrow(
      'v.yaml: validation[0].where: matches 2 sweep points with the same swept values; list each swept value once',
    );
  });

  it('every ready calibration scenario selects one sweep point per target', () => {
    const dir = join(ROOT, 'scenarios', 'validation');
    for (const f of readdirSync(dir).filter((n) => /\.(ya?ml|json)$/.test(n))) {
      expect(() => loadPlan(join(dir, f)), f).not.toThrow();
    }
  });

  it("cpu.busy_fraction reads the thread's cpu.csv rows of the selected runs", () => {
    const p = planScenario({ ...base, validation: [{ target: 'c', metric: 'cpu.busy_fraction', thread: 'vm0/qemu "main", io', path: 'vhost-kernel', where: { 'kvm.halt_poll_ns': 0 }, published: 0.5, source: 's' }] }, 'v.yaml');
    const cpu = (thread: string, busy: number, halt: number, replication: number): Row => ({
      point: halt === 0 ? 1 : 0, path: 'vhost-kernel', replication, thread, core: 3, busy_fraction: busy, poll_fraction: 0,
    });
    const run = (halt: number, replication: number, threads: Row[]) => ({ summary: { path: 'vhost-kernel', 'param.kvm.halt_poll_ns': halt, replication }, cpu: threads });
    const runs = [
      run(0, 0, [cpu('vm0/qemu "main", io', 0.4, 0, 0), cpu('vhost-1', 0.1, 0, 0)]),
      run(0, 1, [cpu('vm0/qemu "main", io', 0.6, 0, 1)]),
      run(200000, 0, [cpu('vm0/qemu "main", io', 0.9, 200000, 0)]),
    ];
    const [r] = evaluateTargets(p, runs);
    expect(r!.measured).toBeCloseTo(0.5, 12);
    expect(r!.status).toBe('pass');
    // A thread the run does not have is known only after the run: named then.
    const q = planScenario({ ...base, validation: [{ target: 'c', metric: 'cpu.busy_fraction', thread: 'vm0/nope', path: 'vhost-kernel', where: { 'kvm.halt_poll_ns': 0 }, published: 0.5, source: 's' }] }, 'v.yaml');
    expect(() => evaluateTargets(q, runs)).toThrow(
      'v.yaml: validation[0].thread: path vhost-kernel has no thread "vm0/nope" in cpu.csv (threads: vm0/qemu "main", io, vhost-1)',
    );
  });

  it('one set of cells for the Markdown and the plain table; the Markdown is as the README shows it', () => {
    const results = evaluate([
      { target: 'a', metric: 'latency_mean_ns', path: 'vhost-kernel', where: { 'kvm.halt_poll_ns': 0 }, published: 30000, source: 's', tolerance: 0.1 },
      { target: 'r', metric: 'latency_mean_ns', path: 'bare-metal', where: { 'kvm.halt_poll_ns': 0 }, relative_to: { path: 'vhost-kernel', where: { 'kvm.halt_poll_ns': 200000 }, op: 'ratio' }, published: [0.7, 0.72], tolerance: 0.03, source: 's' },
      { target: 'g', metric: 'latency_mean_ns', path: 'bare-metal', where: { 'kvm.halt_poll_ns': 0 }, published: [30000, 40000], source: 's', known_gap: 'docs/model.md s9' },
    ]);
    expect(targetCells(results)).toEqual([
      ['a', '30.00 us', '10%', '34.00 us', '1.13', 'FAIL'],
      ['r', '0.700 to 0.720', '3%', '0.741', '1.04', 'pass'],
      ['g', '30.00 us to 40.00 us', '15%', '20.00 us', '0.57', 'gap'],
    ]);
    expect(targetTable(results)).toBe(
      [
        '| target | published | tolerance | measured | ratio | result |',
        '| --- | --- | --- | --- | --- | --- |',
        '| a | 30.00 us | 10% | 34.00 us | 1.13 | FAIL |',
        '| r | 0.700 to 0.720 | 3% | 0.741 | 1.04 | pass |',
        '| g | 30.00 us to 40.00 us | 15% | 20.00 us | 0.57 | gap |',
        '',
      ].join('\n'),
    );
  });
});
