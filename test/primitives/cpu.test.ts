import { describe, expect, it } from 'vitest';
import { deriveStream } from '../../src/core/random.js';
import { Simulator } from '../../src/core/simulator.js';
import { ns, us } from '../../src/core/time.js';
import { Counters } from '../../src/metrics/counters.js';
import { HostCpu, type HostThread, type ThreadOptions } from '../../src/primitives/host-cpu.js';
import { Mutex } from '../../src/primitives/mutex.js';

function makeCpu(extra: Partial<{ slicePs: number; ctxSwitchPs: number; granularityPs: number }> = {}) {
  const sim = new Simulator();
  const counters = new Counters();
  const cpu = new HostCpu(sim, {
    ctxSwitchPs: extra.ctxSwitchPs ?? ns(1500),
    slicePs: extra.slicePs ?? us(3000),
    wakeupGranularityPs: extra.granularityPs ?? us(1000),
    counters,
    jitterCv: 0,
    stream: (name) => deriveStream(1, 0, name),
  });
  return { sim, cpu, counters };
}

/** A thread that runs `work` queued jobs of jobPs each, then idles. */
function worker(cpu: HostCpu, opts: ThreadOptions, jobPs: number) {
  const t = cpu.addThread(opts);
  const state = { queued: 0, done: 0, doneAt: [] as number[], t };
  const step = (): void => {
    state.done++;
    state.doneAt.push(cpu.sim.nowPs);
    loop();
  };
  const loop = (): void => {
    if (state.queued > 0) {
      state.queued--;
      t.exec(jobPs, step, undefined);
    } else {
      t.idle();
    }
  };
  t.onRun = loop;
  cpu.start(t);
  const give = (n: number): void => {
    state.queued += n;
    t.wake();
  };
  return { state, give, thread: t as HostThread };
}

