/**
 * The journeys of a sample of requests, as a Chrome trace event file (Perfetto,
 * chrome://tracing). It watches the stage tracker (StageObserver): every k-th request
 * begun after the warm-up, by begin order, is followed, so the sample is spread over
 * the measurement window and chosen without drawing a random number. A followed
 * request's marks become slices on the track of the host thread or vCPU whose code ended
 * each stage (HostCpu.running; a stage ended by a link or a device goes on its actor's
 * track), joined by flow arrows;
 * at each of its boundaries the host threads' state and the rings' occupancy are
 * sampled into counter tracks. A request kept in the file is one the run measured
 * (warm-up and dropped ones are left out).
 *
 * Nothing here schedules events or draws random numbers, so a traced run is the run.
 */
import type { HostCpu, HostThread } from '../primitives/host-cpu.js';
import type { StageObserver, StageTracker, TrackedOp } from '../primitives/stage-tracker.js';

export interface TraceOptions {
  /** Requests to follow (at most). */
  sample: number;
}

/** One followed request: its begin and marks (stage, startPs, endPs, servicePs per mark). */
interface Journey {
  seq: number;
  beginPs: number;
  marks: number[];
  latencyPs: number;
}

/** A Chrome trace event (only the fields this file uses). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 's' | 'f' | 'C' | 'M';
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  cat?: string;
  id?: number;
  bp?: 'e';
  args?: Record<string, number | string>;
}

/** Trace time: microseconds, fractional (ps / 10^6). */
function usOf(ps: number): number {
  return ps / 1e6;
}

/** Numbers per mark of a journey: stage, start [ps], end [ps], service [ps], thread (-1: none). */
const MARK = 5;
const JOURNEY_PID = 1;
const COUNTER_PID = 2;

export class TraceCollector implements StageObserver {
  private begun = 0;
  /** Requests followed and not discarded. */
  private chosen = 0;
  private readonly every: number;
  private readonly open = new Map<TrackedOp, Journey>();
  private readonly done: Journey[] = [];
  /** Counter samples, flat: series index, time [ps], value. */
  private readonly samples: number[] = [];
  private readonly series: { name: string; key: string; read: (nowPs: number) => number; last: number }[] = [];

  /** Each host thread's position in cpu.threads (a mark records the thread whose code ends it). */
  private readonly threadIndex = new Map<HostThread, number>();
  private readonly threadNames: string[] = [];

  constructor(
    private readonly tracker: StageTracker,
    private readonly cpu: HostCpu,
    private readonly clock: { readonly nowPs: number },
    private readonly warmupOps: number,
    ops: number,
    private readonly options: TraceOptions,
    private readonly title: string,
  ) {
    this.every = Math.max(1, Math.floor(ops / options.sample));
    cpu.threads.forEach((t, i) => {
      this.threadIndex.set(t, i);
      this.threadNames.push(t.name);
    });
    for (const t of cpu.threads) this.series.push({ name: `${t.name} state (2 running, 1 polling, 0 idle)`, key: 'state', read: (now) => t.activityAt(now), last: NaN });
    for (const g of tracker.gauges) this.series.push({ name: `${g.name} buffers in flight`, key: 'buffers', read: () => g.read(), last: NaN });
  }

  begin(op: TrackedOp, nowPs: number): void {
    const seq = this.begun++;
    if (seq < this.warmupOps || (seq - this.warmupOps) % this.every !== 0 || this.chosen >= this.options.sample) {
      // an op object may be reused: a begin clears what it carried
      if (this.open.size > 0) this.open.delete(op);
      return;
    }
    this.chosen++;
    this.open.set(op, { seq, beginPs: nowPs, marks: [], latencyPs: -1 });
    this.sample();
  }

  mark(op: TrackedOp, stage: number, startPs: number, endPs: number, servicePs: number): void {
    const j = this.open.get(op);
    if (j === undefined) return;
    // the thread whose code ends the stage (-1: a link, a device, or a thread that computes it ahead)
    const running = this.cpu.running;
    j.marks.push(stage, startPs, endPs, servicePs, running === null ? -1 : (this.threadIndex.get(running) ?? -1));
    this.sample();
  }

  end(op: TrackedOp, isMeasured: boolean, latencyPs: number): void {
    const j = this.open.get(op);
    if (j === undefined) return;
    this.open.delete(op);
    if (!isMeasured || latencyPs < 0) {
      this.chosen--; // a later request takes its place
      return;
    }
    j.latencyPs = latencyPs;
    this.done.push(j);
  }

  /** Counter values now, kept when they changed. */
  private sample(): void {
    const now = this.clock.nowPs;
    for (let i = 0; i < this.series.length; i++) {
      const s = this.series[i]!;
      const v = s.read(now);
      if (v === s.last) continue;
      s.last = v;
      this.samples.push(i, now, v);
    }
  }

  /** Requests kept so far. */
  get requests(): number {
    return this.done.length;
  }

