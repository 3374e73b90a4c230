/**
 * Storage devices: the NVMe SSD (ssd.*) and the Linux RAM disk (ramdisk.*).
 *
 * The SSD's defaults model an Intel SSD DC P4510 2 TB (64-layer TLC, PCIe 3.1 x4,
 * NVMe). Its spec sheet gives the ceilings the model must reproduce (4 KiB random read
 * 637K IOPS, random write 81.5K IOPS in steady state, sequential read 3,200 MB/s and
 * write 2,000 MB/s, QD1 latency 77 us read and 18 us write); the internal organisation
 * (channels, dies, page, tR, tPROG) is not published, so those are modelling estimates
 * chosen so that the ceilings emerge from the mechanisms, each one saying how. The DMA
 * round trips come from the shared pcie.* parameters (nic.ts, calibration.md s4.1).
 *
 * How the spec-sheet figures come out with these defaults (device side; the host stack,
 * about 5 us at QD1, comes on top in a path):
 * - random read ceiling: the controller, 6 cores / 9.4 us = 638K IOPS (the dies allow
 *   72 / 55 us = 1.31M, the channels 12 x 800 MB/s / 4 KiB = 2.3M, the link 872K);
 * - QD1 read: fetch 0.57 + controller 9.4 + tR 55 + channel 5.1 + link 1.15 + CQE 0.25
 *   = 71.5 us; QD1 write: fetch 0.57 + controller 9.4 + data DMA 1.69 + CQE 0.26 = 11.9 us;
 * - a die spends page / channel rate (20.5 us for 16 KiB) taking a page in, then
 *   tPROG x write amplification programming it: sequential write (amplification 1)
 *   72 dies x 16 KiB / (20.5 + 570 us) = 2.0 GB/s; steady random write
 *   72 x 16 KiB / (20.5 + 570 x 6.2 us) = 332 MB/s = 81.0K IOPS;
 * - sequential read: the link, 3.94 GB/s x 256 / (256 + 24) = 3.6 GB/s of payload.
 */
import type { ParamDef } from './param.js';

/** Spec sheet the SSD defaults are modelled on, cited by the parameters below. */
const P4510 =
  'Intel SSD DC P4510 2.0 TB product specification / Intel ARK (2018): 4 KiB random read 637,000 IOPS, random write 81,500 IOPS (steady state, 100% span), sequential read/write 3,200/2,000 MB/s, latency read 77 us / write 18 us (QD1 4 KiB), PCIe 3.1 x4 [R: recalled, not re-verified here]';

