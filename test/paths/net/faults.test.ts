/**
 * Network faults of issue 16 (src/paths/net/support/faults.ts): loss and link-down on the
 * wire with TCP's retransmission timers in net-rr, lost ops in streams, vf-reset on the
 * assigned-device paths, vhost-user back-end restart with its 1 s reconnect tick.
 */
import { describe, expect, it } from 'vitest';
import { params } from '../../../src/calibration/index.js';
import { findPath } from '../../../src/paths/index.js';
import type { NetRunResult } from '../../../src/paths/net/support/net-run.js';
import { toTimelineInput } from '../../../src/timeline/schema.js';
import { InputError } from '../../../src/util/input-error.js';
import { workloadSchema } from '../../../src/workloads/index.js';
import { ALL_PATHS } from './helpers.js';

function run(path: string, workload: Record<string, unknown>, timeline?: unknown[], bucketMs = 1, overrides: Record<string, unknown> = {}): NetRunResult {
  const t = timeline ? toTimelineInput(timeline, undefined, bucketMs) : null;
  return findPath(path)!.run({
    workload: workloadSchema.parse(workload),
    params: params.resolve(overrides),
    seed: 1,
    replication: 0,
    ...(t ? { timeline: t } : {}),
  }) as NetRunResult;
}

const RR = { kind: 'net-rr', size_bytes: 64, outstanding: 1, ops: 5000, warmup_ops: 500 };
const LONG_MS = 3_600_000; // the whole run
const ms = (ps: number): number => ps / 1e9;
const extra = (r: NetRunResult, k: string): number => r.details.extra[k]!;

describe('loss on the wire, net-rr (TCP retransmits)', () => {
  const base = run('vhost-user', RR);
  const lossy = run('vhost-user', RR, [{ action: 'loss', at_ms: 0, rate: 0.02, duration_ms: LONG_MS }], 100);
  const rare = run('vhost-user', RR, [{ action: 'loss', at_ms: 0, rate: 1e-4, duration_ms: LONG_MS }], 100);

  it('a loss rate above 1 in 100 transactions moves p99 by about the minimum RTO (the loss probe, capped at the RTO: srtt + 200 ms)', () => {
    const shift = ms(lossy.latency.quantile(0.99)) - ms(base.latency.quantile(0.99));
    expect(shift).toBeGreaterThanOrEqual(200);
    expect(shift).toBeLessThanOrEqual(260);
    // p50 is the same transaction as without loss
    expect(lossy.latency.quantile(0.5) / base.latency.quantile(0.5)).toBeCloseTo(1, 1);
  });

  it('a loss rate far below 1 in 100 leaves p99 where it was', () => {
    expect(extra(rare, 'fault.lost_frames')).toBeGreaterThan(0); // it did lose some
    expect(rare.latency.quantile(0.99) / base.latency.quantile(0.99)).toBeGreaterThan(0.97);
    expect(rare.latency.quantile(0.99) / base.latency.quantile(0.99)).toBeLessThan(1.03);
  });

  it('every op completes exactly once; each lost frame is retransmitted once (ops_retried = lost frames)', () => {
    for (const r of [lossy, rare]) {
      expect(r.opsCompleted).toBe(RR.ops);
      expect(r.opsDropped).toBe(0);
      expect(r.details.duplicateCompletions).toBe(0);
      expect(r.details.violations).toEqual([]);
      expect(r.timeline!.summary.opsRetried).toBe(extra(r, 'fault.lost_frames'));
      expect(r.timeline!.summary.opsLost).toBe(0);
    }
    // about 2% each way: 4% of transactions pay a timeout (binomial, 5,500 draws)
    const lostShare = extra(lossy, 'fault.lost_frames') / (2 * (RR.ops + RR.warmup_ops));
    expect(lostShare).toBeGreaterThan(0.015);
    expect(lostShare).toBeLessThan(0.025);
    expect(ms(lossy.latency.quantile(0.95))).toBeLessThan(1);
    expect(ms(lossy.latency.quantile(0.975))).toBeGreaterThan(200);
  });

  it('several transactions in flight: nothing completes twice, every op completes', () => {
    const r = run('sriov', { ...RR, outstanding: 4 }, [{ action: 'loss', at_ms: 0, rate: 0.05, duration_ms: LONG_MS }], 100);
    expect(r.opsCompleted).toBe(RR.ops);
    expect(r.details.duplicateCompletions).toBe(0);
    const lost = extra(r, 'fault.lost_frames');
    expect(r.timeline!.summary.opsRetried).toBeLessThanOrEqual(lost);
    expect(r.timeline!.summary.opsRetried).toBeGreaterThanOrEqual(lost - 4); // timers still running at the end
  });

  it('without the loss probe the first retransmission waits the same (the PTO, 2 srtt + 200 ms, is capped at the RTO, srtt + 200 ms)', () => {
    const noTlp = run('vhost-user', RR, [{ action: 'loss', at_ms: 0, rate: 0.02, duration_ms: LONG_MS }], 100, { 'tcp.tlp': false });
    expect(noTlp.latency.quantile(0.99)).toBe(lossy.latency.quantile(0.99));
  });
});

