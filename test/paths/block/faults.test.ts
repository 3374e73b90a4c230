/**
 * The block paths' timeline faults (issue 16): the vhost-user back end's restart, the
 * iSCSI target's outage and the NVMe device's error, each where the path has the part.
 */
import { describe, expect, it } from 'vitest';
import { params } from '../../../src/calibration/index.js';
import { findPath } from '../../../src/paths/index.js';
import type { BlockRunResult } from '../../../src/paths/block/support/block-run.js';
import { toTimelineInput } from '../../../src/timeline/schema.js';
import { workloadSchema } from '../../../src/workloads/index.js';
import { InputError } from '../../../src/util/input-error.js';

interface Run extends BlockRunResult {
  timeline: NonNullable<BlockRunResult['timeline']>;
}

function run(path: string, entries: unknown[] | null, workload: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}, bucketMs = 10, seed = 1): Run {
  const w = workloadSchema.parse({ kind: 'blk', rw: 'randread', bs: 4096, iodepth: 8, ops: 2000, warmup_ops: 0, ...workload });
  const timeline = entries === null ? undefined : toTimelineInput(entries, [], bucketMs)!;
  return findPath(path)!.run({ workload: w, params: params.resolve(overrides), seed, replication: 0, timeline }) as Run;
}

/** Completions in the buckets starting in [fromMs, toMs). */
function completedIn(r: Run, fromMs: number, toMs: number): number {
  return r.timeline.rows.filter((b) => b.startMs >= fromMs && b.startMs < toMs).reduce((s, b) => s + b.opsCompleted, 0);
}

describe('backend-restart on vhost-user block', () => {
  const crash = [{ action: 'backend-restart', at_op: 700, restart_ms: 100 }];

  it('with inflight tracking loses no request: each held one is resubmitted and completes once', () => {
    const r = run('vhost-user', crash);
    const held = r.details.extra['vhost_user.held_at_crash']!;
    expect(held).toBeGreaterThan(0);
    expect(r.details.duplicateCompletions).toBe(0);
    expect(r.details.opsFailedTotal).toBe(0);
    expect(r.opsCompleted).toBe(2000);
    expect(r.timeline.summary.opsRetried).toBe(held);
    expect(r.timeline.summary.opsLost).toBe(0);
  });

  it('without it the held requests fail, each once, counted lost', () => {
    const r = run('vhost-user', crash, {}, { 'vhost_user.inflight_tracking': false });
    const held = r.details.extra['vhost_user.held_at_crash']!;
    expect(held).toBeGreaterThan(0);
    expect(r.timeline.summary.opsLost).toBe(held);
    expect(r.details.opsFailedTotal).toBe(held);
    expect(r.timeline.summary.opsRetried).toBe(0);
    expect(r.details.duplicateCompletions).toBe(0);
  });

  it('nothing completes in the outage; the rings resume at the first QEMU reconnect try after the restart, plus the set-up', () => {
    // crash at 5 ms (of a run of about 20 ms); tries every 1000 ms (reconnect-ms): restart
    // 100 ms -> 1005 ms, + 2 ms set-up
    const r = run('vhost-user', [{ action: 'backend-restart', at_ms: 5, restart_ms: 100 }]);
    expect(completedIn(r, 0, 5)).toBeGreaterThan(0);
    expect(completedIn(r, 10, 1000)).toBe(0);
    expect(completedIn(r, 1000, 1010)).toBeGreaterThan(0);
    expect(r.timeline.summary.recoveryMs).toBeGreaterThanOrEqual(1002);
    expect(r.timeline.summary.recoveryMs).toBeLessThan(1003);
    // a restart of 2.5 s: the third try (3 s) connects
    const slow = run('vhost-user', [{ action: 'backend-restart', at_ms: 5, restart_ms: 2500 }]);
    expect(completedIn(slow, 10, 3000)).toBe(0);
    expect(slow.timeline.summary.recoveryMs).toBeGreaterThanOrEqual(3002);
    expect(slow.timeline.summary.recoveryMs).toBeLessThan(3003);
    // reconnect-ms 200: the first try at or after 100 ms is at 200 ms
    const quick = run('vhost-user', [{ action: 'backend-restart', at_ms: 5, restart_ms: 100 }], {}, { 'vhost_user.reconnect_ms': 200 });
    expect(quick.timeline.summary.recoveryMs).toBeGreaterThanOrEqual(202);
    expect(quick.timeline.summary.recoveryMs).toBeLessThan(203);
    expect(quick.details.duplicateCompletions).toBe(0);
  });
});

