/**
 * The attributing stage tracker: counter increments go to the stage the next mark closes,
 * a counter restart (the measurement window) drops what came before, the thread running
 * at a hand-over made now is the stage's thread, and the rows are StageTracker's.
 */
import { describe, expect, it } from 'vitest';
import { AttributingStageTracker } from '../../src/metrics/stage-attribution.js';
import { StageTracker, type TrackedOp } from '../../src/primitives/stage-tracker.js';

function setUp() {
  const clock = { nowPs: 0 };
  const totals = new Float64Array(5); // exits, interrupts, kicks, copies, syscalls
  const threads = [{ name: 'vcpu' }, { name: 'worker' }];
  const cpu: { threads: typeof threads; running: { name: string } | null } = { threads, running: null };
  const tracker = new AttributingStageTracker(clock);
  tracker.attach({ read: (into) => into.set(totals), cpu });
  const plain = new StageTracker(clock);
  return { clock, totals, cpu, threads, tracker, plain };
}

describe('AttributingStageTracker', () => {
  it('gives each stage the events between the previous mark and its own, and the thread that ends it', () => {
    const { clock, totals, cpu, threads, tracker, plain } = setUp();
    const stages = ['submit', 'device', 'complete'].map((s, i) => [tracker.define(s, `a${i}`), plain.define(s, `a${i}`)] as const);
    for (let r = 0; r < 4; r++) {
      const op: TrackedOp = { stampPs: 0, slot: -1 };
      const op2: TrackedOp = { stampPs: 0, slot: -1 };
      tracker.begin(op);
      plain.begin(op2);
      if (r === 1) totals.fill(0); // the window opens: what came before is dropped
      totals[0]! += 1; // an exit while submitting
      clock.nowPs += 1000;
      cpu.running = threads[0]!;
      tracker.mark(op, stages[0]![0], 500);
      plain.mark(op2, stages[0]![1], 500);
      cpu.running = null;
      totals[1]! += 1; // the device's interrupt
      clock.nowPs += 5000;
      tracker.mark(op, stages[1]![0], 0);
      plain.mark(op2, stages[1]![1], 0);
      cpu.running = threads[1]!;
      totals[4]! += 2; // two syscalls completing, computed ahead: no thread
      tracker.markAt(op, stages[2]![0], 300, clock.nowPs + 400);
      plain.markAt(op2, stages[2]![1], 300, clock.nowPs + 400);
      clock.nowPs += 400;
      tracker.end(op, r > 0, 6400);
      plain.end(op2, r > 0, 6400);
    }
    const rows = tracker.rows(3);
    // the figures are the plain tracker's
    expect(rows.map(({ attribution: _, ...row }) => row)).toEqual(plain.rows(3));
    expect(rows.map((r) => r.stage)).toEqual(['submit', 'device', 'complete']);
    expect(rows.map((r) => r.attribution.counts)).toEqual([
      { exits: 3, interrupts: 0, kicks: 0, copies: 0, syscalls: 0 },
      { exits: 0, interrupts: 3, kicks: 0, copies: 0, syscalls: 0 },
      { exits: 0, interrupts: 0, kicks: 0, copies: 0, syscalls: 6 },
    ]);
    expect(rows.map((r) => r.attribution.thread)).toEqual(['vcpu', null, null]);
    expect(rows.map((r) => r.attribution.leaveOffsetNs)).toEqual([1, 6, 6.4]);
  });
});
