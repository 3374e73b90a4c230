/**
 * fio job files in: `iovsim run job.fio`. A job file (fio's INI dialect: [global] and
 * job sections, `key=value` and bare `key` flags, `;` and `#` comments, `${VAR}` from the
 * environment) becomes a scenario object of the block workload, which then goes through
 * the same validation as a YAML scenario (planScenario), so every check applies.
 *
 * What a job file can say and how it maps (README "fio job files", docs/model.md s5):
 * - Each option is modelled (it sets a workload field), ignored (it changes nothing in
 *   a simulation: file names, logs, reporting, buffer contents... listed once on stderr)
 *   or refused (it would change the result and is not modelled: exit 2 naming it, the
 *   file and the line). A name fio does not know is refused as unknown.
 * - Jobs run as fio runs them: a job with `stonewall` (or `wait_for_previous`, or
 *   `wait_for=` the whole previous step) starts a new step after the jobs before it;
 *   steps run in order, each a point of the scenario (a zip sweep over the fields that
 *   differ). Jobs of one step run at the same time in fio: iovsim runs them as one job
 *   with their numjobs added up, which it can only do when their settings are the same;
 *   other combinations are refused.
 * - fio's size bounds a job (size/bs I/Os per job, or io_size, or number_ios), and so
 *   does runtime (`runtime_s`, a limit on the window); `time_based` runs for runtime
 *   alone (ops is then a cap, JOB_FILE_OPS_CAP); ramp_time is warm-up time. fio
 *   measures from the first I/O: no warm-up I/Os.
 */
import { basename } from 'node:path';
import { InputError, didYouMean } from '../util/input-error.js';
import { applySets, parseSets, planScenario, withSetBlame, type Plan } from './load.js';
import { readInputFile } from '../util/read-input.js';

/** The iovsim option of a job file that names the paths to run on (a comma list). */
export const IOVSIM_PATH_OPTION = 'iovsim_path';

/**
 * A step of a job file also stops at this many I/Os (all its jobs together): a
 * time_based job has no bound on its I/Os but its runtime, and the run's tail store
 * (stages.csv) is sized by the I/O count. The command says when a run reached it.
 */
export const JOB_FILE_OPS_CAP = 10_000_000;

/** Region each job addresses when the file gives neither size nor filesize (the workload's default). */
const DEFAULT_REGION_BYTES = 1024 ** 3;

/** One `key=value` (or bare `key`) line of a job file. */
export interface FioOption {
  key: string;
  /** null for a bare flag. */
  value: string | null;
  line: number;
}

/** One [section] of a job file. */
export interface FioSection {
  name: string;
  line: number;
  isGlobal: boolean;
  options: FioOption[];
}

/** A step's job as fio.json names it. */
export interface FioStepInfo {
  /** The job sections run together, joined by "+". */
  name: string;
  /** fio's reporting group (stonewall and new_group start a new one). */
  groupid: number;
  /** The first section's own options, as fio's "job options" (values as written). */
  options: Record<string, string>;
}

/** What a job file turns into. */
export interface FioJobFilePlan {
  plan: Plan;
  /** One per step: sweep point i is step i. */
  steps: FioStepInfo[];
  /** The options of the [global] sections, as fio's "global options". */
  globalOptions: Record<string, string>;
  /** Options ignored (no effect on a simulation), sorted, each once. */
  ignored: string[];
  /** Steps (points) whose ops is JOB_FILE_OPS_CAP (time_based, or a size of more I/Os). */
  cappedSteps: number[];
}

/** A scenario file is YAML or JSON by its name; a .fio or .job file, or one whose first line is a [section], is a fio job file. */
export function isFioJobFile(file: string): boolean {
  if (/\.(fio|job)$/i.test(file)) return true;
  if (/\.(ya?ml|json)$/i.test(file)) return false;
  let text: string;
  try {
    text = readInputFile(file); // bounded, and a FIFO or device is refused, not read
  } catch {
    return false; // the scenario reader then says what is wrong with the file
  }
  for (const raw of text.split('\n')) {
    const line = stripComment(raw).trim();
    if (line !== '') return /^\[[^\]]+\]$/.test(line);
  }
  return false;
}

/** fio strips everything from the first ';' or '#' of a line (parse.c strip_blank_end). */
function stripComment(line: string): string {
  const cut = line.search(/[;#]/);
  return cut >= 0 ? line.slice(0, cut) : line;
}

/**
 * Splits a job file into sections and options, as fio's __parse_jobs_ini: blank lines
 * and comments skipped, `${VAR}` expanded from `env` (an unset one is refused: fio would
 * put an empty string), `include` refused.
 */
export function parseFioIni(text: string, file: string, env: Readonly<Record<string, string | undefined>> = process.env): FioSection[] {
  const sections: FioSection[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const at = `${file}:${lineNo}`;
    let line = stripComment(raw).trim();
    if (line === '') return;
    if (line.startsWith('[')) {
      const m = /^\[([^\]]+)\]$/.exec(line);
      if (!m || m[1]!.trim() === '') throw new InputError(`${at}: "${line}": a section header is [name] on a line of its own`);
      const name = m[1]!.trim();
      // fio: a section whose name starts with "global" is the global section
      sections.push({ name, line: lineNo, isGlobal: name.startsWith('global'), options: [] });
      return;
    }
    const section = sections[sections.length - 1];
    if (!section) throw new InputError(`${at}: "${line}": option outside of a [section] (a job file starts with [global] or a job's [name])`);
    if (/^include(\s|$)/.test(line)) throw new InputError(`${at}: include: not supported by iovsim; paste the included file's options here`);
    line = expandVariables(line, at, env);
    const eq = line.indexOf('=');
    const key = (eq >= 0 ? line.slice(0, eq) : line).trim();
    const value = eq >= 0 ? line.slice(eq + 1).trim() : null;
    if (key === '' || /\s/.test(key)) throw new InputError(`${at}: "${line}": expected key=value or a bare key`);
    section.options.push({ key, value, line: lineNo });
  });
  return sections;
}

