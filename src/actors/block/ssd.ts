/**
 * An NVMe SSD, mechanistically: what a command does inside the device, with every
 * resource it queues for, so that latency and the IOPS and bandwidth ceilings come out
 * of the mechanisms instead of being constants.
 *
 * A command's journey (reads | writes):
 * 1. Doorbell: the controller fetches the 64 B SQE by DMA (a PCIe read round trip, then
 *    the bytes on the host-to-device link) and one of `controllerCores` firmware cores
 *    processes it (FIFO, first free core). This is the ceiling of a fast medium.
 * 2. Reads: the logical pages of the byte range (page n = offset / page size) are read
 *    on die n mod dies (sequential I/O stripes over dies, and over channels since die d
 *    hangs on channel d mod channels): the die is busy tR (Gamma, mean and cv), then the
 *    page's requested bytes cross the die's channel. Dies and channels are FIFO servers
 *    (the die has a cache register: it is free again once the array read ends). The
 *    command's data is ready when its last part is (pendingParts).
 *    Writes: the data needs room in the (power-loss protected) DRAM write buffer; when the
 *    buffer is full the write waits, FIFO, for the drain to free room. The data is then
 *    read from the host by DMA (round trip, then the bytes on the host-to-device link),
 *    and the write completes once it is in the buffer.
 * 3. Read data is DMA-written to the host (device-to-host link), then the 16 B CQE (after
 *    the data: posted writes stay in order); it is visible dmaWritePs after its last byte
 *    left. Each link direction is a FIFO server; a DMA moves its payload in TLPs of at
 *    most `linkMaxPayloadBytes`, each with `linkTlpOverheadBytes` of header and framing.
 * 4. Completion: the CQE joins the queue's CQ (in completion order), the onCqe hook runs
 *    (a poller's), and the queue's MSI-X vector fires subject to NVMe interrupt
 *    coalescing: at `coalesceCount` unsignalled entries, or `coalescePs` after the first
 *    of them, whichever comes first (NVMe 1.4 s5.21.1.8). A polled queue (onInterrupt
 *    null) raises nothing.
 *
 * Background drain: a die that falls idle while a full page of buffered data waits
 * programs the oldest page of it: the bytes cross the die's channel into the die, then
 * the die is busy tPROG x write amplification (garbage collection's copies and erases,
 * lumped into the flash time per host page; tPROG is Gamma distributed, which also keeps
 * dies that started together from staying in step). Data short of a page waits for more,
 * up to `partialFlushPs` after it (or the oldest part of it) arrived, and then goes out
 * as a partly filled page, which costs a whole program (flash programs whole pages). A
 * sustained stream settles at dies x page / (tPROG x WAF + page / channel rate). Reads
 * queue behind a program on their die (no program suspend). The buffer counts a write's
 * bytes from the moment its data DMA is set up until its page is programmed.
 *
 * Not modelled: reads served from the write buffer, the mapping of written pages (reads
 * use the static page-to-die mapping above), SQ arbitration bursts, admin commands.
 *
 * Invariants: each submitted command is posted to its CQ exactly once; at most `depth`
 * commands are outstanding per queue (submit throws beyond); the buffer holds at most its
 * capacity (a write larger than the whole buffer is admitted alone, into an empty one).
 *
 * Hot path: no allocation per command. Servers are free-at times in typed arrays,
 * reserved in event-time order (so each is an exact FIFO); events carry the request or a
 * die or channel index to handlers bound once per device. While the device holds a
 * request it owns its `deviceQueue` and `pendingParts` (never `tag`,
 * which the layers above keep across the device, e.g. QEMU's thread-pool worker).
 */
import { Constant, Gamma, roundHalfUp, type Distribution } from '../../core/distributions.js';
import type { Rng } from '../../core/random.js';
import type { Simulator } from '../../core/simulator.js';
import { AS_DOUBLE } from '../../core/time.js';
import { num, psOf, type ParamValues } from '../../calibration/param.js';
import { Fifo } from '../../primitives/fifo.js';
import { InputError } from '../../util/input-error.js';
import { SECTOR_BYTES, STATUS_OK, type BlkRequest } from './request.js';

/** Submission queue entry [bytes] (NVMe 1.4 s4.2). */
export const SQE_BYTES = 64;
/** Completion queue entry [bytes] (NVMe 1.4 s4.6). */
export const CQE_BYTES = 16;

