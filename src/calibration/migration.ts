/**
 * Live migration (QEMU pre-copy, auto-converge, postcopy) and the guest memory it moves.
 * Sources: research/migration-faults.md s1 (QEMU defaults read in migration/options.c,
 * algorithm in migration/migration.c and migration/ram.c) and s2 (published figures).
 * The actor is src/actors/host/migration.ts.
 */
import type { ParamDef } from './param.js';

export const MIGRATION_PARAMS: ParamDef[] = [
  {
    name: 'vm.memory_gib', default: 4, unit: 'GiB', min: 0.0625, max: 4096,
    source: 'modelling estimate: a small cloud guest (the published cases use 8, 24 and 256 GiB)',
    description: 'guest RAM migrated, in 4 KiB pages',
  },
  {
    name: 'vm.zero_page_fraction', default: 0, unit: 'ratio', min: 0, max: 1,
    source: 'modelling estimate: a guest that has written all its memory; fresh guests are mostly zero (QEMU commit 7ca1dfad95: 64,946,416 of 67,111,056 pages of a 256 GB Java guest were zero, 0.968)',
    description: 'fraction of memory that is zero pages at the start: scanned (migration.zero_scan_ns_per_kib) and sent as a header only',
  },
  {
    name: 'vm.dirty_rate_pages_per_s', default: 0, unit: 'pages/s', min: 0, max: 1e9,
    source: 'modelling estimate: an idle guest (QEMU commit 7ca1dfad95 reports 67,551 pages/s for a busy 20-vCPU Java warehouse)',
    description: "the application's page writes per second, uniform over vm.dirty_working_set_gib; CPU throttling scales it by (1 - throttle)",
  },
  {
    name: 'vm.dirty_working_set_gib', default: 1, unit: 'GiB', min: 0, max: 4096,
    source: 'modelling estimate (P. Xu, qemu-devel May 2021, dirties 20 GB of a 24 GB guest)',
    description: 'memory the application writes to: distinct dirty pages after t saturate as W(1 - exp(-r t / W))',
  },
  {
    name: 'migration.max_bandwidth_mibps', default: 128, unit: 'MiB/s', min: 1, max: 1e6,
    source: 'QEMU migration/options.c MAX_THROTTLE (128 << 20) B/s (research/migration-faults.md s1.1); older QEMU 32 MiB/s',
    description: 'max-bandwidth: bytes queued per BUFFER_DELAY (100 ms) window at most max-bandwidth x 0.1 s (migration_rate_limit); not applied to the stop-and-copy or postcopy (max-postcopy-bandwidth 0)',
  },
  {
    name: 'migration.link_gbps', default: 10, unit: 'Gb/s', min: 0.01, max: 800,
    source: 'modelling estimate: a dedicated 10 GbE host NIC (the OPNFV and P. Xu cases use 10 GbE)',
    description: 'line rate of the migration link (TCP over Ethernet at 1500 MTU: 1448 payload bytes per 1538 on the wire); a harness may route the stream through its own NIC instead (hooks.send)',
  },
  {
    name: 'migration.multifd_channels', default: 0, unit: 'count', min: 0, max: 64, integer: true,
    source: 'QEMU DEFAULT_MIGRATE_MULTIFD_CHANNELS 2 when multifd is on; off by default (research/migration-faults.md s1.1); docs/devel/migration/multifd.rst: "8 usually provides best performance"',
    description: '0: the migration thread scans and sends every page; n > 0: n multifd send threads do (with zero-page detection in the channels, QEMU >= 9.0 zero-page-detection=multifd)',
  },
  {
    name: 'migration.send_ns_per_kib', default: 604, unit: 'ns/KiB', min: 0, max: 1e6,
    source: 'cloud-hypervisor PR #7669 (an analogue, not QEMU): one connection moves 1617 MiB/s on 100 GbE, i.e. 1e9 / (1617 x 1024) = 604 ns per KiB of one thread (research/migration-faults.md s2)',
    description: 'CPU time a send thread spends per KiB of a non-zero page (find it in the bitmap, check it, copy it into the socket)',
  },
  {
    name: 'migration.zero_scan_ns_per_kib', default: 40, unit: 'ns/KiB', min: 0, max: 1e6,
    source: 'derived from OPNFV kvmfornfv docs/userguide/live_migration.userguide.rst: an idle 8 GiB guest (QEMU 2.4, AVX2 zero check) migrated in 401 ms at 10 GbE, so scanning its ~8 GiB of zero pages took under ~390 ms, <= 46 ns/KiB; 40 taken. It calibrates on that figure (the test of it checks consistency, not an independent prediction); the same page shows -m 1G in its command line',
    description: 'CPU time to find that a page is all zeros (buffer_is_zero reads the whole page)',
  },
  {
    name: 'migration.sync_ns_per_gib', default: 100000, unit: 'ns/GiB', min: 0, max: 1e10,
    source: 'modelling estimate: KVM_GET_DIRTY_LOG / CLEAR_DIRTY_LOG and the bitmap merge walk 32 KiB of bitmap per GiB (0.1 ms per GiB); no published figure found (research/migration-faults.md s2 "Not found")',
    description: 'migration_bitmap_sync on the migration thread, per GiB of guest memory (plus the path\'s log sync, hooks.syncLog)',
  },
  {
    name: 'migration.downtime_limit_ms', default: 300, unit: 'ms', min: 0, max: 2000000,
    source: 'QEMU DEFAULT_MIGRATE_SET_DOWNTIME 300 ms (research/migration-faults.md s1.1)',
    description: 'downtime-limit: stop-and-copy starts when pending <= measured bandwidth x this (threshold_size)',
  },
  {
    name: 'migration.auto_converge', default: false, unit: 'bool',
    source: 'QEMU capability auto-converge, off by default (commit 7ca1dfad95; migration_trigger_throttle, mig_throttle_guest_down)',
    description: 'throttle the guest CPUs when the dirty rate stays high (see migration.cpu_throttle_*)',
  },
  {
    name: 'migration.throttle_trigger_threshold', default: 50, unit: '%', min: 1, max: 100,
    source: 'QEMU DEFAULT_MIGRATE_THROTTLE_TRIGGER_THRESHOLD 50 (research/migration-faults.md s1.1)',
    description: 'a sync period is "high" when the bytes dirtied exceed this percentage of the bytes sent in it',
  },
  {
    name: 'migration.cpu_throttle_initial', default: 20, unit: '%', min: 1, max: 99,
    source: 'QEMU DEFAULT_MIGRATE_CPU_THROTTLE_INITIAL 20 (research/migration-faults.md s1.1)',
    description: 'first throttle applied by auto-converge',
  },
  {
    name: 'migration.cpu_throttle_increment', default: 10, unit: '%', min: 1, max: 99,
    source: 'QEMU DEFAULT_MIGRATE_CPU_THROTTLE_INCREMENT 10 (research/migration-faults.md s1.1)',
    description: 'added to the throttle each later time',
  },
  {
    name: 'migration.max_cpu_throttle', default: 99, unit: '%', min: 1, max: 99,
    source: 'QEMU DEFAULT_MIGRATE_MAX_CPU_THROTTLE 99 (research/migration-faults.md s1.1)',
    description: 'cap of the auto-converge throttle',
  },
  {
    name: 'migration.postcopy', default: false, unit: 'bool',
    source: 'QEMU capability postcopy-ram (docs/devel/migration/postcopy.rst; research/migration-faults.md s1.7)',
    description: 'switch to postcopy after migration.postcopy_after_passes passes when pre-copy has not converged',
  },
  {
    name: 'migration.postcopy_after_passes', default: 1, unit: 'count', min: 1, max: 1000, integer: true,
    source: 'libvirt virsh migrate --postcopy-after-precopy: migrate-start-postcopy once the first pass is done',
    description: 'full passes of pre-copy before postcopy starts',
  },
  {
    name: 'migration.device_state_bytes', default: 262144, unit: 'bytes', min: 0, max: 1e10,
    source: 'modelling estimate: vCPU state (XSAVE, MSRs, LAPIC: ~10 KiB a vCPU) and the emulated devices\' vmstate, 256 KiB; the path adds its own (hooks.deviceStateBytes; VFIO mlx5 "100s of MB", research/migration-faults.md s1.5)',
    description: 'non-iterable device state sent in the stop-and-copy',
  },
  {
    name: 'migration.dest_load_ms', default: 4, unit: 'ms', min: 0, max: 100000,
    source: 'modelling estimate bounded by OPNFV kvmfornfv: whole downtimes of 5-9 ms at 10 GbE after its optimisations leave a few ms for the destination to load the state and start',
    description: 'destination: load the device state and resume the vCPUs after the last byte arrives',
  },
];
