/**
 * Station: FIFO service on c servers, exact waits and time averages on hand-checkable
 * schedules, bounded queues (drop and block), blocking after service, statistics windows,
 * and Little's law as an exact identity on a run that starts and ends empty.
 */
import { describe, expect, it } from 'vitest';
import { Constant, Exponential, Uniform } from '../../src/core/distributions.js';
import { deriveStream } from '../../src/core/random.js';
import { Simulator } from '../../src/core/simulator.js';
import { us } from '../../src/core/time.js';
import { Station } from '../../src/primitives/station.js';

const rng = (): (() => number) => deriveStream(1, 0, 'test/station');

function constantStation(sim: Simulator, servers: number, servicePs: number, extra: Partial<{ queueCapacity: number; whenFull: 'drop' | 'block' }> = {}): Station<string> {
  return new Station<string>(sim, { name: 's', servers, service: new Constant(servicePs), rng: rng(), ...extra });
}

/** Offers jobs at given times; returns what arrive() answered, by job. */
function offer<T>(sim: Simulator, station: Station<T>, jobs: [number, T][]): Map<T, boolean> {
  const accepted = new Map<T, boolean>();
  for (const [t, job] of jobs) sim.at(t, (j: T) => accepted.set(j, station.arrive(j)), job);
  return accepted;
}

