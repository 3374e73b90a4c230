/**
 * Plan-time path checks: an impossible path/parameter combination (a packed ring on
 * vhost-kernel, more VMs than SR-IOV VFs, a non-power-of-two split ring...) is an
 * InputError when the scenario is planned, naming the sweep point, the path and the
 * field, with the very message the run would throw at set-up.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { params } from '../../src/calibration/index.js';
import { findPath } from '../../src/paths/index.js';
import { loadPlan, parseSets, planScenario } from '../../src/scenario/load.js';
import { InputError } from '../../src/util/input-error.js';
import { workloadSchema } from '../../src/workloads/index.js';
import { FIXTURES } from '../cli/helpers.js';

const rr = { kind: 'net-rr', ops: 100, warmup_ops: 10 };

function planError(step: () => unknown): InputError {
  try {
    step();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('planning did not throw');
}

/** The InputError a path's run() throws at set-up for these overrides. */
function runError(path: string, overrides: Record<string, unknown>): string {
  const model = findPath(path)!;
  const workload = workloadSchema.parse(rr);
  return planError(() => model.run({ workload, params: params.resolve(overrides), seed: 1, replication: 0 })).message;
}

describe('plan-time path checks', () => {
  it('rejects a packed ring on vhost-kernel with the message the run throws', () => {
    const e = planError(() => planScenario({ name: 't', workload: rr, paths: ['vhost-kernel'], params: { 'virtio.version': '1.1' } }, 'file.yaml'));
    const atRun = runError('vhost-kernel', { 'virtio.version': '1.1' });
    expect(atRun).toMatch(/^params\.virtio\.version: .*packed ring/);
    expect(e.message).toBe(`file.yaml: path vhost-kernel: ${atRun}`);
    expect(e.message).not.toContain('\n');
  });

  it('accepts the packed ring on the paths that have it', () => {
    const plan = planScenario({ name: 't', workload: rr, paths: ['vhost-user', 'virtio-qemu'], params: { 'virtio.version': '1.1' } }, 'f');
    expect(plan.paths).toEqual(['vhost-user', 'virtio-qemu']);
  });

  it('names the one impossible point of a sweep and its values', () => {
    const e = planError(() =>
      planScenario(
        { name: 't', workload: rr, paths: ['vhost-user', 'vhost-kernel'], sweep: { 'vm.vcpus': [1, 2], 'virtio.version': ['1.0', '1.1'] } },
        'f',
      ),
    );
    // Points in order (vcpus outermost): 0 = (1, 1.0), 1 = (1, 1.1): the first bad task.
    expect(e.message).toBe(`f: sweep point 1 (vm.vcpus=1, virtio.version=1.1), path vhost-kernel: ${runError('vhost-kernel', { 'virtio.version': '1.1' })}`);
  });

  it('checks the other paths set-up rules: SR-IOV VFs and queues, passthrough VMs, bare metal, pinning', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['sriov', { 'host.vms': 8, 'sriov.max_vfs': 4 }, 'params.host.vms'],
      ['sriov', { 'vm.queue_pairs': 8, 'vm.vcpus': 8, 'sriov.vf_max_queues': 4 }, 'params.vm.queue_pairs'],
      ['passthrough', { 'host.vms': 2 }, 'params.host.vms'],
      ['bare-metal', { 'host.vms': 2 }, 'params.host.vms'],
      ['vhost-user', { 'host.pinning': 'nonsense' }, 'params.host.pinning'],
      ['virtio-qemu', { 'virtio.tx_queue_size': 512 }, 'params.virtio.tx_queue_size'],
      ['vhost-user', { 'virtio.version': '0.95', 'virtio.rx_queue_size': 2048 }, 'params.virtio.rx_queue_size'],
    ];
    for (const [path, overrides, field] of cases) {
      const atRun = runError(path, overrides);
      expect(atRun.startsWith(`${field}: `), atRun).toBe(true);
      const e = planError(() => planScenario({ name: 't', workload: rr, paths: [path], params: overrides }, 'f'));
      expect(e.message).toBe(`f: path ${path}: ${atRun}`);
    }
  });

  it('applies --set overrides before checking, and blames the override', () => {
    const file = join(FIXTURES, 'net-small.yaml');
    expect(loadPlan(file).paths).toEqual(['vhost-kernel']);
    for (const set of ['params.virtio.version=1.1', 'virtio.version=1.1']) {
      const e = planError(() => loadPlan(file, [set]));
      expect(e.message).toContain('path vhost-kernel: params.virtio.version: 1.1 (packed ring)');
      expect(e.message.endsWith(`(from --set ${set})`)).toBe(true);
    }
  });

  it('reads a string parameter from --set as text (1.0 stays "1.0", not the number 1)', () => {
    expect(parseSets(['virtio.version=1.0', 'params.virtio.version=1.1', "virtio.version='0.95'", 'vm.vcpus=2'])).toEqual([
      ['virtio.version', '1.0'],
      ['params.virtio.version', '1.1'],
      ['virtio.version', '0.95'],
      ['vm.vcpus', 2],
    ]);
  });

  it('has a check hook on every path whose run has set-up checks', () => {
    for (const name of ['bare-metal', 'passthrough', 'sriov', 'vhost-user', 'vhost-kernel', 'virtio-qemu', 'emulated', 'emulated-vmm']) {
      expect(typeof findPath(name)?.check, name).toBe('function');
    }
  });
});
