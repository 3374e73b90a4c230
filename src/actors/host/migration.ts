/**
 * QEMU live migration of guest RAM: pre-copy passes, auto-converge, postcopy, and the
 * stop-and-copy, as a mechanistic actor (research/migration-faults.md s1.2-1.7; QEMU
 * symbols are cited where they act).
 *
 * Memory is a fluid of 4 KiB pages, kept as integer counts: the pages still to send in
 * the current pass (`remaining`, of which `zeroRemaining` are zero pages, only in the
 * first pass), and the pages written since the last bitmap sync. Dirtying is a
 * deterministic fluid model: w writes spread uniformly over a set of S pages touch
 * S(1 - exp(-w/S)) distinct pages (the expected number), for the application
 * (rate x (1 - throttle) over vm.dirty_working_set_gib) and for the I/O path (ioWrote,
 * over its buffer pool), summed. No randomness.
 *
 * Sending is mechanistic: a send thread (the migration thread, or each multifd channel)
 * is a HostThread that holds its core for the CPU cost of a chunk (per KiB of non-zero
 * page: migration.send_ns_per_kib; per KiB of zero page scanned:
 * migration.zero_scan_ns_per_kib), then hands the chunk's bytes to the link (or to
 * hooks.send). A thread starts its next chunk while the previous one is on the wire, but
 * not two ahead (the socket buffer). Throughput is whatever the threads (contending for
 * their cores) and the link allow, under the rate limit of max-bandwidth per 100 ms
 * window. Chunks are >= 1 MiB and about 20 ms of CPU, so a window costs a few events.
 *
 * The loop follows migration_thread / migration_iteration_run:
 * - every window (>= BUFFER_DELAY 100 ms, migration_update_counters): bandwidth = bytes
 *   sent / time; threshold_size = bandwidth x downtime-limit;
 * - when the pages left in the pass (the pending estimate, ram_state_pending_estimate)
 *   are <= threshold_size, a bitmap sync (ram_state_pending_exact ->
 *   migration_bitmap_sync_precopy) adds the pages dirtied since the last one; if pending
 *   is then < threshold_size the stop-and-copy starts (migration_completion), else, if
 *   postcopy was asked for, postcopy starts (postcopy_start), else pre-copy goes on
 *   (at the end of a pass, pending is 0 <= threshold, so every pass ends in a sync);
 * - at each sync that closes a period of more than 1000 ms, migration_trigger_throttle:
 *   bytes dirtied in the period > 50 % of bytes sent in it, twice
 *   (++dirty_rate_high_cnt >= 2), throttles the guest (mig_throttle_guest_down: 20 %,
 *   then +10 % each time, at most 99 %).
 * QEMU has no iteration cap: a migration that never converges runs until the run ends
 * (reportUnfinished).
 *
 * Stop-and-copy (migration_completion): hooks.stopVm (do_vm_stop: pause vCPUs, quiesce
 * devices, drain block I/O; the harness calls done when that is over), the final sync
 * (migration_bitmap_sync_precopy(last_stage)), every dirty page at full speed
 * (ram_save_complete does not rate-limit), the device state, the destination's load
 * (migration.dest_load_ms), hooks.resumeVm. Downtime is stop to resume, measured.
 * Dirty logging stops after the switchover (ram_save_cleanup; OPNFV moved it off the
 * downtime path). Not modelled: the post-switchover announce (RARP/GARP at 50 ms,
 * then every +100 ms up to 550 ms, 5 rounds; DEFAULT_MIGRATE_ANNOUNCE_*), which is after
 * the resume and outside the downtime; the migration setup phase; xbzrle/compression;
 * dirty-limit; the 5 s dirty-sync timer of newer auto-converge
 * (cpu_throttle_dirty_sync_timer).
 *
 * Postcopy (postcopy_start): after migration.postcopy_after_passes passes without
 * convergence, the guest stops, the dirty bitmap is synced and its discards sent (as
 * many bytes as the bitmap), then the device state; the destination resumes (downtime
 * ends) and the remaining pages are pushed in the background at full speed and pulled
 * on demand (postcopyFault). missingFraction() is what a harness uses to charge guest
 * page faults. QEMU before 10.0 refused multifd with postcopy; here the push uses the
 * send threads either way.
 */
