/**
 * peer.location host: the other end is a process on the VM's own host behind the tap and
 * bridge (netperf against the host). No NIC and no wire on the way; the peer's threads
 * are host threads that sleep, wake and compete for cores.
 */
import { describe, expect, it } from 'vitest';
import { cpuOf, mops, p50Us, runPath } from './helpers.js';

const RR = { kind: 'net-rr', size_bytes: 64, ops: 20_000, warmup_ops: 2_000 };

describe('a host-local peer', () => {
  it.each(['vhost-kernel', 'virtio-qemu', 'emulated', 'emulated-vmm'])('%s: request/response never touches the NIC or the wire', (path) => {
    const local = runPath(path, RR, { 'peer.location': 'host' });
    const remote = runPath(path, RR);
    const stages = local.stages.map((s) => `${s.stage}/${s.actor}`);
    expect(stages).toContain('peer/host-peer');
    for (const s of ['wire/wire', 'nic.tx/nic', 'nic.rx/nic', 'hostnet.rx/host-softirq', 'peer/peer']) expect(stages).not.toContain(s);
    expect(local.opsCompleted).toBe(RR.ops);
    expect(local.details.extra['host-peer.messages']).toBeGreaterThanOrEqual(RR.ops);
    // the netserver is a host thread: it has a core and uses some of it
    expect(cpuOf(local, 'host/peer-vm0-f0').busyFraction).toBeGreaterThan(0.05);
    // no NIC pipeline, wire or peer NIC: faster than a peer across 10 GbE, except where the
    // host's TCP receive (run in the sender's context) lands on the vCPU inside its TDT
    // exit under the BQL (QEMU's e1000 transmits synchronously)
    if (path !== 'emulated') expect(p50Us(local)).toBeLessThan(p50Us(remote));
  });

  it('net-tx into a host sink and net-rx from a host sender are limited by the host thread', () => {
    const tx = runPath('vhost-kernel', { kind: 'net-tx', size_bytes: 1500, ops: 20_000, warmup_ops: 2_000 }, { 'peer.location': 'host' });
    expect(tx.opsCompleted).toBe(20_000);
    const rx = runPath('vhost-kernel', { kind: 'net-rx', size_bytes: 64, ops: 20_000, warmup_ops: 2_000 }, { 'peer.location': 'host' });
    expect(rx.opsCompleted + rx.opsDropped).toBe(20_000);
    // the sender's core is the bottleneck: send syscall, copy, stack and tun per frame
    expect(cpuOf(rx, 'host/peer-vm0-f0').busyFraction).toBeGreaterThan(0.95);
    expect(mops(rx)).toBeLessThan(1);
  });

  it('paths without a host stack refuse it, naming the parameter', () => {
    for (const path of ['bare-metal', 'passthrough', 'sriov', 'vhost-user']) {
      expect(() => runPath(path, RR, { 'peer.location': 'host' })).toThrow(/params\.peer\.location: "host" needs a path whose back end hands frames to the host stack/);
    }
  });
});