/** Device costs, in ps, bytes and counts (ssdCostsOf builds them from the ssd.* parameters). */
export interface SsdCosts {
  /** PCIe DMA read round trip before the first bytes arrive (SQE fetch, write data) [ps]. */
  dmaReadPs: number;
  /** Posted DMA write: from its last byte on the link to visible in host memory [ps]. */
  dmaWritePs: number;
  /** PCIe link, per direction: time per byte on the wire [ps/byte] (fractional). */
  linkPsPerByte: number;
  /** Largest payload per TLP (MPS) [bytes]. */
  linkMaxPayloadBytes: number;
  /** Header and framing bytes per TLP [bytes]. */
  linkTlpOverheadBytes: number;
  /** Firmware cores processing commands, and the time per command on one [ps]. */
  controllerCores: number;
  controllerPs: number;
  channels: number;
  diesPerChannel: number;
  pageBytes: number;
  /** Page read time tR: mean [ps] and coefficient of variation (0: constant). */
  readMeanPs: number;
  readCv: number;
  /** Flash channel: time per byte [ps/byte] (fractional). */
  channelPsPerByte: number;
  /** Page program time tPROG: mean [ps], before write amplification, and coefficient of variation. */
  programPs: number;
  programCv: number;
  /** Longest buffered data short of a page waits for more before it is programmed [ps]. */
  partialFlushPs: number;
  /** Flash work per host byte in steady state (multiplies programPs). */
  writeAmplification: number;
  writeBufferBytes: number;
  /** Entries of each SQ and CQ; entries - 1 commands can be outstanding. */
  queueEntries: number;
  /** I/O queue pairs the controller offers. */
  maxQueues: number;
  /** Interrupt coalescing: threshold [entries] (0 or 1: off) and aggregation time [ps] (0: off). */
  irqCoalesceCount: number;
  irqCoalescePs: number;
}

/** A time parameter as integer ps: in us when its name ends in _us, else in ns. */

/** The SSD's costs from the ssd.* parameters and the shared pcie.dma_* round trips. */
export function ssdCostsOf(p: ParamValues): SsdCosts {
  return {
    dmaReadPs: psOf(p, 'pcie.dma_read_ns'),
    dmaWritePs: psOf(p, 'pcie.dma_write_ns'),
    linkPsPerByte: 1000 / num(p, 'ssd.pcie_gbps'),
    linkMaxPayloadBytes: num(p, 'ssd.pcie_max_payload_bytes'),
    linkTlpOverheadBytes: num(p, 'ssd.pcie_tlp_overhead_bytes'),
    controllerCores: num(p, 'ssd.controller_cores'),
    controllerPs: psOf(p, 'ssd.controller_ns'),
    channels: num(p, 'ssd.channels'),
    diesPerChannel: num(p, 'ssd.dies_per_channel'),
    pageBytes: num(p, 'ssd.page_kib') * 1024,
    readMeanPs: psOf(p, 'ssd.read_us'),
    readCv: num(p, 'ssd.read_cv'),
    channelPsPerByte: 1e6 / num(p, 'ssd.channel_mbps'),
    programPs: psOf(p, 'ssd.program_us'),
    programCv: num(p, 'ssd.program_cv'),
    partialFlushPs: psOf(p, 'ssd.partial_flush_us'),
    writeAmplification: num(p, 'ssd.write_amplification'),
    writeBufferBytes: num(p, 'ssd.write_buffer_kib') * 1024,
    queueEntries: num(p, 'ssd.queue_depth'),
    maxQueues: num(p, 'ssd.queues'),
    irqCoalesceCount: num(p, 'ssd.irq_coalesce_count'),
    irqCoalescePs: psOf(p, 'ssd.irq_coalesce_us'),
  };
}

function coalesceTimer(q: NvmeQueuePair): void {
  q.timerExpired();
}

function flushTimer(ssd: Ssd): void {
  ssd.flushTimerExpired();
}

/** One I/O submission/completion queue pair, with its MSI-X vector. */
export class NvmeQueuePair {
  readonly index: number;
  /** SQ entries usable: commands that may be outstanding at once (entries - 1). */
  readonly depth: number;
  /** Submitted, CQE not yet reaped. */
  outstanding = 0;
  /** CQ: requests whose CQE is posted and not yet reaped, in completion order. */
  readonly cq: Fifo<BlkRequest>;
  /** MSI-X vector of this queue: called when the device raises the interrupt (after coalescing). null = polled queue, no interrupts. */
  onInterrupt: (() => void) | null = null;
  /** Called at every CQE post (a poller's hook, so a polling reader needs no event per empty poll). */
  onCqe: (() => void) | null = null;
  /** Interrupts raised, and commands submitted. */
  interrupts = 0;
  commands = 0;
  /**
   * Interrupt coalescing of this queue's vector (Set Features 08h applies to every
   * vector; Interrupt Vector Configuration 09h can turn it off for one): threshold
   * [entries] (0 or 1: off) and aggregation time [ps] (0: off).
   */
  coalesceCount: number;
  coalescePs: number;
  /** CQEs posted since the last interrupt. */
  private unsignalled = 0;
  /** When the armed aggregation timer expires [ps]; -1 when none is armed. */
  private timerDuePs = AS_DOUBLE;