  /** The trace events: metadata, slices, flows, counters. */
  events(): TraceEvent[] {
    const stages = this.tracker.stageList();
    const actors: string[] = [];
    for (const s of stages) if (!actors.includes(s.actor)) actors.push(s.actor);
    // slices of one actor from different requests may overlap: each goes on the first lane
    // of its actor free at its start, so that slices on a track never overlap
    interface Slice { j: Journey; k: number; tid: number }
    const all: Slice[] = [];
    for (const j of this.done) for (let k = 0; k < j.marks.length; k += MARK) all.push({ j, k, tid: 0 });
    const byStart = [...all].sort((a, b) => a.j.marks[a.k + 1]! - b.j.marks[b.k + 1]! || a.j.seq - b.j.seq || a.k - b.k);
    const laneEnds = new Map<string, number[]>();
    const tidOf = new Map<string, number>();
    const meta: TraceEvent[] = [
      { name: 'process_name', ph: 'M', pid: JOURNEY_PID, args: { name: `requests: ${this.title}` } },
      { name: 'process_name', ph: 'M', pid: COUNTER_PID, args: { name: `threads and rings: ${this.title}` } },
    ];
    for (const s of byStart) {
      // a track per host thread or vCPU; a step no thread ends (a link, a device) on its actor's
      const thread = s.j.marks[s.k + 4]!;
      const track = thread >= 0 ? this.threadNames[thread]! : stages[s.j.marks[s.k]!]!.actor;
      const order = thread >= 0 ? thread : this.threadNames.length + actors.indexOf(track);
      const startPs = s.j.marks[s.k + 1]!;
      const endPs = s.j.marks[s.k + 2]!;
      const ends = laneEnds.get(track) ?? [];
      laneEnds.set(track, ends);
      let lane = ends.findIndex((e) => e <= startPs);
      if (lane < 0) lane = ends.push(endPs) - 1;
      else ends[lane] = endPs;
      const key = `${track}#${lane}`;
      let tid = tidOf.get(key);
      if (tid === undefined) {
        tid = tidOf.size + 1;
        tidOf.set(key, tid);
        const name = lane === 0 ? track : `${track} (overlap ${lane + 1})`;
        meta.push({ name: 'thread_name', ph: 'M', pid: JOURNEY_PID, tid, args: { name } });
        meta.push({ name: 'thread_sort_index', ph: 'M', pid: JOURNEY_PID, tid, args: { sort_index: order * 100 + lane } });
      }
      s.tid = tid;
    }
    const slices: TraceEvent[] = [];
    const flows: TraceEvent[] = [];
    let flowId = 0;
    for (let i = 0; i < all.length; i++) {
      const s = all[i]!;
      const m = s.j.marks;
      const startPs = m[s.k + 1]!;
      const durPs = m[s.k + 2]! - startPs;
      const stage = stages[m[s.k]!]!;
      const isLast = s.k + MARK >= m.length;
      slices.push({
        name: stage.stage,
        cat: 'stage',
        ph: 'X',
        pid: JOURNEY_PID,
        tid: s.tid,
        ts: usOf(startPs),
        dur: usOf(durPs),
        args: {
          request: s.j.seq,
          actor: stage.actor,
          ...(m[s.k + 4]! >= 0 ? { thread: this.threadNames[m[s.k + 4]!]! } : {}),
          wait_ns: (durPs - m[s.k + 3]!) / 1000,
          service_ns: m[s.k + 3]! / 1000,
          ...(isLast ? { latency_ns: s.j.latencyPs / 1000 } : {}),
        },
      });
      if (!isLast) {
        // an arrow from the middle of this slice to the middle of the next (inside both, so
        // each end binds to its own slice even where slices touch)
        const nextStartPs = m[s.k + MARK + 1]!;
        const id = ++flowId;
        flows.push({ name: 'request', cat: 'journey', ph: 's', id, pid: JOURNEY_PID, tid: s.tid, ts: usOf(startPs + durPs / 2), args: { request: s.j.seq } });
        const next = all[i + 1]!; // the same request's next mark (slices are listed request by request)
        flows.push({ name: 'request', cat: 'journey', ph: 'f', bp: 'e', id, pid: JOURNEY_PID, tid: next.tid, ts: usOf(nextStartPs + (m[s.k + MARK + 2]! - nextStartPs) / 2), args: { request: s.j.seq } });
      }
    }
    const counters: TraceEvent[] = [];
    for (let i = 0; i < this.samples.length; i += 3) {
      const idx = this.samples[i]!;
      const s = this.series[idx]!;
      counters.push({ name: s.name, ph: 'C', pid: COUNTER_PID, ts: usOf(this.samples[i + 1]!), args: { [s.key]: this.samples[i + 2]! } });
    }
    return [...meta, ...slices, ...flows, ...counters];
  }

  /** The trace file's text (JSON object format). */
  render(): string {
    const body = this.events().map((e) => JSON.stringify(e)).join(',\n');
    const other = JSON.stringify({ title: this.title, requests: this.done.length, sample: this.options.sample, every_kth_request: this.every });
    return `{"displayTimeUnit":"ns","otherData":${other},"traceEvents":[\n${body}\n]}\n`;
  }
}
