import { describe, expect, it } from 'vitest';
import { Counters } from '../../src/metrics/counters.js';
import { Virtqueue, vringNeedEvent } from '../../src/primitives/virtqueue.js';

function vq(options: Partial<{ size: number; isPacked: boolean; hasIndirect: boolean; hasEventIdx: boolean }> = {}) {
  const counters = new Counters();
  const q = new Virtqueue<number>({
    name: 'q',
    size: options.size ?? 8,
    isPacked: options.isPacked ?? false,
    hasIndirect: options.hasIndirect ?? true,
    hasEventIdx: options.hasEventIdx ?? true,
    cachelinePs: 1000,
    counters,
  });
  return { q, counters };
}

describe('vring_need_event', () => {
  it('matches the spec formula, including 16-bit wrap', () => {
    expect(vringNeedEvent(5, 6, 5)).toBe(true); // crossed exactly
    expect(vringNeedEvent(5, 7, 6)).toBe(false); // already past, no new crossing
    expect(vringNeedEvent(10, 8, 5)).toBe(false); // not reached
    expect(vringNeedEvent(10, 12, 5)).toBe(true); // crossed within a batch
    expect(vringNeedEvent(0xffff, 1, 0xfffe)).toBe(true); // crossing over the wrap
  });
});

describe('virtqueue', () => {
  it('EVENT_IDX kick suppression: one kick per device sleep, the re-check catches a race', () => {
    const { q, counters } = vq();
    q.enableNotify();
    q.add(1, 1);
    expect(q.kickPrepare()).toBe(true); // device asleep: kick
    q.disableNotify(); // device woke and drains
    q.add(2, 1);
    expect(q.kickPrepare()).toBe(false); // device busy: suppressed
    expect(q.pop()).toBe(1);
    expect(q.pop()).toBe(2);
    q.add(3, 1); // slips in during the drain
    expect(q.kickPrepare()).toBe(false);
    expect(q.enableNotify()).toBe(true); // re-check finds it: no lost wake-up
    q.disableNotify();
    expect(q.pop()).toBe(3);
    expect(q.enableNotify()).toBe(false);
    q.add(4, 1);
    expect(q.kickPrepare()).toBe(true);
    expect(counters.kicks).toBe(2);
    expect(counters.kicksSuppressed).toBe(2);
  });

  it('EVENT_IDX: a device waiting for more buffers than are posted is kicked by the next one (virtio_net_has_buffers)', () => {
    // A 3-buffer mergeable frame, 2 buffers posted and already kick-prepared: the device
    // enables kicks and must hear of the third. avail_event at the device's next buffer
    // (rather than the avail index it has seen) lost this kick: a stuck RX queue.
    const { q } = vq();
    q.add(1, 1);
    expect(q.kickPrepare()).toBe(true); // the device wakes
    q.disableNotify(); // and finds too few buffers for its frame
    q.add(2, 1);
    expect(q.kickPrepare()).toBe(false);
    expect(q.availPending).toBe(2);
    q.enableNotify(); // needs 3: waits
    q.add(3, 1);
    expect(q.kickPrepare()).toBe(true);
  });

  it('flag mode (no EVENT_IDX) kicks whenever NO_NOTIFY is clear', () => {
    const { q } = vq({ hasEventIdx: false });
    q.add(1, 1);
    expect(q.kickPrepare()).toBe(true);
    q.add(2, 1);
    expect(q.kickPrepare()).toBe(true);
    q.disableNotify();
    q.add(3, 1);
    expect(q.kickPrepare()).toBe(false);
  });

  it('used-buffer notifications follow NAPI disable / enable with re-check', () => {
    const { q } = vq();
    for (let i = 0; i < 4; i++) q.add(i, 1);
    q.pop();
    q.pushUsed(0, 1);
    expect(q.shouldNotify()).toBe(true); // first signal always goes
    q.disableCb(); // guest NAPI is polling
    q.pop();
    q.pushUsed(1, 1);
    expect(q.shouldNotify()).toBe(false);
    expect(q.getUsed()).toBe(0);
    expect(q.getUsed()).toBe(1);
    q.pop();
    q.pushUsed(2, 1); // slips in before re-enable
    expect(q.enableCb()).toBe(true); // re-check: poll again
    expect(q.getUsed()).toBe(2);
    expect(q.enableCb()).toBe(false);
    q.pop();
    q.pushUsed(3, 1);
    expect(q.shouldNotify()).toBe(true);
  });

  it('enable_cb_delayed asks for a notification after 3/4 of the outstanding buffers', () => {
    const { q } = vq({ size: 16 });
    for (let i = 0; i < 8; i++) q.add(i, 1);
    expect(q.enableCbDelayed()).toBe(false);
    let notified = 0;
    for (let i = 0; i < 8; i++) {
      q.pop();
      q.pushUsed(i, 1);
      if (q.shouldNotify()) notified = i + 1;
    }
    // the first check always signals; then only when used idx crosses lastUsed + 6
    expect(notified).toBe(7);
  });

  it('a stale used_event lets exactly one notification through per 65,536 buffers', () => {
    const { q } = vq({ size: 256 });
    q.disableCb();
    let sent = 0;
    for (let i = 0; i < 200_000; i++) {
      q.add(i, 1);
      q.pop();
      q.pushUsed(i, 1);
      if (q.shouldNotify()) sent++;
      q.getUsed();
    }
    // the first (no valid signalled index) plus one per wrap of the 16-bit index
    expect(sent).toBe(1 + Math.floor(200_000 / 65_536));
  });

  it('ring bounds: one slot per request with indirect descriptors, else one per segment', () => {
    const withIndirect = vq({ size: 8, hasIndirect: true }).q;
    for (let i = 0; i < 8; i++) withIndirect.add(i, 3);
    expect(withIndirect.canAdd(1)).toBe(false);
    expect(() => withIndirect.add(9, 1)).toThrow(/full/);
    const direct = vq({ size: 8, hasIndirect: false }).q;
    direct.add(0, 3);
    direct.add(1, 3);
    expect(direct.canAdd(3)).toBe(false);
    expect(direct.canAdd(2)).toBe(true);
    direct.pop();
    direct.pushUsed(0, direct.poppedSlots);
    direct.getUsed();
    expect(direct.freeSlots).toBe(5);
    direct.checkBounds();
  });

  it('packed rings move fewer cache lines than split rings for small batches', () => {
    const split = vq({ isPacked: false }).q;
    const packed = vq({ isPacked: true, size: 8 }).q;
    expect(packed.deviceCostPs(1)).toBeLessThan(split.deviceCostPs(1));
    expect(packed.driverCostPs(1, 1, true)).toBeLessThan(split.driverCostPs(1, 1, true));
    // batching amortizes: per-buffer cost falls with the batch size
    expect(split.deviceCostPs(32) / 32).toBeLessThan(split.deviceCostPs(1) / 4);
    expect(split.driverCostPs(1, 1, false)).toBeLessThan(split.driverCostPs(1, 1, true));
  });

  it('rejects impossible geometry', () => {
    expect(() => vq({ size: 100 })).toThrow(/power of two/);
    expect(() => vq({ size: 100, isPacked: true })).not.toThrow();
  });
});
