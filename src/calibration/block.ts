/**
 * Block software stack costs: the guest's fio job, I/O engines, blk-mq and drivers; the
 * host block layer and NVMe driver; QEMU's virtio-blk, aio engines and IDE model;
 * vhost-scsi with LIO; SPDK's vhost-user-blk reactor. The storage devices are in
 * storage.ts. Sources are calibration.md s7 and s10, io-paths.md and the code named.
 *
 * Budget check used for several estimates: J. Axboe, "Efficient IO with io_uring" (2019)
 * s9.1 measures one host core doing 1.2M 4 KiB IOPS with io_uring and interrupts, 1.7M
 * polled, and 608K with libaio (calibration.md s7): the whole kernel path per I/O
 * (submission, block layer, NVMe driver, completion) costs 0.6-0.8 us with io_uring and
 * about 1.6 us with libaio, its test tool's own work included.
 */
import type { ParamDef } from './param.js';

const AXBOE = 'J. Axboe, "Efficient IO with io_uring" s9.1 (1.2M IOPS/core io_uring, 1.7M polled, 608K libaio: calibration.md s7)';

export const BLOCK_PARAMS: ParamDef[] = [
  // ---- the disk behind every path
  {
    name: 'disk.kind', default: 'nvme', unit: 'choice', choices: ['nvme', 'ram'],
    source: 'design.md s3 (SSD); io-paths.md C.3 backstores; a RAM disk (Linux brd, SPDK malloc bdev) as the second kind the block issue asks for',
    description: 'the storage device: an NVMe SSD (ssd.*) or a RAM disk (ramdisk.*; host back ends only)',
  },
  {
    name: 'disk.read_only', default: false, unit: 'bool',
    source: 'QEMU -drive readonly=on, virtio-blk VIRTIO_BLK_F_RO (virtio 1.1 s5.2.3): writes fail; here a write workload is refused up front',
    description: 'the disk is read-only (a write workload is an input error)',
  },
  // ---- guest application and engines
  {
    name: 'guest.fio_per_io_ns', default: 1000, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate: fio's own work per I/O (io_u set-up, random offset, latency accounting); fio's documented per-I/O overhead is about a microsecond, cf. ${AXBOE} where t/io_uring (no fio) reaches 1.7M/core`,
    description: 'fio user-space work per I/O (submit and complete)',
  },
  {
    name: 'guest.aio_submit_ns', default: 500, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate within ${AXBOE}: io_submit_one per iocb (aio_get_req, fget, the file's read_iter set-up)`,
    description: 'kernel work per I/O submitted with libaio (io_submit) or pread, before the block layer',
  },
  {
    name: 'guest.aio_reap_ns', default: 250, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate within ${AXBOE}: aio_complete (ring write) and io_getevents copy-out per event`,
    description: 'kernel work per I/O completion event reaped with libaio',
  },
  {
    name: 'guest.uring_submit_ns', default: 200, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate within ${AXBOE}: io_uring SQE consumption per I/O (no per-I/O copy of an iocb)`,
    description: 'kernel work per I/O submitted through io_uring',
  },
  {
    name: 'guest.uring_reap_ns', default: 100, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate within ${AXBOE}: CQE post and read from the shared ring`,
    description: 'work per io_uring completion',
  },
  {
    name: 'guest.iopoll_ns', default: 200, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate: one io_uring IOPOLL pass (blk_poll on the hardware queue: a CQ look); ${AXBOE} polled 1.7M IOPS`,
    description: 'one polling pass of an io_uring hipri job over its hardware queue',
  },
  {
    name: 'guest.blk_submit_ns', default: 300, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate within ${AXBOE}: bio allocation, blk_mq_get_tag, plug, request set-up`,
    description: 'blk-mq submission per I/O',
  },
  {
    name: 'guest.blk_complete_ns', default: 250, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate within ${AXBOE}: blk_mq_end_request, bio_endio, tag release`,
    description: 'blk-mq completion per I/O',
  },
  {
    name: 'guest.blk_max_merge_kib', default: 1280, unit: 'KiB', min: 4, max: 65536, integer: true,
    source: 'Linux block/blk-settings.c BLK_DEF_MAX_SECTORS_CAP 2560 sectors: max_sectors_kb 1280',
    description: 'largest request the plug merges I/Os into',
  },
  {
    name: 'guest.virtio_blk_queue_ns', default: 400, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: virtio_queue_rq (header, blk_rq_map_sg, virtqueue_add_split); the same order as guest.virtio_xmit_ns for a packet',
    description: 'virtio-blk / virtio-scsi driver work per request submitted',
  },
  {
    name: 'guest.virtio_blk_reap_ns', default: 150, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: virtqueue_get_buf and the status check per used buffer in virtblk_done',
    description: 'virtio-blk driver work per completion reaped',
  },
  {
    name: 'guest.nvme_queue_ns', default: 150, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate within ${AXBOE}: nvme_queue_rq (nvme_setup_cmd, PRP mapping, SQE copy)`,
    description: 'NVMe driver work per command submitted',
  },
  {
    name: 'guest.nvme_reap_ns', default: 100, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate within ${AXBOE}: nvme_handle_cqe per completion`,
    description: 'NVMe driver work per completion entry',
  },
  {
    name: 'guest.ide_queue_ns', default: 1000, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: libata ata_qc_issue with the SCSI translation (ata_scsi_translate) and the PRD table fill (ata_bmdma_fill_sg)',
    description: 'libata work per IDE command issued',
  },
  {
    name: 'guest.ide_taskfile_writes', default: 6, unit: 'count', min: 1, max: 16, integer: true,
    source: 'io-paths.md A.3 step 3: 6 taskfile writes with LBA28 (features, count, LBA low/mid/high, device), 11 with LBA48 (libata uses LBA48 only when the address or count needs it)',
    description: 'taskfile register writes per IDE command (each a trapping port write)',
  },
  // ---- host block layer and NVMe driver
  {
    name: 'hostblk.submit_ns', default: 800, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate within ${AXBOE} (608K IOPS/core with libaio: 1.6 us per I/O in all): O_DIRECT set-up (iomap, get_user_pages of the buffer), submit_bio, blk-mq, nvme_queue_rq and the doorbell`,
    description: 'host kernel work per I/O submitted to the disk from a back end',
  },
  {
    name: 'hostblk.complete_ns', default: 600, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate within ${AXBOE}: nvme_irq per CQE, blk_mq_end_request, bio_endio, the aio/io_uring completion and its eventfd signal`,
    description: 'host kernel work per completion in the NVMe interrupt handler',
  },
  // ---- QEMU virtio-blk and file back end
  {
    name: 'qemu.blk_per_req_ns', default: 1500, unit: 'ns', min: 0, max: 100000,
    source: 'calibration.md s10 qemu.virtio_backend_per_req 2 us [D] less the engine work modelled apart: virtqueue_pop (guest buffer mapping), virtio_blk_handle_request, the request coroutine, virtio_blk_req_complete',
    description: 'QEMU virtio-blk work per request (pop, parse, complete, push)',
  },
  {
    name: 'qemu.blk_iothread', default: false, unit: 'bool',
    source: 'QEMU hw/block/virtio-blk.c: without iothread= the device runs in the main loop under the BQL (the default); io-paths.md B.3, s10.4',
    description: 'virtio-blk served by an IOThread (true) or the main loop (false)',
  },
  {
    name: 'qemu.blk_poll_max_ns', default: 32768, unit: 'ns', min: 0, max: 10000000,
    source: 'QEMU iothread.c IOTHREAD_POLL_MAX_NS_DEFAULT 32768 (poll-max-ns); io-paths.md s10.4',
    description: 'IOThread adaptive polling window before it sleeps (the model uses the maximum)',
  },
  {
    name: 'qemu.aio', default: 'threads', unit: 'choice', choices: ['threads', 'native', 'io_uring'],
    source: 'QEMU block/file-posix.c: aio=threads is the default; native (linux-aio) needs cache.direct=on; io_uring since QEMU 5.0; io-paths.md s10.4',
    description: 'the file back end I/O engine',
  },
  {
    name: 'qemu.blk_merge', default: true, unit: 'bool',
    source: 'QEMU hw/block/virtio-blk.c request-merging=on (default), virtio_blk_submit_multireq',
    description: 'merge adjacent requests of one batch into one host I/O',
  },
  {
    name: 'qemu.blk_merge_max', default: 32, unit: 'requests', min: 1, max: 1024, integer: true,
    source: 'QEMU hw/block/virtio-blk.c virtio_blk_submit_multireq: at most 32 requests per merged I/O (VIRTIO_BLK_MAX_MERGE_REQS)',
    description: 'requests per merged host I/O at most',
  },
  {
    name: 'qemu.aio_per_req_ns', default: 700, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate within ${AXBOE}: QEMU's laio_co_submit / io_uring SQE prep with the coroutine switch, and the kernel's per-iocb submission`,
    description: 'QEMU engine work per I/O submitted (native, io_uring)',
  },
  {
    name: 'qemu.uring_per_req_ns', default: 350, unit: 'ns', min: 0, max: 100000,
    source: `modelling estimate: half of qemu.aio_per_req_ns, after ${AXBOE} (io_uring about twice libaio's I/Os per core: no iocb copy, SQEs in shared memory)`,
    description: 'QEMU engine work per I/O submitted with aio=io_uring',
  },
  {
    name: 'qemu.uring_per_completion_ns', default: 250, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: half of qemu.aio_per_completion_ns (CQEs read from the shared ring, luring_process_completions)',
    description: 'QEMU engine work per completion with aio=io_uring',
  },
  {
    name: 'qemu.aio_per_completion_ns', default: 500, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: qemu_laio_process_completion / luring_process_completions per event and re-entering the request coroutine',
    description: 'QEMU engine work per completion taken from the ring',
  },
  {
    name: 'qemu.pool_wake_ns', default: 1000, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: thread_pool_submit_aio (qemu_sem_post: a futex wake syscall and the wakee placement)',
    description: 'aio=threads: waking a worker per request on the submitting thread',
  },
  {
    name: 'qemu.pool_return_ns', default: 1500, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: the worker\'s return to user space, qemu_bh_schedule and aio_notify (an eventfd write)',
    description: 'aio=threads: a worker finishing a request and notifying the AioContext',
  },
  {
    name: 'qemu.pool_size', default: 64, unit: 'threads', min: 1, max: 1024, integer: true,
    source: 'QEMU util/thread-pool.c max_threads 64 (thread-pool-max)',
    description: 'aio=threads: pool workers at most',
  },
  {
    name: 'qemu.ide_reg_ns', default: 300, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: ide_ioport_write / bmdma register handler, as qemu.e1000_reg_ns for a NIC register',
    description: 'QEMU IDE register emulation per access (the exit is the kvm.* cost)',
  },
  {
    name: 'qemu.ide_dma_ns', default: 2000, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: ide_dma_cb (PRD walk, dma_blk_read set-up, sg mapping) at start and at completion',
    description: 'QEMU IDE bus-master DMA set-up and completion',
  },
  // ---- vhost-scsi
  {
    name: 'vhost.scsi_per_cmd_ns', default: 2500, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: vhost_scsi_handle_vq per command (descriptor walk, header copy, vhost_scsi_map_to_sgl pinning with get_user_pages_fast, target_submit_cmd, iblock bio set-up); calibration.md s10 vhost_blk_kernel.added_latency 6 us [D]',
    description: 'vhost-scsi + LIO work per command submitted',
  },
  {
    name: 'vhost.scsi_per_completion_ns', default: 1200, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: LIO queue_data_in/queue_status, vhost_scsi_complete_cmd_work response copy_to_iter, vhost_add_used, page unpinning',
    description: 'vhost-scsi + LIO work per command completed',
  },
  {
    name: 'vhost.scsi_weight', default: 256, unit: 'requests', min: 1, max: 65536, integer: true,
    source: 'Linux drivers/vhost/scsi.c VHOST_SCSI_WEIGHT 256',
    description: 'requests per handle_vq run before the work requeues itself',
  },
  // ---- SPDK vhost-user-blk
  {
    name: 'spdk.per_io_ns', default: 500, unit: 'ns', min: 0, max: 100000,
    source: 'calibration.md s10 spdk_vhost.per_io_cpu 1 us/IO [R] (about 1M IOPS per reactor core), split between submission and completion (modelling estimate)',
    description: 'SPDK work per request submitted (vring to iovec, bdev, NVMe command)',
  },
  {
    name: 'spdk.per_completion_ns', default: 500, unit: 'ns', min: 0, max: 100000,
    source: 'calibration.md s10 spdk_vhost.per_io_cpu 1 us/IO [R], the completion half (modelling estimate)',
    description: 'SPDK work per completion (CQE, status, used ring, inflight log)',
  },
  {
    name: 'spdk.max_per_poll', default: 32, unit: 'requests', min: 1, max: 4096, integer: true,
    source: 'SPDK lib/vhost/vhost_internal.h SPDK_VHOST_VQ_MAX_SUBMISSIONS 32 (io-paths.md D.3)',
    description: 'requests taken per virtqueue per poll',
  },
  {
    name: 'spdk.coalesce_delay_us', default: 0, unit: 'us', min: 0, max: 10000,
    source: 'SPDK lib/vhost/vhost_internal.h SPDK_VHOST_COALESCING_DELAY_BASE_US (default 0: off); io-paths.md D.3 step 5',
    description: 'interrupt coalescing delay base (0: off)',
  },
  {
    name: 'spdk.coalesce_iops', default: 60000, unit: 'IOPS', min: 1, max: 100000000,
    source: 'SPDK lib/vhost/vhost_internal.h SPDK_VHOST_VQ_IOPS_COALESCING_THRESHOLD 60000',
    description: 'per-virtqueue rate above which signals are coalesced',
  },
  {
    name: 'spdk.coalesce_period_ms', default: 10, unit: 'ms', min: 1, max: 10000,
    source: 'SPDK lib/vhost/vhost_internal.h SPDK_VHOST_STATS_CHECK_INTERVAL_MS 10',
    description: 'how often the per-virtqueue rate is measured',
  },
  // ---- virtio-blk device
  {
    name: 'blk.queue_size', default: 256, unit: 'descriptors', min: 2, max: 32768, integer: true,
    source: 'QEMU hw/block/virtio-blk.c queue-size default 256',
    description: 'virtqueue size of the block device (virtio-blk, virtio-scsi request queues)',
  },
  {
    name: 'blk.num_queues', default: 0, unit: 'queues', min: 0, max: 1024, integer: true,
    source: 'QEMU 5.2 commit 1436f32a "virtio-blk-pci: default num_queues to -smp N": one per vCPU; 0 means that default',
    description: 'request virtqueues (0: one per vCPU; a legacy 0.95 device has one)',
  },

];