function expandVariables(line: string, at: string, env: Readonly<Record<string, string | undefined>>): string {
  const out = line.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined) throw new InputError(`${at}: \${${name}}: not set in the environment (fio would put an empty string); set it or write the value`);
    return v;
  });
  const kw = /\$(pagesize|mb_memory|ncpus)\b/.exec(out);
  if (kw) throw new InputError(`${at}: $${kw[1]}: fio's machine keywords describe the machine fio runs on, which iovsim has not; write the value`);
  return out;
}

// ---------------------------------------------------------------------------------------
// Options

/** fio 3.x's option names (options.c, engines/*.c, profiles/*.c; aliases included). */
const FIO_OPTIONS = new Set(
  `allow_file_create allow_mounted_write allrandrepeat apptag apptag_mask arguments atomic ba bindname block block_error_percentiles
blockalign blocksize blocksize_range blocksize_unaligned brick bs bs_is_seq_rand bs_unaligned bsrange bssplit buffer_compress_chunk
buffer_compress_percentage buffer_pattern buffered busy_poll bwavgtime cdb_len cgroup cgroup_nodelete cgroup_weight chunck_size
chunk_size clat_percentiles clientname clocksource clustername cmd_type cmdprio cmdprio_bssplit cmdprio_class cmdprio_hint
cmdprio_percentage comm conf cont continue_on_error cpuchunks cpuload cpumask cpumode cpus_allowed cpus_allowed_policy create_fsync
create_on_open create_only create_serialize cuda_io data_placement dataplacement deac dedupe_global dedupe_mode dedupe_percentage
dedupe_working_set_percentage description device-names dir direct directory disable_bw disable_bw_measurement disable_clat disable_lat
disable_slat disk_util do_verify donorname dp_scheme dummy end_fsync end_syncfs engine_name error_dump exec_postrun exec_prerun
exit_on_io_done exit_what exitall exitall_on_error experimental_verify fadvise_hint fallocate fdatasync fdp fdp_pli fdp_pli_select
file_append file_service_type filename filename_format fileoffset filesize filetype fill_device fill_fs fixedbufs flow flow_id
flow_sleep flow_watermark force_async fsync fsync_on_close gid gpu_dev_id gpu_dev_ids grace_time group_reporting gtod_cpu gtod_reduce
hdfs_use_direct hdfsdirectory hipri hipri_percentage hostname http_host http_mode http_object_mode http_pass http_s3_key http_s3_keyid
http_s3_region http_s3_security_token http_s3_sse_customer_algorithm http_s3_sse_customer_key http_s3_storage_class
http_swift_auth_token http_user http_verbose https hugepage-size ignore_error ignore_zone_limits initiator inplace interface invalidate
io_limit io_size io_submit_mode iodepth iodepth_batch iodepth_batch_complete iodepth_batch_complete_max iodepth_batch_complete_min
iodepth_batch_submit iodepth_low ioengine iomem iomem_align iopsavgtime ioscheduler job_max_open_zones job_start_clock_id kb_base
large-block-op-kbytes lat_percentiles latency_percentile latency_run latency_target latency_window libaio_vectored libblkio_driver
libblkio_force_enable_completion_eventfd libblkio_num_entries libblkio_path libblkio_pre_connect_props libblkio_pre_start_props
libblkio_queue_size libblkio_vectored libblkio_wait_mode libblkio_write_zeroes_on_trim listen load lockfile lockmem log_alternate_epoch
log_alternate_epoch_clock_id log_avg_msec log_compression log_compression_cpus log_entries log_hist_coarseness log_hist_msec
log_issue_time log_max_value log_offset log_prio log_store_compressed log_unix_epoch log_window_value loops max_latency max_open_zones
md_per_io_size mem mem_align merge_blktrace_file merge_blktrace_iters merge_blktrace_scalars mss name namenode new_group nfs_url nice
no_completion_thread nodelay nonvectored norandommap nowait nr_files nrfiles num_range numa_cpu_nodes numa_mem_policy number_ios
numjobs numruns object_class offset offset_align offset_increment opendir openfiles overwrite per_job_logs percentage_random
percentage_sequential percentile_list pi_act pi_chk pingpong plid_select plids pool port pre_read prep prio prioclass priohint profile
program proto protocol ramp_size ramp_time random_distribution random_generator random_sequence_stride randrepeat randseed rate
rate_cycle rate_ignore_thinktime rate_iops rate_iops_min rate_min rate_process ratecycle ratemin rbd_encryption_format
rbd_encryption_passphrase rbdname read-req-num-512-blocks read_beyond_wp read_iolog read_iolog_chunked read_mode readfua readwrite
recover_zbd_write_error refill_buffers registerfiles replay_align replay_no_stall replay_redirect replay_scale replay_skip
replay_time_scale rocm_io runtime rw rw_sequencer rwmixcycle rwmixread rwmixwrite scramble_buffers serialize_overlap sg_write_mode
significant_figures single-instance single_instance size skip_bad slat_percentiles softrandommap spr_cs spr_num_regions spr_op
sprandom sqthread_poll sqthread_poll_cpu ss ss_dur ss_interval ss_ramp startdelay stat_type stats std_redirect steadystate
steadystate_check_interval steadystate_duration steadystate_ramp_time stonewall stream_id svcl sync sync_file_range test-duration
thinkcycles thinktime thinktime_blocks thinktime_blocks_type thinktime_iotime thinktime_spin thp thread threads threads-per-queue
time_based timeout touch_objects trim_backlog trim_backlog_batch trim_percentage trim_verify_zero ttl uid uncached unified_rw_reporting
unique_filename unit_base unlink unlink_each_loop uri userspace_reap verb verify verify_async verify_async_cpus verify_backlog
verify_backlog_batch verify_bytchk verify_dump verify_fatal verify_header_seed verify_interval verify_mode verify_offset verify_only
verify_pattern verify_pattern_interval verify_policy verify_state_load verify_state_save verify_write_sequence verifysort
verifysort_nr volume wait_for wait_for_previous window_size write_barrier write_bw_log write_hint write_hist_log write_iolog
write_iops_log write_lat_log write_mode write_zone_remainder writefua xnvme_admin xnvme_async xnvme_be xnvme_dev_nsid
xnvme_dev_subnqn xnvme_iovec xnvme_mem xnvme_sync zero_buffers zone_reset_frequency zone_reset_threshold zonecapacity zonemode
zonerange zonesize zoneskip`.split(/\s+/),
);