describe('host CPU', () => {
  it('a sleeping thread pays its wake-up latency, then runs its work', () => {
    const { sim, cpu, counters } = makeCpu();
    const w = worker(cpu, { name: 'w', core: 0, idleMode: 'sleep', wakeupPs: us(4) }, us(1));
    sim.at(us(10), () => w.give(1), undefined);
    sim.run();
    expect(w.state.doneAt).toEqual([us(15)]);
    expect(counters.wakeups).toBe(1);
    const row = cpu.rows()[0]!;
    expect(row.busyFraction).toBeCloseTo(1 / 15, 9);
    expect(row.pollFraction).toBe(0);
  });

  it('a wake that arrives while the thread runs is not lost', () => {
    const { sim, cpu } = makeCpu();
    const w = worker(cpu, { name: 'w', core: 0, idleMode: 'sleep', wakeupPs: us(4) }, us(2));
    sim.at(us(0), () => w.give(1), undefined);
    sim.at(us(5), () => w.give(1), undefined); // arrives while running the first job
    sim.run();
    // second job runs right after the first (no second wake-up latency)
    expect(w.state.doneAt).toEqual([us(6), us(8)]);
    expect(w.thread.wakeupsFromSleep).toBe(1);
  });

  it('a polling thread burns its core and notices work within its pickup time', () => {
    const { sim, cpu, counters } = makeCpu();
    const w = worker(cpu, { name: 'pmd', core: 0, idleMode: 'poll', wakeupPs: us(4), pollPickupPs: ns(50) }, us(1));
    sim.at(us(100), () => w.give(1), undefined);
    sim.at(us(200), () => undefined, undefined);
    sim.run();
    expect(w.state.doneAt).toEqual([us(100) + ns(50) + us(1)]);
    expect(counters.wakeups).toBe(0);
    const row = cpu.rows()[0]!;
    expect(row.busyFraction).toBeCloseTo(1, 9);
    expect(row.pollFraction).toBeCloseTo((us(199) ) / us(200), 6);
  });

  it('work computed ahead counts in the window it falls in: none past now, the rest after a reset', () => {
    const { sim, cpu } = makeCpu();
    const t = cpu.addThread({ name: 'pmd', core: 0, idleMode: 'poll', wakeupPs: us(4), pollPickupPs: ns(50) });
    let batches = 0;
    t.onRun = () => {
      if (batches++ === 0) t.execAhead(us(10)); // a burst handled ahead: [0, 10 us]
      t.idle();
    };
    cpu.start(t);
    sim.at(us(4), () => cpu.resetStats(), undefined); // the window opens inside the burst
    sim.at(us(6), () => undefined, undefined); // and is read inside it
    sim.run();
    const u = t.usage();
    expect(u.windowPs).toBe(us(2));
    expect(u.busyPs).toBe(us(2)); // not the 6 us still ahead, nor the 4 us before the reset
    expect(u.pollPs).toBe(0);
    expect(cpu.rows()[0]!.busyFraction).toBeCloseTo(1, 9);
  });

  it('host ticks stretch the steps they land in, by the handler and what onHostTick adds; none while the core idles', () => {
    const { sim, cpu } = makeCpu();
    const w = worker(cpu, { name: 'w', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(10_000)); // 10 ms steps
    w.thread.onHostTick = () => us(1); // (a vCPU's exit)
    cpu.startTicks(us(4_000), us(2), () => () => 0.25); // 250 Hz, first tick at 1 ms
    sim.at(0, () => w.give(1), undefined);
    // idle from ~10 ms to 30 ms: the ticks at 13, 17, 21, 25, 29 ms are skipped (NO_HZ)
    sim.at(us(30_000), () => w.give(1), undefined);
    sim.run();
    // first step [0, 10 ms]: ticks at 1, 5, 9 ms, 3 us each
    expect(w.state.doneAt[0]).toBe(us(10_000) + 3 * us(3));
    // second step from 30 ms: ticks at 33, 37 ms
    expect(w.state.doneAt[1]).toBe(us(30_000) + us(10_000) + 2 * us(3));
    expect(cpu.ticks).toBe(5);
  });

  it("a guest tick lands only in the vCPU's steps; a step stretched onto the next tick takes it too", () => {
    const { sim, cpu } = makeCpu();
    const w = worker(cpu, { name: 'vcpu', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(3_999));
    let guestTicks = 0;
    w.thread.startGuestTick(us(1_000), us(500), us(3), () => guestTicks++);
    sim.at(0, () => w.give(1), undefined);
    sim.run();
    // [0, 3.999 ms] holds the ticks at 0.5, 1.5, 2.5, 3.5 ms; stretched to 4.011 ms it stays short of 4.5
    expect(guestTicks).toBe(4);
    expect(w.state.doneAt[0]).toBe(us(3_999) + 4 * us(3));
    const { sim: sim2, cpu: cpu2 } = makeCpu();
    const w2 = worker(cpu2, { name: 'vcpu', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(4_495));
    let ticks2 = 0;
    w2.thread.startGuestTick(us(1_000), us(500), us(3), () => ticks2++);
    sim2.at(0, () => w2.give(1), undefined);
    sim2.run();
    // 0.5..3.5 ms inside (4 ticks, +12 us): 4.507 ms passes the tick at 4.5 ms, which is taken too
    expect(ticks2).toBe(5);
    expect(w2.state.doneAt[0]).toBe(us(4_495) + 5 * us(3));
  });

  it('halt polling: cheap wake inside the window, full wake-up after it', () => {
    const { sim, cpu } = makeCpu();
    const opts: ThreadOptions = { name: 'vcpu', core: 0, idleMode: 'halt-poll', wakeupPs: us(5), pollPickupPs: ns(600), pollWindowPs: us(200) };
    const w = worker(cpu, opts, us(1));
    sim.at(us(100), () => w.give(1), undefined); // 100 us idle: inside the window
    sim.at(us(1000), () => w.give(1), undefined); // ~900 us idle: beyond it
    sim.run();
    expect(w.state.doneAt).toEqual([us(100) + ns(600) + us(1), us(1000) + us(5) + us(1)]);
    const u = w.thread.usage();
    // polled 100 us + pickup, then a full 200 us window
    expect(u.pollPs).toBe(us(100) + ns(600) + us(200));
  });

  it('threads sharing a core take turns and pay context switches', () => {
    const { sim, cpu, counters } = makeCpu({ slicePs: us(10) });
    const a = worker(cpu, { name: 'a', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(4));
    const b = worker(cpu, { name: 'b', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(4));
    a.give(5);
    b.give(5);
    sim.run();
    expect(a.state.done).toBe(5);
    expect(b.state.done).toBe(5);
    // 40 us of work plus the switches between them on one core
    const end = Math.max(a.state.doneAt.at(-1)!, b.state.doneAt.at(-1)!);
    const paidSwitches = (end - us(40)) / ns(1500);
    expect(Number.isInteger(paidSwitches)).toBe(true);
    expect(paidSwitches).toBeGreaterThanOrEqual(2);
    // every paid switch is counted, plus the two wake-ups from sleep
    expect(counters.contextSwitches).toBe(paidSwitches + 2);
    // b had to wait for a's slice (3 jobs = 12 us >= 10 us slice) before its first job
    expect(b.state.doneAt[0]).toBeGreaterThanOrEqual(us(12));
  });

  it('a PMD gives a shared core away only at the end of its slice', () => {
    const { sim, cpu } = makeCpu({ slicePs: us(50) });
    const pmd = worker(cpu, { name: 'pmd', core: 0, idleMode: 'poll', wakeupPs: 0, pollPickupPs: ns(50) }, us(1));
    const other = worker(cpu, { name: 'other', core: 0, idleMode: 'sleep', wakeupPs: us(4) }, us(1));
    void pmd;
    sim.at(us(10), () => other.give(1), undefined);
    sim.run({ untilPs: us(200) });
    // waits until the PMD's slice (started at 0) ends at 50 us, plus a switch
    expect(other.state.doneAt).toEqual([us(50) + ns(1500) + us(1)]);
  });

  it('a woken thread preempts a CPU hog that ran past the wake-up granularity', () => {
    const { sim, cpu } = makeCpu({ slicePs: us(3000), granularityPs: us(100) });
    const hog = worker(cpu, { name: 'hog', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(1000));
    const io = worker(cpu, { name: 'io', core: 0, idleMode: 'sleep', wakeupPs: us(4) }, us(1));
    hog.give(1);
    sim.at(us(500), () => io.give(1), undefined);
    sim.run();
    expect(io.state.doneAt).toEqual([us(504) + ns(1500) + us(1)]);
    // the hog's step resumes with its remaining time after another switch
    expect(hog.state.doneAt).toEqual([us(1000) + 2 * ns(1500) + us(1)]);
  });

  it('a preempted thread goes first in line, ahead of threads already waiting', () => {
    const { sim, cpu } = makeCpu({ slicePs: us(3000), granularityPs: us(500) });
    const hog = worker(cpu, { name: 'hog', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(1000));
    const early = worker(cpu, { name: 'early', core: 0, idleMode: 'sleep', wakeupPs: us(4) }, us(1));
    const late = worker(cpu, { name: 'late', core: 0, idleMode: 'sleep', wakeupPs: us(4) }, us(1));
    hog.give(1);
    sim.at(us(100), () => early.give(1), undefined); // the hog has run < granularity: early waits
    sim.at(us(600), () => late.give(1), undefined); // now it has run longer: late preempts it
    sim.run();
    const switchPs = ns(1500);
    // late: woken at 600 us (4 us), a switch, its job
    const lateAt = us(604) + switchPs + us(1);
    expect(late.state.doneAt).toEqual([lateAt]);
    // the hog, preempted at 604 us with 396 us left, resumes next, ahead of early
    expect(hog.state.doneAt).toEqual([lateAt + switchPs + us(396)]);
    // early, ready since 104 us, runs last
    expect(early.state.doneAt).toEqual([lateAt + switchPs + us(396) + switchPs + us(1)]);
  });

  it('a step started while its thread was alone on the core is not preempted by a thread that joins later', () => {
    // a thread alone on its core posts its steps (no cancel handle); one added to the
    // core afterwards waits for the step's end, even past the slice, instead of cancelling it
    const { sim, cpu } = makeCpu({ slicePs: us(200), granularityPs: us(100) });
    const hog = worker(cpu, { name: 'hog', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(1000));
    hog.give(1);
    let io: ReturnType<typeof worker> | null = null;
    sim.at(us(400), () => {
      io = worker(cpu, { name: 'io', core: 0, idleMode: 'sleep', wakeupPs: us(4) }, us(1));
    }, undefined);
    sim.at(us(500), () => io!.give(1), undefined);
    sim.run();
    expect(hog.state.doneAt).toEqual([us(1000)]); // once, at its own end
    expect(io!.state.doneAt).toEqual([us(1000) + ns(1500) + us(1)]); // then a switch, then its job
  });

  it('a mutex hands off FIFO and the waiter blocks off its core', () => {
    const { sim, cpu } = makeCpu();
    const lock = new Mutex('bql');
    const log: string[] = [];
    const mk = (name: string, core: number) => {
      const t = cpu.addThread({ name, core, idleMode: 'sleep', wakeupPs: us(2) });
      // the loop's side effects belong in steps: the wake-up latency elapses before the first
      t.onRun = () =>
        t.exec(0, () => {
          lock.acquire(t, () => {
            log.push(`${name} got ${sim.nowPs / 1e6}`);
            t.exec(us(10), () => {
              lock.release(t);
              t.idle();
            }, undefined);
          }, undefined);
        }, undefined);
      return t;
    };
    const a = mk('a', 0);
    const b = mk('b', 1);
    sim.at(0, () => a.wake(), undefined);
    sim.at(us(1), () => b.wake(), undefined);
    sim.run();
    // a gets it at 2 us; b tries at 3 us, blocks, is handed it at 12 us, runs after 2 us wake-up
    expect(log).toEqual(['a got 2', 'b got 14']);
    expect(lock.contended).toBe(1);
  });
});

describe('interrupt context (a NIC IRQ and its softirq on the core it is affine to)', () => {
  const irqOpts = (name: string): ThreadOptions => ({ name, core: 0, idleMode: 'sleep', wakeupPs: us(1), isIrq: true });

  it('takes the core from a running step at once; the step resumes with its remainder, no context switch', () => {
    const { sim, cpu, counters } = makeCpu();
    const hog = worker(cpu, { name: 'hog', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(100));
    const irq = worker(cpu, irqOpts('irq'), us(10));
    hog.give(1);
    sim.at(us(30), () => irq.give(1), undefined);
    sim.run();
    expect(irq.state.doneAt).toEqual([us(40)]); // the core was busy: no idle exit
    expect(hog.state.doneAt).toEqual([us(110)]); // 30 + 10 of interrupt + the 70 left
    expect(counters.contextSwitches).toBe(1); // the hog's own wake-up only
    expect(hog.thread.interruptions).toBe(1);
  });

  it('the interrupted thread pays what onInterrupt returns (a vCPU in guest mode: an external-interrupt exit)', () => {
    const { sim, cpu } = makeCpu();
    const hog = worker(cpu, { name: 'vcpu', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(100));
    hog.thread.onInterrupt = () => ns(600);
    const irq = worker(cpu, irqOpts('irq'), us(10));
    hog.give(1);
    sim.at(us(30), () => irq.give(1), undefined);
    sim.run();
    expect(hog.state.doneAt).toEqual([us(110) + ns(600)]);
  });

  it('on an idle core it pays the idle exit first', () => {
    const { sim, cpu } = makeCpu();
    worker(cpu, { name: 'other', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(1));
    const irq = worker(cpu, irqOpts('irq'), us(10));
    sim.at(us(10), () => irq.give(1), undefined);
    sim.run();
    expect(irq.state.doneAt).toEqual([us(21)]);
  });

  it('pauses a polling thread, which polls on afterwards and picks up work that came meanwhile', () => {
    const { sim, cpu } = makeCpu();
    const opts: ThreadOptions = { name: 'vcpu', core: 0, idleMode: 'halt-poll', wakeupPs: us(5), pollPickupPs: ns(600), pollWindowPs: us(200) };
    const vcpu = worker(cpu, opts, us(1));
    const irq = worker(cpu, irqOpts('irq'), us(10));
    sim.at(us(50), () => irq.give(1), undefined);
    sim.at(us(55), () => vcpu.give(1), undefined); // while the interrupt work runs
    sim.run();
    expect(irq.state.doneAt).toEqual([us(60)]);
    expect(vcpu.state.doneAt).toEqual([us(60) + ns(600) + us(1)]); // no 5 us wake-up: it was polling
    expect(vcpu.thread.wakeupsFromSleep).toBe(0);
  });

  it('interrupt work on one core runs one at a time, in arrival order', () => {
    const { sim, cpu } = makeCpu();
    const hog = worker(cpu, { name: 'hog', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(100));
    const a = worker(cpu, irqOpts('a'), us(10));
    const b = worker(cpu, irqOpts('b'), us(10));
    hog.give(1);
    sim.at(us(10), () => a.give(1), undefined);
    sim.at(us(15), () => b.give(1), undefined);
    sim.run();
    expect(a.state.doneAt).toEqual([us(20)]);
    expect(b.state.doneAt).toEqual([us(30)]);
    expect(hog.state.doneAt).toEqual([us(120)]);
  });

  it('deferToThread: the rest waits for the core like any thread (ksoftirqd), and the next interrupt is irq context again', () => {
    const { sim, cpu } = makeCpu({ granularityPs: us(10_000) });
    const hog = worker(cpu, { name: 'hog', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(1000));
    const t = cpu.addThread(irqOpts('softirq'));
    const done: number[] = [];
    let jobs = 0;
    const loop = (): void => {
      if (jobs === 0) {
        t.idle();
        return;
      }
      jobs--;
      t.exec(us(10), () => {
        done.push(sim.nowPs);
        if (jobs > 0 && t.isIrq) t.deferToThread(); // "10 restarts": the rest to ksoftirqd
        else loop();
      }, undefined);
    };
    t.onRun = loop;
    cpu.start(t);
    hog.give(1);
    sim.at(us(100), () => {
      jobs = 2;
      t.wake();
    }, undefined);
    sim.at(us(2000), () => {
      jobs = 1;
      t.wake();
    }, undefined);
    sim.run();
    // first job in irq context at 100-110; the hog gets its core back (900 us left, done at
    // 1010); the deferred job waits for it, then a switch; the next interrupt finds the core
    // idle (its idle exit, 1 us) and runs in irq context again
    expect(hog.state.doneAt).toEqual([us(1010)]);
    expect(done).toEqual([us(110), us(1010) + ns(1500) + us(10), us(2011)]);
    expect(t.isIrq).toBe(true);
  });
});

describe('CFS wake-up preemption and placement', () => {
  it('a thread that mostly sleeps preempts a CPU hog at once, even right after the hog got the core back', () => {
    const { sim, cpu } = makeCpu({ granularityPs: us(1000) });
    const hog = worker(cpu, { name: 'hog', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(10_000));
    const io = worker(cpu, { name: 'io', core: 0, idleMode: 'sleep', wakeupPs: us(4) }, us(1));
    hog.give(1);
    sim.at(us(2000), () => io.give(1), undefined);
    sim.at(us(2100), () => io.give(1), undefined); // the hog has had the core back for ~93 us
    sim.run();
    const sw = ns(1500);
    // its virtual runtime is ~2 ms ahead of the sleeper's: preempted both times
    expect(io.state.doneAt).toEqual([us(2004) + sw + us(1), us(2104) + sw + us(1)]);
  });

  it('a migratable thread woken while its core is busy moves to an idle core', () => {
    const { sim, cpu } = makeCpu({ granularityPs: us(100_000) });
    cpu.ensureCores(2);
    const hog = worker(cpu, { name: 'hog', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(1000));
    const io = worker(cpu, { name: 'io', core: 0, idleMode: 'sleep', wakeupPs: us(4), isMigratable: true }, us(1));
    hog.give(1);
    sim.at(us(100), () => io.give(1), undefined);
    sim.run();
    expect(io.state.doneAt).toEqual([us(105)]);
    expect(io.thread.migrations).toBe(1);
    expect(cpu.rows().find((r) => r.thread === 'io')!.core).toBe(1);
    const cores = cpu.coreBusyFractions();
    expect(cores[0]! + cores[1]!).toBeCloseTo((us(1000) + us(1)) / sim.nowPs, 9);
  });
});

describe('SMT: two hardware threads share a core', () => {
  it('a step runs host.smt_slowdown times longer while its sibling works or polls', () => {
    const sim = new Simulator();
    const cpu = new HostCpu(sim, {
      ctxSwitchPs: ns(1500), slicePs: us(3000), wakeupGranularityPs: us(1000), counters: new Counters(), jitterCv: 0,
      stream: (n) => deriveStream(1, 0, n), smtCores: 2, smtSlowdown: 1.6,
    });
    cpu.ensureCores(4); // logical 0,1 and their siblings 2,3
    const a = worker(cpu, { name: 'a', core: 0, idleMode: 'sleep', wakeupPs: 0 }, us(10));
    const b = worker(cpu, { name: 'b', core: 2, idleMode: 'sleep', wakeupPs: 0 }, us(10)); // a's sibling
    const c = worker(cpu, { name: 'c', core: 1, idleMode: 'sleep', wakeupPs: 0 }, us(10)); // another core
    const pmd = worker(cpu, { name: 'pmd', core: 3, idleMode: 'poll', wakeupPs: 0, pollPickupPs: 0 }, us(1)); // c's sibling polls
    void pmd;
    a.give(1);
    sim.at(us(20), () => b.give(1), undefined); // a is idle by then: b alone on the core
    sim.at(us(40), () => { a.give(1); b.give(1); }, undefined); // both at once
    sim.at(us(100), () => c.give(1), undefined);
    sim.run({ untilPs: us(300) });
    expect(a.state.doneAt).toEqual([us(10), us(40) + us(10)]); // a started first, b was idle
    expect(b.state.doneAt).toEqual([us(30), us(40) + us(16)]); // b started while a worked
    expect(c.state.doneAt).toEqual([us(116)]); // its sibling polls
  });
});