import type { Simulator } from '../../core/simulator.js';
import { AS_DOUBLE, PS_PER_S, ms, type TimePs } from '../../core/time.js';
import { bool, num, type ParamValues } from '../../calibration/param.js';
import type { TimelineRecorder } from '../../metrics/timeline-recorder.js';
import type { HostCpu, HostThread } from '../../primitives/host-cpu.js';
import { Link } from '../../primitives/link.js';

/** Target page size (TARGET_PAGE_SIZE on x86). */
export const PAGE_BYTES = 4096;
const PAGES_PER_GIB = (1 << 30) / PAGE_BYTES;
/** migration/migration-stats.h BUFFER_DELAY: the rate-limit and counter window. */
const BUFFER_DELAY_PS = ms(100);
/** save_page_header: a be64 of offset | flags before every page (RAM_SAVE_FLAG_CONTINUE: no block name). */
export const PAGE_HEADER_BYTES = 8;
/** save_zero_page: the header and one fill byte (legacy stream); multifd lists a zero page's 8-byte offset in its packet. */
const ZERO_PAGE_BYTES_LEGACY = 9;
const ZERO_PAGE_BYTES_MULTIFD = 8;
/** TCP over Ethernet at 1500 MTU: 1448 payload bytes (timestamps on) in 1538 bytes on the wire (preamble, IFG, FCS). */
const WIRE_FACTOR = 1538 / 1448;
/**
 * Chunks: at least 1 MiB of memory, and about this much CPU (a quarter of a scheduler
 * slice when the thread shares its core), so a 100 ms window costs a few events.
 */
const CHUNK_MIN_PAGES = 256;
const CHUNK_TARGET_PS = ms(20);

export type MigrationPhase = 'setup' | 'precopy' | 'stop-copy' | 'postcopy' | 'done';

/**
 * What the migration asks of the I/O path and the harness. Every member is optional; a
 * missing one does nothing (costs nothing, adds no bytes).
 */
export interface MigrationHooks {
  /**
   * Stop the guest for the switchover (do_vm_stop): pause the vCPUs, stop the devices
   * (virtio_vmstate_change; vhost stops its rings with GET_VRING_BASE), drain in-flight
   * block I/O (bdrv_drain_all) and flush. Call done once stopped; the time until then is
   * downtime. I/O completions during the drain may still call ioWrote.
   */
  stopVm?(done: () => void): void;
  /** The guest runs again, on the destination (end of the downtime). */
  resumeVm?(): void;
  /** Auto-converge changed the CPU throttle (0 to 0.99): vCPUs run 1 - fraction of the time (cpu_throttle_set). */
  throttle?(fraction: number): void;
  /** Dirty logging on (memory_global_dirty_log_start): vhost back ends now log every page they write. */
  logStart?(): void;
  /** Dirty logging off (memory_global_dirty_log_stop), after the switchover. */
  logStop?(): void;
  /** CPU time the path's part of a bitmap sync takes on the migration thread (vhost_log_sync, VFIO DMA logging) [ps]. */
  syncLog?(): TimePs;
  /** Device state the path adds to the stop-and-copy (virtio rings' indices, a VFIO device's STOP_COPY data) [bytes]. */
  deviceStateBytes?(): number;
  /**
   * Transmit override: put `bytes` of the migration stream on the path's own NIC (shared
   * with guest traffic) instead of the dedicated link; call done when they have left.
   */
  send?(bytes: number, done: () => void): void;
}

export interface MigrationOptions {
  sim: Simulator;
  cpu: HostCpu;
  /** Resolved parameters (calibration registry): vm.* and migration.*, host.wakeup_ns, wire.latency_ns. */
  params: ParamValues;
  hooks?: MigrationHooks;
  recorder?: TimelineRecorder;
  /** Core of the migration thread. */
  core: number;
  /** Cores of the multifd send threads (default: all on `core`); used when migration.multifd_channels > 0. */
  multifdCores?: readonly number[];
  /** Guest pages the I/O path writes into (RX buffers, block read buffers); 0: anywhere in guest memory. */
  ioPoolPages?: number;
  /** Makes a send thread instead of cpu.addThread on `core` (a run harness places it: host.pinning, host.cores). */
  addThread?: (o: { name: string; idleMode: 'sleep'; wakeupPs: number }) => HostThread;
}