describe('loss on every network path', () => {
  it.each(ALL_PATHS)('%s net-rr: every transaction completes once, each lost frame retransmitted once, p99 on the timeout', (path) => {
    const w = { ...RR, ops: 2000, warmup_ops: 200 };
    const r = run(path, w, [{ action: 'loss', at_ms: 0, rate: 0.03, duration_ms: LONG_MS }], 100);
    expect(r.opsCompleted).toBe(w.ops);
    expect(r.details.duplicateCompletions).toBe(0);
    expect(r.details.violations).toEqual([]);
    expect(r.timeline!.summary.opsRetried).toBe(extra(r, 'fault.lost_frames'));
    expect(ms(r.latency.quantile(0.99))).toBeGreaterThan(200);
    expect(ms(r.latency.quantile(0.5))).toBeLessThan(1);
  });

  it('vhost-user net-pvp: a lost frame is an op lost', () => {
    const w = { kind: 'net-pvp', size_bytes: 64, rate_per_s: 1_000_000, arrival: 'constant', ops: 20_000, warmup_ops: 1000 };
    const r = run('vhost-user', w, [{ action: 'loss', at_ms: 0, rate: 0.01, duration_ms: LONG_MS }], 10, { 'vm.queue_pairs': 2 });
    const share = r.timeline!.summary.opsLost / (w.ops + w.warmup_ops);
    expect(share).toBeGreaterThan(0.015); // two wire crossings: 1 - 0.99^2
    expect(share).toBeLessThan(0.025);
  });
});

describe('loss on a stream', () => {
  it('net-tx: a lost frame is an op lost (counted once: lost, not also dropped)', () => {
    const w = { kind: 'net-tx', size_bytes: 1500, ops: 20_000, warmup_ops: 1000 };
    const r = run('vhost-kernel', w, [{ action: 'loss', at_ms: 0, rate: 0.01, duration_ms: LONG_MS }], 1);
    const lost = r.timeline!.summary.opsLost;
    expect(lost).toBe(extra(r, 'fault.ops_lost'));
    expect(lost / (w.ops + w.warmup_ops)).toBeGreaterThan(0.007);
    expect(lost / (w.ops + w.warmup_ops)).toBeLessThan(0.013);
    expect(r.timeline!.rows.reduce((s, x) => s + x.opsDropped, 0)).toBe(0);
    expect(r.details.duplicateCompletions).toBe(0);
  });
});

describe('loss on a bulk TCP-like stream (64 KiB packets, about 45 frames on the wire)', () => {
  it.each(['net-tx', 'net-rx'])('%s: a packet is lost when any of its frames is (1 - 0.999^45 = 4.4%%), and the window keeps the stream going', (kind) => {
    const w = { kind, message_bytes: 131072, ops: 4000, warmup_ops: 400 };
    const r = run('vhost-kernel', w, [{ action: 'loss', at_ms: 0, rate: 0.001, duration_ms: LONG_MS }], 10);
    const share = r.timeline!.summary.opsLost / (w.ops + w.warmup_ops);
    expect(share).toBeGreaterThan(0.033);
    expect(share).toBeLessThan(0.055);
    expect(r.opsCompleted + r.opsDropped).toBe(w.ops);
  });
});

describe('where the wire is not there', () => {
  it('a host-local peer has no wire: loss and link-down are refused naming the entry', () => {
    const local = { 'peer.location': 'host' };
    expect(() => run('vhost-kernel', RR, [{ action: 'loss', at_ms: 1, rate: 0.1, duration_ms: 10 }], 1, local)).toThrow(/^timeline\[0\]\.action: .*"loss"/);
    expect(() => run('vhost-kernel', RR, [{ action: 'link-up', at_ms: 1 }, { action: 'link-down', at_ms: 1 }], 1, local)).toThrow(/^timeline\[0\]\.action: .*"link-up"/);
  });
});

