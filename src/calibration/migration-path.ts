/**
 * What each I/O path adds to a live migration: the back end's dirty logging on the data
 * path, stopping a vhost back end's rings, the VFIO device's state, virtio-net failover
 * for assigned NICs, and postcopy's page faults. Sources: migration-faults.md s1.3-1.7,
 * io-paths.md s1.10. No one has published the logging costs (migration-faults.md s1.4:
 * "Measured per-write cost of vhost logging: not found"): they are modelling estimates,
 * built from what each code path does. (Postcopy's page faults are the migration actor's:
 * a fault fetches its page over the migration stream.)
 */
import type { ParamDef } from './param.js';

export const MIGRATION_PATH_PARAMS: ParamDef[] = [
  {
    name: 'vhost.log_page_ns', default: 250, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: drivers/vhost/vhost.c log_write -> set_bit_to_user does get_user_pages_fast, kmap, set_bit, set_page_dirty_lock and put_page per page ("TODO: This is really inefficient"); GUP-fast of one page is some 100-200 ns, the rest some 50-100 ns',
    description: 'vhost-kernel (vhost-net, vhost-scsi) while a migration logs: cost of logging one written guest page',
  },
  {
    name: 'dpdk.log_page_ns', default: 5, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: DPDK lib/vhost/vhost.c __vhost_log_cache_write puts the page bit in a per-virtqueue cache of VHOST_LOG_CACHE_NR 32 entries (a few instructions)',
    description: 'vhost-user (DPDK) while a migration logs: cost per page written, into the log cache',
  },
  {
    name: 'dpdk.log_flush_ns', default: 40, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: __vhost_log_cache_sync ORs the cached words into the shared log bitmap atomically once per burst; a few atomic ORs on cache lines QEMU also reads',
    description: 'vhost-user (DPDK) while a migration logs: cost per burst of flushing the log cache into the shared bitmap',
  },
  {
    name: 'spdk.log_page_ns', default: 20, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: the SPDK vhost library logs each request\'s descriptors, its used element and used->idx, and a read\'s data pages on every completion (rte_vhost_log_write, an atomic OR per page into the shared bitmap, no cache)',
    description: 'vhost-user block (SPDK) while a migration logs: cost per page logged',
  },
  {
    name: 'kvm.dirty_log', default: 'pml', unit: 'choice', choices: ['pml', 'write-protect'],
    source: 'Linux arch/x86/kvm/vmx/vmx.c enable_pml (default on where the CPU has Page Modification Logging, Intel since Broadwell); otherwise KVM write-protects the guest pages and each first write after a sync faults (arch/x86/kvm/mmu)',
    description: 'how KVM sees the guest\'s own writes while a migration logs: a PML buffer of 512 entries, or a write-protection fault per page',
  },
  {
    name: 'kvm.pml_full_exit_ns', default: 2000, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: a PML-full VM exit (light exit, kvm.exit_light_ns 600) plus KVM flushing the 512 logged GPAs into the dirty bitmap (vmx_flush_pml_buffer, a few ns each)',
    description: 'kvm.dirty_log pml: the exit taken each time the guest has dirtied 512 pages (PML_LOG_NR_ENTRIES 512)',
  },
  {
    name: 'kvm.wp_fault_ns', default: 1500, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: an EPT violation exit (calibration.md s10 light exit 1,300-2,000 cycles) plus the MMU fast path that makes the page writable and marks it dirty (fast_page_fault); OoH/PRL (bstellaceleste) finds PML cuts migration time by up to 10%',
    description: 'kvm.dirty_log write-protect: the fault the guest takes at its first write to a page after each sync',
  },
  {
    name: 'migration.link', default: 'dedicated', unit: 'choice', choices: ['dedicated', 'host-nic'],
    source: 'topology (migration-faults.md s1, io-paths.md s1.10): a migration network of its own, or the one host NIC the guests use too',
    description: 'network paths: the migration stream has its own link (migration.link_gbps) or shares the host NIC\'s port with the guest\'s traffic, frame by frame',
  },
  {
    name: 'migration.vhost_stop_vq_us', default: 20, unit: 'us', min: 0, max: 1000000,
    source: 'modelling estimate: GET_VRING_BASE per virtqueue (hw/virtio/vhost.c vhost_virtqueue_stop) is a request and reply on the vhost-user unix socket, or the VHOST_GET_VRING_BASE ioctl after vhost_net_flush for vhost-kernel: some 10-30 us each',
    description: 'stopping one virtqueue of a vhost back end at stop-and-copy',
  },
  {
    name: 'migration.failover', default: false, unit: 'bool',
    source: 'QEMU docs/system/virtio-net-failover.rst: virtio-net failover=on with a vfio-pci primary (failover_pair_id); the guest\'s net_failover pairs them by MAC',
    description: 'passthrough and sriov network paths: a standby virtio-net device takes the traffic while the VF is unplugged for a migration',
  },
  {
    name: 'failover.standby', default: 'vhost-kernel', unit: 'choice', choices: ['vhost-kernel', 'virtio-qemu'],
    source: 'QEMU docs/system/virtio-net-failover.rst (the standby is an ordinary virtio-net device; vhost=on is the common back end)',
    description: 'the standby virtio-net device\'s back end under failover',
  },
  {
    name: 'failover.unplug_ms', default: 1000, unit: 'ms', min: 0, max: 600000,
    source: 'modelling estimate: no measured figure (migration-faults.md s1.6: "Measured guest unplug/replug time: not found"); an ACPI PCI hot-unplug with the guest driver\'s remove (iavf/ixgbevf) takes on the order of a second; a PCIe native unplug adds pciehp\'s 5 s attention-button wait',
    description: 'failover: from the unplug request until the guest has released the VF (QEMU then sees it at its next 250 ms poll)',
  },
  {
    name: 'failover.replug_ms', default: 1000, unit: 'ms', min: 0, max: 600000,
    source: 'modelling estimate: the destination hot-plugs the primary again; the guest probes the VF driver and brings its link up (order of a second, no measured figure: migration-faults.md s1.6)',
    description: 'failover: after the migration, until the VF carries the traffic again',
  },
  {
    name: 'vfio.migration', default: false, unit: 'bool',
    source: 'QEMU hw/vfio/migration.c: a device whose driver implements VFIO migration v2 (VFIO_MIGRATION_STOP_COPY) and dirty tracking migrates; otherwise "VFIO device doesn\'t support migration" blocks it',
    description: 'passthrough and sriov: the assigned device supports VFIO migration (a vendor variant driver such as mlx5)',
  },
  {
    name: 'vfio.device_state_mib', default: 100, unit: 'MiB', min: 0, max: 65536,
    source: 'QEMU hw/vfio/migration.c comment on VFIO_MIG_DEFAULT_DATA_BUFFER_SIZE: mlx5 device state is "on the order of 100s of MB" (the low end taken)',
    description: 'a VFIO device\'s STOP_COPY state, read in 1 MiB chunks during the downtime',
  },
];
