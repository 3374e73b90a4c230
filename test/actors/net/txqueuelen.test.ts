/**
 * The guest's transmit qdisc (guest.txqueuelen_packets, Linux dev->tx_queue_len = 1000):
 * an open-loop sender offered above the path's saturation keeps at most that many packets
 * per transmit queue waiting for the driver and drops the rest on arrival, so latency
 * levels off instead of growing with the run, and the drops are ops_dropped. A saturating
 * sender or a closed-loop client waits for room and never drops.
 *
 * The latency bound: an accepted packet finds at most L - 1 packets ahead of it in the
 * qdisc; they leave at the path's saturation rate X (one per 1/X), after which the packet
 * is where a saturating sender's packet is when it is handed over (the driver ring full
 * behind it). So its latency is at most about L / X + (the saturating run's latency), and
 * with the qdisc full most of the time, at least about L / X.
 */
import { describe, expect, it } from 'vitest';
import { params } from '../../../src/calibration/index.js';
import type { NetRunResult } from '../../../src/paths/net/support/net-run.js';
import { ALL_PATHS, runPath } from '../../paths/net/helpers.js';

const LIMIT = 'guest.txqueuelen_packets';
const tx = (extra: Record<string, unknown> = {}) => ({ kind: 'net-tx', ops: 3000, warmup_ops: 2000, ...extra });
const throughput = (r: NetRunResult): number => r.opsCompleted / (r.windowPs / 1e12);
const p99Ps = (r: NetRunResult): number => r.latency.quantile(0.99);
const extraOf = (r: NetRunResult, suffix: string): number =>
  Object.entries(r.details.extra).filter(([k]) => k.endsWith(suffix)).reduce((s, [, v]) => s + v, 0);
const maxBacklog = (r: NetRunResult): number =>
  Math.max(...Object.entries(r.details.extra).filter(([k]) => k.endsWith('/guest.max_backlog')).map(([, v]) => v));

/** created = completed + dropped + finished after the stop + in flight; returns the ops in flight. */
function inFlight(r: NetRunResult): number {
  const d = r.details;
  const n = d.opsCreated - d.opsCompletedTotal - d.opsDroppedTotal - d.opsFinishedAfterStop;
  expect(n).toBeGreaterThanOrEqual(0);
  return n;
}

describe('guest.txqueuelen_packets', () => {
  it('defaults to Linux DEFAULT_TX_QUEUE_LEN, an integer of at least 1', () => {
    const def = params.get(LIMIT)!;
    expect(def.default).toBe(1000);
    expect(def.unit).toBe('packets');
    expect(def.source).toContain('DEFAULT_TX_QUEUE_LEN');
    expect(() => params.check(LIMIT, 0, 'p')).toThrow('must be in [1, inf]');
    expect(() => params.check(LIMIT, 10.5, 'p')).toThrow('integer');
  });
});

describe('open-loop net-tx above saturation (bare metal, 64 B)', () => {
  const sat = runPath('bare-metal', tx());
  const X = throughput(sat); // about 755 kpps
  const rate = 2_000_000; // about 2.6 X
  const over = runPath('bare-metal', tx({ rate_per_s: rate }));
  const L = 1000;

  it('drops the excess on arrival at the qdisc, as ops_dropped', () => {
    expect(sat.opsDropped).toBe(0);
    expect(over.opsDropped).toBeGreaterThan(0);
    // every drop is a qdisc drop, reported through the run's drop port
    expect(extraOf(over, '/guest.qdisc_drops')).toBe(over.details.opsDroppedTotal);
    expect(over.details.dropReports).toBe(over.details.opsDroppedTotal);
    // in steady state the fraction dropped is 1 - X / rate
    const dropFraction = over.opsDropped / (over.opsDropped + over.opsCompleted);
    expect(dropFraction).toBeCloseTo(1 - X / rate, 1);
  });

  it('never holds more than the limit, and fills it', () => {
    expect(maxBacklog(over)).toBe(L);
  });

  it('keeps the saturation throughput', () => {
    expect(throughput(over) / X).toBeGreaterThan(0.97);
    expect(throughput(over) / X).toBeLessThan(1.03);
  });

  it('bounds latency by about L / X plus the saturating latency, and the bound is reached', () => {
    const queuePs = (L / X) * 1e12;
    expect(p99Ps(over)).toBeLessThanOrEqual(1.03 * (queuePs + p99Ps(sat)));
    expect(over.latency.quantile(0.5)).toBeGreaterThan(0.9 * queuePs);
  });

  it('levels off: a run twice as long has the same tail latency', () => {
    const longer = runPath('bare-metal', tx({ rate_per_s: rate, ops: 6000 }));
    expect(p99Ps(longer) / p99Ps(over)).toBeCloseTo(1, 1);
    expect(maxBacklog(longer)).toBe(L);
  });

  it('conserves ops: created = completed + dropped + in flight, in flight within the qdisc and the ring', () => {
    const n = inFlight(over);
    expect(n).toBeLessThanOrEqual(L + (params.get('nic.tx_ring')!.default as number) + 2);
  });

  it('below saturation nothing is dropped and the backlog stays short', () => {
    const under = runPath('bare-metal', tx({ rate_per_s: 0.5 * X }));
    expect(under.opsDropped).toBe(0);
    expect(extraOf(under, '/guest.qdisc_drops')).toBe(0);
    expect(maxBacklog(under)).toBeLessThan(L);
    expect(throughput(under) / (0.5 * X)).toBeCloseTo(1, 1);
  });
});