describe('random link flaps (a fault process)', () => {
  it('net-rr rides through link-down faults of 50 ms at 5 a second: every op completes once, each flap is repaired by retransmissions', () => {
    const t = toTimelineInput(undefined, [{ action: 'link-down', rate_per_s: 5, duration_ms: 50 }], 100)!;
    const r = findPath('passthrough')!.run({ workload: workloadSchema.parse({ ...RR, ops: 20_000, warmup_ops: 0 }), params: params.resolve({}), seed: 3, replication: 0, timeline: t }) as NetRunResult;
    expect(r.opsCompleted).toBe(20_000);
    expect(r.details.duplicateCompletions).toBe(0);
    expect(r.timeline!.summary.opsRetried).toBe(extra(r, 'fault.lost_frames'));
    expect(r.timeline!.summary.opsRetried).toBeGreaterThan(0);
    expect(r.timeline!.summary.recoveryMs).toBeGreaterThanOrEqual(50);
  });
});

describe('link-down / link-up, net-rr', () => {
  const r = run('sriov', { ...RR, ops: 3000 }, [{ action: 'link-down', at_ms: 20, duration_ms: 500 }], 1);
  const rows = r.timeline!.rows;

  it('no op completes during the outage; transactions resume after link-up', () => {
    expect(rows.filter((x) => x.startMs >= 21 && x.startMs < 520).reduce((s, x) => s + x.opsCompleted, 0)).toBe(0);
    expect(r.opsCompleted).toBe(3000);
    expect(r.details.duplicateCompletions).toBe(0);
    expect(r.timeline!.summary.recoveryMs).toBeGreaterThanOrEqual(500);
  });

  it('the retransmissions follow the back-off: PTO, RTO, 2 RTO after the loss, so the first after link-up lands at about 20 + 200 + 200 + 400 ms', () => {
    const retried = rows.filter((x) => x.opsRetried > 0).map((x) => x.startMs);
    expect(retried).toEqual([220, 420, 820]);
    const firstAfter = rows.find((x) => x.startMs >= 21 && x.opsCompleted > 0)!;
    expect(firstAfter.startMs).toBe(820);
    expect(r.timeline!.summary.recoveryMs).toBeGreaterThan(800);
    expect(r.timeline!.summary.recoveryMs).toBeLessThan(801);
  });

  it('without the loss probe the back-off is one step shorter: RTO, 2 RTO, so the first after link-up is at about 620 ms', () => {
    const noTlp = run('sriov', { ...RR, ops: 3000 }, [{ action: 'link-down', at_ms: 20, duration_ms: 500 }], 1, { 'tcp.tlp': false });
    expect(noTlp.timeline!.rows.filter((x) => x.opsRetried > 0).map((x) => x.startMs)).toEqual([220, 620]);
  });

  it('link-up ends the outage early: the next retransmission gets through', () => {
    const early = run('sriov', { ...RR, ops: 3000 }, [{ action: 'link-down', at_ms: 20 }, { action: 'link-up', at_ms: 300 }], 1);
    const first = early.timeline!.rows.find((x) => x.startMs >= 21 && x.opsCompleted > 0)!;
    expect(first.startMs).toBe(420); // the probe at 220 was lost, the RTO at 420 is not
  });
});

describe('vf-reset', () => {
  it('sriov: the VF passes no traffic for sriov.vf_reset_ms, frames in flight are lost and retransmitted', () => {
    const r = run('sriov', { ...RR, ops: 3000 }, [{ action: 'vf-reset', at_ms: 30 }], 1);
    const rows = r.timeline!.rows;
    expect(rows.filter((x) => x.startMs >= 31 && x.startMs < 130).reduce((s, x) => s + x.opsCompleted, 0)).toBe(0);
    expect(r.timeline!.summary.recoveryMs).toBeGreaterThanOrEqual(100);
    expect(r.timeline!.summary.opsRetried).toBeGreaterThan(0);
    expect(r.opsCompleted).toBe(3000);
    expect(r.details.duplicateCompletions).toBe(0);
  });

  it('sriov net-rx: ops arriving during the reset are lost (rate x reset time)', () => {
    const r = run('sriov', { kind: 'net-rx', size_bytes: 1500, rate_per_s: 100_000, arrival: 'constant', ops: 30_000, warmup_ops: 1000 }, [{ action: 'vf-reset', at_ms: 100 }], 10, { 'sriov.vf_reset_ms': 50 });
    expect(r.timeline!.summary.opsLost).toBeGreaterThanOrEqual(4990);
    expect(r.timeline!.summary.opsLost).toBeLessThanOrEqual(5010);
    expect(r.timeline!.summary.recoveryMs).toBeGreaterThanOrEqual(50);
    expect(r.timeline!.summary.recoveryMs).toBeLessThan(50.1);
  });

  it('passthrough can do it too', () => {
    const r = run('passthrough', { ...RR, ops: 3000 }, [{ action: 'vf-reset', at_ms: 30 }], 1);
    expect(r.timeline!.summary.recoveryMs).toBeGreaterThanOrEqual(100);
  });

  it('vhost-kernel has no VF: refused with an input error naming timeline[0].action', () => {
    expect(() => run('vhost-kernel', RR, [{ action: 'vf-reset', at_ms: 1 }])).toThrow(InputError);
    expect(() => run('vhost-kernel', RR, [{ action: 'vf-reset', at_ms: 1 }])).toThrow(/^timeline\[0\]\.action: .*vf-reset/);
    expect(() => run('sriov', RR, [{ action: 'backend-restart', at_ms: 1 }])).toThrow(/^timeline\[0\]\.action: .*backend-restart/);
  });
});