interface Job {
  cpuPs: number;
  then: () => void;
}

/** A send thread (or the migration thread): runs CPU jobs in order on its HostThread. */
class Worker {
  readonly queue: Job[] = [];
  /** Chunks this thread handed to the link that have not left yet. */
  inFlight = 0;
  isBusy = false;
  constructor(readonly thread: HostThread) {
    thread.onRun = () => this.next();
  }
  push(job: Job): void {
    this.queue.push(job);
    this.thread.wake();
  }
  private next(): void {
    const job = this.queue.shift();
    if (job === undefined) {
      this.isBusy = false;
      this.thread.idle();
      return;
    }
    this.isBusy = true;
    this.thread.exec(Math.max(0, Math.round(job.cpuPs)), (j: Job) => {
      this.isBusy = false; // free for the next chunk while this one goes on the wire
      j.then();
      this.next();
    }, job);
  }
  get isFree(): boolean {
    return !this.isBusy && this.queue.length === 0;
  }
}

export class Migration {
  // --- public read-outs ---
  phase: MigrationPhase = 'setup';
  /** Dirty-bitmap syncs so far (QEMU dirty_sync_count: 1 during the first pass). */
  iterations = 0;
  /** CPU throttle now (0 to 0.99). */
  throttle = 0;
  /** Non-zero and zero pages that have left (all passes, stop-copy, postcopy). */
  normalPagesSent = 0;
  zeroPagesSent = 0;
  /** Page headers, zero-page records, device state and postcopy discards that have left [bytes]. */
  headerBytesSent = 0;
  stateBytesSent = 0;
  /** Migration start, stop (guest paused) and resume times [ps]; NaN until they happen. */
  startPs = AS_DOUBLE;
  stopPs = AS_DOUBLE;
  resumePs = AS_DOUBLE;
  endPs = AS_DOUBLE;
  /** threshold_size now [bytes]; measured bandwidth [bytes/s]. */
  thresholdBytes = 0;
  bandwidthBytesPerS = 0;
  /** Events the actor scheduled itself (windows, timers), for the event-cost test. */
  timersScheduled = 0;

  private readonly sim: Simulator;
  private readonly hooks: MigrationHooks;
  private readonly recorder: TimelineRecorder | null;
  private readonly link: Link<() => void> | null;
  private readonly main: Worker;
  private readonly channels: Worker[];
  private readonly isMultifd: boolean;
  // memory [pages]
  /** Guest memory [pages]. */
  readonly totalPages: number;
  private readonly workingSetPages: number;
  private readonly ioPoolPages: number;
  private remaining = 0;
  private zeroRemaining = 0;
  private isBulk = true;
  /** Pages taken for sending whose bytes have not left yet. */
  private inFlightPages = 0;
  // dirtying since the last sync
  private appRatePagesPerS: number;
  private appWrites = 0;
  /** Bitmap syncs so far (each resets the dirty counts). */
  private syncCount = 0;
  private ioWrites = 0;
  private dirtyFromPs = AS_DOUBLE;
  private isGuestRunning = true;
  private isLogging = false;
  // parameters
  private readonly sendPsPerPage: number;
  private readonly zeroScanPsPerPage: number;
  private readonly zeroPageBytes: number;
  private readonly syncPs: number;
  private readonly budgetPerWindow: number;
  private readonly downtimeLimitPs: number;
  private readonly autoConverge: boolean;
  private readonly triggerPct: number;
  private readonly throttleInitial: number;
  private readonly throttleIncrement: number;
  private readonly throttleMax: number;
  private readonly postcopyEnabled: boolean;
  private readonly postcopyAfter: number;
  private readonly deviceStateBase: number;
  private readonly destLoadPs: number;
  // the window (migration_update_counters, migration_rate_limit)
  private windowStartPs = AS_DOUBLE;
  private windowStartBytes = 0;
  private budgetLeft = 0;
  private isWindowTimerSet = false;
  // the sync period (migration_bitmap_sync, migration_trigger_throttle)
  private periodStartPs = AS_DOUBLE;
  private periodDirtyPages = 0;
  private periodStartBytes = 0;
  private dirtyRateHighCount = 0;
  private isSyncing = false;
  /** Pages found dirty by the last sync (for tests). */
  lastSyncDirtyPages = 0;
  private isFlushing = false;

