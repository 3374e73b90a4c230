/**
 * Stage breakdown (stages.csv): visits_per_op * (wait + service) of a path's stages add up
 * to its mean latency, for every path and workload. Impossible or unsupported
 * configurations are input errors that name the parameter.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/util/input-error.js';
import { ALL_PATHS, runPath } from './helpers.js';

const WORKLOADS = [
  { kind: 'net-rr', ops: 3_000, warmup_ops: 300 },
  { kind: 'net-rr', outstanding: 8, flows: 2, ops: 3_000, warmup_ops: 300 },
  { kind: 'net-tx', rate_per_s: 300_000, ops: 3_000, warmup_ops: 300 },
  { kind: 'net-rx', rate_per_s: 300_000, size_bytes: { kind: 'empirical', values: [64, 576, 1500], weights: [7, 4, 1] }, ops: 3_000, warmup_ops: 300 },
];

describe('stages add up to the mean latency', () => {
  for (const path of ALL_PATHS) {
    it.each(WORKLOADS.map((w, i) => [i, w] as const))(`${path}, workload %i`, (_i, w) => {
      const r = runPath(path, w);
      const sum = r.stages.reduce((s, st) => s + st.visitsPerOp * (st.waitMeanNs + st.serviceMeanNs), 0);
      expect(sum).toBeCloseTo(r.latency.mean / 1000, 3);
      expect(r.details.backwardMarks).toBe(0);
      for (const st of r.stages) {
        expect(st.waitMeanNs, `${st.stage}`).toBeGreaterThanOrEqual(0);
        expect(st.serviceMeanNs, `${st.stage}`).toBeGreaterThanOrEqual(0);
      }
    });
  }
});

describe('configuration errors name the parameter', () => {
  const rr = { kind: 'net-rr', ops: 100, warmup_ops: 0 };
  const expectInputError = (fn: () => unknown, field: string) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(field);
  };

  it('packed ring (virtio 1.1) on vhost-kernel does not exist', () => {
    expectInputError(() => runPath('vhost-kernel', rr, { 'virtio.version': '1.1' }), 'virtio.version');
    // but it does on QEMU's own virtio and on vhost-user
    expect(runPath('virtio-qemu', rr, { 'virtio.version': '1.1' }).opsCompleted).toBe(100);
    expect(runPath('vhost-user', rr, { 'virtio.version': '1.1', 'virtio.rx_queue_size': 300 }).opsCompleted).toBe(100);
  });

  it('a TX queue above 256 needs vhost-user', () => {
    expectInputError(() => runPath('vhost-kernel', rr, { 'virtio.tx_queue_size': 1024 }), 'virtio.tx_queue_size');
    expect(runPath('vhost-user', rr, { 'virtio.tx_queue_size': 1024 }).opsCompleted).toBe(100);
  });

  it('a split ring needs a power-of-two size', () => {
    expectInputError(() => runPath('vhost-user', rr, { 'virtio.rx_queue_size': 300 }), 'virtio.rx_queue_size');
  });

  it('passthrough gives the NIC to one VM; SR-IOV has a VF limit and few queues per VF', () => {
    expectInputError(() => runPath('passthrough', rr, { 'host.vms': 2 }), 'host.vms');
    expectInputError(() => runPath('sriov', rr, { 'host.vms': 8, 'sriov.max_vfs': 4 }), 'host.vms');
    expectInputError(() => runPath('sriov', rr, { 'vm.queue_pairs': 8 }), 'vm.queue_pairs');
    expectInputError(() => runPath('bare-metal', rr, { 'host.vms': 2 }), 'host.vms');
  });

  it('malformed pinning', () => {
    expectInputError(() => runPath('vhost-user', rr, { 'host.pinning': 'vm0/vcpu0' }), 'host.pinning');
  });
});