  constructor(
    private readonly sim: Simulator,
    index: number,
    entries: number,
    coalesceCount: number,
    coalescePs: number,
  ) {
    this.index = index;
    this.depth = entries - 1;
    this.cq = new Fifo<BlkRequest>(Infinity, entries);
    this.coalesceCount = coalesceCount;
    this.coalescePs = coalescePs;
    this.timerDuePs = -1;
  }

  /** CQEs posted and not yet reaped. */
  get cqLength(): number {
    return this.cq.length;
  }

  /** @internal The device posted a CQE for req (it is visible in host memory now). */
  posted(req: BlkRequest): void {
    this.cq.push(req);
    const onCqe = this.onCqe;
    if (onCqe !== null) onCqe();
    if (this.onInterrupt === null) return;
    const n = ++this.unsignalled;
    if (n >= this.coalesceCount || this.coalescePs <= 0) {
      this.fire();
    } else if (n === 1) {
      this.timerDuePs = this.sim.nowPs + this.coalescePs;
      this.sim.post(this.coalescePs, coalesceTimer, this);
    }
  }

  /** @internal The aggregation timer ran out (a stale one, disarmed by the threshold, does nothing). */
  timerExpired(): void {
    if (this.sim.nowPs === this.timerDuePs && this.unsignalled > 0) this.fire();
  }

  private fire(): void {
    this.unsignalled = 0;
    this.timerDuePs = -1;
    this.interrupts++;
    const onInterrupt = this.onInterrupt;
    if (onInterrupt !== null) onInterrupt();
  }
}

export class Ssd {
  readonly name: string;
  readonly queues: NvmeQueuePair[];
  private readonly sim: Simulator;
  private readonly rng: Rng;
  private readonly readTime: Distribution;
  private readonly dies: number;
  private readonly channels: number;
  private readonly pageBytes: number;
  private readonly dmaReadPs: number;
  private readonly dmaWritePs: number;
  private readonly controllerPs: number;
  private readonly linkPsPerByte: number;
  private readonly linkMaxPayloadBytes: number;
  private readonly linkTlpOverheadBytes: number;
  private readonly channelPsPerByte: number;
  /** Die time to program one page, write amplification included [ps]. */
  private readonly programTime: Distribution;
  private readonly bufferCapacity: number;

  // Servers: when each becomes free [ps].
  private readonly coreFreePs: Float64Array;
  private readonly dieFreePs: Float64Array;
  private readonly channelFreePs: Float64Array;
  private linkUpFreePs = AS_DOUBLE;
  private linkDownFreePs = AS_DOUBLE;
  /** Page reads reserved on each die, in order: the request and the bytes it wants. */
  private readonly dieReads: Fifo<BlkRequest>[];
  private readonly dieReadBytes: Fifo<number>[];
  /** Bytes of the page each die is programming. */
  private readonly dieProgramBytes: Float64Array;
  /** Read parts reserved on each channel, in order. */
  private readonly channelReads: Fifo<BlkRequest>[];

  // Write buffer.
  /** Bytes held: data on its way in, buffered, and being programmed. */
  private bufferBytes = AS_DOUBLE;
  /** Bytes in the buffer not yet handed to a die. */
  private undrainedBytes = AS_DOUBLE;
  private programsRunning = 0;
  private drainCursor = 0;
  private readonly partialFlushPs: number;
  /** When the armed partial-page timer expires [ps]; -1 when none is armed. */
  private flushDuePs = AS_DOUBLE;
  /** Data short of a page has waited long enough: it may go out as a partial page. */
  private isFlushDue = false;
  /** Writes waiting for room, in arrival order. */
  private readonly stalled = new Fifo<BlkRequest>();

  // Handlers bound once (events carry a request or an index; nothing is allocated per command).
  private readonly controllerDoneFn = (req: BlkRequest): void => this.controllerDone(req);
  private readonly dieReadDoneFn = (die: number): void => this.dieReadDone(die);
  private readonly channelDoneFn = (channel: number): void => this.channelDone(channel);
  private readonly programDoneFn = (die: number): void => this.programDone(die);
  private readonly writeDataInFn = (req: BlkRequest): void => this.writeDataIn(req);
  private readonly cqeFn = (req: BlkRequest): void => this.cqeVisible(req);