  constructor(private readonly options: MigrationOptions) {
    const p = options.params;
    this.sim = options.sim;
    this.hooks = options.hooks ?? {};
    this.recorder = options.recorder ?? null;
    this.startPs = this.stopPs = this.resumePs = this.endPs = NaN;
    this.dirtyFromPs = this.windowStartPs = this.periodStartPs = 0;
    this.totalPages = Math.round(num(p, 'vm.memory_gib') * PAGES_PER_GIB);
    this.workingSetPages = Math.min(this.totalPages, Math.round(num(p, 'vm.dirty_working_set_gib') * PAGES_PER_GIB));
    const pool = options.ioPoolPages ?? 0;
    this.ioPoolPages = pool > 0 ? Math.min(pool, this.totalPages) : this.totalPages;
    this.appRatePagesPerS = num(p, 'vm.dirty_rate_pages_per_s');
    const kibPerPage = PAGE_BYTES / 1024;
    this.sendPsPerPage = num(p, 'migration.send_ns_per_kib') * 1000 * kibPerPage;
    this.zeroScanPsPerPage = num(p, 'migration.zero_scan_ns_per_kib') * 1000 * kibPerPage;
    this.syncPs = num(p, 'migration.sync_ns_per_gib') * 1000 * num(p, 'vm.memory_gib');
    this.budgetPerWindow = num(p, 'migration.max_bandwidth_mibps') * 1024 * 1024 * (BUFFER_DELAY_PS / PS_PER_S);
    this.downtimeLimitPs = ms(num(p, 'migration.downtime_limit_ms'));
    this.autoConverge = bool(p, 'migration.auto_converge');
    this.triggerPct = num(p, 'migration.throttle_trigger_threshold');
    this.throttleInitial = num(p, 'migration.cpu_throttle_initial') / 100;
    this.throttleIncrement = num(p, 'migration.cpu_throttle_increment') / 100;
    this.throttleMax = num(p, 'migration.max_cpu_throttle') / 100;
    this.postcopyEnabled = bool(p, 'migration.postcopy');
    this.postcopyAfter = num(p, 'migration.postcopy_after_passes');
    this.deviceStateBase = num(p, 'migration.device_state_bytes');
    this.destLoadPs = ms(num(p, 'migration.dest_load_ms'));

    const wakeupPs = Math.round(num(p, 'host.wakeup_ns') * 1000);
    const cpu = options.cpu;
    const add = (name: string, core: number): HostThread =>
      options.addThread !== undefined ? options.addThread({ name, idleMode: 'sleep', wakeupPs }) : cpu.addThread({ name, core, idleMode: 'sleep', wakeupPs });
    this.main = new Worker(add('migration', options.core));
    cpu.start(this.main.thread);
    const n = num(p, 'migration.multifd_channels');
    this.isMultifd = n > 0;
    this.zeroPageBytes = this.isMultifd ? ZERO_PAGE_BYTES_MULTIFD : ZERO_PAGE_BYTES_LEGACY;
    this.channels = [];
    if (this.isMultifd) {
      for (let i = 0; i < n; i++) {
        const core = options.multifdCores?.[i % options.multifdCores.length] ?? options.core;
        const w = new Worker(add(`multifdsend_${i}`, core));
        cpu.start(w.thread);
        this.channels.push(w);
      }
    } else {
      this.channels.push(this.main);
    }
    this.link =
      this.hooks.send === undefined
        ? new Link<() => void>(this.sim, (done) => done(), {
            latencyPs: Math.round(num(p, 'wire.latency_ns') * 1000),
            rateGbps: num(p, 'migration.link_gbps'),
            wireBytes: (b) => b * WIRE_FACTOR,
          })
        : null;
  }

