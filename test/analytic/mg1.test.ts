/**
 * M/G/1 mean waiting time against Pollaczek-Khinchine, Wq = lambda E[S^2] / (2 (1 - rho)),
 * through the scenario path (the stage row's wait_mean_ns).
 *   M/D/1:  E[S^2] = S^2, so Wq = rho S / (2 (1 - rho)).
 *   M/E2/1: E[S^2] = S^2 (1 + 1/2).
 * Service mean S = 1 us, load 0.7; 10 replications of 200,000 ops after 20,000 warm-up
 * ops. The replication spread gives the SE (estimate.ts); each check also requires
 * SE below 1% of Wq (measured: about 0.4%).
 */
import { describe, it } from 'vitest';
import { planScenario } from '../../src/scenario/load.js';
import { runTask } from '../../src/scenario/run.js';
import { expectAgrees, replicate } from './estimate.js';

const REPLICATIONS = 10;
const RHO = 0.7;
const S_NS = 1000;

function waitEstimate(service: unknown) {
  const plan = planScenario(
    {
      name: 'mg1',
      workload: {
        kind: 'custom',
        arrival: { kind: 'poisson', rate_per_s: RHO * 1e6 },
        stages: [{ name: 'server', servers: 1, service_ns: service }],
        ops: 200_000,
        warmup_ops: 20_000,
      },
      seed: 3,
      replications: REPLICATIONS,
    },
    'test:mg1',
  );
  return replicate(REPLICATIONS, (replication) => {
    const rows = runTask(plan, { index: replication, point: 0, path: 'custom', replication });
    return {
      waitNs: Number(rows.stages[0]!['wait_mean_ns']),
      serviceNs: Number(rows.stages[0]!['service_mean_ns']),
      meanNs: Number(rows.summary['latency_mean_ns']),
    };
  });
}

describe('M/G/1 (Pollaczek-Khinchine)', () => {
  it('M/D/1 at load 0.7: Wq = rho S / (2 (1 - rho))', () => {
    const est = waitEstimate({ kind: 'constant', value: S_NS });
    const wq = (RHO * S_NS) / (2 * (1 - RHO));
    expectAgrees('M/D/1 mean wait [ns]', est.waitNs, wq, 0.01);
    expectAgrees('M/D/1 mean time in system [ns]', est.meanNs, wq + S_NS, 0.01);
  });

  it('M/E2/1 at load 0.7: Wq = lambda E[S^2] / (2 (1 - rho)) with E[S^2] = 1.5 S^2', () => {
    const est = waitEstimate({ kind: 'erlang', mean: S_NS, k: 2 });
    const lambdaPerNs = RHO / S_NS;
    const wq = (lambdaPerNs * 1.5 * S_NS * S_NS) / (2 * (1 - RHO));
    expectAgrees('M/E2/1 mean wait [ns]', est.waitNs, wq, 0.01);
    expectAgrees('M/E2/1 mean service [ns]', est.serviceNs, S_NS, 0.01);
  });
});
