/**
 * QEMU's main loop dispatches as aio_dispatch does: the bottom halves scheduled before an
 * iteration, newest first, then the fd handlers the poll found ready, each once; work made
 * ready during an iteration waits for the next one. So a bottom half that keeps
 * rescheduling itself (a full TX burst) shares the loop with the other queues' handlers.
 */
import { describe, expect, it } from 'vitest';
import { deriveStream } from '../../../src/core/random.js';
import { Simulator } from '../../../src/core/simulator.js';
import { ns, us } from '../../../src/core/time.js';
import { QemuMainLoop, type MainLoopHandler } from '../../../src/actors/host/qemu.js';
import { Counters } from '../../../src/metrics/counters.js';
import { HostCpu } from '../../../src/primitives/host-cpu.js';
import { Mutex } from '../../../src/primitives/mutex.js';

function setup() {
  const sim = new Simulator();
  const counters = new Counters();
  const cpu = new HostCpu(sim, { ctxSwitchPs: ns(1500), slicePs: us(3000), wakeupGranularityPs: us(1000), counters, jitterCv: 0, stream: (n) => deriveStream(1, 0, n) });
  const thread = cpu.addThread({ name: 'qemu-main', core: 0, idleMode: 'sleep', wakeupPs: us(3) });
  const loop = new QemuMainLoop('qemu-main', thread, new Mutex('bql'), us(1));
  cpu.start(thread);
  return { sim, loop };
}

/** A handler that logs its runs (with the loop's iteration) and runs `ps` of work. */
function handler(loop: QemuMainLoop, log: string[], name: string, isBh: boolean, ps: number, again?: () => boolean): MainLoopHandler {
  const h: MainLoopHandler = {
    name,
    isReady: false,
    isBh,
    run: (l, done) => {
      log.push(`${loop.iterations}:${name}`);
      l.thread.exec(ps, () => {
        if (again?.()) l.notify(h);
        done();
      }, undefined);
    },
  };
  return h;
}

describe('QEMU main loop dispatch', () => {
  it('one iteration: bottom halves newest first, then fds in the order they became ready', () => {
    const { sim, loop } = setup();
    const log: string[] = [];
    const fdA = handler(loop, log, 'fdA', false, us(1));
    const fdB = handler(loop, log, 'fdB', false, us(1));
    const bhX = handler(loop, log, 'bhX', true, us(1));
    const bhY = handler(loop, log, 'bhY', true, us(1));
    sim.at(us(10), () => {
      loop.notify(fdB);
      loop.notify(bhX);
      loop.notify(fdA);
      loop.notify(bhY);
      loop.notify(fdB); // already ready: runs once
    }, undefined);
    sim.run();
    expect(log).toEqual(['1:bhY', '1:bhX', '1:fdB', '1:fdA']);
    expect(loop.iterations).toBe(1);
  });

  it('a bottom half that reschedules itself runs once per iteration, taking turns with another', () => {
    const { sim, loop } = setup();
    const log: string[] = [];
    let a = 3;
    let b = 3;
    const bhA = handler(loop, log, 'A', true, us(100), () => --a > 0);
    const bhB = handler(loop, log, 'B', true, us(100), () => --b > 0);
    sim.at(us(10), () => {
      loop.notify(bhA);
      loop.notify(bhB);
    }, undefined);
    sim.run();
    // neither runs twice in an iteration; the one rescheduled last runs first next time
    expect(log).toEqual(['1:B', '1:A', '2:A', '2:B', '3:B', '3:A']);
  });

  it('an fd that becomes ready during an iteration is served in the next one', () => {
    const { sim, loop } = setup();
    const log: string[] = [];
    const late = handler(loop, log, 'late', false, us(1));
    const first = handler(loop, log, 'first', false, us(50));
    sim.at(us(10), () => loop.notify(first), undefined);
    sim.at(us(30), () => loop.notify(late), undefined); // while `first` runs
    sim.run();
    expect(log).toEqual(['1:first', '2:late']);
  });
});