  // ------------------------------------------------------------------ public API

  /**
   * Starts the migration now (qmp_migrate): dirty logging on, the setup sync, the first
   * pass over all memory. requestedAtPs: when the user asked for it, if the passes begin
   * later (virtio-net failover's wait-unplug); the total time counts from then.
   */
  start(requestedAtPs?: TimePs): void {
    if (this.phase !== 'setup' || !Number.isNaN(this.startPs)) throw new Error('migration: started twice');
    const now = this.sim.nowPs;
    this.startPs = requestedAtPs ?? now;
    this.remaining = this.totalPages;
    this.zeroRemaining = Math.min(this.totalPages, Math.round(num(this.options.params, 'vm.zero_page_fraction') * this.totalPages));
    this.isLogging = true;
    this.hooks.logStart?.();
    this.dirtyFromPs = now;
    this.windowStartPs = now;
    this.budgetLeft = this.budgetPerWindow;
    this.periodStartPs = now;
    // ram_init_bitmaps: every page starts dirty, then migration_bitmap_sync_precopy (dirty_sync_count = 1)
    this.isSyncing = true;
    this.main.push({
      cpuPs: this.syncCostPs(),
      then: () => {
        this.isSyncing = false;
        this.iterations = 1;
        this.appWrites = this.ioWrites = 0;
        this.syncCount++;
        this.dirtyFromPs = this.sim.nowPs;
        this.phase = 'precopy';
        this.progress();
        this.pump();
      },
    });
  }

  /** The I/O path wrote `pages` guest pages (received packets, block reads) into its buffer pool. */
  ioWrote(pages: number): void {
    if (this.isLogging && pages > 0) this.ioWrites += pages;
  }

  /** Postcopy: the guest touched `pages` missing pages; done when they have arrived (the fault resolves). */
  postcopyFault(pages: number, done: () => void): void {
    const take = this.phase === 'postcopy' ? Math.min(Math.max(0, Math.round(pages)), this.remaining) : 0;
    if (take === 0) {
      this.sim.post(0, done);
      return;
    }
    this.remaining -= take;
    this.inFlightPages += take;
    const bytes = take * (PAGE_BYTES + PAGE_HEADER_BYTES);
    this.transmit(bytes, () => {
      this.inFlightPages -= take;
      this.normalPagesSent += take;
      this.headerBytesSent += take * PAGE_HEADER_BYTES;
      done();
      this.pump();
    });
  }

  /**
   * Distinct pages the guest's own writes have dirtied since the last bitmap sync (what
   * KVM's tracking saw: each first write to a page after a sync, whatever the I/O path
   * wrote), and the syncs so far: a harness charges the guest for KVM's tracking from it.
   */
  guestDirtiedSinceSync(): { pages: number; syncs: number } {
    this.accrueDirty();
    const w = this.workingSetPages;
    return { pages: w > 0 ? w * (1 - Math.exp(-this.appWrites / w)) : 0, syncs: this.syncCount };
  }

  /** Fraction of guest memory not yet on the destination (postcopy; 0 otherwise). */
  missingFraction(): number {
    if (this.phase !== 'postcopy') return 0;
    return (this.remaining + this.inFlightPages) / this.totalPages;
  }

  /** The run ends: a migration still going is reported as unfinished (pages so far). */
  reportUnfinished(): void {
    if (!this.isFinished && this.recorder !== null) this.recorder.migrationUnfinished(this.pagesSent);
  }

