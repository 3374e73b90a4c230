/**
 * Processor idle states (C-states) of one core, chosen as Linux's menu governor does: on
 * entering idle it predicts the idle period from the recent ones and picks the deepest
 * enabled state whose target residency fits; leaving it costs that state's exit latency.
 * Deeper states save power and cost wake-up time (and, from C6 on, the core's caches).
 *
 * The prediction here is the mean of the last eight idle periods (menu's "typical
 * interval" when the recent intervals agree, which they do under steady traffic), or none
 * before there is any history. Exit latencies are counted beyond the shallowest state's:
 * the threads' own wake-up costs (host.idle_exit_ns, host.wakeup_ns, kvm.halted_wakeup_ns)
 * already include a C1 exit.
 */
export interface IdleState {
  name: string;
  /** Exit latency [ps]. */
  exitPs: number;
  /** Target residency: worth entering only for an idle period at least this long [ps]. */
  residencyPs: number;
  /** Entering it flushes the core's caches (C6). */
  isCacheFlushing: boolean;
}

const HISTORY = 8;

export class IdleGovernor {
  private readonly history = new Float64Array(HISTORY);
  private historyCount = 0;
  private next = 0;
  private sumPs = 0;
  /** The state entered at the current idle period's start (index into states). */
  private stateIndex = 0;
  private idleSincePs = 0;
  private isIdle = false;
  /** Idle periods by state entered (for reports). */
  readonly entries: number[];

  constructor(
    private readonly states: readonly IdleState[],
    /** Extra time the first work after a cache-flushing state takes [ps]. */
    private readonly coldCachePs = 0,
  ) {
    this.entries = states.map(() => 0);
  }

  /** The core goes idle at nowPs: pick the state. */
  enter(nowPs: number): void {
    if (this.isIdle) return;
    this.isIdle = true;
    this.idleSincePs = nowPs;
    let chosen = 0;
    if (this.historyCount > 0) {
      const predicted = this.sumPs / this.historyCount;
      for (let i = 1; i < this.states.length; i++) if (this.states[i]!.residencyPs <= predicted) chosen = i;
    }
    this.stateIndex = chosen;
    this.entries[chosen]!++;
  }

  /**
   * The core wakes at nowPs: the extra exit latency beyond the shallowest state's, and the
   * cold caches' cost if the state flushed them [ps]. Records the idle period. 0 when not idle.
   */
  exit(nowPs: number): number {
    if (!this.isIdle) return 0;
    this.isIdle = false;
    const period = nowPs - this.idleSincePs;
    if (this.historyCount === HISTORY) this.sumPs -= this.history[this.next]!;
    else this.historyCount++;
    this.history[this.next] = period;
    this.sumPs += period;
    this.next = (this.next + 1) % HISTORY;
    const state = this.states[this.stateIndex]!;
    this.wasCold = state.isCacheFlushing;
    return state.exitPs - this.states[0]!.exitPs + (state.isCacheFlushing ? this.coldCachePs : 0);
  }

  /** Whether the last exit() left a state that flushed the caches. */
  wasCold = false;

  get idle(): boolean {
    return this.isIdle;
  }
}

/** A governor when there is a state to choose beyond C1; null otherwise (C1 costs nothing extra). */
export function idleGovernorFor(states: readonly IdleState[] | undefined, coldCachePs: number): IdleGovernor | null {
  return states !== undefined && states.length > 1 ? new IdleGovernor(states, coldCachePs) : null;
}

/** The idle states enabled up to `max` (C1, C1E or C6), from a table. */
export function idleStates(max: string, table: { c1ExitPs: number; c1eExitPs: number; c1eResidencyPs: number; c6ExitPs: number; c6ResidencyPs: number }): IdleState[] {
  const all: IdleState[] = [
    { name: 'C1', exitPs: table.c1ExitPs, residencyPs: 0, isCacheFlushing: false },
    { name: 'C1E', exitPs: table.c1eExitPs, residencyPs: table.c1eResidencyPs, isCacheFlushing: false },
    { name: 'C6', exitPs: table.c6ExitPs, residencyPs: table.c6ResidencyPs, isCacheFlushing: true },
  ];
  const n = max === 'C6' ? 3 : max === 'C1E' ? 2 : 1;
  return all.slice(0, n);
}