/**
 * Options that change nothing in a simulation: names, files and folders (the simulated
 * disk has none), logs and reporting (fio.json always carries clat and lat percentiles
 * at fio's default list), buffer contents (the simulated SSD neither compresses nor
 * dedupes), file set-up before the job, memory for buffers, error handling (a simulated
 * I/O does not fail), priorities (nothing else competes with a job file's jobs), and
 * direct/buffered: iovsim models direct I/O, whatever the file says (no page cache).
 */
const IGNORED = new Set(
  `name description filename filename_format directory unique_filename filetype openfiles group_reporting thread threads uid gid
invalidate randrepeat allrandrepeat randseed norandommap softrandommap random_generator write_bw_log write_lat_log write_iops_log
write_hist_log log_avg_msec log_hist_msec log_hist_coarseness log_max_value log_offset log_prio log_issue_time log_compression
log_compression_cpus log_store_compressed log_alternate_epoch log_alternate_epoch_clock_id log_unix_epoch log_entries log_window_value
per_job_logs bwavgtime iopsavgtime disk_util clat_percentiles lat_percentiles slat_percentiles percentile_list block_error_percentiles
significant_figures unit_base stats gtod_reduce gtod_cpu clocksource job_start_clock_id disable_lat disable_clat disable_slat
disable_bw_measurement disable_bw zero_buffers refill_buffers scramble_buffers buffer_pattern buffer_compress_percentage
buffer_compress_chunk dedupe_percentage dedupe_mode dedupe_working_set_percentage dedupe_global overwrite create_serialize create_fsync
create_on_open allow_file_create allow_mounted_write fallocate fadvise_hint unlink unlink_each_loop iomem mem iomem_align mem_align
hugepage-size lockmem continue_on_error ignore_error error_dump exitall exitall_on_error exec_prerun exec_postrun cgroup
cgroup_nodelete offset offset_increment offset_align nice prio prioclass priohint rate_ignore_thinktime do_verify verify_interval
verify_pattern verify_pattern_interval verify_offset verify_fatal verify_dump verify_async verify_async_cpus verify_backlog
verify_backlog_batch verify_state_save verify_state_load verify_header_seed verify_write_sequence verify_mode verify_bytchk
verifysort verifysort_nr experimental_verify trim_percentage trim_backlog trim_backlog_batch trim_verify_zero rwmixcycle direct
buffered std_redirect`.split(/\s+/),
);

/** Options refused unless they say what the model does; the value they must have, and what they would otherwise do. */
const DEFAULT_ONLY: Record<string, { ok: (v: string) => boolean; does: string }> = {
  loops: { ok: (v) => v === '1', does: 'runs the job again; run the file with --set replications=N instead' },
  startdelay: { ok: isZero, does: 'delays a job: jobs starting at different times are not modelled' },
  thinktime: { ok: isZero, does: 'idles between I/Os' },
  fsync: { ok: isZero, does: 'adds fsync calls' },
  fdatasync: { ok: isZero, does: 'adds fdatasync calls' },
  end_fsync: { ok: isZero, does: 'adds an fsync at the end' },
  fsync_on_close: { ok: isZero, does: 'adds an fsync at close' },
  sync: { ok: (v) => ['0', 'none'].includes(v), does: 'opens the file O_SYNC/O_DSYNC: writes through the device cache' },
  write_barrier: { ok: isZero, does: 'makes writes barriers' },
  verify: { ok: (v) => ['0', 'none'].includes(v), does: 'reads back and checks what was written' },
  io_submit_mode: { ok: (v) => v === 'inline', does: 'submits I/O from other threads' },
  random_distribution: { ok: (v) => v === 'random', does: 'skews the offsets (iovsim draws them uniformly)' },
  nrfiles: { ok: (v) => v === '1', does: 'spreads a job over several files' },
  nr_files: { ok: (v) => v === '1', does: 'spreads a job over several files' },
  iodepth_batch_complete_min: { ok: (v) => v === '1', does: 'reaps completions in batches (iovsim reaps what is in, at least one)' },
  iodepth_batch_complete: { ok: (v) => v === '1', does: 'reaps completions in batches (iovsim reaps what is in, at least one)' },
  ioscheduler: { ok: (v) => v === 'none', does: 'switches the I/O scheduler (iovsim models none)' },
  unified_rw_reporting: { ok: (v) => ['0', 'none'].includes(v), does: 'changes the JSON layout' },
  serialize_overlap: { ok: isZero, does: 'holds back overlapping I/Os' },
  bs_unaligned: { ok: isZero, does: 'issues unaligned I/O' },
  blocksize_unaligned: { ok: isZero, does: 'issues unaligned I/O' },
  lockfile: { ok: (v) => v === 'none', does: 'serializes the I/O of jobs sharing a file' },
  create_only: { ok: isZero, does: 'only creates the files' },
  pre_read: { ok: isZero, does: 'reads the file into the page cache first' },
  fill_device: { ok: isZero, does: 'writes until the device is full' },
  file_append: { ok: isZero, does: 'appends to the file' },
  zonemode: { ok: (v) => v === 'none', does: 'addresses a zoned device' },
};

function isZero(v: string): boolean {
  return /^0+\s*[a-z]*$/i.test(v);
}

