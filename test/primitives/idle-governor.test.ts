/**
 * Idle states: the menu-governor choice from recent idle periods, the exit latency it
 * costs the next work (counted beyond C1's), and the cold caches after C6.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { deriveStream } from '../../src/core/random.js';
import { ns, us } from '../../src/core/time.js';
import { Counters } from '../../src/metrics/counters.js';
import { HostCpu } from '../../src/primitives/host-cpu.js';
import { IdleGovernor, idleStates } from '../../src/primitives/idle-governor.js';

const TABLE = { c1ExitPs: us(2), c1eExitPs: us(10), c1eResidencyPs: us(20), c6ExitPs: us(133), c6ResidencyPs: us(600) };

describe('idle governor', () => {
  it('picks the deepest state whose target residency the recent idle periods reach', () => {
    const g = new IdleGovernor(idleStates('C6', TABLE));
    let t = 0;
    const idle = (period: number): number => {
      g.enter(t);
      t += period;
      return g.exit(t);
    };
    expect(idle(us(50))).toBe(0); // no history yet: C1
    expect(idle(us(50))).toBe(us(8)); // predicted 50 us: C1E, 10 - 2 us
    for (let i = 0; i < 8; i++) idle(us(1000));
    expect(idle(us(1000))).toBe(us(131)); // predicted 1 ms: C6
    expect(g.wasCold).toBe(true);
    for (let i = 0; i < 8; i++) idle(us(5));
    expect(idle(us(5))).toBe(0); // short idles again: C1
    expect(g.entries[0]! + g.entries[1]! + g.entries[2]!).toBe(20);
  });

  it('a limit of C1E never enters C6; C1 only costs nothing extra', () => {
    const g = new IdleGovernor(idleStates('C1E', TABLE));
    for (let i = 0, t = 0; i < 10; i++, t += us(2000)) {
      g.enter(t);
      g.exit(t + us(1000));
    }
    expect(g.entries[1]).toBe(9);
    expect(idleStates('C1', TABLE)).toHaveLength(1);
  });

  it('a thread woken on a core that idled long enough pays the deeper exit', () => {
    const sim = new Simulator();
    const cpu = new HostCpu(sim, {
      ctxSwitchPs: ns(1500), slicePs: us(3000), wakeupGranularityPs: us(1000), counters: new Counters(), jitterCv: 0,
      stream: (n) => deriveStream(1, 0, n), idleStates: idleStates('C1E', TABLE), coldCachePs: 0,
    });
    const t = cpu.addThread({ name: 'w', core: 0, idleMode: 'sleep', wakeupPs: us(3) });
    const done: number[] = [];
    let work = 0;
    t.onRun = () => {
      if (work === 0) return t.idle();
      work--;
      t.exec(us(1), () => {
        done.push(sim.nowPs);
        t.onRun();
      }, undefined);
    };
    cpu.start(t);
    for (const at of [100, 200, 300]) sim.at(us(at), () => { work = 1; t.wake(); }, undefined);
    sim.run();
    // first idle: no history (C1); then ~100 us idles predict C1E: +8 us
    expect(done).toEqual([us(104), us(212), us(312)]);
  });
});
