/**
 * The `custom` workload: a user-declared chain of service stations fed by an open
 * (Poisson or constant-rate) or closed (N clients with think time) arrival process.
 * It is the validation bench for the kernel and a way to sketch a path that does not
 * exist yet. The first `warmupOps` finished ops are discarded; the run ends when
 * `ops` more have finished (completed or dropped).
 */
import { Exponential, type Distribution } from '../core/distributions.js';
import { RandomStreams, type Rng } from '../core/random.js';
import { Simulator } from '../core/simulator.js';
import { AS_DOUBLE, PS_PER_S, psToNs } from '../core/time.js';
import { Counters } from '../metrics/counters.js';
import { LatencyRecorder } from '../metrics/latency-recorder.js';
import type { RunResult, StageRow } from '../metrics/run-result.js';
import { Station, type StationStats, type WhenFull } from '../primitives/station.js';
import { runToEnd } from '../util/run-progress.js';

export interface CustomStageSpec {
  name: string;
  servers: number;
  service: Distribution;
  /** Waiting places (Infinity for unbounded). */
  queueCapacity: number;
  whenFull: WhenFull;
}

export type ArrivalSpec =
  | { kind: 'poisson'; ratePerS: number }
  | { kind: 'constant'; ratePerS: number }
  | { kind: 'closed'; clients: number; think: Distribution };

export interface CustomWorkloadSpec {
  arrival: ArrivalSpec;
  stages: CustomStageSpec[];
  ops: number;
  warmupOps: number;
  /** Payload per op, for throughput in Gb/s (0 when not meaningful). */
  sizeBytes: number;
}

/** Runs the workload; one RunResult per (seed, replication). */
export function runCustom(spec: CustomWorkloadSpec, seed: number, replication: number): RunResult {
  return runCustomDetailed(spec, seed, replication).result;
}

export interface CustomRunDetail {
  result: RunResult;
  /** Each stage's station statistics over the measurement window, in stage order. */
  stations: StationStats[];
}

/**
 * The ops of a custom run: integer ids (recycled when an op finishes) with their creation
 * times in a typed array, so the hot path allocates nothing; admission to the first
 * station (ops it refuses in 'block' mode wait in arrival order); the warm-up, the
 * measurement window and the stop. Fields of a class rather than closure variables (see
 * paths/net/support/op-ledger.ts: a captured `let` is re-checked at every access).
 */
class CustomOps {
  readonly latency = new LatencyRecorder();
  finished = 0;
  completed = 0;
  dropped = 0;
  isMeasuring: boolean;
  /** Start of the measurement window [ps]. */
  windowStartPs = AS_DOUBLE;
  /** Runs after each op that ends before the stop (a closed-loop client thinks, then submits). */
  onFinished: () => void = () => {};
  private createdPs = new Float64Array(1024);
  private readonly freeIds: number[] = [];
  private nextId = 0;
  private readonly backlog: number[] = [];
  private backlogHead = 0;
  private readonly first: Station<number>;

  constructor(
    private readonly sim: Simulator,
    private readonly stations: Station<number>[],
    private readonly warmupOps: number,
    private readonly targetFinished: number,
  ) {
    this.first = stations[0]!;
    this.isMeasuring = warmupOps === 0;
    this.windowStartPs = 0;
  }

  /** A new op, created now; returns its id. */
  newOp(): number {
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.nextId++;
    if (id >= this.createdPs.length) {
      const grown = new Float64Array(this.createdPs.length * 2);
      grown.set(this.createdPs);
      this.createdPs = grown;
    }
    this.createdPs[id] = this.sim.nowPs;
    return id;
  }

  /** Offers a new op (created now) to the first station. */
  admit(op: number): void {
    const first = this.first;
    if (this.backlogHead < this.backlog.length || !first.arrive(op)) {
      if (first.whenFull === 'block') this.backlog.push(op);
    }
  }

  /** The first station has room: waiting ops enter it in arrival order. */
  admitWaiting(): void {
    const backlog = this.backlog;
    while (this.backlogHead < backlog.length && this.first.arrive(backlog[this.backlogHead]!, this.createdPs[backlog[this.backlogHead]!]!)) {
      this.backlogHead++;
    }
    if (this.backlogHead > 1024 && this.backlogHead * 2 > backlog.length) {
      backlog.splice(0, this.backlogHead);
      this.backlogHead = 0;
    }
  }

  /** Opens the measurement window now. */
  startMeasuring(): void {
    this.isMeasuring = true;
    this.windowStartPs = this.sim.nowPs;
    for (const st of this.stations) st.resetStats();
  }

