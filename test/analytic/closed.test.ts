/**
 * Closed loop: N clients, each thinking (mean Z) then submitting one op and waiting for
 * it. Two kinds of check:
 *  - the response time law R = N/X - Z (an operational law: it holds for any service
 *    discipline and distribution, with X the measured throughput and R the measured
 *    mean response time);
 *  - exact product-form results: exponential think and service give a closed Jackson
 *    network, solved exactly by mean value analysis (Reiser and Lavenberg 1980):
 *      R_i(n) = S_i (1 + Q_i(n-1)),  X(n) = n / (Z + sum_i R_i(n)),  Q_i(n) = X(n) R_i(n).
 *
 * Tolerances: 10 replications of 100,000 ops after 10,000 warm-up ops; SE from the
 * replication spread (estimate.ts), required below 1% of the exact value. For the law
 * itself the per-replication residual N/X - Z - R is compared with 0: it is not exactly 0
 * in a finite window because the realised mean think time differs from Z (SE about
 * Z / sqrt(ops)) and ops in flight at the window edges; the test takes that noise from
 * the replications and requires its SE below 1% of R.
 */
import { describe, it } from 'vitest';
import { Exponential, Lognormal, type Distribution } from '../../src/core/distributions.js';
import { PS_PER_S, us } from '../../src/core/time.js';
import { runCustomDetailed, type CustomWorkloadSpec } from '../../src/workloads/custom.js';
import { expectAgrees, expectZero, replicate } from './estimate.js';

/** Exact MVA for a closed network of FCFS exponential stations plus a delay (think) Z. */
function mva(clients: number, thinkUs: number, serviceUs: number[]): { throughputPerUs: number; responseUs: number } {
  const q = serviceUs.map(() => 0);
  let x = 0, r = 0;
  for (let n = 1; n <= clients; n++) {
    const ri = serviceUs.map((s, i) => s * (1 + q[i]!));
    r = ri.reduce((a, b) => a + b, 0);
    x = n / (thinkUs + r);
    ri.forEach((v, i) => (q[i] = x * v));
  }
  return { throughputPerUs: x, responseUs: r };
}

function closedSpec(clients: number, think: Distribution, services: Distribution[]): CustomWorkloadSpec {
  return {
    arrival: { kind: 'closed', clients, think },
    stages: services.map((service, i) => ({ name: `s${i}`, servers: 1, service, queueCapacity: Infinity, whenFull: 'drop' })),
    ops: 100_000,
    warmupOps: 10_000,
    sizeBytes: 0,
  };
}

function measure(spec: CustomWorkloadSpec, clients: number, thinkUs: number) {
  return replicate(10, (replication) => {
    const r = runCustomDetailed(spec, 9, replication).result;
    const throughputPerUs = r.opsCompleted / (r.windowPs / PS_PER_S) / 1e6;
    const responseUs = r.latency.mean / us(1);
    return { throughputPerUs, responseUs, lawResidualUs: clients / throughputPerUs - thinkUs - responseUs };
  });
}

describe('closed loop with think time', () => {
  it('one exponential station, N = 10, Z = 5 us, S = 1 us: MVA throughput and response, R = N/X - Z', () => {
    const n = 10, z = 5, s = 1;
    const est = measure(closedSpec(n, new Exponential(us(z)), [new Exponential(us(s))]), n, z);
    const exact = mva(n, z, [s]);
    expectAgrees('throughput [1/us]', est.throughputPerUs, exact.throughputPerUs, 0.01);
    expectAgrees('response time [us]', est.responseUs, exact.responseUs, 0.01);
    expectZero('response time law residual N/X - Z - R [us]', est.lawResidualUs, exact.responseUs, 0.01);
  });

  it('two exponential stations, N = 8, Z = 4 us, S = 1 us and 0.5 us: MVA', () => {
    const n = 8, z = 4;
    const est = measure(closedSpec(n, new Exponential(us(z)), [new Exponential(us(1)), new Exponential(us(0.5))]), n, z);
    const exact = mva(n, z, [1, 0.5]);
    expectAgrees('throughput [1/us]', est.throughputPerUs, exact.throughputPerUs, 0.01);
    expectAgrees('response time [us]', est.responseUs, exact.responseUs, 0.01);
    expectZero('response time law residual [us]', est.lawResidualUs, exact.responseUs, 0.01);
  });

  it('the response time law holds for non-exponential think and service (lognormal, cv 2)', () => {
    const n = 6, z = 3;
    const est = measure(closedSpec(n, new Lognormal(us(z), 2), [new Lognormal(us(1), 2)]), n, z);
    expectZero('response time law residual [us]', est.lawResidualUs, est.responseUs.mean, 0.01);
  });
});

