/**
 * Events that happen to a running VM (scenario `timeline` and `faults`): each action is
 * handed, at its simulated time or op count, to the handler the path registered for it.
 * A path registers the actions it can do while it is set up; an action of the scenario
 * with no handler is bad input (planning sets every path up, so it is found before a run).
 */
import type { Rng } from '../core/random.js';
import type { Simulator } from '../core/simulator.js';
import { MAX_TIME_PS, PS_PER_S, type TimePs } from '../core/time.js';
import { InputError } from '../util/input-error.js';

/** The latest a random fault is scheduled [ps]: half the clock (setup-check's run budget). */
const LAST_FAULT_PS = Math.floor(MAX_TIME_PS / 2);

/** An action's fields other than when it happens (rate, duration_ms, vm, ...). */
export type ActionArgs = Readonly<Record<string, number | string | boolean>>;

/** One action as it fires. */
export interface TimelineEvent {
  /** The action's name: migrate, backend-restart, link-down, link-up, loss, device-error, iscsi-disconnect, vf-reset. */
  action: string;
  args: ActionArgs;
  /** Where it comes from, for messages: "timeline[2]" or "faults[0]". */
  where: string;
}

/** Does the action; called at the action's time. */
export type ActionHandler = (ev: TimelineEvent) => void;

/** A timeline entry: at a time from the run's start, or when an op count has finished. */
export interface TimelineEntry {
  action: string;
  atPs?: TimePs;
  atOp?: number;
  args: ActionArgs;
}

/** Random faults: an action repeated as a Poisson process. */
export interface FaultProcess {
  action: string;
  ratePerS: number;
  /** First and last time the process may fire [ps] (end: the run's end). */
  startPs: TimePs;
  endPs: TimePs;
  args: ActionArgs;
}

export class Timeline {
  private readonly handlers = new Map<string, ActionHandler>();
  /** Actions the path has the part for but refuses in this configuration, with why. */
  private readonly refusals = new Map<string, string>();
  private readonly byOp: { entry: TimelineEntry; where: string }[];
  private nextByOp = 0;

  constructor(
    private readonly sim: Simulator,
    readonly entries: readonly TimelineEntry[],
    readonly faults: readonly FaultProcess[],
    /** Draws of the random fault processes (stream "timeline/faults"). */
    private readonly rng: Rng | null,
  ) {
    this.byOp = entries
      .map((entry, i) => ({ entry, where: `timeline[${i}]` }))
      .filter((e) => e.entry.atOp !== undefined)
      .sort((a, b) => a.entry.atOp! - b.entry.atOp!);
  }

  /** Actions the scenario uses. */
  actions(): Set<string> {
    return new Set([...this.entries.map((e) => e.action), ...this.faults.map((f) => f.action)]);
  }

  /** Registers what the path does for an action (the last registration wins). */
  on(action: string, handler: ActionHandler): void {
    this.handlers.set(action, handler);
  }

  /** Says why the path cannot do an action as configured (shown instead of the generic answer). */
  refuse(action: string, reason: string): void {
    this.refusals.set(action, reason);
  }

  /** Throws an InputError naming the first action the path cannot do. */
  check(pathName: string, workloadKind: string): void {
    const can = [...this.handlers.keys()].sort();
    const what = can.length > 0 ? `it can: ${can.join(', ')}` : 'it can do none';
    const fail = (where: string, action: string): never => {
      const reason = this.refusals.get(action);
      if (reason !== undefined) throw new InputError(`${where}.action: path ${pathName} cannot do "${action}": ${reason}`);
      throw new InputError(`${where}.action: path ${pathName} with workload ${workloadKind} cannot do "${action}" (${what})`);
    };
    this.entries.forEach((e, i) => {
      if (!this.handlers.has(e.action)) fail(`timeline[${i}]`, e.action);
    });
    this.faults.forEach((f, i) => {
      if (!this.handlers.has(f.action)) fail(`faults[${i}]`, f.action);
    });
  }

  /** Schedules the timed actions and the fault processes (call once, at time 0). */
  start(): void {
    this.entries.forEach((entry, i) => {
      if (entry.atPs === undefined) return;
      const ev: TimelineEvent = { action: entry.action, args: entry.args, where: `timeline[${i}]` };
      this.sim.at(entry.atPs, () => this.fire(ev));
    });
    this.faults.forEach((f, i) => {
      const ev: TimelineEvent = { action: f.action, args: f.args, where: `faults[${i}]` };
      const rng = this.rng!;
      const meanPs = PS_PER_S / f.ratePerS;
      const next = (fromPs: TimePs): void => {
        const atPs = fromPs + Math.max(1, Math.round(-Math.log(1 - rng()) * meanPs));
        // (past half the clock no run goes on: planning refuses runs that need longer)
        if (atPs > f.endPs || atPs > LAST_FAULT_PS) return;
        this.sim.at(atPs, () => {
          this.fire(ev);
          next(atPs);
        });
      };
      next(f.startPs);
    });
    this.opsFinished(0); // at_op 0: at the start
  }

  /** The run's finished-op count went up to `finished` (completed or dropped, warm-up included). */
  opsFinished(finished: number): void {
    while (this.nextByOp < this.byOp.length && this.byOp[this.nextByOp]!.entry.atOp! <= finished) {
      const { entry, where } = this.byOp[this.nextByOp++]!;
      this.fire({ action: entry.action, args: entry.args, where });
    }
  }

  /** The op count of the next op-count action (Infinity when none is left): a cheap test for the harness. */
  get nextOpCount(): number {
    return this.nextByOp < this.byOp.length ? this.byOp[this.nextByOp]!.entry.atOp! : Infinity;
  }

  private fire(ev: TimelineEvent): void {
    const h = this.handlers.get(ev.action);
    if (h === undefined) throw new InputError(`${ev.where}.action: no handler for "${ev.action}"`);
    h(ev);
  }
}