/** Why some options are refused (the rest: "not modelled by iovsim"). */
const REFUSED_BECAUSE: Record<string, string> = {
  bssplit: 'a mix of block sizes',
  cpus_allowed: 'pins the jobs to CPUs (iovsim runs job j on vCPU j mod vm.vcpus)',
  cpumask: 'pins the jobs to CPUs (iovsim runs job j on vCPU j mod vm.vcpus)',
  cpus_allowed_policy: 'pins the jobs to CPUs',
  latency_target: 'searches for the depth that meets a latency target',
  rate_min: 'fails a job below a rate',
  ratemin: 'fails a job below a rate',
  rate_iops_min: 'fails a job below a rate',
  max_latency: 'fails a job above a latency',
  steadystate: 'ends a job at steady state',
  ss: 'ends a job at steady state',
  fixedbufs: 'registered buffers: less CPU per I/O',
  registerfiles: 'registered files: less CPU per I/O',
  sqthread_poll: 'a kernel thread polls the submission queue',
  nonvectored: 'changes the io_uring commands',
  force_async: 'punts every I/O to io_uring workers',
  userspace_reap: 'reaps libaio completions in user space',
  thinktime_blocks: 'idles between batches of I/Os',
  exit_what: 'ends jobs when another ends',
  numa_cpu_nodes: 'places jobs on NUMA nodes',
  numa_mem_policy: 'places buffers on NUMA nodes',
  profile: 'a built-in fio profile',
  rw_sequencer: 'changes the sequence of offsets',
  ramp_size: 'a warm-up by size',
  rate_cycle: 'averages the rate over a window',
};

/** fio's I/O engines iovsim models, and what fio's synchronous engines map to. */
const ENGINES: Record<string, 'psync' | 'libaio' | 'io_uring'> = { psync: 'psync', sync: 'psync', libaio: 'libaio', io_uring: 'io_uring' };
const RW_VALUES = ['read', 'write', 'randread', 'randwrite', 'randrw', 'rw', 'readwrite'];
const TRIM_VALUES = ['trim', 'randtrim', 'trimwrite', 'randtrimwrite'];

/** A job's settings after its options (global ones first). */
interface JobSettings {
  name: string;
  line: number;
  rw: string;
  bs: number;
  bsLine: number;
  iodepth: number;
  numjobs: number;
  rwmixread: number;
  ioengine: 'psync' | 'libaio' | 'io_uring';
  hipri: boolean;
  hipriLine: number;
  /** Per direction [read, write] as written, with their line. */
  rateIops: { values: (number | undefined)[]; line: number } | null;
  rateBytes: { values: (number | undefined)[]; line: number } | null;
  rateProcess: 'linear' | 'poisson';
  size: number | null;
  ioSize: number | null;
  fileSize: number | null;
  numberIos: number | null;
  runtimeUs: number;
  timeBased: boolean;
  timeBasedLine: number;
  rampUs: number;
  stonewall: boolean;
  newGroup: boolean;
  waitFor: { name: string; line: number } | null;
  batchSubmit: number | null;
  iodepthLow: { value: number; line: number } | null;
  blockAlign: { value: number; line: number } | null;
  percentageRandom: { value: number; line: number } | null;
  batchCompleteMax: { value: number; line: number } | null;
  paths: { names: string[]; line: number } | null;
  /** The section's own options as written (fio's "job options"). */
  own: Record<string, string>;
}