  /** The op ended now, completed (left the last station) or dropped. */
  finish(op: number, isCompleted: boolean): void {
    this.finished++;
    if (this.isMeasuring) {
      if (isCompleted) {
        this.completed++;
        this.latency.record(this.sim.nowPs - this.createdPs[op]!);
      } else {
        this.dropped++;
      }
    }
    this.freeIds.push(op);
    if (!this.isMeasuring && this.finished === this.warmupOps) this.startMeasuring();
    if (this.finished === this.targetFinished) {
      this.sim.stop();
      return;
    }
    this.onFinished();
  }
}

/** Runs the workload and also returns every station's statistics (for Little's law, Erlang C). */
export function runCustomDetailed(spec: CustomWorkloadSpec, seed: number, replication: number): CustomRunDetail {
  return setUpCustom(spec, seed, replication)();
}

/**
 * Builds a run (stations, first arrivals) without simulating; returns what simulates it.
 * Planning calls it alone (scenario/setup-check.ts).
 */
export function setUpCustom(spec: CustomWorkloadSpec, seed: number, replication: number): () => CustomRunDetail {
  const sim = new Simulator();
  const streams = new RandomStreams(seed, replication);
  const stations = spec.stages.map(
    (s) =>
      new Station<number>(sim, {
        name: s.name,
        servers: s.servers,
        service: s.service,
        rng: streams.stream(`stage/${s.name}/service`),
        queueCapacity: s.queueCapacity,
        whenFull: s.whenFull,
      }),
  );
  const targetFinished = spec.warmupOps + spec.ops;
  const ops = new CustomOps(sim, stations, spec.warmupOps, targetFinished);
  stations[0]!.onSpace = () => ops.admitWaiting();
  stations.forEach((st, i) => {
    const next = stations[i + 1];
    st.onDrop = (op) => ops.finish(op, false);
    if (next) {
      // A drop downstream ends the op (onDrop counted it) and frees this server; a refusal
      // in 'block' mode holds the op on this server until next has room.
      st.connectTo(next);
    } else {
      st.onDeparture = (op) => {
        ops.finish(op, true);
        return true;
      };
    }
  });

  const arrival = spec.arrival;
  if (arrival.kind === 'closed') {
    const thinkRng = streams.stream('arrival/think');
    const think = arrival.think;
    const submit = (): void => ops.admit(ops.newOp());
    // A block body: returning the event handle (a double) would box it on every op.
    ops.onFinished = () => {
      sim.post(think.sampleRounded(thinkRng), submit);
    };
    for (let c = 0; c < arrival.clients; c++) sim.post(think.sampleRounded(thinkRng), submit);
  } else {
    const meanGapPs = PS_PER_S / arrival.ratePerS;
    const gapRng: Rng = streams.stream('arrival/gap');
    if (arrival.kind === 'poisson') {
      // Exponential gaps rounded to whole picoseconds (a bias of at most 0.5 ps per gap
      // around a mean of meanGapPs, with no drift: rounding is to nearest).
      const gap = new Exponential(meanGapPs);
      const arrive = (): void => {
        ops.admit(ops.newOp());
        sim.post(gap.sampleRounded(gapRng), arrive);
      };
      sim.post(gap.sampleRounded(gapRng), arrive);
    } else {
      // Constant-rate arrivals keep fractional picoseconds so the long-run rate is exact;
      // the next arrival time lives in a typed array (a closure variable holding a double
      // would allocate a number on every arrival).
      const nextArrivalPs = new Float64Array(1);
      const arrive = (): void => {
        ops.admit(ops.newOp());
        nextArrivalPs[0] = nextArrivalPs[0]! + meanGapPs;
        sim.at(Math.max(sim.nowPs, Math.round(nextArrivalPs[0]!)), arrive, undefined);
      };
      nextArrivalPs[0] = meanGapPs;
      sim.at(Math.round(meanGapPs), arrive, undefined);
    }
  }

  if (ops.isMeasuring) ops.startMeasuring();
  return (): CustomRunDetail => {
    runToEnd(sim, () => ops.finished);
    if (ops.finished < targetFinished) {
      throw new Error(`custom workload stopped after ${ops.finished} of ${targetFinished} ops: no events left`);
    }

    const completed = ops.completed;
    const windowPs = sim.nowPs - ops.windowStartPs;
    const stationStats = stations.map((st) => st.stats());
    const stages: StageRow[] = stationStats.map((s) => {
      return {
        stage: s.name,
        actor: 'station',
        visitsPerOp: completed > 0 ? s.served / completed : 0,
        waitMeanNs: psToNs(s.waitMeanPs),
        serviceMeanNs: psToNs(s.serviceMeanPs),
      };
    });
    const result: RunResult = {
      opsCompleted: completed,
      opsDropped: ops.dropped,
      windowPs,
      bytesCompleted: completed * spec.sizeBytes,
      latency: ops.latency,
      counters: new Counters(),
      hostCpuCores: 0,
      stages,
      cpu: [],
      eventsProcessed: sim.eventsProcessed,
    };
    return { result, stations: stationStats };
  };
}