describe('iscsi-disconnect on virtio-qemu with blk.backend=iscsi', () => {
  const iscsi = { 'blk.backend': 'iscsi' };

  it('a 30 s outage: found by the NOP timeout (first tick 5 s, 3 NOP-Outs: 20 s), reconnect at libiscsi\'s first try after 30.01 s, commands retried', () => {
    const r = run('virtio-qemu', [{ action: 'iscsi-disconnect', at_ms: 10, duration_ms: 30000 }], { iodepth: 4, rw: 'randwrite' }, iscsi, 100);
    expect(r.details.extra['iscsi.reconnects']).toBe(1);
    // the commands left unanswered: the job's depth
    expect(r.timeline.summary.opsRetried).toBe(4);
    expect(r.timeline.summary.opsLost).toBe(0);
    expect(r.details.duplicateCompletions).toBe(0);
    expect(r.opsCompleted).toBe(2000);
    expect(completedIn(r, 100, 35000)).toBe(0);
    // tries at 20, 20, 21, 23, 26, 30, 35 s (after failed try n, n s: libiscsi's back-off); + 1 ms login; from 10 ms
    expect(r.timeline.summary.recoveryMs).toBeGreaterThan(34991);
    expect(r.timeline.summary.recoveryMs).toBeLessThan(34992);
  });

  it('back before the NOP timeout: TCP retransmits (RTO 200 ms doubling), nothing is retried', () => {
    const r = run('virtio-qemu', [{ action: 'iscsi-disconnect', at_ms: 10, duration_ms: 1000 }], { iodepth: 4 }, iscsi, 100);
    expect(r.details.extra['iscsi.reconnects']).toBe(0);
    expect(r.timeline.summary.opsRetried).toBe(0);
    // retransmissions 0.2, 0.6, 1.4 s after the first held segment (just after 10 ms)
    expect(r.timeline.summary.recoveryMs).toBeGreaterThan(1400);
    expect(r.timeline.summary.recoveryMs).toBeLessThan(1401);
  });

  it('back at 17 s, but the next retransmission (25.4 s) is after the NOP timeout (20 s): the reconnect wins', () => {
    const r = run('virtio-qemu', [{ action: 'iscsi-disconnect', at_ms: 10, duration_ms: 17000 }], { iodepth: 4 }, iscsi, 100);
    expect(r.details.extra['iscsi.reconnects']).toBe(1);
    expect(r.timeline.summary.opsRetried).toBe(4);
    expect(r.timeline.summary.recoveryMs).toBeGreaterThan(19991);
    expect(r.timeline.summary.recoveryMs).toBeLessThan(19992);
  });
});

describe('device-error under a Linux NVMe driver', () => {
  it('bare metal: the commands stuck until the abort (30 s), the reset (60 s) and its 250 ms; requeued once each', () => {
    const r = run('bare-metal', [{ action: 'device-error', at_ms: 5 }], { iodepth: 4 }, {}, 1000);
    expect(r.details.extra['nvme.aborts']).toBe(1);
    expect(r.details.extra['nvme.resets']).toBe(1);
    expect(r.timeline.summary.opsRetried).toBe(4);
    expect(r.details.duplicateCompletions).toBe(0);
    expect(r.opsCompleted).toBe(2000);
    expect(completedIn(r, 1000, 60000)).toBe(0);
    expect(r.timeline.summary.recoveryMs).toBeGreaterThan(60250);
    expect(r.timeline.summary.recoveryMs).toBeLessThan(60251);
  });

  it('virtio-qemu: the host kernel driver does the same under QEMU', () => {
    const r = run('virtio-qemu', [{ action: 'device-error', at_ms: 5 }], { iodepth: 4 }, {}, 1000);
    expect(r.details.extra['nvme.resets']).toBe(1);
    expect(r.timeline.summary.recoveryMs).toBeGreaterThan(60250);
    expect(r.timeline.summary.recoveryMs).toBeLessThan(60251);
  });

  it('a device back before the timeout completes what it withheld: no abort, no retry', () => {
    const r = run('passthrough', [{ action: 'device-error', at_ms: 5, duration_ms: 5000 }], { iodepth: 4 }, {}, 1000);
    expect(r.details.extra['nvme.aborts']).toBe(0);
    expect(r.timeline.summary.opsRetried).toBe(0);
    expect(r.timeline.summary.recoveryMs).toBeGreaterThan(4995);
    expect(r.timeline.summary.recoveryMs).toBeLessThan(5000.1);
  });

  it('a device dead past nvme.max_retries resets: the commands fail, counted lost', () => {
    const r = run('bare-metal', [{ action: 'device-error', at_ms: 5, duration_ms: 100000 }], { iodepth: 4, ops: 500 }, { 'nvme.io_timeout_s': 1, 'nvme.max_retries': 2 }, 1000);
    // resets at 2, 4.25 and 6.5 s: requeued twice, failed at the third
    expect(r.details.extra['nvme.resets']).toBeGreaterThanOrEqual(3);
    expect(r.timeline.summary.opsRetried).toBeGreaterThanOrEqual(8);
    expect(r.timeline.summary.opsLost).toBeGreaterThanOrEqual(4);
    expect(r.details.opsFailedTotal).toBe(r.timeline.summary.opsLost);
    expect(r.details.duplicateCompletions).toBe(0);
  });
});

