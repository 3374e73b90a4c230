/**
 * The invariants of io-paths.md s11.3, checked over many seeds and random valid
 * parameter combinations on every path and workload (the combinations are drawn from a
 * fixed seed, so a failure is reproducible by its index):
 *  1 ring bounds (never more buffers outstanding than the ring holds),
 *  2 exactly-once completion, 4 no lost wake-up (every run reaches its op count: a
 *  stuck ring or a missed notification would leave it without events),
 *  3 notification monotonicity (no more notifications than flushes or publications),
 *  5 ordering (a request's stage marks never go back in time),
 *  9 copy conservation (bytes copied = copies x frame bytes),
 *  10 packet conservation (created = completed + dropped + in flight; every drop is
 *  reported by exactly one drop point),
 * and the stage breakdown adding up to the mean latency, and no core used more than 100%.
 */
import { describe, expect, it } from 'vitest';
import { deriveStream } from '../../src/core/random.js';
import { runPath, ALL_PATHS } from '../paths/net/helpers.js';

// IOVSIM_INVARIANT_SEED / _COUNT explore other draws (the default set is fixed and reproducible)
const rng = deriveStream(Number(process.env['IOVSIM_INVARIANT_SEED'] ?? 20260101), 0, 'invariants/configs');
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const FRAME = 64;

interface Config {
  path: string;
  workload: Record<string, unknown>;
  params: Record<string, unknown>;
  seed: number;
}

function randomConfig(i: number): Config {
  const path = ALL_PATHS[i % ALL_PATHS.length]!;
  const kind = pick(['net-rr', 'net-rr', 'net-tx', 'net-rx']);
  const workload: Record<string, unknown> = { kind, size_bytes: pick([FRAME, FRAME, 1500, 4096]), ops: 1_500, warmup_ops: 150 };
  if (kind === 'net-rr') {
    workload['outstanding'] = pick([1, 2, 16]);
    workload['flows'] = pick([1, 3]);
    if (rng() < 0.3) workload['rate_per_s'] = pick([50_000, 400_000]);
  } else {
    const arrival = pick(['poisson', 'constant', 'bursty', 'saturate']);
    workload['arrival'] = arrival;
    if (arrival !== 'saturate') workload['rate_per_s'] = pick([50_000, 300_000, 3_000_000]);
    workload['flows'] = pick([1, 2]);
    workload['tx_batch'] = pick([1, 8, 32]);
  }
  const params: Record<string, unknown> = {
    'host.jitter_cv': pick([0, 0.1, 0.3]),
    'virtio.event_idx': rng() < 0.7,
    'virtio.indirect': rng() < 0.7,
    'virtio.rx_queue_size': pick([16, 64, 256]),
    'virtio.tx_queue_size': pick([32, 64, 256]),
    'guest.napi_budget': pick([4, 64]),
    'guest.napi_tx': rng() < 0.7,
    'kvm.apicv': rng() < 0.8,
    'kvm.halt_poll_ns': pick([0, 200_000]),
    'nic.rx_ring': pick([32, 512]),
    'nic.tx_ring': pick([32, 512]),
    'nic.itr_ns': pick([0, 10_000, 50_000]),
    'e1000.itr_ns': pick([0, 14_000]),
    'hostnet.tap_queue': pick([16, 1000]),
    'vhost.busyloop_us': pick([0, 0, 50]),
    'virtio.ioeventfd': rng() < 0.8,
    'vm.vcpus': pick([1, 2]),
    'vm.queue_pairs': pick([1, 2]),
    'virtio.version': pick(['0.95', '1.0', '1.1']),
  };
  if (path === 'vhost-kernel' && params['virtio.version'] === '1.1') params['virtio.version'] = '1.0';
  if (path !== 'bare-metal' && path !== 'passthrough') params['host.vms'] = pick([1, 2]);
  if (rng() < 0.25) params['host.cores'] = pick([1, 2, 3]);
  // a short guest qdisc on every other configuration (not drawn: the draws stay as they were)
  if (i % 2 === 1) params['guest.txqueuelen_packets'] = 32;
  const seed = 1 + Math.floor(rng() * 1000);
  // The host realism knobs, bulk streams, a host-local peer and PVP, from a stream of their
  // own (the draws above stay as they were)
  const pick2 = <T>(xs: readonly T[]): T => xs[Math.floor(rng2() * xs.length)]!;
  params['host.cstate_max'] = pick2(['C1', 'C1', 'C1E', 'C6']);
  params['host.tick_hz'] = pick2([0, 250, 1000]);
  params['kvm.halt_poll_adaptive'] = rng2() < 0.7;
  if (rng2() < 0.3) {
    params['host.noise_duty'] = 0.1;
    params['host.noise_burst_us'] = pick2([20, 200]);
  }
  if (params['host.cores'] !== undefined && rng2() < 0.5) params['host.smt'] = true;
  const hasHostStack = ['vhost-kernel', 'virtio-qemu', 'emulated', 'emulated-vmm'].includes(path);
  if (hasHostStack && rng2() < 0.25) params['peer.location'] = 'host';
  if (kind !== 'net-rr' && rng2() < 0.25) {
    delete workload['size_bytes'];
    delete workload['tx_batch'];
    workload['message_bytes'] = pick2([16384, 131072]);
    workload['mtu_bytes'] = pick2([1500, 9000]);
    if (rng2() < 0.5) workload['window_bytes'] = pick2([262144, 4194304]);
    params['guest.tso'] = rng2() < 0.7;
    params['nic.tso'] = rng2() < 0.8;
    params['virtio.guest_tso'] = rng2() < 0.8;
    workload['ops'] = 600;
    workload['warmup_ops'] = 60;
  }
  if (path === 'vhost-user' && rng2() < 0.3) {
    for (const k of Object.keys(workload)) delete workload[k];
    Object.assign(workload, { kind: 'net-pvp', size_bytes: pick2([64, 1500]), ops: 1_500, warmup_ops: 150 });
    if (rng2() < 0.5) workload['rate_per_s'] = pick2([100_000, 2_000_000]);
    params['vm.queue_pairs'] = 2;
    params['virtio.version'] = pick2(['1.0', '1.1']);
  }
  return { path, workload, params, seed };
}