describe('Station', () => {
  it('serves one server first-come first-served with exact waits and time averages', () => {
    const sim = new Simulator();
    const st = constantStation(sim, 1, us(3));
    const departures: [string, number][] = [];
    st.onDeparture = (job) => {
      departures.push([job, sim.nowPs]);
      return true;
    };
    offer(sim, st, [[0, 'a'], [us(1), 'b'], [us(2), 'c']]);
    sim.run();
    expect(departures).toEqual([['a', us(3)], ['b', us(6)], ['c', us(9)]]);
    const s = st.stats();
    // Waits 0, 2, 4 us; sojourns 3, 5, 7 us over a 9 us window.
    expect(s.windowPs).toBe(us(9));
    expect(s.served).toBe(3);
    expect(s.departures).toBe(3);
    expect(s.waitMeanPs).toBe(us(2));
    expect(s.serviceMeanPs).toBe(us(3));
    expect(s.waitProbability).toBeCloseTo(2 / 3, 12);
    expect(s.meanInSystem).toBeCloseTo(15 / 9, 12);
    expect(s.sojournMeanPs).toBe(us(5));
    expect(s.utilisation).toBe(1);
    expect(st.population).toBe(0);
  });

  it('uses all c servers before queueing, and queues in arrival order', () => {
    const sim = new Simulator();
    const st = constantStation(sim, 2, us(5));
    const departures: [string, number][] = [];
    st.onDeparture = (job) => {
      departures.push([job, sim.nowPs]);
      return true;
    };
    offer(sim, st, [[0, 'a'], [0, 'b'], [0, 'c'], [0, 'd'], [us(1), 'e']]);
    sim.run();
    expect(departures.map((d) => d[1])).toEqual([us(5), us(5), us(10), us(10), us(15)]);
    expect(departures.slice(2).map((d) => d[0])).toEqual(['c', 'd', 'e']);
    const s = st.stats();
    expect(s.waitMeanPs).toBe((0 + 0 + us(5) + us(5) + us(9)) / 5);
    expect(s.waitProbability).toBeCloseTo(3 / 5, 12);
    // Busy server-time 25 us over 2 servers x 15 us.
    expect(s.utilisation).toBeCloseTo(25 / 30, 12);
  });

  it('drops and counts arrivals beyond a bounded queue', () => {
    const sim = new Simulator();
    const st = constantStation(sim, 1, us(2), { queueCapacity: 1, whenFull: 'drop' });
    const dropped: string[] = [];
    st.onDrop = (job) => dropped.push(job);
    // f arrives at 4 us, the instant b departs; its arrival was scheduled first, so it runs
    // first (FIFO among equal times) and finds the place still taken by e.
    const accepted = offer(sim, st, [[0, 'a'], [0, 'b'], [0, 'c'], [us(1), 'd'], [us(2.5), 'e'], [us(4), 'f']]);
    sim.run();
    // a in service, b waits, c and d find the one place taken; at 2 us b starts and e waits.
    expect([...accepted.entries()]).toEqual([['a', true], ['b', true], ['c', false], ['d', false], ['e', true], ['f', false]]);
    expect(dropped).toEqual(['c', 'd', 'f']);
    const s = st.stats();
    expect(s.drops).toBe(3);
    expect(s.arrivals).toBe(3);
    expect(s.served).toBe(3);
  });

  it('queue capacity 0 is a loss system: an arrival is accepted only by an idle server', () => {
    const sim = new Simulator();
    const st = constantStation(sim, 2, us(4), { queueCapacity: 0 });
    const accepted = offer(sim, st, [[0, 'a'], [us(1), 'b'], [us(2), 'c'], [us(4.5), 'd']]);
    sim.run();
    expect([...accepted.values()]).toEqual([true, true, false, true]);
    expect(st.stats().waitProbability).toBe(0);
  });

  it("refuses arrivals in 'block' mode and calls onSpace when a place frees", () => {
    const sim = new Simulator();
    const st = constantStation(sim, 1, us(2), { queueCapacity: 1, whenFull: 'block' });
    const spaceAt: number[] = [];
    st.onSpace = () => spaceAt.push(sim.nowPs);
    const accepted = offer(sim, st, [[0, 'a'], [0, 'b'], [0, 'c']]);
    sim.run({ untilPs: us(1) });
    expect(accepted.get('c')).toBe(false);
    expect(st.stats().drops).toBe(0);
    sim.run();
    expect(spaceAt).toEqual([us(2)]); // once, when b moved into service
  });

  it('holds a job after service while the downstream refuses it (blocking after service)', () => {
    const sim = new Simulator();
    const st = constantStation(sim, 1, us(1));
    let isDownstreamOpen = false;
    const left: [string, number, number][] = [];
    st.onDeparture = (job, readyPs) => {
      if (!isDownstreamOpen) return false;
      left.push([job, readyPs, sim.nowPs]);
      return true;
    };
    offer(sim, st, [[0, 'a'], [0, 'b']]);
    sim.at(us(5), () => {
      isDownstreamOpen = true;
      st.retryBlocked();
    }, undefined);
    sim.run();
    // a finished at 1 us but held the server until 5 us; b then ran 5..6 us.
    expect(left).toEqual([['a', us(1), us(5)], ['b', us(6), us(6)]]);
    const s = st.stats();
    expect(s.utilisation).toBe(1); // blocked time counts as busy
    expect(s.waitMeanPs).toBe(us(5) / 2);
    // Sojourns at this station: a 0..5 us (1 us of it blocked), b 0..6 us.
    expect(s.sojournMeanPs).toBe(us(5.5));
    expect(s.meanInSystem).toBeCloseTo((5 + 6) / 6, 12);
  });

  it('connectTo(): a drop downstream frees the upstream server; a block holds it until space frees', () => {
    for (const whenFull of ['drop', 'block'] as const) {
      const sim = new Simulator();
      const up = constantStation(sim, 1, us(1));
      const down = constantStation(sim, 1, us(3), { queueCapacity: 0, whenFull });
      up.connectTo(down);
      const done: [string, number][] = [];
      const dropped: string[] = [];
      down.onDeparture = (job) => {
        done.push([job, sim.nowPs]);
        return true;
      };
      down.onDrop = (job) => dropped.push(job);
      offer(sim, up, [[0, 'a'], [0, 'b'], [0, 'c']]);
      sim.run();
      if (whenFull === 'drop') {
        // a: up 0-1, down 1-4. b: up 1-2, dropped at 2 (down busy). c: up 2-3, dropped.
        expect(done).toEqual([['a', us(4)]]);
        expect(dropped).toEqual(['b', 'c']);
        expect(up.stats().departures).toBe(3);
      } else {
        // b finishes at 2 but holds the upstream server until down frees at 4; c then
        // runs 4-5 and waits for down (busy 4-7) until 7.
        expect(done).toEqual([['a', us(4)], ['b', us(7)], ['c', us(10)]]);
        expect(dropped).toEqual([]);
        const d = down.stats();
        // b's wait at down counts from when it was ready (2 us): 2 us; c's from 5: 2 us.
        expect(d.waitMeanPs).toBe((0 + us(2) + us(2)) / 3);
      }
    }
  });

  it('resetStats() starts a new window', () => {
    const sim = new Simulator();
    const st = constantStation(sim, 1, us(1));
    offer(sim, st, [[0, 'a'], [us(10), 'b']]);
    sim.run({ untilPs: us(5) });
    st.resetStats();
    sim.run({ untilPs: us(15) });
    const s = st.stats();
    expect(s.windowPs).toBe(us(10));
    expect(s.arrivals).toBe(1);
    expect(s.served).toBe(1);
    expect(s.utilisation).toBeCloseTo(0.1, 12);
  });

  it('counts in a new window only the part after the reset of jobs present at it (queued, in service, blocked)', () => {
    // a in service 0-4 us, b queued from 1 us; reset at 2 us. In the window: in system
    // 2 jobs on [2, 4), 1 on [4, 8); busy [2, 8).
    const sim = new Simulator();
    const st = constantStation(sim, 1, us(4));
    offer(sim, st, [[0, 'a'], [us(1), 'b']]);
    sim.run({ untilPs: us(2) });
    st.resetStats();
    sim.run({ untilPs: us(5) });
    let s = st.stats(); // mid-window, b in service since 4 us
    expect(s.windowPs).toBe(us(3));
    expect(s.meanInSystem).toBeCloseTo((2 * 2 + 1) / 3, 12);
    expect(s.utilisation).toBeCloseTo(1, 12);
    sim.run({ untilPs: us(10) });
    s = st.stats();
    expect(s.meanInSystem).toBeCloseTo((2 * 2 + 4) / 8, 12);
    expect(s.utilisation).toBeCloseTo(6 / 8, 12);
    expect(s.departures).toBe(2);
    expect(s.sojournMeanPs).toBe((us(4) + us(7)) / 2); // whole sojourns of the jobs that left

    // Blocked at the reset: a done at 1 us, held until 5 us; b queued from 0.5 us, served 5-6 us.
    const sim2 = new Simulator();
    const st2 = constantStation(sim2, 1, us(1));
    let isOpen = false;
    st2.onDeparture = () => isOpen;
    offer(sim2, st2, [[0, 'a'], [us(0.5), 'b']]);
    sim2.at(us(5), () => {
      isOpen = true;
      st2.retryBlocked();
    }, undefined);
    sim2.run({ untilPs: us(2) });
    st2.resetStats();
    sim2.run({ untilPs: us(3) });
    expect(st2.stats().utilisation).toBe(1); // blocked time is busy time
    expect(st2.stats().meanInSystem).toBeCloseTo(2, 12);
    sim2.run();
    const s2 = st2.stats();
    expect(s2.windowPs).toBe(us(4));
    expect(s2.utilisation).toBeCloseTo(1, 12);
    expect(s2.meanInSystem).toBeCloseTo((3 * 2 + 1) / 4, 12);
  });

  it("satisfies Little's law exactly on a run that starts and ends empty", () => {
    // Sum of sojourns equals the area under the number-in-system curve, so
    // L = meanInSystem equals lambda * W = (served / window) * (wait + service) exactly
    // (up to float rounding) when the window holds every job from arrival to departure.
    for (const servers of [1, 3]) {
      const sim = new Simulator();
      const st = new Station<number>(sim, {
        name: 'l',
        servers,
        service: new Uniform(us(0.5), us(3)),
        rng: deriveStream(4, 0, `test/little/${servers}`),
      });
      const gaps = deriveStream(4, 0, `test/little/gaps/${servers}`);
      const gap = new Exponential(us(1));
      let t = 0;
      for (let i = 0; i < 20_000; i++) {
        t += Math.round(gap.sample(gaps));
        sim.at(t, (j: number) => st.arrive(j), i);
      }
      sim.run();
      expect(st.population).toBe(0);
      const s = st.stats();
      const lambdaW = (s.served / s.windowPs) * (s.waitMeanPs + s.serviceMeanPs);
      expect(Math.abs(s.meanInSystem - lambdaW) / lambdaW).toBeLessThan(1e-9);
      expect(s.sojournMeanPs).toBeCloseTo(s.waitMeanPs + s.serviceMeanPs, 6);
    }
  });

  it('rejects a server count that is not a positive integer', () => {
    const sim = new Simulator();
    for (const servers of [0, -1, 1.5, NaN]) {
      expect(() => new Station(sim, { name: 'x', servers, service: new Constant(1), rng: rng() })).toThrow(RangeError);
    }
  });
});
