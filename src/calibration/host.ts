/**
 * Host CPU and operating-system costs: scheduling, wake-ups, syscalls, copies, and the
 * topology knobs (cores, pinning, VMs). Sources are calibration.md sections 3 and 10.
 */
import type { ParamDef } from './param.js';

export const HOST_PARAMS: ParamDef[] = [
  {
    name: 'host.ctx_switch_ns', default: 1500, unit: 'ns', min: 0, max: 20000,
    source: 'calibration.md s10 host.ctx_switch: Bendersky 2018 (1.2-2 us) [R]; in-VM 2.49 us LKML 1708.3/03774 [V]',
    description: 'cost of switching a core from one runnable thread to another',
  },
  {
    name: 'host.wakeup_ns', default: 3500, unit: 'ns', min: 0, max: 100000,
    source: 'calibration.md s10 wakeup.kthread_or_iothread 4 us (2-10 us bare metal; halt-poll doc "a few microseconds" [V]); 3.5 us, a modelling estimate within that range',
    description: 'eventfd or socket wake-up of a sleeping host thread (vhost worker, QEMU main loop) until it runs',
  },
  {
    name: 'host.idle_exit_ns', default: 1000, unit: 'ns', min: 0, max: 100000,
    source: 'Linux drivers/idle/intel_idle.c: C1 exit_latency 1 us (icx_cstates) to 2 us (skx_cstates)',
    description: 'an idle bare-metal core leaving C1 to run the interrupted or woken thread (bare metal, host softirq, peer)',
  },
  {
    name: 'host.cstate_max', default: 'C1', unit: 'choice', choices: ['C1', 'C1E', 'C6'],
    source: 'Linux drivers/idle/intel_idle.c skx_cstates (C1, C1E, C6) with the menu governor; C1 only is the latency-tuned host (intel_idle.max_cstate=1, tuned network-latency), deeper states are a distribution default',
    description: 'deepest idle state an idle core may enter; the state is picked from the recent idle periods (menu governor) and its exit latency delays the next work',
  },
  {
    name: 'host.c1_exit_ns', default: 2000, unit: 'ns', min: 0, max: 1000000,
    source: 'Linux drivers/idle/intel_idle.c skx_cstates C1 exit_latency 2 us',
    description: 'C1 exit latency, the reference the deeper states are counted from (the wake-up costs include a C1 exit)',
  },
  {
    name: 'host.c1e_exit_ns', default: 10000, unit: 'ns', min: 0, max: 1000000,
    source: 'Linux drivers/idle/intel_idle.c skx_cstates C1E exit_latency 10 us',
    description: 'C1E exit latency',
  },
  {
    name: 'host.c1e_residency_ns', default: 20000, unit: 'ns', min: 0, max: 100000000,
    source: 'Linux drivers/idle/intel_idle.c skx_cstates C1E target_residency 20 us',
    description: 'C1E target residency: entered when the predicted idle period is at least this long',
  },
  {
    name: 'host.c6_exit_ns', default: 133000, unit: 'ns', min: 0, max: 10000000,
    source: 'Linux drivers/idle/intel_idle.c skx_cstates C6 exit_latency 133 us',
    description: 'C6 exit latency',
  },
  {
    name: 'host.c6_residency_ns', default: 600000, unit: 'ns', min: 0, max: 1000000000,
    source: 'Linux drivers/idle/intel_idle.c skx_cstates C6 target_residency 600 us',
    description: 'C6 target residency',
  },
  {
    name: 'host.cold_cache_ns', default: 3000, unit: 'ns', min: 0, max: 1000000,
    source: 'modelling estimate: C6 flushes the core\'s L1 and L2 (CPUIDLE_FLAG_TLB_FLUSHED); refilling the few hundred lines a network path touches from L3/memory at ~10-80 ns each',
    description: 'extra time of the first work on a core woken from a cache-flushing idle state (C6)',
  },
  {
    name: 'host.syscall_ns', default: 200, unit: 'ns', min: 0, max: 5000,
    source: 'calibration.md s3/s10 host.syscall: ~100 ns pre-KPTI, 200-500 ns mitigated [R]; 168 ns dev host [S]',
    description: 'entry and exit of one system call (writev, read, ioctl, eventfd write), excluding its work',
  },
  {
    name: 'host.memcpy_gbps', default: 10, unit: 'GB/s', min: 1, max: 100,
    source: 'calibration.md s10 host.memcpy_bw: 10 GB/s per core (range 5-30) [R]/[S]',
    description: 'payload copy bandwidth of one core (gigabytes per second)',
  },
  {
    name: 'host.copy_fixed_ns', default: 20, unit: 'ns', min: 0, max: 1000,
    source: 'modelling estimate: 1,500 B cache-resident memcpy 42-46 ns [S] leaves ~20 ns not explained by bandwidth',
    description: 'fixed cost of one payload copy (setup, first cache miss) on top of bytes / bandwidth',
  },
  {
    name: 'host.irq_ns', default: 500, unit: 'ns', min: 0, max: 10000,
    source: 'modelling estimate: hard-IRQ entry, handler, NAPI schedule and exit, ~1,500 cycles at 3 GHz',
    description: 'host hard interrupt handling on the core that takes a NIC MSI-X',
  },
  {
    name: 'host.tick_hz', default: 250, unit: 'Hz', min: 0, max: 10000,
    source: 'Linux CONFIG_HZ=250 (Debian and Ubuntu kernels; RHEL builds 1000); with NO_HZ_IDLE only busy cores tick',
    description: 'host scheduler tick on busy cores: it stretches the work it lands on by host.tick_ns (a vCPU in guest mode also takes an exit); 0 turns it off',
  },
  {
    name: 'host.tick_ns', default: 2000, unit: 'ns', min: 0, max: 100000,
    source: 'Linux Documentation/trace/osnoise-tracer.rst example: local_timer interrupt noise 1,845-2,848 ns (net of entry and exit)',
    description: 'host timer tick handler time',
  },
  {
    name: 'host.noise_duty', default: 0, unit: 'ratio', min: 0, max: 0.95,
    source: 'topology knob: 0 is a dedicated host (CSIT, tuned benchmarks); a shared cloud node runs other tenants\' threads on the same cores',
    description: 'fraction of time another tenant\'s thread on each noisy core wants to run (bursts and sleeps); 0 turns it off',
  },
  {
    name: 'host.noise_burst_us', default: 500, unit: 'us', min: 1, max: 1000000,
    source: 'modelling estimate: a request of a co-located service, a few hundred microseconds of CPU',
    description: 'mean length of another tenant\'s busy burst (exponential)',
  },
  {
    name: 'host.noise_cores', default: 0, unit: 'count', min: 0, max: 1024, integer: true,
    source: 'topology knob',
    description: 'cores that carry another tenant\'s thread, from core 0 up; 0 means every core in use',
  },
  {
    name: 'host.sched_slice_us', default: 3000, unit: 'us', min: 1, max: 100000,
    source: 'Linux kernel/sched/fair.c sysctl_sched_latency 6 ms shared by two runnable threads (3 ms each)',
    description: 'time slice a thread keeps a shared core while others wait',
  },
  {
    name: 'host.wakeup_granularity_us', default: 1000, unit: 'us', min: 0, max: 100000,
    source: 'Linux kernel/sched/fair.c sysctl_sched_wakeup_granularity 1 ms',
    description: 'a woken thread preempts the running one only after it has run this long',
  },
  {
    name: 'host.cores', default: 0, unit: 'count', min: 0, max: 1024, integer: true,
    source: 'topology knob: 0 gives every host thread its own core',
    description: 'host cores available; threads are placed round-robin in creation order (vCPUs, then back-end threads)',
  },
  {
    name: 'host.smt', default: false, unit: 'bool',
    source: 'topology knob: Intel Hyper-Threading / SMT; CSIT\'s "1 core" on Skylake is two sibling hardware threads (2t1c)',
    description: 'each of the host.cores physical cores runs two hardware threads: logical CPUs i and i + host.cores are siblings (Linux numbering), placement fills the first of each core before the second',
  },
  {
    name: 'host.smt_slowdown', default: 1.6, unit: 'factor', min: 1, max: 4,
    source: 'Marr et al., "Hyper-Threading Technology Architecture and Microarchitecture", Intel Technology Journal 6(1), 2002: up to 30% more throughput on server workloads from two threads per core; two busy siblings at 1.25x a core together run each at 1/1.6 (modelling estimate)',
    description: 'how much longer a step takes while its sibling hardware thread works or polls',
  },
  {
    name: 'host.pinning', default: '', unit: 'text',
    source: 'topology knob (taskset/isolcpus in real deployments)',
    description: 'explicit thread placement "thread=core,..." (names as in cpu.csv, e.g. vm0/vcpu0=0,vm0/vhost0=0)',
  },
  {
    name: 'host.jitter_cv', default: 0.1, unit: 'ratio', min: 0, max: 0.5,
    source: 'modelling estimate: cache and branch effects make per-event CPU costs vary a little; 0 makes them exact',
    description: 'coefficient of variation of CPU costs and wake-up latencies (uniform around the mean)',
  },
  {
    name: 'host.vms', default: 1, unit: 'count', min: 1, max: 256, integer: true,
    source: 'topology knob',
    description: 'VMs on the host, each with its own vCPUs and network device running the workload',
  },
  {
    name: 'vm.vcpus', default: 1, unit: 'count', min: 1, max: 64, integer: true,
    source: 'topology knob',
    description: 'vCPUs per VM (host threads); flows and queue pairs are spread over them',
  },
  {
    name: 'vm.queue_pairs', default: 1, unit: 'count', min: 1, max: 64, integer: true,
    source: 'QEMU virtio-net mq off by default, N from the netdev queues= (io-paths.md s1.6)',
    description: 'queue pairs per network device (virtio-net MQ, NIC/VF queues); virtio 0.95 uses one',
  },
];