  // Statistics since the last resetStats().
  private statsSincePs = AS_DOUBLE;
  private commands = 0;
  private completions = 0;
  private reads = 0;
  private writes = 0;
  private readBytes = AS_DOUBLE;
  private writeBytes = AS_DOUBLE;
  private writeStalls = 0;
  /** Area under the number of stalled writes [ps x writes], and when it last changed. */
  private stalledArea = AS_DOUBLE;
  private stalledSincePs = AS_DOUBLE;
  private peakBufferBytes = AS_DOUBLE;
  private programs = 0;
  private programmedBytes = AS_DOUBLE;
  // Busy time reserved on each kind of server [ps] (stats() removes the part after now).
  private coreBusyPs = AS_DOUBLE;
  private dieBusyPs = AS_DOUBLE;
  private channelBusyPs = AS_DOUBLE;
  private linkUpBusyPs = AS_DOUBLE;
  private linkDownBusyPs = AS_DOUBLE;


  /** Commands the device is still executing (submitted, no CQE posted yet): a drain waits for 0. */
  get outstandingCommands(): number {
    let n = 0;
    for (const q of this.queues) n += q.outstanding - q.cq.length;
    return n;
  }

  constructor(sim: Simulator, name: string, costs: SsdCosts, rng: Rng, queueCount: number) {
    checkCosts(name, costs);
    if (!(Number.isInteger(queueCount) && queueCount >= 1)) {
      throw new RangeError(`${name}: queueCount must be an integer >= 1, got ${queueCount}`);
    }
    if (queueCount > costs.maxQueues) {
      throw new InputError(
        `params.ssd.queues: ${name} is asked for ${queueCount} I/O queue pairs but the controller offers ssd.queues = ${costs.maxQueues}`,
      );
    }
    this.sim = sim;
    this.name = name;
    this.rng = rng;
    this.readTime = costs.readCv > 0 ? new Gamma(costs.readMeanPs, 1 / (costs.readCv * costs.readCv)) : new Constant(costs.readMeanPs);
    this.channels = costs.channels;
    this.dies = costs.channels * costs.diesPerChannel;
    this.pageBytes = costs.pageBytes;
    this.dmaReadPs = costs.dmaReadPs;
    this.dmaWritePs = costs.dmaWritePs;
    this.controllerPs = costs.controllerPs;
    this.linkPsPerByte = costs.linkPsPerByte;
    this.linkMaxPayloadBytes = costs.linkMaxPayloadBytes;
    this.linkTlpOverheadBytes = costs.linkTlpOverheadBytes;
    this.channelPsPerByte = costs.channelPsPerByte;
    const programMeanPs = costs.programPs * costs.writeAmplification;
    this.programTime =
      costs.programCv > 0 ? new Gamma(programMeanPs, 1 / (costs.programCv * costs.programCv)) : new Constant(programMeanPs);
    this.bufferCapacity = costs.writeBufferBytes;
    this.partialFlushPs = costs.partialFlushPs;
    this.flushDuePs = -1;
    this.coreFreePs = new Float64Array(costs.controllerCores);
    this.dieFreePs = new Float64Array(this.dies);
    this.channelFreePs = new Float64Array(this.channels);
    this.dieProgramBytes = new Float64Array(this.dies);
    this.dieReads = Array.from({ length: this.dies }, () => new Fifo<BlkRequest>());
    this.dieReadBytes = Array.from({ length: this.dies }, () => new Fifo<number>());
    this.channelReads = Array.from({ length: this.channels }, () => new Fifo<BlkRequest>());
    this.queues = Array.from(
      { length: queueCount },
      (_, i) => new NvmeQueuePair(sim, i, costs.queueEntries, costs.irqCoalesceCount, costs.irqCoalescePs),
    );
    this.linkUpFreePs = this.linkDownFreePs = 0;
    this.bufferBytes = this.undrainedBytes = 0;
    this.resetStats();
  }

  /** True when q has a free SQ entry. */
  canSubmit(q: NvmeQueuePair): boolean {
    return q.outstanding < q.depth;
  }

  /** Bytes the write buffer holds now (data arriving, buffered, or being programmed). */
  get writeBufferBytes(): number {
    return this.bufferBytes;
  }

