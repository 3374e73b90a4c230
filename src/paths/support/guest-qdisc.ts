/**
 * The guest's qdisc (GuestApp's per-queue backlog, bounded by guest.txqueuelen_packets):
 * its drops go through the run's drop port like every other drop point (NIC ring, PMD,
 * host qdisc, tap), and the run-end statistics name them per VM.
 */
import type { NetContext, VmContext } from './net-run.js';

/** Call once per VM from the path's build (the app exists from the start of the run). */
export function attachGuestQdisc(ctx: NetContext, vm: VmContext): void {
  ctx.starters.push(() => {
    vm.app!.onDrop = ctx.drop;
  });
  ctx.onFinish.push((extra) => {
    const app = vm.app!;
    extra[`${vm.name}/guest.qdisc_drops`] = app.qdiscDrops;
    extra[`${vm.name}/guest.max_backlog`] = app.maxBacklog();
  });
}