/** Reads one job's options (the global ones that precede it, then its own). */
function jobSettings(section: FioSection, globals: readonly FioOption[], file: string, ignored: Set<string>): JobSettings {
  const all = [...globals, ...section.options];
  const s: JobSettings = {
    name: section.name,
    line: section.line,
    rw: 'read',
    bs: 4096,
    bsLine: section.line,
    iodepth: 1,
    numjobs: 1,
    rwmixread: 50,
    ioengine: 'psync', // fio's default on Linux (os-linux.h FIO_PREFERRED_ENGINE)
    hipri: false,
    hipriLine: section.line,
    rateIops: null,
    rateBytes: null,
    rateProcess: 'linear',
    size: null,
    ioSize: null,
    fileSize: null,
    numberIos: null,
    runtimeUs: 0,
    timeBased: false,
    timeBasedLine: section.line,
    rampUs: 0,
    stonewall: false,
    newGroup: false,
    waitFor: null,
    batchSubmit: null,
    iodepthLow: null,
    blockAlign: null,
    percentageRandom: null,
    batchCompleteMax: null,
    paths: null,
    own: {},
  };
  // (fio lists options with a value; bare flags are left out)
  for (const o of section.options) if (o.value !== null) s.own[o.key] = o.value;
  // kb_base first (fio parses it before the sizes it changes)
  let kbBase = 1024;
  for (const o of all) {
    if (o.key !== 'kb_base') continue;
    const v = needValue(o, file);
    if (v !== '1024' && v !== '1000') throw new InputError(`${file}:${o.line}: kb_base=${v}: must be 1024 or 1000`);
    kbBase = Number(v);
  }
  for (const o of all) {
    const at = `${file}:${o.line}`;
    const shown = o.value === null ? o.key : `${o.key}=${o.value}`;
    const k = o.key;
    if (k === 'kb_base') continue;
    if (k === IOVSIM_PATH_OPTION) {
      const names = needValue(o, file).split(',').map((p) => p.trim()).filter((p) => p !== '');
      if (names.length === 0) throw new InputError(`${at}: ${shown}: name at least one path (iovsim list paths)`);
      s.paths = { names, line: o.line };
      continue;
    }
    if (!FIO_OPTIONS.has(k)) {
      const near = didYouMean(k, [...FIO_OPTIONS, IOVSIM_PATH_OPTION]);
      throw new InputError(`${at}: unknown fio option "${k}"${near}`);
    }
    if (IGNORED.has(k)) {
      ignored.add(k);
      continue;
    }
    const only = DEFAULT_ONLY[k];
    if (only) {
      const v = (o.value ?? '1').trim();
      if (!only.ok(v)) throw notModelled(at, shown, only.does);
      continue;
    }
    switch (k) {
      case 'rw':
      case 'readwrite': {
        const v = needValue(o, file);
        if (v.includes(':')) throw notModelled(at, shown, 'the offset modifier after ":" (holes or a sequence of offsets)');
        if (TRIM_VALUES.includes(v)) throw notModelled(at, shown, 'trims');
        if (!RW_VALUES.includes(v)) throw new InputError(`${at}: ${shown}: unknown value${didYouMean(v, RW_VALUES)}; allowed: ${RW_VALUES.join(', ')}`);
        s.rw = v;
        break;
      }
      case 'bs':
      case 'blocksize': {
        s.bs = oneSize(o, file, kbBase, 'different block sizes for reads and writes');
        s.bsLine = o.line;
        break;
      }
      case 'bsrange':
      case 'blocksize_range': {
        const ranges = needValue(o, file).split(',').filter((r) => r.trim() !== '');
        const sizes = ranges.flatMap((r) => {
          const parts = r.split('-');
          if (parts.length !== 2) throw new InputError(`${at}: ${shown}: a range is min-max, e.g. 4k-4k`);
          return parts.map((p) => parseSize(p, { ...o, value: p }, file, kbBase));
        });
        if (sizes.some((x) => x !== sizes[0])) throw notModelled(at, shown, 'a range of block sizes (min-max with min = max is one size)');
        s.bs = sizes[0]!;
        s.bsLine = o.line;
        break;
      }
      case 'ba':
      case 'blockalign':
        s.blockAlign = { value: oneSize(o, file, kbBase, 'different alignments for reads and writes'), line: o.line };
        break;
      case 'iodepth':
        s.iodepth = intAtLeast(o, file, kbBase, 1);
        break;
      case 'numjobs':
        s.numjobs = intAtLeast(o, file, kbBase, 1);
        break;
      case 'rwmixread':
      case 'rwmixwrite': {
        const v = intAtLeast(o, file, kbBase, 0);
        if (v > 100) throw new InputError(`${at}: ${shown}: a percentage from 0 to 100`);
        // fio: setting one sets the other to 100 minus it; the last one written wins
        s.rwmixread = k === 'rwmixread' ? v : 100 - v;
        break;
      }
      case 'ioengine': {
        const v = needValue(o, file);
        const engine = ENGINES[v];
        if (engine === undefined) {
          throw notModelled(at, shown, `iovsim models the engines ${Object.keys(ENGINES).join(', ')} (sync as psync)`);
        }
        s.ioengine = engine;
        break;
      }
      case 'hipri':
        s.hipri = bool(o, file);
        s.hipriLine = o.line;
        break;
      case 'rate_iops':
        s.rateIops = { values: perDirection(o, file, kbBase), line: o.line };
        break;
      case 'rate':
        s.rateBytes = { values: perDirection(o, file, kbBase), line: o.line };
        break;
      case 'rate_process': {
        const v = needValue(o, file);
        if (v !== 'linear' && v !== 'poisson') throw new InputError(`${at}: ${shown}: allowed: linear, poisson`);
        s.rateProcess = v;
        break;
      }
      case 'size':
        s.size = positiveSize(o, file, kbBase);
        break;
      case 'io_size':
      case 'io_limit':
        s.ioSize = positiveSize(o, file, kbBase);
        break;
      case 'filesize': {
        const v = needValue(o, file);
        if (v.includes('-') || v.includes(':')) throw notModelled(at, shown, 'a range of file sizes');
        s.fileSize = positiveSize(o, file, kbBase);
        break;
      }
      case 'number_ios':
        s.numberIos = intAtLeast(o, file, kbBase, 0) || null; // 0: no limit
        break;
      case 'runtime':
      case 'timeout':
        s.runtimeUs = parseTimeUs(o, file, 1e6);
        break;
      case 'time_based':
        s.timeBased = bool(o, file);
        s.timeBasedLine = o.line;
        break;
      case 'ramp_time':
        s.rampUs = parseTimeUs(o, file, 1e6);
        break;
      case 'stonewall':
      case 'wait_for_previous':
        s.stonewall = bool(o, file);
        break;
      case 'new_group':
        s.newGroup = bool(o, file);
        break;
      case 'wait_for':
        s.waitFor = { name: needValue(o, file), line: o.line };
        break;
      case 'iodepth_batch':
      case 'iodepth_batch_submit':
        s.batchSubmit = Math.max(1, intAtLeast(o, file, kbBase, 0)); // fio: 0 means 1
        break;
      case 'iodepth_low':
        s.iodepthLow = { value: intAtLeast(o, file, kbBase, 0), line: o.line };
        break;
      case 'percentage_random':
      case 'percentage_sequential': {
        const v = intAtLeast(o, file, kbBase, 0);
        s.percentageRandom = { value: k === 'percentage_random' ? v : 100 - v, line: o.line };
        break;
      }
      case 'iodepth_batch_complete_max':
        s.batchCompleteMax = { value: intAtLeast(o, file, kbBase, 0), line: o.line };
        break;
      default:
        throw notModelled(at, shown, REFUSED_BECAUSE[k] ?? '');
    }
  }
  // checks that need several options
  if (s.percentageRandom && s.rw.startsWith('rand') && s.percentageRandom.value !== 100) {
    throw notModelled(`${file}:${s.percentageRandom.line}`, `percentage_random=${s.percentageRandom.value}`, 'mixes random and sequential I/O');
  }
  if (s.blockAlign && s.blockAlign.value !== s.bs) {
    throw notModelled(`${file}:${s.blockAlign.line}`, `blockalign=${s.blockAlign.value}`, `an alignment other than bs (${s.bs})`);
  }
  if (s.iodepthLow && s.iodepthLow.value !== 0 && s.iodepthLow.value < s.iodepth) {
    throw notModelled(`${file}:${s.iodepthLow.line}`, `iodepth_low=${s.iodepthLow.value}`, `refills only when the depth falls to it (iovsim refills at once, as fio's default iodepth_low = iodepth = ${s.iodepth})`);
  }
  if (s.batchCompleteMax && s.batchCompleteMax.value !== 0 && s.batchCompleteMax.value < s.iodepth) {
    throw notModelled(`${file}:${s.batchCompleteMax.line}`, `iodepth_batch_complete_max=${s.batchCompleteMax.value}`, 'reaps at most that many completions per call');
  }
  if (s.hipri && s.ioengine !== 'io_uring') {
    throw notModelled(`${file}:${s.hipriLine}`, 'hipri', `polled completions are modelled with ioengine=io_uring only, not ${s.ioengine}`);
  }
  return s;
}