  /** SQ tail doorbell for one command: the controller fetches and serves it. Throws if the SQ is full. */
  submit(q: NvmeQueuePair, req: BlkRequest, atPs = -1): void {
    if (q.outstanding >= q.depth) this.sqFull(q);
    q.outstanding++;
    q.commands++;
    this.commands++;
    const sim = this.sim;
    // a doorbell written by work computed ahead (a poller) lands at atPs
    const now = atPs > sim.nowPs ? atPs : sim.nowPs;
    req.deviceQueue = q.index;
    // SQE fetch: a DMA read (the request goes up, the 64 B come down the link).
    const fetchedPs = this.linkDown(now + this.dmaReadPs, SQE_BYTES);
    // The controller: the first core to free up, in arrival order.
    const cores = this.coreFreePs;
    let core = 0;
    let freePs = cores[0]!;
    for (let i = 1; i < cores.length; i++) {
      const f = cores[i]!;
      if (f < freePs) {
        freePs = f;
        core = i;
      }
    }
    const donePs = (fetchedPs > freePs ? fetchedPs : freePs) + this.controllerPs;
    cores[core] = donePs;
    this.coreBusyPs += this.controllerPs;
    sim.post(donePs - sim.nowPs, this.controllerDoneFn, req);
  }

  private sqFull(q: NvmeQueuePair): never {
    throw new Error(`${this.name}: submission queue ${q.index} is full (${q.depth} commands outstanding)`);
  }

  /** Driver reaps one CQE (and moves the CQ head): undefined when the CQ is empty. */
  reap(q: NvmeQueuePair): BlkRequest | undefined {
    const req = q.cq.shift();
    if (req !== undefined) q.outstanding--;
    return req;
  }

  /**
   * Reserves the host-to-device link for a DMA of `bytes` whose first bytes are ready at
   * readyPs (not before now); returns when its last byte is in. Reservations are made at
   * now + dmaReadPs, so the link serves them in order of readiness, except a doorbell
   * computed ahead (submit's atPs), reserved early for its later time: a request ready
   * before that time but reserved after it waits behind it (one 64 B SQE at most).
   */
  private linkDown(readyPs: number, bytes: number): number {
    const wirePs = this.wirePs(bytes);
    const free = this.linkDownFreePs;
    const endPs = (readyPs > free ? readyPs : free) + wirePs;
    this.linkDownFreePs = endPs;
    this.linkDownBusyPs += wirePs;
    return endPs;
  }

  /**
   * Reserves the device-to-host link for `bytes` ready at readyPs; returns when the last
   * byte left. Reservations are made at now for data ready now (or right behind the data
   * just reserved, for its CQE), so the link serves them in order of readiness.
   */
  private linkUp(readyPs: number, bytes: number): number {
    const wirePs = this.wirePs(bytes);
    const free = this.linkUpFreePs;
    const endPs = (readyPs > free ? readyPs : free) + wirePs;
    this.linkUpFreePs = endPs;
    this.linkUpBusyPs += wirePs;
    return endPs;
  }

  /** Time `bytes` of payload occupy the link, cut into TLPs with their overhead [ps]. */
  private wirePs(bytes: number): number {
    const tlps = Math.ceil(bytes / this.linkMaxPayloadBytes);
    return roundHalfUp((bytes + tlps * this.linkTlpOverheadBytes) * this.linkPsPerByte);
  }

  private controllerDone(req: BlkRequest): void {
    const bytes = req.totalBytes;
    if (bytes === 0) this.postCqe(req);
    else if (req.isWrite) this.admitWrite(req, bytes);
    else this.readPages(req, bytes);
  }

  /** Reserves a die read for every page of the byte range. */
  private readPages(req: BlkRequest, bytes: number): void {
    const sim = this.sim;
    const now = sim.nowPs;
    const pageBytes = this.pageBytes;
    const startByte = req.sector * SECTOR_BYTES;
    const endByte = startByte + bytes;
    let page = Math.floor(startByte / pageBytes);
    const lastPage = Math.floor((endByte - 1) / pageBytes);
    req.pendingParts = lastPage - page + 1;
    const dieFree = this.dieFreePs;
    for (; page <= lastPage; page++) {
      const pageStart = page * pageBytes;
      const pageEnd = pageStart + pageBytes;
      const partBytes = (endByte < pageEnd ? endByte : pageEnd) - (startByte > pageStart ? startByte : pageStart);
      const die = page % this.dies;
      const free = dieFree[die]!;
      const readPs = this.readTime.sampleRounded(this.rng);
      const endPs = (free > now ? free : now) + readPs;
      dieFree[die] = endPs;
      this.dieBusyPs += readPs;
      this.dieReads[die]!.push(req);
      this.dieReadBytes[die]!.push(partBytes);
      sim.post(endPs - now, this.dieReadDoneFn, die);
    }
  }

  /** A die read its page: the requested bytes cross the die's channel. */
  private dieReadDone(die: number): void {
    const req = this.dieReads[die]!.shift()!;
    const partBytes = this.dieReadBytes[die]!.shift()!;
    const now = this.sim.nowPs;
    const channel = die % this.channels;
    const xferPs = roundHalfUp(partBytes * this.channelPsPerByte);
    const free = this.channelFreePs[channel]!;
    const endPs = (free > now ? free : now) + xferPs;
    this.channelFreePs[channel] = endPs;
    this.channelBusyPs += xferPs;
    this.channelReads[channel]!.push(req);
    this.sim.post(endPs - now, this.channelDoneFn, channel);
    if (this.canProgram() && this.dieFreePs[die]! <= now) {
      this.startProgram(die);
      this.watchPartialPage();
    }
  }

