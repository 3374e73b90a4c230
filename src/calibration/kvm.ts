/**
 * KVM costs: VM exits (light, in-kernel I/O, user space), kick and interrupt delivery,
 * halt polling. Sources are calibration.md sections 1, 2 and 10.
 */
import type { ParamDef } from './param.js';

export const KVM_PARAMS: ParamDef[] = [
  {
    name: 'kvm.exit_light_ns', default: 600, unit: 'ns', min: 0, max: 20000,
    source: 'calibration.md s10 vmexit.lightweight: 1,300-2,000 cycles, Dall16/17, Shalabi 2014, SplitX [V/V2]',
    description: 'exit and re-entry handled inside KVM (ioeventfd write, HLT, timer MSR)',
  },
  {
    name: 'kvm.exit_kernel_io_ns', default: 1200, unit: 'ns', min: 0, max: 20000,
    source: 'calibration.md s10 vmexit.kernel_io: Dall17 "I/O Kernel" 2,565 cycles [V2]',
    description: 'MMIO/PIO exit whose device is emulated inside the hypervisor (emulated-vmm)',
  },
  {
    name: 'kvm.exit_user_ns', default: 3200, unit: 'ns', min: 0, max: 50000,
    source: 'calibration.md s10 vmexit.userspace: Dall17 "I/O User" 6,732 cycles [V2]',
    description: 'heavy exit: KVM_RUN returns to QEMU, which handles the access and re-enters',
  },
  {
    name: 'kvm.ioeventfd_ns', default: 300, unit: 'ns', min: 0, max: 5000,
    source: 'calibration.md s10 notify.ioeventfd_signal: Dall16 "I/O Latency Out" 560 cycles [V2]',
    description: 'signalling the ioeventfd during a kick exit, on top of the light exit',
  },
  {
    name: 'kvm.irq_route_ns', default: 300, unit: 'ns', min: 0, max: 5000,
    source: 'calibration.md s10 irq.irqfd_signal 0.5 us [D] minus the eventfd write syscall (host.syscall_ns)',
    description: 'irqfd wake-up callback or KVM_SIGNAL_MSI routing the MSI to the vCPU (posted-interrupt descriptor, IPI)',
  },
  {
    name: 'kvm.posted_irq_ns', default: 100, unit: 'ns', min: 0, max: 5000,
    source: 'calibration.md s10 irq.inject_posted 0.1 us: ELI, VT-d PI "without VMM intervention" [V]',
    description: 'posted interrupt reaching a running vCPU without an exit',
  },
  {
    name: 'kvm.inject_exit_ns', default: 1500, unit: 'ns', min: 0, max: 20000,
    source: 'calibration.md s10 irq.inject_running_vcpu: virtual IPI 3,102 cycles, Dall17 [V2]',
    description: 'interrupt to a running vCPU without APICv: IPI, external-interrupt exit, injection on entry',
  },
  {
    name: 'kvm.eoi_exit_ns', default: 750, unit: 'ns', min: 0, max: 20000,
    source: 'calibration.md s10 irq.eoi_exit: Dall16 1,556 cycles [V2]',
    description: 'EOI write trapped by KVM (no APICv, or a level-triggered IOAPIC line)',
  },
  {
    name: 'kvm.halt_poll_ns', default: 200000, unit: 'ns', min: 0, max: 100000000,
    source: 'Linux arch/x86/include/asm/kvm_host.h KVM_HALT_POLL_NS_DEFAULT 200000 (io-paths.md s1.4)',
    description: 'how long a halted vCPU polls for an interrupt before its thread sleeps',
  },
  {
    name: 'kvm.halt_poll_adaptive', default: true, unit: 'bool',
    source: 'Linux virt/kvm/kvm_main.c kvm_vcpu_halt, grow_halt_poll_ns / shrink_halt_poll_ns (dynamic halt polling since 4.3, commit aca6ff29c406)',
    description: 'each vCPU adapts its poll window between 0 and kvm.halt_poll_ns after every halt; false polls the whole kvm.halt_poll_ns every time',
  },
  {
    name: 'kvm.halt_poll_grow', default: 2, unit: 'factor', min: 0, max: 100,
    source: 'Linux virt/kvm/kvm_main.c halt_poll_ns_grow = 2',
    description: 'factor the adaptive poll window grows by after a halt that outlasted it (0: never grows)',
  },
  {
    name: 'kvm.halt_poll_grow_start_ns', default: 10000, unit: 'ns', min: 0, max: 100000000,
    source: 'Linux virt/kvm/kvm_main.c halt_poll_ns_grow_start = 10000',
    description: 'first non-zero adaptive poll window; windows shrunk below it become 0',
  },
  {
    name: 'kvm.halt_poll_shrink', default: 2, unit: 'factor', min: 0, max: 100,
    source: 'Linux virt/kvm/kvm_main.c halt_poll_ns_shrink = 2 (0, reset to zero, before the 2023 change)',
    description: 'divisor of the adaptive poll window after a halt longer than kvm.halt_poll_ns (0: back to 0 at once)',
  },
  {
    name: 'kvm.halted_wakeup_ns', default: 7000, unit: 'ns', min: 0, max: 100000,
    source: 'Linux commit aca6ff29c406 "KVM: dynamic halt-polling" (2015): polling instead of sleeping cuts guest TCP_RR from 34 to 27 us, the one halted-vCPU wake-up on the path of the round trip [V]; calibration.md s10 wakeup.halted_vcpu 2-10 us',
    description: 'waking a sleeping halted vCPU thread: IPI, scheduler trip, VM entry',
  },
  {
    name: 'kvm.apicv', default: true, unit: 'bool',
    source: 'Linux arch/x86/kvm/vmx/vmx.c enable_apicv (on where supported); io-paths.md s1.4 I1 vs I1p',
    description: 'APICv posted interrupts: no exit to deliver, no EOI exit for edge MSIs',
  },
  {
    name: 'kvm.vtd_pi', default: true, unit: 'bool',
    source: 'io-paths.md s1.4 I4: VT-d posted interrupts with IRQ remapping (irq bypass)',
    description: 'assigned-device MSIs posted straight to the vCPU; false routes them through a host IRQ and irqfd (I5)',
  },
];
