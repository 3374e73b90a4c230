/**
 * Other tenants' work on the host's cores: per chosen core, a thread that alternates busy
 * bursts and sleeps (exponential lengths; mean burst host.noise_burst_us, busy a fraction
 * host.noise_duty of the time when it has the core). It is an ordinary thread: the
 * scheduler shares the core between it and the model's threads (a thread that mostly
 * sleeps preempts it at once; a busy one takes turns by slices), so its bursts show up as
 * waits in whatever stage runs on that core. Not counted in host_cpu_cores.
 */
import type { Rng } from '../../core/random.js';
import type { Simulator } from '../../core/simulator.js';
import type { HostThread } from '../../primitives/host-cpu.js';

function burstDone(n: NoiseLoad): void {
  n.sleep();
}
function wakeUp(n: NoiseLoad): void {
  n.isDue = true;
  n.thread.wake();
}

export class NoiseLoad {
  isDue = true;
  private readonly meanOffPs: number;

  constructor(
    private readonly sim: Simulator,
    readonly thread: HostThread,
    private readonly meanBurstPs: number,
    duty: number,
    private readonly rng: Rng,
  ) {
    this.meanOffPs = (meanBurstPs * (1 - duty)) / duty;
    thread.onRun = () => this.loop();
  }

  private exp(mean: number): number {
    return Math.max(1, Math.round(-mean * Math.log(1 - this.rng())));
  }

  private loop(): void {
    if (!this.isDue) {
      this.thread.idle();
      return;
    }
    this.isDue = false;
    this.thread.exec(this.exp(this.meanBurstPs), burstDone, this);
  }

  /** @internal The burst is over: sleep, then come back. */
  sleep(): void {
    if (this.thread.cpu.isAlive()) this.sim.post(this.exp(this.meanOffPs), wakeUp, this);
    this.thread.idle();
  }
}