describe('vhost-user backend-restart', () => {
  const RX = { kind: 'net-rx', size_bytes: 1500, rate_per_s: 50_000, arrival: 'constant', ops: 150_000, warmup_ops: 1000 };

  it('the outage is restart_ms rounded up to the 1 s reconnect tick; the frames meanwhile are lost', () => {
    for (const [restart, outage] of [[300, 1000], [1200, 2000]] as const) {
      const r = run('vhost-user', RX, [{ action: 'backend-restart', at_ms: 50, restart_ms: restart }], 10);
      const rows = r.timeline!.rows;
      expect(r.timeline!.summary.recoveryMs).toBeGreaterThanOrEqual(outage);
      expect(r.timeline!.summary.recoveryMs).toBeLessThan(outage + 1);
      expect(rows.filter((x) => x.startMs >= 60 && x.startMs < 50 + outage).reduce((s, x) => s + x.opsCompleted, 0)).toBe(0);
      expect(rows.find((x) => x.startMs === 50 + outage)!.opsCompleted).toBeGreaterThan(0);
      // 50,000 frames a second for the outage (plus the few in the NIC's ring at the crash)
      const lost = r.timeline!.summary.opsLost;
      expect(lost).toBeGreaterThanOrEqual((50_000 * outage) / 1000);
      expect(lost).toBeLessThan((50_000 * outage) / 1000 + 100);
      expect(rows.reduce((s, x) => s + x.opsDropped, 0)).toBe(0);
    }
  });

  it('net-rr: the transaction in flight resumes after reconnect, none lost or completed twice', () => {
    const r = run('vhost-user', { ...RR, ops: 3000 }, [{ action: 'backend-restart', at_ms: 20, restart_ms: 100 }], 1);
    expect(r.timeline!.summary.recoveryMs).toBeGreaterThanOrEqual(1000);
    expect(r.opsCompleted).toBe(3000);
    expect(r.details.duplicateCompletions).toBe(0);
    expect(r.timeline!.summary.opsLost).toBe(0);
  });
});

describe('a run without a timeline is as before the faults', () => {
  // figures of the same runs at commit fdf2fc8 (before src/paths/net/support/faults.ts)
  const cases: [string, Record<string, unknown>, { p50: number; p99: number; windowPs: number; events: number }][] = [
    ['vhost-user', { kind: 'net-rr', size_bytes: 64, outstanding: 1, ops: 3000, warmup_ops: 300 }, { p50: 22380543, p99: 23838719, windowPs: 67772542481, events: 13202 }],
    ['sriov', { kind: 'net-rr', size_bytes: 64, outstanding: 1, ops: 3000, warmup_ops: 300 }, { p50: 21577727, p99: 23052287, windowPs: 65360350503, events: 17999 }],
    ['vhost-kernel', { kind: 'net-tx', size_bytes: 1500, ops: 3000, warmup_ops: 300 }, { p50: 44400639, p99: 70909951, windowPs: 4062074057, events: 11841 }],
    ['passthrough', { kind: 'net-rx', size_bytes: 1500, ops: 3000, warmup_ops: 300 }, { p50: 191496191, p99: 266862591, windowPs: 3802500166, events: 7117 }],
  ];
  it.each(cases)('%s %o', (path, w, want) => {
    const r = run(path, w);
    expect({ p50: r.latency.quantile(0.5), p99: r.latency.quantile(0.99), windowPs: r.windowPs, events: r.eventsProcessed }).toEqual(want);
    expect(r.timeline).toBeUndefined();
    expect(r.details.extra['fault.lost_frames']).toBeUndefined();
  });
});
