import { describe, expect, it } from 'vitest';
import { deriveStream } from '../../../src/core/random.js';
import { Simulator } from '../../../src/core/simulator.js';
import { ns, us } from '../../../src/core/time.js';
import { copyCostFn, ExitTally, type ActorEnv } from '../../../src/actors/host/env.js';
import { GuestVcpu, type GuestTask } from '../../../src/actors/host/guest-vcpu.js';
import { Kvm, type KvmCosts } from '../../../src/actors/host/kvm.js';
import { Counters } from '../../../src/metrics/counters.js';
import { HostCpu } from '../../../src/primitives/host-cpu.js';
import { Mutex } from '../../../src/primitives/mutex.js';
import { StageTracker } from '../../../src/primitives/stage-tracker.js';

const COSTS: KvmCosts = {
  exitLightPs: ns(600), exitKernelIoPs: ns(1200), exitUserPs: ns(3200), ioeventfdPs: ns(300), irqRoutePs: ns(300),
  postedIrqPs: ns(100), injectExitPs: ns(1500), eoiExitPs: ns(750), guestIrqPs: ns(500), hostIrqPs: ns(500),
  isApicv: true, isVtdPi: true, hasNohzTimerExits: true,
};

function setup(costs: Partial<KvmCosts> = {}) {
  const sim = new Simulator();
  const counters = new Counters();
  const env: ActorEnv = {
    sim, counters, exits: new ExitTally(), tracker: new StageTracker(sim),
    copyPs: copyCostFn(20, 10), countCopy: () => {}, syscallPs: ns(200),
  };
  const cpu = new HostCpu(sim, { ctxSwitchPs: ns(1500), slicePs: us(3000), wakeupGranularityPs: us(1000), counters, jitterCv: 0, stream: (n) => deriveStream(1, 0, n) });
  const bql = new Mutex('bql');
  const kvm = new Kvm(env, { ...COSTS, ...costs }, bql);
  const thread = cpu.addThread({ name: 'vcpu0', core: 0, idleMode: 'halt-poll', wakeupPs: us(5), pollPickupPs: ns(300), pollWindowPs: us(200) });
  const vcpu = new GuestVcpu(env, 'vcpu0', 0, thread, kvm);
  cpu.start(thread);
  return { sim, env, kvm, vcpu, bql, cpu };
}

const task = (log: string[], name: string, ps: number): GuestTask => ({
  isQueued: false,
  run(v) {
    v.exec(ps, () => {
      log.push(name);
      v.done();
    }, undefined);
  },
});

describe('guest vCPU', () => {
  it('runs interrupts, then softirq work, then applications; halts when idle (HLT + tickless timer exits)', () => {
    const { sim, env, kvm, vcpu } = setup();
    const log: string[] = [];
    const napi = task(log, 'napi', ns(1000));
    const v = kvm.vector('v', vcpu, 'msi', () => vcpu.scheduleSoftirq(napi));
    sim.at(us(10), () => vcpu.scheduleApp(task(log, 'long', us(5))), undefined);
    sim.at(us(11), () => {
      vcpu.scheduleApp(task(log, 'app', ns(1000)));
      kvm.deliverMsi(v);
    }, undefined);
    sim.run();
    // the interrupt waits for the running step, then its NAPI work goes before the app
    expect(log).toEqual(['long', 'napi', 'app']);
    const c = new Counters();
    env.exits.flushInto(c);
    expect(c.exits).toBe(0); // posted interrupt: no I/O exit
    expect(c.exitsByReason.get('hlt')).toBe(2); // at start and after the work
    expect(c.exitsByReason.get('timer')).toBe(2 + 1); // idle entry per halt, idle exit on the one wake
  });

  it('without APICv an interrupt to a running vCPU costs an external-interrupt exit and an EOI exit', () => {
    const { sim, env, kvm, vcpu } = setup({ isApicv: false });
    const log: string[] = [];
    const v = kvm.vector('v', vcpu, 'msi', () => log.push('isr'));
    vcpu.scheduleApp(task(log, 'long', us(5)));
    sim.at(us(1), () => kvm.deliverMsi(v), undefined); // arrives while the app step runs
    sim.run();
    expect(log).toEqual(['long', 'isr']); // the interrupt waits for the step boundary
    const c = new Counters();
    env.exits.flushInto(c);
    expect(c.exitsByReason.get('external-interrupt')).toBe(1);
    expect(c.exitsByReason.get('eoi')).toBe(1);
    expect(c.exits).toBe(2);
  });

  it('a heavy exit takes the BQL: a vCPU exit waits while another thread holds it', () => {
    const { sim, kvm, vcpu, bql, cpu } = setup();
    const main = cpu.addThread({ name: 'qemu-main', core: 1, idleMode: 'sleep', wakeupPs: 0 });
    let handledAt = -1;
    let isDone = false;
    main.onRun = () => {
      if (isDone) {
        main.idle();
        return;
      }
      isDone = true;
      bql.acquire(main, () => main.exec(us(20), () => {
        bql.release(main);
        main.idle();
      }, undefined), undefined);
    };
    cpu.start(main); // holds the BQL from 0 to 20 us
    vcpu.scheduleApp({
      isQueued: false,
      run: (v) => kvm.heavyExit(v, 'mmio', (vv, done) => {
        handledAt = sim.nowPs;
        vv.exec(ns(500), done, undefined);
      }, () => v.done(), undefined),
    });
    sim.run();
    // exit at 0..3.2 us, blocked on the BQL until 20 us, woken (5 us) and handled at 25 us
    expect(handledAt).toBe(us(25));
    expect(bql.contended).toBe(1);
  });

  it('interrupts raised from its own step end with delays are taken once each, in due order, never early', () => {
    const { sim, kvm, vcpu } = setup();
    const dueNs = [100, 250, 250, 400, 700, 900, 1300, 50]; // the last one is due before the others
    const taken: { i: number; atPs: number }[] = [];
    // a handler's work starts at workStartPs (the vCPU may run ahead of the clock)
    const vectors = dueNs.map((_, i) => kvm.vector(`v${i}`, vcpu, 'msi', () => taken.push({ i, atPs: vcpu.workStartPs })));
    let raisedAtPs = -1;
    vcpu.scheduleApp({
      isQueued: false,
      run: (v) => v.exec(ns(1000), () => {
        raisedAtPs = sim.nowPs;
        dueNs.forEach((d, i) => v.raiseIrqAfter(vectors[i]!, ns(d)));
        v.done();
      }, undefined),
    });
    sim.run();
    // seven wait in the vCPU's delayed queue at once, taken in
    // due order; the eighth, due before them, travels as an event of its own
    expect(taken.map((t) => t.i).filter((i) => i !== 7)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(taken.length).toBe(8);
    for (const t of taken) expect(t.atPs).toBeGreaterThanOrEqual(raisedAtPs + ns(dueNs[t.i]!));
    expect(vectors.map((x) => x.raised)).toEqual(dueNs.map(() => 1));
    expect(vectors.every((x) => !x.isPending)).toBe(true);
  });
});
