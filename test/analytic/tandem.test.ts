/**
 * Two M/M/1 stations in tandem (a Jackson network). By Burke's theorem the first
 * station's departures are Poisson(lambda), so each station is an M/M/1 with mean
 * sojourn 1/(mu_i - lambda); the end-to-end mean is the sum. By Reich's theorem a
 * customer's sojourns at the two FIFO stations are independent exponentials, so the
 * end-to-end time is hypoexponential with rates r1 = mu1 - lambda, r2 = mu2 - lambda:
 * P(T > t) = (r2 e^{-r1 t} - r1 e^{-r2 t}) / (r2 - r1); its 99th percentile is checked too.
 *
 * lambda = 0.6/us, mu1 = 1/us, mu2 = 1.25/us (loads 0.6 and 0.48). 10 replications of
 * 200,000 ops after 20,000 warm-up ops; SE from the replication spread (estimate.ts),
 * required below 1% of each exact value (measured: 0.2-0.4%).
 */
import { describe, it } from 'vitest';
import { Exponential } from '../../src/core/distributions.js';
import { us } from '../../src/core/time.js';
import { runCustomDetailed, type CustomWorkloadSpec } from '../../src/workloads/custom.js';
import { expectAgrees, replicate } from './estimate.js';

/** The t with P(T > t) = p for the hypoexponential(r1, r2), by bisection. */
function hypoexponentialQuantile(r1: number, r2: number, q: number): number {
  const tail = (t: number): number => (r2 * Math.exp(-r1 * t) - r1 * Math.exp(-r2 * t)) / (r2 - r1);
  let lo = 0, hi = 1;
  while (tail(hi) > 1 - q) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (tail(mid) > 1 - q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

describe('M/M/1 tandem', () => {
  it('each station has mean sojourn 1/(mu_i - lambda); end to end is their sum, with a hypoexponential p99', () => {
    const lambda = 0.6, mu1 = 1, mu2 = 1.25; // per us
    const spec: CustomWorkloadSpec = {
      arrival: { kind: 'poisson', ratePerS: lambda * 1e6 },
      stages: [
        { name: 'first', servers: 1, service: new Exponential(us(1 / mu1)), queueCapacity: Infinity, whenFull: 'drop' },
        { name: 'second', servers: 1, service: new Exponential(us(1 / mu2)), queueCapacity: Infinity, whenFull: 'drop' },
      ],
      ops: 200_000,
      warmupOps: 20_000,
      sizeBytes: 0,
    };
    const est = replicate(10, (replication) => {
      const d = runCustomDetailed(spec, 21, replication);
      const [a, b] = d.stations;
      return {
        sojourn1: (a!.waitMeanPs + a!.serviceMeanPs) / us(1),
        sojourn2: (b!.waitMeanPs + b!.serviceMeanPs) / us(1),
        endToEnd: d.result.latency.mean / us(1),
        p99: d.result.latency.quantile(0.99) / us(1),
      };
    });
    const t1 = 1 / (mu1 - lambda), t2 = 1 / (mu2 - lambda);
    expectAgrees('station 1 mean sojourn [us]', est.sojourn1, t1, 0.01);
    expectAgrees('station 2 mean sojourn [us]', est.sojourn2, t2, 0.01);
    expectAgrees('end-to-end mean [us]', est.endToEnd, t1 + t2, 0.01);
    expectAgrees('end-to-end p99 [us]', est.p99, hypoexponentialQuantile(mu1 - lambda, mu2 - lambda, 0.99), 0.01);
  });
});