const rng2 = deriveStream(Number(process.env['IOVSIM_INVARIANT_SEED'] ?? 20260101), 0, 'invariants/configs2');

const CONFIGS = Array.from({ length: Number(process.env['IOVSIM_INVARIANT_COUNT'] ?? 120) }, (_, i) => randomConfig(i));

const seen = { drops: 0, guestQdiscDrops: 0, saturated: 0, multiVm: 0, contended: 0 };

describe('io-paths.md s11.3 invariants over random valid configurations', () => {
  it.each(CONFIGS.map((c, i) => [i, c.path, c.workload['kind'], c] as const))('#%i %s %s', (_i, _p, _k, c) => {
    if (process.env['IOVSIM_PRINT_CONFIG']) console.log(JSON.stringify(c));
    const r = runPath(c.path, c.workload, c.params, c.seed);
    const d = r.details;
    const ops = c.workload['ops'] as number;

    // 4. no lost wake-up: the run reached its op count (it throws otherwise)
    expect(r.opsCompleted + r.opsDropped).toBe(ops);

    // 1. ring bounds (checked at the end, and enforced by add() throughout)
    expect(d.violations).toEqual([]);
    for (const [k, v] of Object.entries(d.extra)) {
      if (k.endsWith('.max_outstanding')) {
        const size = k.includes('/rxq') ? (c.params['virtio.rx_queue_size'] as number) : (c.params['virtio.tx_queue_size'] as number);
        expect(v, k).toBeLessThanOrEqual(size);
      }
    }

    // 2. exactly once, 10. conservation
    expect(d.duplicateCompletions).toBe(0);
    const finished = d.opsCompletedTotal + d.opsDroppedTotal + d.opsFinishedAfterStop;
    expect(finished).toBeLessThanOrEqual(d.opsCreated);
    const guestQdiscDrops = Object.entries(d.extra).reduce((s, [k, v]) => s + (k.endsWith('/guest.qdisc_drops') ? v : 0), 0);
    const dropPoints = ['nic.rx_drops', 'pmd.rx_drops', 'pmd.tx_drops', 'hostnet.qdisc_drops', 'hostnet.tap_drops', 'guest-pmd.tx_drops']
      .reduce((s, k) => s + (d.extra[k] ?? 0), guestQdiscDrops);
    expect(dropPoints).toBe(d.dropReports);
    expect(d.opsDroppedTotal).toBeLessThanOrEqual(d.dropReports);

    // 3. notification monotonicity per virtqueue
    for (const [k, v] of Object.entries(d.extra)) {
      if (!k.endsWith('.notifies')) continue;
      const q = k.slice(0, -'.notifies'.length);
      expect(v + (d.extra[`${q}.notifies_suppressed`] ?? 0), q).toBeGreaterThanOrEqual(v);
    }

    // 5. ordering: stage marks never went back in time
    expect(d.backwardMarks).toBe(0);

    // 9. copy conservation: every copy moves the frame (without FCS) plus the path's header
    if (r.counters.copies > 0 && c.workload['message_bytes'] === undefined) {
      const frame = c.workload['size_bytes'] as number;
      const perCopy = r.counters.copyBytes / r.counters.copies;
      expect([frame - 4, frame - 4 + 12]).toContain(perCopy);
    }

    // stages tile each request's life
    const sum = r.stages.reduce((s, st) => s + st.visitsPerOp * (st.waitMeanNs + st.serviceMeanNs), 0);
    if (r.opsCompleted > 0) expect(sum).toBeCloseTo(r.latency.mean / 1000, 2);

    // no core is used more than 100% of the time (threads that migrate book their time to each core they ran on)
    const cores = Object.keys(d.extra).filter((k) => /^core\d+\.busy_fraction$/.test(k));
    expect(cores.length).toBeGreaterThan(0);
    for (const k of cores) expect(d.extra[k], k).toBeLessThanOrEqual(1.001);
    if (d.extra['host.migrations']! === 0) {
      const byCore = new Map<number, number>();
      for (const row of r.cpu) byCore.set(row.core, (byCore.get(row.core) ?? 0) + row.busyFraction);
      for (const [core, used] of byCore) expect(Math.abs(used - d.extra[`core${core}.busy_fraction`]!), `core ${core}`).toBeLessThan(0.002);
    }

    if (d.dropReports > 0) seen.drops++;
    if (guestQdiscDrops > 0) seen.guestQdiscDrops++;
    if (c.workload['arrival'] === 'saturate' || c.workload['rate_per_s'] === 3_000_000) seen.saturated++;
    if ((c.params['host.vms'] ?? 1) !== 1) seen.multiVm++;
    if (r.counters.contextSwitches > r.counters.wakeups) seen.contended++;
  });

  it('the random configurations exercised drops (guest qdisc drops among them), overload, several VMs and shared cores', () => {
    expect(seen.drops).toBeGreaterThan(2);
    expect(seen.guestQdiscDrops).toBeGreaterThan(2);
    expect(seen.saturated).toBeGreaterThan(2);
    expect(seen.multiVm).toBeGreaterThan(2);
    expect(seen.contended).toBeGreaterThan(0);
  });
});
