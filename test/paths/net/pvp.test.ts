/**
 * net-pvp: generator -> NIC -> PMD -> VM forwarder (DPDK in the guest, polling) -> PMD ->
 * NIC -> generator. No interrupts and no kicks anywhere on the path; every frame comes
 * back once; the forwarding rate is set by the PMD cores, and SMT siblings share a core.
 */
import { describe, expect, it } from 'vitest';
import { cpuOf, mops, runPath } from './helpers.js';

const PVP = { kind: 'net-pvp', size_bytes: 64, rate_per_s: 500_000, ops: 40_000, warmup_ops: 4_000 };
const TWO_PORTS = { 'vm.queue_pairs': 2, 'vm.vcpus': 2 };

describe('net-pvp on vhost-user', () => {
  it('forwards every frame back to the generator, with no interrupts, kicks or exits', () => {
    const r = runPath('vhost-user', PVP, TWO_PORTS);
    expect(r.opsCompleted).toBe(PVP.ops);
    expect(r.opsDropped).toBe(0);
    expect(r.counters.interrupts).toBe(0);
    expect(r.counters.kicks).toBe(0);
    expect(r.counters.exits).toBe(0);
    expect(r.details.extra['guest-pmd.forwarded']).toBeGreaterThanOrEqual(PVP.ops);
    // both directions, both vCPUs polling all the time
    expect(Math.min(...r.details.perFlow)).toBeGreaterThan(0.45 * PVP.ops);
    expect(cpuOf(r, 'vm0/vcpu0').busyFraction).toBeCloseTo(1, 3);
    expect(r.stages.map((s) => s.stage)).toContain('guest.fwd');
  });

  it('the forwarding rate scales with PMD cores, and two PMDs on sibling hyperthreads make less than two cores', () => {
    const sat = { ...PVP, arrival: 'saturate', rate_per_s: undefined, ops: 300_000, warmup_ops: 30_000 };
    delete (sat as Record<string, unknown>)['rate_per_s'];
    const one = mops(runPath('vhost-user', sat, { ...TWO_PORTS, 'nic.line_rate_gbps': 25 }));
    const two = mops(runPath('vhost-user', sat, { ...TWO_PORTS, 'nic.line_rate_gbps': 25, 'dpdk.pmd_cores': 2 }));
    const smt = mops(runPath('vhost-user', sat, {
      ...TWO_PORTS, 'nic.line_rate_gbps': 25, 'dpdk.pmd_cores': 2, 'host.cores': 2, 'host.smt': true,
      'host.pinning': 'vm0/vcpu0=0,vm0/vcpu1=2,dpdk/pmd0=1,dpdk/pmd1=3',
    }));
    expect(two).toBeGreaterThan(1.7 * one);
    // two hardware threads of one core: 2 / smt_slowdown (1.6) = 1.25 cores' worth
    expect(smt / one).toBeGreaterThan(1.1);
    expect(smt / one).toBeLessThan(1.4);
  });

  it('needs an even number of queue pairs (the two ports), and other paths refuse it', () => {
    expect(() => runPath('vhost-user', PVP, { 'vm.queue_pairs': 1 })).toThrow(/params\.vm\.queue_pairs: net-pvp forwards between queue pair q and its partner/);
    expect(() => runPath('vhost-kernel', PVP, TWO_PORTS)).toThrow(/workload\.kind: path vhost-kernel runs net-rr, net-tx, net-rx, not net-pvp/);
  });
});