  get isFinished(): boolean {
    return this.phase === 'done';
  }
  /** Pages that have left (non-zero and zero; QEMU ram_get_total_transferred_pages). */
  get pagesSent(): number {
    return this.normalPagesSent + this.zeroPagesSent;
  }
  /** Migration stream bytes that have left (pages, headers, device state), before wire framing. */
  get bytesSent(): number {
    return this.normalPagesSent * PAGE_BYTES + this.headerBytesSent + this.stateBytesSent;
  }
  /** Start to end of the migration [ps]; NaN until done. */
  get totalPs(): TimePs {
    return this.endPs - this.startPs;
  }
  /** Guest stopped to guest resumed [ps]; NaN until resumed. */
  get downtimePs(): TimePs {
    return this.resumePs - this.stopPs;
  }
  /** Pages dirty and not yet sent. */
  get dirtyPages(): number {
    return this.remaining;
  }

  // ------------------------------------------------------------------ the loop

  /** migration_thread's loop body: counters, the stop decision, then queue chunks within the rate budget. */
  private pump(): void {
    const phase = this.phase;
    if (phase === 'precopy') {
      this.updateCounters();
      if (this.isSyncing) return;
      // migration_iteration_run: the cheap estimate first, the exact one (a sync) when it is small
      if (this.remaining * PAGE_BYTES <= this.thresholdBytes) {
        this.sync(false, () => this.afterSync());
        return;
      }
      this.fill(true);
    } else if (phase === 'stop-copy') {
      if (!this.isFlushing) return;
      this.fill(false);
      if (this.remaining === 0 && this.inFlightPages === 0) {
        this.isFlushing = false;
        this.sendDeviceState(0, () => this.sim.post(this.destLoadPs, () => this.switchover()));
      }
    } else if (phase === 'postcopy') {
      if (!this.isFlushing) return;
      this.fill(false);
      if (this.remaining === 0 && this.inFlightPages === 0) this.finish();
    }
  }

  /** After an exact sync: stop-and-copy, postcopy, or another pass. */
  private afterSync(): void {
    const pending = this.remaining * PAGE_BYTES;
    if (pending === 0 || pending < this.thresholdBytes) {
      this.completion();
    } else if (this.postcopyEnabled && this.iterations - 1 >= this.postcopyAfter) {
      this.postcopyStart();
    } else {
      this.pump();
    }
  }

  /** Hands chunks to free send threads (rate-limited when `limited`). */
  private fill(limited: boolean): void {
    for (const w of this.channels) {
      if (this.remaining === 0) return;
      if (!w.isFree || w.inFlight > 1) continue;
      if (limited && this.budgetLeft <= 0) {
        this.armWindowTimer();
        return;
      }
      this.sendChunk(w, limited);
    }
  }

  private sendChunk(w: Worker, limited: boolean): void {
    const zeroShare = this.remaining > 0 ? this.zeroRemaining / this.remaining : 0;
    const psPerPage = zeroShare * this.zeroScanPsPerPage + (1 - zeroShare) * this.sendPsPerPage;
    const bytesPerPage = zeroShare * this.zeroPageBytes + (1 - zeroShare) * (PAGE_BYTES + PAGE_HEADER_BYTES);
    // A thread that shares its core works in quarter slices: a HostThread step is not cut,
    // so a thread overruns its slice by up to one step (CFS would preempt it at the tick);
    // one alone on its core works in larger chunks (fewer events).
    const targetPs = w.thread.sharesCore ? Math.min(CHUNK_TARGET_PS, this.options.cpu.options.slicePs / 4) : CHUNK_TARGET_PS;
    let pages = Math.max(CHUNK_MIN_PAGES, psPerPage > 0 ? Math.floor(targetPs / psPerPage) : this.remaining);
    if (limited) pages = Math.min(pages, Math.max(1, Math.floor(this.budgetLeft / bytesPerPage)));
    pages = Math.min(pages, this.remaining);
    const zeros = Math.min(this.zeroRemaining, Math.round(pages * zeroShare));
    const normal = pages - zeros;
    this.remaining -= pages;
    this.zeroRemaining -= zeros;
    if (this.remaining === 0) this.isBulk = false;
    this.inFlightPages += pages;
    const headerBytes = normal * PAGE_HEADER_BYTES + zeros * this.zeroPageBytes;
    const bytes = normal * PAGE_BYTES + headerBytes;
    if (limited) this.budgetLeft -= bytes;
    w.push({
      cpuPs: zeros * this.zeroScanPsPerPage + normal * this.sendPsPerPage,
      then: () => {
        w.inFlight++;
        this.transmit(bytes, () => {
          w.inFlight--;
          this.inFlightPages -= pages;
          this.normalPagesSent += normal;
          this.zeroPagesSent += zeros;
          this.headerBytesSent += headerBytes;
          this.pump();
        });
        this.pump();
      },
    });
  }