function notModelled(at: string, shown: string, does: string): InputError {
  return new InputError(`${at}: ${shown}: not modelled by iovsim${does === '' ? '' : ` (${does})`}; remove it to run the file`);
}

function needValue(o: FioOption, file: string): string {
  if (o.value === null || o.value === '') throw new InputError(`${file}:${o.line}: ${o.key}: needs a value (${o.key}=...)`);
  return o.value;
}

function bool(o: FioOption, file: string): boolean {
  if (o.value === null || o.value === '') return true;
  if (o.value === '1') return true;
  if (o.value === '0') return false;
  throw new InputError(`${file}:${o.line}: ${o.key}=${o.value}: a flag is 0 or 1 (or the bare ${o.key})`);
}

/**
 * A byte count with fio's suffixes (parse.c get_mult_bytes): k, m, g, t, p (and kb, mb...)
 * are powers of kb_base (1024 by default); kib, mib, ... the other base (1000 with the
 * default kb_base=1024, fio's compatibility mode). Case does not matter.
 */
export function parseSize(text: string, o: FioOption, file: string, kbBase = 1024): number {
  const m = /^\s*(\d+)\s*([a-z%]*)\s*$/i.exec(text);
  const at = `${file}:${o.line}: ${o.key}=${o.value ?? ''}`;
  if (!m) throw new InputError(`${at}: not a size (digits and a suffix k, m, g, t; e.g. 4k)`);
  const suffix = m[2]!.toLowerCase();
  if (suffix === '%') throw notModelled(`${file}:${o.line}`, `${o.key}=${o.value ?? ''}`, 'a share of the file or device, whose size iovsim does not know; give bytes');
  const pows: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5 };
  let mult = 1;
  if (suffix !== '' && suffix !== 'b') {
    const si = /^([kmgtp])(b?)$/.exec(suffix);
    const iec = /^([kmgtp])ib$/.exec(suffix);
    if (si) mult = kbBase ** pows[si[1]!]!;
    else if (iec) mult = (kbBase === 1024 ? 1000 : 1024) ** pows[iec[1]!]!;
    else throw new InputError(`${at}: unknown suffix "${m[2]}" (k, m, g, t, p; kib, mib...)`);
  }
  return Number(m[1]) * mult;
}

function positiveSize(o: FioOption, file: string, kbBase: number): number {
  const v = parseSize(needValue(o, file), o, file, kbBase);
  if (v <= 0) throw new InputError(`${file}:${o.line}: ${o.key}=${o.value}: must be more than 0 bytes`);
  return v;
}

function intAtLeast(o: FioOption, file: string, kbBase: number, min: number): number {
  const v = parseSize(needValue(o, file), o, file, kbBase);
  if (!Number.isSafeInteger(v) || v < min) throw new InputError(`${file}:${o.line}: ${o.key}=${o.value}: must be a whole number, at least ${min}`);
  return v;
}

/** A block size (bs=4k, or bs=4k,4k for reads and writes: refused when they differ). */
function oneSize(o: FioOption, file: string, kbBase: number, differs: string): number {
  const values = perDirection(o, file, kbBase).filter((v): v is number => v !== undefined);
  if (values.length === 0) throw new InputError(`${file}:${o.line}: ${o.key}: needs a value`);
  if (values.some((v) => v !== values[0])) throw notModelled(`${file}:${o.line}`, `${o.key}=${o.value ?? ''}`, differs);
  const v = values[0]!;
  if (v < 512 || v % 512 !== 0 || v > 4 * 1024 * 1024) {
    throw new InputError(`${file}:${o.line}: ${o.key}=${o.value}: a block size is a multiple of 512 bytes from 512 to 4m`);
  }
  return v;
}

/** fio's per-direction values: "a" (every direction) or "a,b[,c]" (read, write, trim; empty: unset). */
function perDirection(o: FioOption, file: string, kbBase: number): (number | undefined)[] {
  const parts = needValue(o, file).split(',');
  if (parts.length > 3) throw new InputError(`${file}:${o.line}: ${o.key}=${o.value}: at most three values (read, write, trim)`);
  const values = parts.map((p) => (p.trim() === '' ? undefined : parseSize(p, o, file, kbBase)));
  return parts.length === 1 ? [values[0], values[0]] : [values[0], values[1]];
}

/** A time with fio's suffixes (us, ms, s, m, h, d); a bare number is in `bareUs` units (seconds for runtime). */
function parseTimeUs(o: FioOption, file: string, bareUs: number): number {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(needValue(o, file));
  const units: Record<string, number> = { '': bareUs, us: 1, usec: 1, ms: 1e3, msec: 1e3, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6 };
  const mult = m ? units[m[2]!.toLowerCase()] : undefined;
  if (!m || mult === undefined) throw new InputError(`${file}:${o.line}: ${o.key}=${o.value}: not a time (a number, in seconds, or with us, ms, s, m, h, d)`);
  return Number(m[1]) * mult;
}

// ---------------------------------------------------------------------------------------
// Jobs to steps to a scenario