export const STORAGE_PARAMS: ParamDef[] = [
  {
    name: 'ssd.queues', default: 128, unit: 'count', min: 1, max: 65535, integer: true,
    source: 'modelling estimate: NVMe allows up to 65,535 I/O queue pairs (NVMe 1.4 s5.21.1.7 Number of Queues); datacenter controllers of the P4510 generation grant 32-128, and Linux asks for one per CPU and takes what is granted',
    description: 'I/O submission/completion queue pairs the controller offers; asking for more is an input error',
  },
  {
    name: 'ssd.queue_depth', default: 1024, unit: 'entries', min: 2, max: 65536, integer: true,
    source: 'Linux drivers/nvme/host/pci.c io_queue_depth default 1024 (capped by CAP.MQES + 1); the block layer gets depth - 1 tags because a full NVMe queue keeps one entry empty (NVMe 1.4 s4.1: full when head = tail + 1)',
    description: 'entries of each I/O submission and completion queue; depth - 1 commands can be outstanding per queue',
  },
  {
    name: 'ssd.controller_cores', default: 6, unit: 'count', min: 1, max: 256, integer: true,
    source: `modelling estimate: cores / controller_ns = 638K commands/s, the 4 KiB random read ceiling of ${P4510}; the ceiling is the same (636-642K) from 2 to 8 TB, so it is not the media`,
    description: 'firmware cores that process commands in parallel (the controller\'s command ceiling with ssd.controller_ns)',
  },
  {
    name: 'ssd.controller_ns', default: 9400, unit: 'ns', min: 0, max: 1000000,
    source: 'modelling estimate: with 6 cores the 637K IOPS read ceiling gives 9.4 us per command; it also sets the QD1 write latency (fetch + controller + data DMA + CQE = 11.9 us, plus ~5 us of host stack = the spec\'s 18 us)',
    description: 'firmware time per command on one controller core (decode, FTL lookup, DMA setup, completion)',
  },
  {
    name: 'ssd.channels', default: 12, unit: 'count', min: 1, max: 64, integer: true,
    source: 'AnandTech on the Intel D7-P5500 (2020): the previous generation of Intel datacenter NVMe controllers (P45xx) is a 12-channel design [R]',
    description: 'flash channels (buses) between the controller and the dies; die d hangs on channel d mod channels',
  },
  {
    name: 'ssd.dies_per_channel', default: 6, unit: 'count', min: 1, max: 64, integer: true,
    source: 'modelling estimate: 2.0 TB plus overprovisioning in 256 Gbit (32 GiB) Intel/Micron 64-layer TLC dies is 64-72 dies; 72 = 6 per channel (2.4 TB raw). MQSim\'s default (Tavakkol et al., FAST 2018, ssdconfig.xml) has 8 channels x 4 chips x 2 dies = 64',
    description: 'flash dies per channel; every die reads or programs one page at a time',
  },
  {
    name: 'ssd.page_kib', default: 16, unit: 'KiB', min: 1, max: 1024, integer: true,
    source: 'modelling estimate: 16 KiB pages are typical of 3D TLC NAND (Intel/Micron 64-layer); MQSim\'s older MLC default is 8 KiB (Tavakkol et al., FAST 2018)',
    description: 'flash page: logical page n = byte offset / page lives on die n mod dies (so sequential I/O stripes over dies and channels); also the program unit',
  },
  {
    name: 'ssd.read_us', default: 55, unit: 'us', min: 0, max: 100000,
    source: `modelling estimate: QD1 4 KiB read of 77 us (${P4510}) less ~5 us of host stack and 16.5 us of fetch, controller, channel and PCIe leaves 55 us of array read (tR); 3D TLC tR is 50-90 us (MQSim default 75 us, Tavakkol et al., FAST 2018)`,
    description: 'mean time a die takes to read a page into its register (tR)',
  },
  {
    name: 'ssd.read_cv', default: 0.2, unit: 'ratio', min: 0, max: 10,
    source: 'modelling estimate: TLC lower, middle and upper pages read with different sensing steps (MQSim keeps separate LSB/CSB/MSB latencies), plus occasional read retries; 0 gives a constant tR',
    description: 'coefficient of variation of the page read time (Gamma distributed; 0 = constant)',
  },
  {
    name: 'ssd.channel_mbps', default: 800, unit: 'MB/s', min: 1, max: 100000,
    source: 'ONFI 4.0 NV-DDR3 at 800 MT/s on an 8-bit bus (Toggle 3.0 likewise); MQSim\'s default is 333 MT/s NV-DDR2 (Tavakkol et al., FAST 2018)',
    description: 'transfer rate of one flash channel; a page read moves only the bytes asked for, a program moves the bytes written',
  },
  {
    name: 'ssd.program_us', default: 570, unit: 'us', min: 0, max: 100000,
    source: `modelling estimate: sequential write 2,000 MB/s (${P4510}) = 72 dies x 16 KiB / 590 us per page, of which 20.5 us move the page over the channel; an effective per-page time (TLC programs three pages per wordline on several planes at once, 1-3 ms per one-shot program)`,
    description: 'mean time a die is busy programming one page of buffered data (tPROG per page, before write amplification)',
  },
  {
    name: 'ssd.program_cv', default: 0.1, unit: 'ratio', min: 0, max: 10,
    source: 'modelling estimate: the number of program-verify (ISPP) loops varies with the wordline, the page and wear; 0 gives a constant tPROG (dies that start together then stay in step)',
    description: 'coefficient of variation of the page program time (Gamma distributed; 0 = constant)',
  },
  {
    name: 'ssd.partial_flush_us', default: 1000, unit: 'us', min: 0, max: 10000000,
    source: 'modelling estimate: flash programs whole pages, so firmware holds buffered data short of a page (safe in the power-loss protected buffer) until more arrives, and writes it out padded when the stream pauses; the wait is not published; 1 ms keeps partial programs rare under any steady stream',
    description: 'longest buffered data short of a full page waits for more before it is programmed as a partial page (0: at once)',
  },
  {
    name: 'ssd.write_amplification', default: 6.2, unit: 'ratio', min: 1, max: 100,
    source: `modelling estimate: sequential / random steady-state write bandwidth of ${P4510} is 2,000 MB/s / (81,500 x 4 KiB) = 6.0 per page of die time (20.5 + 570 us), so 570 x WAF + 20.5 = 6.0 x 590.5 gives WAF 6.2 (greedy garbage collection under uniform random writes at ~7-15% overprovisioning); set 1 for sequential writes or a fresh drive`,
    description: 'flash work per host byte in steady state (garbage collection copies and erases), as a multiplier of the program time',
  },
  {
    name: 'ssd.write_buffer_kib', default: 4096, unit: 'KiB', min: 4, max: 16777216, integer: true,
    source: 'modelling estimate: the power-loss-protected part of the controller DRAM that holds acknowledged writes is not published; a few MiB (the hold-up capacitors must flush it to flash on power loss)',
    description: 'write buffer: a write is acknowledged once its data is in it, and waits when it is full; it drains to the dies at the program rate',
  },
  {
    name: 'ssd.pcie_gbps', default: 3.94, unit: 'GB/s', min: 0.01, max: 1000,
    source: 'calibration.md s4.2: PCIe Gen3 8 GT/s x 4 lanes x 128b/130b = 3.94 GB/s per direction [D]',
    description: 'PCIe link bandwidth of the SSD per direction (gigabytes per second, before TLP overhead)',
  },
  {
    name: 'ssd.pcie_max_payload_bytes', default: 256, unit: 'bytes', min: 64, max: 4096, integer: true,
    source: 'Neugebauer et al., "Understanding PCIe performance for end host networking", SIGCOMM 2018, PCIe model: MPS 256 B (and MRRS 512 B), typical of Xeon root ports [R]',
    description: 'largest data payload per TLP (MPS); larger DMAs are cut into TLPs of this size',
  },
  {
    name: 'ssd.pcie_tlp_overhead_bytes', default: 24, unit: 'bytes', min: 0, max: 64,
    source: 'Neugebauer et al., SIGCOMM 2018, PCIe model: per TLP, framing + sequence number + LCRC + a 12-16 B header, 20-24 B on Gen3 [R]; 24 B with 64-bit addresses [D]',
    description: 'link bytes each TLP carries besides its payload',
  },
  {
    name: 'ssd.irq_coalesce_count', default: 0, unit: 'entries', min: 0, max: 256, integer: true,
    source: 'NVMe 1.4 s5.21.1.8 Interrupt Coalescing (Feature 08h) Aggregation Threshold; reset value 0h = 1 entry, no aggregation (Linux leaves it; nvme set-feature -f 8 sets it)',
    description: 'completion entries per interrupt: the vector fires when this many are posted (0 or 1: an interrupt per completion)',
  },
  {
    name: 'ssd.irq_coalesce_us', default: 100, unit: 'us', min: 0, max: 25500,
    source: 'NVMe 1.4 s5.21.1.8 Aggregation Time, in 100 us increments (reset value 0h = no delay); 100 us is one increment, and it has no effect while ssd.irq_coalesce_count is 0 or 1',
    description: 'longest an interrupt waits for the threshold after the first unsignalled completion (0: no delay, coalescing off)',
  },
  {
    name: 'ramdisk.per_io_ns', default: 300, unit: 'ns', min: 0, max: 100000,
    source: 'modelling estimate: Linux drivers/block/brd.c brd_submit_bio walks the bio segments, finds each 4 KiB page in its xarray (brd_lookup_page; allocation on first write) and ends the bio; a few hundred ns besides the copies, which cost host.memcpy_gbps and host.copy_fixed_ns per page',
    description: 'CPU time per bio in the RAM disk driver, on top of copying the data page by page',
  },
];