describe('who is never dropped', () => {
  it('a saturating sender waits for room even with a one-packet qdisc', () => {
    const a = runPath('bare-metal', tx());
    const b = runPath('bare-metal', tx(), { [LIMIT]: 1 });
    expect(b.opsDropped).toBe(0);
    expect(b.details.opsDroppedTotal).toBe(0);
    expect(throughput(b)).toBe(throughput(a));
  });

  it('a closed-loop client with more outstanding than the limit', () => {
    const r = runPath('vhost-user', { kind: 'net-rr', outstanding: 16, ops: 2000, warmup_ops: 200 }, { [LIMIT]: 2 });
    expect(r.opsDropped).toBe(0);
    expect(extraOf(r, '/guest.qdisc_drops')).toBe(0);
  });
});

describe('the limit is per transmit queue, on every path', () => {
  it('two flows sharing one queue share its qdisc', () => {
    const L = 1000;
    const sat = runPath('bare-metal', tx({ flows: 2 }));
    const X = throughput(sat);
    const r = runPath('bare-metal', tx({ flows: 2, rate_per_s: 2_000_000 }));
    expect(r.opsDropped).toBeGreaterThan(0);
    expect(maxBacklog(r)).toBeLessThanOrEqual(L);
    // Each flow is offered 1 Mpps > X / 2, so a limit per flow would hold 2 L; the queue
    // holds L in all: the ops in flight at the end are the full qdisc plus the ring.
    const n = inFlight(r);
    expect(n).toBeGreaterThan(0.9 * L);
    expect(n).toBeLessThanOrEqual(L + (params.get('nic.tx_ring')!.default as number) + 2);
    // The vCPU serves the two flows' backlogs in turn, so a packet waits behind at most
    // its own flow's share of the L, served at no less than X / 2: at most 2 L / X.
    expect(p99Ps(r)).toBeLessThanOrEqual(1.03 * ((2 * L) / X * 1e12 + p99Ps(sat)));
  });

  it('open-loop net-rr above saturation drops at the guest qdisc too', () => {
    const r = runPath('vhost-kernel', { kind: 'net-rr', rate_per_s: 300_000, ops: 2000, warmup_ops: 1000 }, { [LIMIT]: 50 });
    expect(r.opsDropped).toBeGreaterThan(0);
    expect(maxBacklog(r)).toBe(50);
    expect(extraOf(r, '/guest.qdisc_drops')).toBe(r.details.opsDroppedTotal);
  });

  it.each(ALL_PATHS)('%s: 2.5 Mpps of 64 B frames with a 64-packet qdisc', (path) => {
    const L = 64;
    const r = runPath(path, tx({ rate_per_s: 2_500_000, ops: 2000, warmup_ops: 1000 }), { [LIMIT]: L });
    expect(r.opsDropped).toBeGreaterThan(0);
    expect(maxBacklog(r)).toBe(L);
    expect(extraOf(r, '/guest.qdisc_drops')).toBeGreaterThan(0);
    // the guest qdisc is the only drop point reached here: every drop is one of its
    expect(r.details.opsDroppedTotal).toBe(extraOf(r, '/guest.qdisc_drops'));
    expect(r.details.dropReports).toBe(r.details.opsDroppedTotal);
    expect(r.details.duplicateCompletions).toBe(0);
    inFlight(r);
  });
});