/** The workload fields of one job (numjobs and ops apart: a step adds them up). */
function jobWorkload(s: JobSettings, file: string): { fields: Record<string, unknown>; perJobOps: number | null } {
  const at = (line: number) => `${file}:${line}`;
  const reads = ['read', 'randread'].includes(s.rw);
  const writes = ['write', 'randwrite'].includes(s.rw);
  // the rate: rate_iops, or rate (bytes/s) / bs, of the direction the job does
  let rate: number | undefined;
  for (const [r, perIo] of [[s.rateIops, 1], [s.rateBytes, s.bs]] as const) {
    if (r === null) continue;
    const [read, write] = r.values;
    if (!reads && !writes && (read !== undefined || write !== undefined)) {
      throw notModelled(at(r.line), perIo === 1 ? 'rate_iops' : 'rate', `a rate for a mixed job (fio caps reads and writes each; iovsim's rate is one open loop per job): give rw=read, write, randread or randwrite`);
    }
    const v = reads ? read : write;
    if (v === undefined || v === 0) continue; // no rate for this direction: closed loop
    rate = v / perIo;
  }
  const region = s.fileSize ?? s.size ?? DEFAULT_REGION_BYTES;
  if (region < s.bs) throw new InputError(`${at(s.line)}: [${s.name}]: size ${region} is below bs ${s.bs}`);
  // I/Os per job: fio runs a job until it has moved its size (io_size, else size, else
  // filesize), or number_ios, or runtime; time_based ignores the size
  let perJobOps: number | null;
  if (s.timeBased) {
    if (s.runtimeUs === 0) throw new InputError(`${at(s.timeBasedLine)}: [${s.name}]: time_based needs a runtime (runtime=60, in seconds)`);
    perJobOps = s.numberIos;
  } else {
    const bytes = s.ioSize ?? s.size ?? s.fileSize;
    if (bytes === null) {
      throw new InputError(
        `${at(s.line)}: [${s.name}]: no size: fio would move the whole file or device, whose size iovsim does not know; give size= (bytes per job), or runtime= with time_based`,
      );
    }
    perJobOps = Math.floor(bytes / s.bs);
    if (perJobOps < 1) throw new InputError(`${at(s.line)}: [${s.name}]: size ${bytes} is below bs ${s.bs}: no I/O to do`);
    if (s.numberIos !== null) perJobOps = Math.min(perJobOps, s.numberIos);
  }
  const fields: Record<string, unknown> = {
    kind: 'blk',
    rw: s.rw,
    bs: s.bs,
    iodepth: s.iodepth,
    ioengine: s.ioengine,
    hipri: s.hipri,
    size: region,
    iodepth_batch_submit: s.batchSubmit ?? 1,
    warmup_ops: 0,
  };
  if (!reads && !writes) fields['rwmixread'] = s.rwmixread;
  if (s.rampUs > 0) fields['warmup_s'] = s.rampUs / 1e6;
  if (s.runtimeUs > 0) fields['runtime_s'] = s.runtimeUs / 1e6;
  if (rate !== undefined) {
    fields['rate_iops'] = rate;
    fields['rate_process'] = s.rateProcess;
  }
  return { fields, perJobOps };
}

interface Step {
  jobs: JobSettings[];
  fields: Record<string, unknown>;
  perJobOps: number | null;
  numjobs: number;
  startedBy: 'first' | 'stonewall' | 'wait_for';
  waitFor: string | null;
  groupid: number;
}

/** Groups jobs into steps that run one after another (fio's stonewall and wait_for). */
function stepsOf(jobs: JobSettings[], file: string): Step[] {
  const steps: Step[] = [];
  let groupid = 0;
  let groupJobs = 0;
  jobs.forEach((job, i) => {
    if ((job.stonewall || job.newGroup) && groupJobs > 0) {
      groupid++;
      groupJobs = 0;
    }
    groupJobs++;
    const { fields, perJobOps } = jobWorkload(job, file);
    const current = steps[steps.length - 1];
    let newStep: Step['startedBy'] | null = null;
    if (current === undefined) newStep = 'first';
    else if (job.stonewall) newStep = 'stonewall';
    else if (job.waitFor !== null) {
      const w = job.waitFor;
      const earlier = jobs.slice(0, i).map((j) => j.name);
      if (!earlier.includes(w.name)) {
        const known = jobs.map((j) => j.name).filter((n) => n !== job.name);
        throw new InputError(`${file}:${w.line}: wait_for=${w.name}: no job section [${w.name}] before [${job.name}]${didYouMean(w.name, known)}`);
      }
      if (current.startedBy === 'wait_for' && current.waitFor === w.name) newStep = null;
      else if (current.jobs.every((j) => j.name === w.name)) newStep = 'wait_for';
      else {
        const others = current.jobs.filter((j) => j.name !== w.name).map((j) => `[${j.name}]`);
        throw notModelled(
          `${file}:${w.line}`,
          `wait_for=${w.name}`,
          `[${job.name}] would start while ${others.join(', ')} still run${others.length > 1 ? '' : 's'}; iovsim runs a file's jobs in steps, one after another, and wait_for only for the whole step before`,
        );
      }
    } else if (current.startedBy === 'wait_for') {
      throw new InputError(
        `${file}:${job.line}: [${job.name}]: has no stonewall or wait_for, so fio starts it with the jobs before [${current.jobs[0]!.name}], not after [${current.waitFor}]; iovsim runs a file's jobs in steps, one after another: give it stonewall or wait_for=${current.waitFor}`,
      );
    }
    if (newStep !== null) {
      steps.push({ jobs: [job], fields, perJobOps, numjobs: job.numjobs, startedBy: newStep, waitFor: job.waitFor?.name ?? null, groupid });
      return;
    }
    // runs alongside the step's jobs: one job with numjobs added up, if the settings agree
    const step = current!;
    const differs = Object.keys({ ...fields, ...step.fields }).filter((k) => JSON.stringify(fields[k]) !== JSON.stringify(step.fields[k]));
    if (perJobOps !== step.perJobOps) differs.push('ops per job');
    if (differs.length > 0) {
      throw new InputError(
        `${file}:${job.line}: [${job.name}] runs at the same time as [${step.jobs[0]!.name}] in fio (no stonewall between them) with other settings (${differs.join(', ')}); iovsim runs jobs side by side only as numjobs of one setting: add stonewall to run them one after another, or make them the same`,
      );
    }
    step.jobs.push(job);
    step.numjobs += job.numjobs;
  });
  return steps;
}

/** The ops of a step: all its jobs together (a time_based step: the cap). */
function stepOps(step: Step): number {
  return step.perJobOps === null ? JOB_FILE_OPS_CAP : Math.min(JOB_FILE_OPS_CAP, step.perJobOps * step.numjobs);
}