  /** A page's bytes reached the controller; the last one sends the command's data. */
  private channelDone(channel: number): void {
    const req = this.channelReads[channel]!.shift()!;
    if (--req.pendingParts !== 0) return;
    const now = this.sim.nowPs;
    const dataEndPs = this.linkUp(now, req.totalBytes);
    this.sendCqe(req, dataEndPs);
  }

  /** The CQE follows (the data) on the device-to-host link; visible dmaWritePs after. */
  private sendCqe(req: BlkRequest, readyPs: number): void {
    const endPs = this.linkUp(readyPs, CQE_BYTES);
    this.sim.post(endPs + this.dmaWritePs - this.sim.nowPs, this.cqeFn, req);
  }

  private postCqe(req: BlkRequest): void {
    this.sendCqe(req, this.sim.nowPs);
  }

  private fits(bytes: number): boolean {
    return this.bufferBytes + bytes <= this.bufferCapacity || this.bufferBytes === 0;
  }

  /** A processed write claims buffer room for its data, or waits for it. */
  private admitWrite(req: BlkRequest, bytes: number): void {
    if (this.stalled.length === 0 && this.fits(bytes)) {
      this.fetchWriteData(req, bytes);
      return;
    }
    this.countStalled();
    this.stalled.push(req);
    this.writeStalls++;
  }

  /** Adds the time the current stalled writes waited since the last change. */
  private countStalled(): void {
    const now = this.sim.nowPs;
    this.stalledArea += this.stalled.length * (now - this.stalledSincePs);
    this.stalledSincePs = now;
  }

  /** Room is claimed: the controller reads the data from the host into the buffer. */
  private fetchWriteData(req: BlkRequest, bytes: number): void {
    const buffered = this.bufferBytes + bytes;
    this.bufferBytes = buffered;
    if (buffered > this.peakBufferBytes) this.peakBufferBytes = buffered;
    const now = this.sim.nowPs;
    const inPs = this.linkDown(now + this.dmaReadPs, bytes);
    this.sim.post(inPs - now, this.writeDataInFn, req);
  }

  /** The write's data is in the buffer: it is acknowledged, and may be drained. */
  private writeDataIn(req: BlkRequest): void {
    this.undrainedBytes += req.totalBytes;
    this.postCqe(req);
    this.drain();
  }

  /** True when buffered data may be programmed now: a full page, or a partial one that waited. */
  private canProgram(): boolean {
    return this.undrainedBytes >= this.pageBytes || (this.isFlushDue && this.undrainedBytes > 0);
  }

  /** Starts programs on idle dies while data may be programmed. */
  private drain(): void {
    if (this.programsRunning < this.dies && this.canProgram()) {
      const now = this.sim.nowPs;
      const dies = this.dies;
      const dieFree = this.dieFreePs;
      let d = this.drainCursor;
      for (let k = 0; k < dies && this.canProgram(); k++) {
        if (dieFree[d]! <= now) this.startProgram(d);
        d = d + 1 === dies ? 0 : d + 1;
      }
      this.drainCursor = d;
    }
    this.watchPartialPage();
  }

  /** Data short of a page starts its wait for more (the timer is armed once per wait). */
  private watchPartialPage(): void {
    if (this.undrainedBytes > 0 && this.flushDuePs < 0 && !this.isFlushDue) {
      this.flushDuePs = this.sim.nowPs + this.partialFlushPs;
      this.sim.post(this.partialFlushPs, flushTimer, this);
    }
  }

  /** @internal The partial-page timer ran out: what is buffered may go out now. */
  flushTimerExpired(): void {
    if (this.sim.nowPs !== this.flushDuePs) return; // disarmed when the buffer emptied
    this.flushDuePs = -1;
    if (this.undrainedBytes > 0) {
      this.isFlushDue = true;
      this.drain();
    }
  }