describe('refused where the path has no such part', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ['bare-metal', 'backend-restart', {}],
    ['virtio-qemu', 'backend-restart', {}],
    ['vhost-kernel', 'backend-restart', {}],
    ['virtio-qemu', 'iscsi-disconnect', {}],
    ['vhost-user', 'iscsi-disconnect', {}],
    ['vhost-user', 'device-error', {}],
    ['virtio-qemu', 'device-error', { 'disk.kind': 'ram' }],
    ['virtio-qemu', 'device-error', { 'blk.backend': 'iscsi', 'iscsi.target': 'spdk' }],
  ];
  for (const [path, action, ov] of cases) {
    it(`${path} ${JSON.stringify(ov)}: ${action}`, () => {
      let err: unknown = null;
      try {
        run(path, [{ action, at_ms: 1 }], {}, ov);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect(String((err as Error).message)).toMatch(new RegExp(`^timeline\\[0\\]\\.action: .*"${action}"`));
    });
  }
});

describe('a run without a timeline', () => {
  it('gives the figures it gave before the faults existed (commit fdf2fc8)', () => {
    const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['vhost-user', { rw: 'randread', iodepth: 8 }, {}],
      ['virtio-qemu', { rw: 'randwrite', iodepth: 4 }, { 'blk.backend': 'iscsi' }],
      ['bare-metal', { rw: 'randread', iodepth: 4 }, {}],
      ['sriov', { rw: 'randrw', iodepth: 4 }, { 'host.vms': 2 }],
      ['virtio-qemu', { rw: 'randread', iodepth: 4 }, {}],
    ];
    const got = cases.map(([path, wl, ov]) => {
      const r = run(path, null, { warmup_ops: 200, ...wl }, ov, 10, 3);
      return [path, r.opsCompleted, r.windowPs, r.latency.mean, r.latency.quantile(0.99), r.eventsProcessed, r.timeline === undefined];
    });
    expect(got).toEqual([
      ['vhost-user', 2000, 20642787240, 81943844.61800012, 134742015, 15915, true],
      ['virtio-qemu', 2000, 38393852296, 75130324.27149995, 78512127, 33302, true],
      ['bare-metal', 2000, 38988344132, 77845608.64999989, 113377279, 16969, true],
      ['sriov', 2000, 62073084567, 243354829.78500015, 3525312511, 16992, true],
      ['virtio-qemu', 2000, 52649233893, 104967371.06149986, 138412031, 37135, true],
    ]);
  });
});

describe('many faults in one run keep every op exactly once', () => {
  function runMany(path: string, entries: unknown[], faults: unknown[], workload: Record<string, unknown>, overrides: Record<string, unknown>): Run {
    const w = workloadSchema.parse({ kind: 'blk', rw: 'randrw', bs: 4096, iodepth: 8, ops: 6000, warmup_ops: 0, ...workload });
    return findPath(path)!.run({ workload: w, params: params.resolve(overrides), seed: 2, replication: 0, timeline: toTimelineInput(entries, faults, 100)! }) as Run;
  }
  const quick = { 'vhost_user.reconnect_ms': 1, 'vhost_user.setup_ms': 0 };

  it('vhost-user restarting at random (about every 5 ms), 2 VMs, tracked: nothing lost, nothing twice', () => {
    const r = runMany('vhost-user', [], [{ action: 'backend-restart', rate_per_s: 200, restart_ms: 0.5 }], {}, { 'host.vms': 2, ...quick });
    expect(r.timeline.summary.opsRetried).toBeGreaterThan(0);
    expect(r.details.duplicateCompletions).toBe(0);
    expect(r.details.opsFailedTotal).toBe(0);
    expect(r.opsCompleted).toBe(6000);
  });

  it('untracked: the failures are the lost ops, nothing twice', () => {
    const r = runMany('vhost-user', [], [{ action: 'backend-restart', rate_per_s: 200, restart_ms: 0.5 }], {}, { 'vhost_user.inflight_tracking': false, ...quick });
    expect(r.timeline.summary.opsLost).toBeGreaterThan(0);
    expect(r.details.opsFailedTotal).toBe(r.timeline.summary.opsLost);
    expect(r.details.duplicateCompletions).toBe(0);
  });

  it('iSCSI outages (short, long) and NVMe errors (back soon, until reset) on virtio-qemu: nothing twice, nothing lost', () => {
    const r = runMany(
      'virtio-qemu',
      [
        { action: 'iscsi-disconnect', at_op: 300, duration_ms: 3000 },
        { action: 'device-error', at_op: 600, duration_ms: 2000 },
        { action: 'iscsi-disconnect', at_op: 900, duration_ms: 25000 },
        { action: 'device-error', at_op: 1200 },
        { action: 'iscsi-disconnect', at_op: 1500, duration_ms: 0 },
      ],
      [],
      { iodepth: 4, ops: 2000 },
      { 'blk.backend': 'iscsi' },
    );
    expect(r.details.extra['iscsi.reconnects']).toBe(1);
    expect(r.details.extra['nvme.resets']).toBe(1);
    expect(r.timeline.summary.opsRetried).toBeGreaterThan(0);
    expect(r.details.duplicateCompletions).toBe(0);
    expect(r.details.opsFailedTotal).toBe(0);
    expect(r.opsCompleted).toBe(2000);
  });
});
