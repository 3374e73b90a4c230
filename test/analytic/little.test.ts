/**
 * Little's law L = lambda W on every station of a pipeline: L is the station's
 * time-averaged number in system (waiting, in service, or blocked after service), lambda
 * the rate of jobs leaving it, W their mean sojourn there (entry to exit, blocked time
 * included). Without blocking, W is also the mean wait plus the mean service, which is
 * checked too; with blocking the waits count from when a job became ready upstream (so
 * the stages add up to the end-to-end latency), and only the sojourn form holds.
 *
 * Over a window [0, T] the law is a sample-path identity except for jobs present at the
 * window's edges: those present at 0 add area to L but leave before their whole sojourn
 * is in W's window, and those present at T add area without having left. The discrepancy
 * is at most about (L(0) + L(T)) x (longest sojourn) / T in absolute terms, which for
 * these runs (L of order 1-10, sojourns of tens of us, T of 100-300 ms) is below 1e-3
 * relative (measured: 1e-6 to 1e-4); the test allows 2e-3. This is not a statistical
 * tolerance: the law must hold on each run, for any distributions, open or closed, with
 * drops or blocking.
 */
import { describe, expect, it } from 'vitest';
import { Constant, Exponential, Gamma, Lognormal, Uniform } from '../../src/core/distributions.js';
import { us } from '../../src/core/time.js';
import { runCustomDetailed, type CustomStageSpec, type CustomWorkloadSpec } from '../../src/workloads/custom.js';

const REL_TOLERANCE = 2e-3;

function stage(name: string, servers: number, service: CustomStageSpec['service'], extra: Partial<CustomStageSpec> = {}): CustomStageSpec {
  return { name, servers, service, queueCapacity: Infinity, whenFull: 'drop', ...extra };
}

function checkLittle(spec: CustomWorkloadSpec, seed: number): void {
  const d = runCustomDetailed(spec, seed, 0);
  const isBlocking = spec.stages.some((s) => s.whenFull === 'block');
  for (const s of d.stations) {
    const l = s.meanInSystem;
    expect(s.departures, `${s.name} departures`).toBeGreaterThan(10_000);
    const lw = (s.departures / s.windowPs) * s.sojournMeanPs;
    if (process.env['ANALYTIC_VERBOSE']) {
      process.stdout.write(`Little ${s.name}: L ${l.toFixed(4)}, (L - lambda W) / L = ${((l - lw) / l).toExponential(2)}\n`);
    }
    expect(Math.abs(l - lw) / l, `${s.name}: L = ${l}, lambda W = ${lw}`).toBeLessThan(REL_TOLERANCE);
    if (!isBlocking) {
      const lws = (s.served / s.windowPs) * (s.waitMeanPs + s.serviceMeanPs);
      expect(Math.abs(l - lws) / l, `${s.name}: L = ${l}, lambda (wait + service) = ${lws}`).toBeLessThan(REL_TOLERANCE);
    }
  }
}

describe("Little's law on every station", () => {
  it('open three-stage pipeline: exponential, 3 lognormal servers, uniform', () => {
    checkLittle(
      {
        arrival: { kind: 'poisson', ratePerS: 0.7e6 },
        stages: [
          stage('parse', 1, new Exponential(us(1))),
          stage('work', 3, new Lognormal(us(2), 1.5)),
          stage('reply', 1, new Uniform(us(0.5), us(1.5))),
        ],
        ops: 200_000,
        warmupOps: 10_000,
        sizeBytes: 0,
      },
      1,
    );
  });

  it('constant-rate arrivals into a bounded drop stage and an Erlang stage', () => {
    checkLittle(
      {
        arrival: { kind: 'constant', ratePerS: 0.9e6 },
        stages: [
          stage('nic', 1, new Exponential(us(1)), { queueCapacity: 4, whenFull: 'drop' }),
          stage('cpu', 2, new Gamma(us(1.5), 3)),
        ],
        ops: 200_000,
        warmupOps: 10_000,
        sizeBytes: 0,
      },
      2,
    );
  });

  it('blocking between stages (bounded downstream in block mode)', () => {
    checkLittle(
      {
        arrival: { kind: 'poisson', ratePerS: 0.6e6 },
        stages: [
          stage('producer', 1, new Exponential(us(1)), { queueCapacity: 8, whenFull: 'block' }),
          stage('consumer', 1, new Exponential(us(1.2)), { queueCapacity: 2, whenFull: 'block' }),
        ],
        ops: 200_000,
        warmupOps: 10_000,
        sizeBytes: 0,
      },
      3,
    );
  });

  it('closed loop: 16 clients, constant think, two stages', () => {
    checkLittle(
      {
        arrival: { kind: 'closed', clients: 16, think: new Constant(us(2)) },
        stages: [stage('a', 2, new Exponential(us(1))), stage('b', 1, new Lognormal(us(0.8), 0.5))],
        ops: 200_000,
        warmupOps: 10_000,
        sizeBytes: 0,
      },
      4,
    );
  });
});