  /** An idle die programs up to a page of the oldest buffered data. */
  private startProgram(die: number): void {
    const undrained = this.undrainedBytes;
    const chunk = undrained < this.pageBytes ? undrained : this.pageBytes;
    this.undrainedBytes = undrained - chunk;
    if (undrained === chunk) {
      // all handed to dies: the next data starts a new wait
      this.isFlushDue = false;
      this.flushDuePs = -1;
    }
    const now = this.sim.nowPs;
    const channel = die % this.channels;
    const xferPs = roundHalfUp(chunk * this.channelPsPerByte);
    const free = this.channelFreePs[channel]!;
    const inPs = (free > now ? free : now) + xferPs;
    this.channelFreePs[channel] = inPs;
    this.channelBusyPs += xferPs;
    const endPs = inPs + this.programTime.sampleRounded(this.rng);
    this.dieFreePs[die] = endPs;
    this.dieBusyPs += endPs - now;
    this.dieProgramBytes[die] = chunk;
    this.programsRunning++;
    this.sim.post(endPs - now, this.programDoneFn, die);
  }

  /** A page is programmed: its room is free for waiting writes, and the die for more. */
  private programDone(die: number): void {
    const chunk = this.dieProgramBytes[die]!;
    this.bufferBytes -= chunk;
    this.programsRunning--;
    this.programs++;
    this.programmedBytes += chunk;
    const stalled = this.stalled;
    if (stalled.length > 0) {
      this.countStalled();
      while (stalled.length > 0) {
        const req = stalled.peek()!;
        const bytes = req.totalBytes;
        if (!this.fits(bytes)) break;
        stalled.shift();
        this.fetchWriteData(req, bytes);
      }
    }
    this.drain();
  }

  /**
   * Commands whose completion the device withholds (a timeline's device-error: it stops
   * answering), in the order they would have completed; null while it answers.
   */
  private withheld: BlkRequest[] | null = null;

  /** The device stops answering: no command completes until answerAgain (or the host's reset takes them). */
  stopAnswering(): void {
    if (this.withheld === null) this.withheld = [];
  }

  get isAnswering(): boolean {
    return this.withheld === null;
  }

  /** The device answers again: the commands it withheld complete now (their CQEs posted). */
  answerAgain(): void {
    const w = this.withheld;
    this.withheld = null;
    if (w !== null) for (const req of w) this.cqeVisible(req);
  }

  /**
   * A controller reset (the host's nvme_dev_disable): the commands withheld are cancelled;
   * returns them, each to be requeued (requeue) or ended with its error (endCancelled).
   */
  cancelWithheld(): BlkRequest[] {
    const w = this.withheld ?? [];
    if (this.withheld !== null) this.withheld = [];
    return w;
  }

  /** A cancelled command goes out again on its queue (the driver's requeue after the reset). */
  requeue(req: BlkRequest): void {
    const q = this.queues[req.deviceQueue]!;
    q.outstanding--;
    this.submit(q, req);
  }

  /**
   * A cancelled command ends with the status the driver gave it: the driver completes it
   * itself (nvme_cancel_request); the model hands it over through its queue's CQ.
   */
  endCancelled(req: BlkRequest): void {
    this.queues[req.deviceQueue]!.posted(req);
  }

  /** The CQE is in host memory: the command is complete. */
  private cqeVisible(req: BlkRequest): void {
    if (this.withheld !== null) {
      this.withheld.push(req);
      return;
    }
    req.status = STATUS_OK;
    this.completions++;
    if (req.isWrite) {
      this.writes++;
      this.writeBytes += req.totalBytes;
    } else {
      this.reads++;
      this.readBytes += req.totalBytes;
    }
    this.queues[req.deviceQueue]!.posted(req);
  }

  /** Starts a new measurement window now. */
  resetStats(): void {
    const now = this.sim.nowPs;
    this.statsSincePs = now;
    this.commands = this.completions = this.reads = this.writes = 0;
    this.readBytes = this.writeBytes = 0;
    this.writeStalls = 0;
    this.stalledArea = 0;
    this.stalledSincePs = now;
    this.peakBufferBytes = this.bufferBytes;
    this.programs = 0;
    this.programmedBytes = 0;
    // Work reserved before now that runs in the new window.
    this.coreBusyPs = pendingPs(this.coreFreePs, now);
    this.dieBusyPs = pendingPs(this.dieFreePs, now);
    this.channelBusyPs = pendingPs(this.channelFreePs, now);
    this.linkUpBusyPs = Math.max(0, this.linkUpFreePs - now);
    this.linkDownBusyPs = Math.max(0, this.linkDownFreePs - now);
    for (const q of this.queues) q.interrupts = q.commands = 0;
  }