/** What a workload field absent from some steps stands for in the zip (a field with no such value is refused). */
const ABSENT_AS: Record<string, unknown> = { runtime_s: 9000, warmup_s: 0, rwmixread: 50 };

/** A scenario name from the file's name: letters, digits, _ . - only, no leading dot. */
function scenarioName(file: string): string {
  const name = basename(file).replace(/\.(fio|job|ini)$/i, '').replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[.-]+/, '').slice(0, 100);
  return name === '' ? 'fio-job' : name;
}

export interface FioJobFileOptions {
  /** --set overrides: workload.* ones apply to every job, the others to the scenario. */
  sets?: readonly string[];
  seed?: number;
  /** --paths a,b: overrides the file's iovsim_path. */
  paths?: string;
  env?: Readonly<Record<string, string | undefined>>;
  /** See PlanOptions (load.ts). */
  beforeSetUp?: (plan: Plan) => void;
}

/** Reads a fio job file and plans it as a scenario (the same validation as a YAML scenario's). */
export function loadFioJobFile(file: string, options: FioJobFileOptions = {}): FioJobFilePlan {
  return planFioJobText(readInputFile(file, 'job file'), file, options);
}

/** Plans the text of a job file (loadFioJobFile without the file). */
export function planFioJobText(text: string, file: string, options: FioJobFileOptions = {}): FioJobFilePlan {
  const sections = parseFioIni(text, file, options.env ?? process.env);
  const ignored = new Set<string>();
  const globals: FioOption[] = [];
  const globalOptions: Record<string, string> = {};
  const jobs: JobSettings[] = [];
  for (const section of sections) {
    if (section.isGlobal) {
      globals.push(...section.options);
      for (const o of section.options) if (o.value !== null) globalOptions[o.key] = o.value;
      continue;
    }
    jobs.push(jobSettings(section, [...globals], file, ignored));
  }
  // a [global] on its own is checked too (fio parses it)
  if (jobs.length === 0) {
    jobSettings({ name: 'global', line: 1, isGlobal: true, options: [] }, globals, file, ignored);
    throw new InputError(`${file}: no job sections (only [global]): a job file names at least one job, e.g. [job1]`);
  }
  const steps = stepsOf(jobs, file);

  // the paths: --paths, else iovsim_path (the same for every job)
  let paths: string[] | undefined;
  const withPaths = jobs.filter((j) => j.paths !== null);
  if (withPaths.length > 0) {
    const first = withPaths[0]!.paths!;
    const other = jobs.find((j) => JSON.stringify(j.paths?.names) !== JSON.stringify(first.names));
    if (other && options.paths === undefined) {
      throw new InputError(
        `${file}:${other.paths?.line ?? other.line}: [${other.name}]: ${IOVSIM_PATH_OPTION} differs from [${withPaths[0]!.name}]'s (${first.names.join(',')}); every job of a file runs on the same paths: set it in [global]`,
      );
    }
    paths = first.names;
  }
  if (options.paths !== undefined) paths = options.paths.split(',').map((p) => p.trim());

  // --set workload.* applies to every job; the rest to the scenario
  const sets = options.sets ?? [];
  const parsed = parseSets(sets);
  if (options.seed !== undefined) parsed.push(['seed', options.seed]);
  const sweepSet = parsed.find(([k]) => k.startsWith('sweep.'));
  if (sweepSet) throw new InputError(`--set ${sweepSet[0]}: a job file's jobs are its points; to sweep, write a scenario file`);
  const workloadSets = parsed.filter(([k]) => k.startsWith('workload.'));
  const otherSets = parsed.filter(([k]) => !k.startsWith('workload.'));
  const workloads = steps.map((step) => {
    const w = { ...step.fields, numjobs: step.numjobs, ops: stepOps(step) };
    return (applySets({ workload: w }, workloadSets)['workload'] ?? w) as Record<string, unknown>;
  });

  const scenario: Record<string, unknown> = {
    name: scenarioName(file),
    description: `fio job file ${basename(file)}: ${steps.map((s) => s.jobs.map((j) => `[${j.name}]`).join('+')).join(', then ')}`,
    workload: workloads[0],
    ...(paths ? { paths } : {}),
    seed: 1,
  };
  if (workloads.length > 1) {
    const keys = [...new Set(workloads.flatMap((w) => Object.keys(w)))];
    const zip: Record<string, unknown[]> = {};
    for (const key of keys) {
      const values = workloads.map((w) => w[key]);
      if (values.every((v) => JSON.stringify(v) === JSON.stringify(values[0]))) continue;
      const absent = ABSENT_AS[key];
      if (absent !== undefined) for (let i = 0; i < values.length; i++) values[i] ??= absent;
      if (values.some((v) => v === undefined)) {
        const i = values.findIndex((v) => v === undefined);
        const j = values.findIndex((v) => v !== undefined);
        throw new InputError(
          `${file}:${steps[i]!.jobs[0]!.line}: [${steps[i]!.jobs[0]!.name}] has no ${key === 'rate_iops' || key === 'rate_process' ? 'rate' : key} and [${steps[j]!.jobs[0]!.name}] has one; iovsim runs a file's steps as points of one scenario, which cannot mix open-loop (rate) and closed-loop jobs: split the file`,
        );
      }
      zip[`workload.${key}`] = values;
    }
    // repeated jobs with the same settings: still one point each
    if (Object.keys(zip).length === 0) zip['workload.rw'] = workloads.map((w) => w['rw']);
    scenario['sweep'] = { zip };
  }
  const withSets = applySets(scenario, otherSets);
  const plan = withSetBlame(() => planScenario(withSets, file, options.beforeSetUp ? { beforeSetUp: options.beforeSetUp } : {}), sets);
  return {
    plan,
    steps: steps.map((s) => ({ name: s.jobs.map((j) => j.name).join('+'), groupid: s.groupid, options: { ...s.jobs[0]!.own } })),
    globalOptions,
    ignored: [...ignored].sort(),
    cappedSteps: workloads.flatMap((w, i) => (w['ops'] === JOB_FILE_OPS_CAP ? [i] : [])),
  };
}
