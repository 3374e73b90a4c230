/**
 * M/M/1 against its closed forms, run through the scenario path of `iovsim run`
 * (planScenario -> runTask -> summary and stage rows, in nanoseconds).
 *
 * Service Exp(mean 1 us), so mu = 1/us, lambda = rho/us. The time in system is
 * exponential with rate mu - lambda: mean 1/(mu - lambda), 99th percentile
 * ln(100)/(mu - lambda); the mean wait in queue is rho/(mu - lambda).
 * Run length: 10 replications of n ops after 20,000 warm-up ops (the initial empty state
 * relaxes in about 1/(mu (1 - sqrt(rho))^2) = 12 service times at rho 0.5 and 90 at 0.8,
 * far below the warm-up). The replication spread gives the SE (see estimate.ts); the
 * checks also demand SE below 0.5% of the mean and 1% of the p99, which these n give
 * (measured: 0.17% and 0.28% at rho 0.5 with n = 200,000; 0.25% and 0.49% at rho 0.8 with n = 800,000).
 */
import { describe, it } from 'vitest';
import { planScenario } from '../../src/scenario/load.js';
import { runTask } from '../../src/scenario/run.js';
import { expectAgrees, replicate } from './estimate.js';

const REPLICATIONS = 10;

function mm1Plan(rho: number, ops: number) {
  return planScenario(
    {
      name: `mm1-${rho}`,
      workload: {
        kind: 'custom',
        arrival: { kind: 'poisson', rate_per_s: rho * 1e6 },
        stages: [{ name: 'server', servers: 1, service_ns: { kind: 'exponential', mean: 1000 } }],
        ops,
        warmup_ops: 20_000,
      },
      seed: 7,
      replications: REPLICATIONS,
    },
    'test:mm1',
  );
}

describe('M/M/1', () => {
  for (const [rho, ops] of [[0.5, 200_000], [0.8, 800_000]] as const) {
    it(`load ${rho}: mean time in system 1/(mu - lambda), p99 ln(100)/(mu - lambda), mean wait rho/(mu - lambda)`, () => {
      const plan = mm1Plan(rho, ops);
      const est = replicate(REPLICATIONS, (replication) => {
        const rows = runTask(plan, { index: replication, point: 0, path: 'custom', replication });
        const stage = rows.stages[0]!;
        return {
          meanNs: Number(rows.summary['latency_mean_ns']),
          p99Ns: Number(rows.summary['latency_p99_ns']),
          waitNs: Number(stage['wait_mean_ns']),
          throughput: Number(rows.summary['throughput_ops_per_s']),
        };
      });
      const sojournNs = 1000 / (1 - rho);
      expectAgrees('mean time in system [ns]', est.meanNs, sojournNs, 0.005);
      expectAgrees('p99 time in system [ns]', est.p99Ns, Math.log(100) * sojournNs, 0.01);
      expectAgrees('mean wait in queue [ns]', est.waitNs, rho * sojournNs, 0.01);
      expectAgrees('throughput [ops/s]', est.throughput, rho * 1e6, 0.005);
    });
  }
});