  /**
   * Statistics of the window since resetStats(): counts, bytes, the write buffer (stalls,
   * mean stall, peak and current bytes) and the busy fraction of each kind of server.
   */
  stats(): SsdStats {
    const now = this.sim.nowPs;
    const windowPs = now - this.statsSincePs;
    const busy = (reservedPs: number, pendingAfterNowPs: number, servers: number): number =>
      windowPs > 0 ? (reservedPs - pendingAfterNowPs) / (windowPs * servers) : 0;
    const stalledArea = this.stalledArea + this.stalled.length * (now - this.stalledSincePs);
    let interrupts = 0;
    for (const q of this.queues) interrupts += q.interrupts;
    return {
      windowPs,
      commands: this.commands,
      completions: this.completions,
      reads: this.reads,
      writes: this.writes,
      readBytes: this.readBytes,
      writeBytes: this.writeBytes,
      interrupts,
      writeStalls: this.writeStalls,
      writeStallMeanPs: this.writeStalls > 0 ? stalledArea / this.writeStalls : 0,
      writesWaiting: this.stalled.length,
      bufferBytes: this.bufferBytes,
      bufferCapacityBytes: this.bufferCapacity,
      peakBufferBytes: this.peakBufferBytes,
      programs: this.programs,
      programmedBytes: this.programmedBytes,
      controllerBusy: busy(this.coreBusyPs, pendingPs(this.coreFreePs, now), this.coreFreePs.length),
      dieBusy: busy(this.dieBusyPs, pendingPs(this.dieFreePs, now), this.dies),
      channelBusy: busy(this.channelBusyPs, pendingPs(this.channelFreePs, now), this.channels),
      linkUpBusy: busy(this.linkUpBusyPs, Math.max(0, this.linkUpFreePs - now), 1),
      linkDownBusy: busy(this.linkDownBusyPs, Math.max(0, this.linkDownFreePs - now), 1),
    };
  }
}

/**
 * Ssd.stats(): a plain record of numbers (a type alias, so it is also a
 * Record<string, number>). Times in ps, sizes in bytes, busy fractions in [0, 1].
 */
export type SsdStats = {
  windowPs: number;
  /** Commands submitted, and completed (CQE posted), split by kind with their bytes. */
  commands: number;
  completions: number;
  reads: number;
  writes: number;
  readBytes: number;
  writeBytes: number;
  /** Interrupts raised over all queues. */
  interrupts: number;
  /** Writes that waited for buffer room, their mean wait, and how many wait now. */
  writeStalls: number;
  writeStallMeanPs: number;
  writesWaiting: number;
  bufferBytes: number;
  bufferCapacityBytes: number;
  peakBufferBytes: number;
  /** Page programs finished, and the host bytes they held. */
  programs: number;
  programmedBytes: number;
  controllerBusy: number;
  dieBusy: number;
  channelBusy: number;
  linkUpBusy: number;
  linkDownBusy: number;
};

/** Reserved work after now, over servers given by their free-at times [ps]. */
function pendingPs(freePs: Float64Array, now: number): number {
  let sum = 0;
  for (let i = 0; i < freePs.length; i++) if (freePs[i]! > now) sum += freePs[i]! - now;
  return sum;
}

function checkCosts(name: string, c: SsdCosts): void {
  const positiveInts: (keyof SsdCosts)[] = [
    'controllerCores', 'channels', 'diesPerChannel', 'pageBytes', 'linkMaxPayloadBytes', 'maxQueues',
  ];
  for (const k of positiveInts) {
    if (!(Number.isInteger(c[k]) && c[k] >= 1)) throw new RangeError(`${name}: ${k} must be an integer >= 1, got ${c[k]}`);
  }
  if (!(Number.isInteger(c.queueEntries) && c.queueEntries >= 2)) {
    throw new RangeError(`${name}: queueEntries must be an integer >= 2, got ${c.queueEntries}`);
  }
  const nonNegative: (keyof SsdCosts)[] = [
    'dmaReadPs', 'dmaWritePs', 'linkPsPerByte', 'linkTlpOverheadBytes', 'controllerPs', 'readMeanPs', 'readCv',
    'channelPsPerByte', 'programPs', 'programCv', 'partialFlushPs', 'irqCoalesceCount', 'irqCoalescePs',
  ];
  for (const k of nonNegative) {
    if (!(c[k] >= 0 && Number.isFinite(c[k]))) throw new RangeError(`${name}: ${k} must be a finite number >= 0, got ${c[k]}`);
  }
  if (!(c.writeAmplification >= 1)) throw new RangeError(`${name}: writeAmplification must be >= 1, got ${c.writeAmplification}`);
  if (!(c.writeBufferBytes >= 1)) throw new RangeError(`${name}: writeBufferBytes must be positive, got ${c.writeBufferBytes}`);
  if (c.readCv > 0 && !(c.readMeanPs > 0)) throw new RangeError(`${name}: a variable read time needs a positive mean`);
  if (c.programCv > 0 && !(c.programPs > 0)) throw new RangeError(`${name}: a variable program time needs a positive mean`);
}
