/**
 * Sharing and scaling: several VMs on one SR-IOV PF, multiqueue virtio with several
 * vCPUs, and the legacy driver that stays at one queue pair.
 */
import { describe, expect, it } from 'vitest';
import { ALL_PATHS, gbps, jain, mops, runPath } from './helpers.js';

describe('SR-IOV: VMs share the PF port', () => {
  const lineRate = (10 * 1500) / 1520;
  const sat = { kind: 'net-tx', size_bytes: 1500, ops: 40_000, warmup_ops: 4_000, guest_stack_ns: 200 };

  it.each([2, 4, 8])('%i saturating VMs: aggregate at most line rate, equal shares (Jain >= 0.99)', (vms) => {
    const r = runPath('sriov', sat, { 'host.vms': vms });
    expect(gbps(r)).toBeLessThanOrEqual(lineRate * 1.001);
    expect(gbps(r)).toBeGreaterThan(lineRate * 0.98);
    const shares = r.details.perVm.map((v) => v.bytesCompleted);
    expect(shares.every((b) => b > 0)).toBe(true);
    expect(jain(shares)).toBeGreaterThanOrEqual(0.99);
  });

  it('light loads add up: each VM gets what it offers', () => {
    const r = runPath('sriov', { kind: 'net-tx', size_bytes: 1500, rate_per_s: 100_000, ops: 20_000, warmup_ops: 2_000 }, { 'host.vms': 4 });
    expect(mops(r)).toBeCloseTo(0.4, 1);
    expect(jain(r.details.perVm.map((v) => v.opsCompleted))).toBeGreaterThanOrEqual(0.99);
  });

  it('a per-VF rate limit caps each VM', () => {
    const r = runPath('sriov', sat, { 'host.vms': 2, 'sriov.vf_rate_limit_gbps': 2 });
    expect(gbps(r)).toBeLessThan(2 * 2 * 1.01);
    expect(gbps(r)).toBeGreaterThan(2 * 2 * 0.9);
  });
});

describe('multiqueue virtio-net with 4 vCPUs', () => {
  const w = { kind: 'net-tx', size_bytes: 64, flows: 4, ops: 60_000, warmup_ops: 6_000 };
  const at = (qp: number, extra: Record<string, unknown> = {}) => runPath('vhost-kernel', w, { 'vm.vcpus': 4, 'vm.queue_pairs': qp, ...extra });

  it('throughput grows with queue pairs (one vhost worker each) while cores are free', () => {
    const t = [1, 2, 4].map((qp) => mops(at(qp)));
    expect(t[1]!).toBeGreaterThan(1.6 * t[0]!);
    expect(t[2]!).toBeGreaterThan(1.3 * t[1]!);
  });

  it('stops growing when the host runs out of cores: 8 busy threads on 4 cores contend', () => {
    const free = mops(at(4));
    const contended = at(4, { 'host.cores': 4 });
    expect(mops(contended)).toBeLessThan(0.75 * free);
    expect(contended.hostCpuCores).toBeLessThanOrEqual(4.0001);
    expect(contended.counters.contextSwitches).toBeGreaterThan(0);
  });

  it('a virtio 0.95 driver stays at one queue pair (and so does a forced legacy driver)', () => {
    const one = mops(at(1));
    expect(mops(at(4, { 'virtio.version': '0.95' }))).toBeCloseTo(one, 3);
    expect(mops(at(4, { 'virtio.legacy_driver': true }))).toBeCloseTo(one, 3);
  });
});

describe('a thread serving several queues serves them equally', () => {
  // One QEMU main loop serves every queue pair of virtio-qemu, one PMD polls every port of
  // vhost-user; vhost-kernel has a worker per queue pair and a host softirq per NIC queue.
  // (The e1000 paths have a single queue and one interrupt vCPU, whose own flow competes
  // with the interrupt work: not a sharing of queues.)
  const mq = { 'vm.vcpus': 4, 'vm.queue_pairs': 4 };
  const cases = [
    ['net-tx 1,500 B saturating', { kind: 'net-tx', size_bytes: 1500, flows: 4, ops: 40_000, warmup_ops: 4_000 }],
    ['net-tx 64 B saturating', { kind: 'net-tx', size_bytes: 64, flows: 4, ops: 40_000, warmup_ops: 4_000 }],
    ['net-rr, 4 outstanding per flow', { kind: 'net-rr', outstanding: 4, flows: 4, ops: 20_000, warmup_ops: 2_000 }],
  ] as const;
  for (const path of ['virtio-qemu', 'vhost-user', 'vhost-kernel', 'bare-metal', 'passthrough', 'sriov']) {
    it.each(cases)(`${path}: %s, 4 flows on 4 queue pairs: equal shares (Jain >= 0.99)`, (_name, w) => {
      const r = runPath(path, w, mq);
      expect(r.details.perFlow).toHaveLength(4);
      expect(Math.min(...r.details.perFlow)).toBeGreaterThan(0);
      expect(jain(r.details.perFlow)).toBeGreaterThanOrEqual(0.99);
    });
  }
});

describe('more host cores never cost throughput (host interrupts preempt; unpinned threads find idle cores)', () => {
  // A device interrupt and its softirq run in interrupt context on their core (a vCPU in
  // guest mode takes an external-interrupt exit) instead of queueing behind it; unpinned
  // threads woken while their core is taken move to an idle core. Measured drops between
  // neighbouring core counts are within 5% (docs/model.md s7); the model before these
  // mechanisms lost 77% going from 4 to 8 cores on vhost-kernel.
  const mq = { 'vm.vcpus': 4, 'vm.queue_pairs': 4 };
  const workloads = [
    ['net-tx saturating', { kind: 'net-tx', size_bytes: 64, flows: 4, ops: 20_000, warmup_ops: 2_000 }],
    ['net-rr, 4 outstanding per flow', { kind: 'net-rr', outstanding: 4, flows: 4, ops: 10_000, warmup_ops: 1_000 }],
  ] as const;
  const CORES = [1, 2, 3, 4, 5, 6, 8, 12, 16];
  for (const [name, w] of workloads) {
    it.each(ALL_PATHS)(`%s, ${name}: throughput at N cores >= 0.93 x the best with fewer`, (path) => {
      let best = 0;
      const seen: string[] = [];
      for (const n of CORES) {
        const t = mops(runPath(path, w, { ...mq, 'host.cores': n }));
        seen.push(`${n}: ${t.toFixed(3)}`);
        expect(t, seen.join(', ')).toBeGreaterThanOrEqual(0.93 * best);
        best = Math.max(best, t);
      }
    });
  }
});