  private transmit(bytes: number, done: () => void): void {
    if (this.link !== null) this.link.send(done, bytes);
    else this.hooks.send!(bytes, done);
  }

  /** migration_rate_limit: the budget is spent, sleep until the window ends. */
  private armWindowTimer(): void {
    if (this.isWindowTimerSet) return;
    this.isWindowTimerSet = true;
    this.timersScheduled++;
    const at = Math.max(this.sim.nowPs, this.windowStartPs + BUFFER_DELAY_PS);
    this.sim.at(at, () => {
      this.isWindowTimerSet = false;
      this.pump();
    });
  }

  /** migration_update_counters: at most once per BUFFER_DELAY, bandwidth and threshold_size; the rate budget restarts. */
  private updateCounters(): void {
    const now = this.sim.nowPs;
    const spent = now - this.windowStartPs;
    if (spent < BUFFER_DELAY_PS) return;
    const sent = this.bytesSent;
    this.bandwidthBytesPerS = ((sent - this.windowStartBytes) * PS_PER_S) / spent;
    this.thresholdBytes = (this.bandwidthBytesPerS * this.downtimeLimitPs) / PS_PER_S;
    this.windowStartPs = now;
    this.windowStartBytes = sent;
    this.budgetLeft = this.budgetPerWindow;
    this.progress();
  }

  // ------------------------------------------------------------------ dirtying and syncs

  /** Adds the application's page writes since the last call (raw writes, before saturation). */
  private accrueDirty(): void {
    const now = this.sim.nowPs;
    if (this.isGuestRunning && this.isLogging) {
      this.appWrites += (this.appRatePagesPerS * (1 - this.throttle) * (now - this.dirtyFromPs)) / PS_PER_S;
    }
    this.dirtyFromPs = now;
  }

  private syncCostPs(): number {
    return this.syncPs + (this.hooks.syncLog?.() ?? 0);
  }

  /**
   * migration_bitmap_sync: on the migration thread, then the pages dirtied since the last
   * sync join the pages still to send (expected distinct pages; those already pending
   * are not counted twice), and the throttle period may close.
   */
  private sync(isLast: boolean, then: () => void): void {
    this.isSyncing = true;
    this.main.push({
      cpuPs: this.syncCostPs(),
      then: () => {
        this.isSyncing = false;
        this.accrueDirty();
        this.syncCount++;
        const w = this.workingSetPages;
        const pool = this.ioPoolPages;
        const fresh =
          (w > 0 ? w * (1 - Math.exp(-this.appWrites / w)) : 0) + (pool > 0 ? pool * (1 - Math.exp(-this.ioWrites / pool)) : 0);
        this.appWrites = this.ioWrites = 0;
        const regionSize = Math.max(1, Math.min(this.totalPages, w + pool));
        // pages still pending that lie where the writes land: all of them after the first pass
        const pendingInRegion = this.isBulk ? (this.remaining - this.zeroRemaining) * (regionSize / this.totalPages) : Math.min(this.remaining, regionSize);
        const overlap = fresh * Math.min(1, pendingInRegion / regionSize);
        const added = Math.max(0, Math.min(this.totalPages - this.remaining, Math.round(fresh - overlap)));
        this.remaining += added;
        this.lastSyncDirtyPages = added;
        this.periodDirtyPages += added;
        this.iterations++;
        if (!isLast) this.closePeriodMaybe();
        this.progress();
        then();
      },
    });
  }

