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
import { PS_PER_S, psToNs } from '../core/time.js';
import { Counters } from '../metrics/counters.js';
import { LatencyRecorder } from '../metrics/latency-recorder.js';
import type { RunResult, StageRow } from '../metrics/run-result.js';
import { Station, type StationStats, type WhenFull } from '../primitives/station.js';

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

/** Runs the workload and also returns every station's statistics (for Little's law, Erlang C). */
export function runCustomDetailed(spec: CustomWorkloadSpec, seed: number, replication: number): CustomRunDetail {
  const sim = new Simulator();
  const streams = new RandomStreams(seed, replication);
  const latency = new LatencyRecorder();
  // An op is an integer id; its creation time lives in createdPs[id] and ids are recycled
  // when the op finishes, so the hot path allocates nothing.
  let createdPs = new Float64Array(1024);
  const freeIds: number[] = [];
  let nextId = 0;
  const newOp = (): number => {
    const id = freeIds.length > 0 ? freeIds.pop()! : nextId++;
    if (id >= createdPs.length) {
      const grown = new Float64Array(createdPs.length * 2);
      grown.set(createdPs);
      createdPs = grown;
    }
    createdPs[id] = sim.nowPs;
    return id;
  };
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
  const first = stations[0]!;
  const targetFinished = spec.warmupOps + spec.ops;
  let finished = 0;
  let measuring = spec.warmupOps === 0;
  let windowStartPs = 0;
  let completed = 0;
  let dropped = 0;

  const startMeasuring = (): void => {
    measuring = true;
    windowStartPs = sim.nowPs;
    for (const st of stations) st.resetStats();
  };

  // Ops the first station refused (block mode) wait here in arrival order.
  const backlog: number[] = [];
  let backlogHead = 0;
  /** Offers a new op (created now) to the first station. */
  const admit = (op: number): void => {
    if (backlogHead < backlog.length || !first.arrive(op)) {
      if (first.whenFull === 'block') backlog.push(op);
    }
  };
  first.onSpace = () => {
    while (backlogHead < backlog.length && first.arrive(backlog[backlogHead]!, createdPs[backlog[backlogHead]!]!)) {
      backlogHead++;
    }
    if (backlogHead > 1024 && backlogHead * 2 > backlog.length) {
      backlog.splice(0, backlogHead);
      backlogHead = 0;
    }
  };

  let onFinished: () => void = () => {};
  const finish = (op: number, isCompleted: boolean): void => {
    finished++;
    if (measuring) {
      if (isCompleted) {
        completed++;
        latency.record(sim.nowPs - createdPs[op]!);
      } else {
        dropped++;
      }
    }
    freeIds.push(op);
    if (!measuring && finished === spec.warmupOps) startMeasuring();
    if (finished === targetFinished) {
      sim.stop();
      return;
    }
    onFinished();
  };

  stations.forEach((st, i) => {
    const next = stations[i + 1];
    st.onDrop = (op) => finish(op, false);
    if (next) {
      // A drop downstream ends the op (onDrop counted it) and frees this server; a refusal
      // in 'block' mode holds the op on this server until next has room.
      st.connectTo(next);
    } else {
      st.onDeparture = (op) => {
        finish(op, true);
        return true;
      };
    }
  });

  const arrival = spec.arrival;
  if (arrival.kind === 'closed') {
    const thinkRng = streams.stream('arrival/think');
    const think = arrival.think;
    const submit = (): void => admit(newOp());
    // A block body: returning the event handle (a double) would box it on every op.
    onFinished = () => {
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
        admit(newOp());
        sim.post(gap.sampleRounded(gapRng), arrive);
      };
      sim.post(gap.sampleRounded(gapRng), arrive);
    } else {
      // Constant-rate arrivals keep fractional picoseconds so the long-run rate is exact;
      // the next arrival time lives in a typed array (a closure variable holding a double
      // would allocate a number on every arrival).
      const nextArrivalPs = new Float64Array(1);
      const arrive = (): void => {
        admit(newOp());
        nextArrivalPs[0] = nextArrivalPs[0]! + meanGapPs;
        sim.at(Math.max(sim.nowPs, Math.round(nextArrivalPs[0]!)), arrive, undefined);
      };
      nextArrivalPs[0] = meanGapPs;
      sim.at(Math.round(meanGapPs), arrive, undefined);
    }
  }

  if (measuring) startMeasuring();
  sim.run();
  if (finished < targetFinished) {
    throw new Error(`custom workload stopped after ${finished} of ${targetFinished} ops: no events left`);
  }

  const windowPs = sim.nowPs - windowStartPs;
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
    opsDropped: dropped,
    windowPs,
    bytesCompleted: completed * spec.sizeBytes,
    latency,
    counters: new Counters(),
    hostCpuCores: 0,
    stages,
    cpu: [],
    eventsProcessed: sim.eventsProcessed,
  };
  return { result, stations: stationStats };
}