  /** The 1000 ms period check of migration_bitmap_sync, and migration_trigger_throttle. */
  private closePeriodMaybe(): void {
    const now = this.sim.nowPs;
    if (now <= this.periodStartPs + ms(1000)) return;
    const sent = this.bytesSent;
    const bytesXfer = sent - this.periodStartBytes;
    const bytesDirty = this.periodDirtyPages * PAGE_BYTES;
    if (bytesDirty > (bytesXfer * this.triggerPct) / 100 && ++this.dirtyRateHighCount >= 2) {
      this.dirtyRateHighCount = 0;
      if (this.autoConverge) this.throttleDown();
    }
    this.periodStartPs = now;
    this.periodDirtyPages = 0;
    this.periodStartBytes = sent;
  }

  /** mig_throttle_guest_down: initial, then + increment, at most max. */
  private throttleDown(): void {
    this.accrueDirty();
    const next = this.throttle === 0 ? this.throttleInitial : Math.min(this.throttle + this.throttleIncrement, this.throttleMax);
    this.throttle = Math.round(next * 100) / 100;
    this.hooks.throttle?.(this.throttle);
  }

  // ------------------------------------------------------------------ switchover

  /** Stops the guest (hooks.stopVm), then `then` once it has stopped. */
  private stopGuest(then: () => void): void {
    this.accrueDirty();
    this.isGuestRunning = false;
    this.stopPs = this.sim.nowPs;
    const stop = this.hooks.stopVm;
    if (stop === undefined) then();
    else stop.call(this.hooks, then);
  }

  /** migration_completion: stop, final sync, everything left at full speed, device state, destination load, resume. */
  private completion(): void {
    this.phase = 'stop-copy';
    this.progress();
    this.stopGuest(() => {
      this.sync(true, () => {
        this.isLogging = false;
        this.isFlushing = true;
        this.pump();
      });
    });
  }

  /** postcopy_start: stop, sync and send the discard bitmap, device state, resume on the destination, then push the rest. */
  private postcopyStart(): void {
    this.phase = 'stop-copy';
    this.progress();
    this.stopGuest(() => {
      this.sync(true, () => {
        this.isLogging = false;
        const discardBytes = Math.ceil(this.totalPages / 8);
        const resume = (): void => {
          this.sim.post(this.destLoadPs, () => {
            this.resumePs = this.sim.nowPs;
            this.resumeGuest();
            this.phase = 'postcopy';
            this.isFlushing = true;
            this.progress();
            this.pump();
          });
        };
        // the in-flight chunks drain first (the stream is ordered), then discards and state
        this.whenDrained(() => this.sendDeviceState(discardBytes, resume));
      });
    });
  }

  private whenDrained(then: () => void): void {
    if (this.inFlightPages === 0) {
      then();
      return;
    }
    this.timersScheduled++;
    this.sim.post(ms(1), () => this.whenDrained(then));
  }

  /** The non-iterable device state (and any extra bytes) on the main stream. */
  private sendDeviceState(extraBytes: number, then: () => void): void {
    const bytes = this.deviceStateBase + (this.hooks.deviceStateBytes?.() ?? 0) + extraBytes;
    this.main.push({
      cpuPs: (bytes / 1024) * (this.sendPsPerPage / (PAGE_BYTES / 1024)),
      then: () => {
        this.transmit(bytes, () => {
          this.stateBytesSent += bytes;
          then();
        });
      },
    });
  }

  private resumeGuest(): void {
    if (this.throttle !== 0) {
      this.throttle = 0; // cpu_throttle_stop
      this.hooks.throttle?.(0);
    }
    this.isGuestRunning = true;
    this.hooks.resumeVm?.();
  }

  /** Precopy switchover: the destination has loaded everything; the guest runs there. */
  private switchover(): void {
    this.resumePs = this.sim.nowPs;
    this.resumeGuest();
    this.finish();
  }

  private finish(): void {
    this.phase = 'done';
    this.endPs = this.sim.nowPs;
    this.hooks.logStop?.();
    this.progress();
    this.recorder?.migrationDone(this.totalPs, this.downtimePs, this.pagesSent, this.bytesSent);
  }

  private progress(): void {
    this.recorder?.migrationProgress(this.sim.nowPs, {
      iteration: this.iterations,
      dirtyPages: this.remaining,
      pagesSent: this.pagesSent,
      phase: this.phase,
    });
  }
}
