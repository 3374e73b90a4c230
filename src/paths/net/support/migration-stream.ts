/**
 * The migration stream on the host NIC (migration.link: host-nic): QEMU's migration
 * socket goes out of the same port as the guest's traffic (a host with one NIC), so the
 * two share its line rate, frame by frame. The stream leaves as TSO bursts of up to
 * 64 KiB of payload (the host stack's GSO size), each a train of MSS frames with their
 * headers; the port serves its sources round robin, so a guest frame waits at most one
 * burst behind the stream. The frames go to the destination host, not to the peer: they
 * are taken off the wire at its far end.
 */
import { Packet, TCP_FRAME_OVERHEAD_BYTES, GSO_MAX_PAYLOAD_BYTES } from '../../../actors/net/messages.js';
import type { PortSource } from '../../../actors/net/nic.js';
import { Fifo } from '../../../primitives/fifo.js';
import type { NetContext } from './net-run.js';

/** TCP payload per 1500-byte frame with timestamps. */
const MSS_BYTES = 1448;
/** Marks a migration burst (no VM's op). */
const STREAM_VM = -1;

/** Returns a transmit function for the migration actor: bytes onto the host NIC's port; done when they have left. */
export function migrationStreamOnNic(ctx: NetContext): (bytes: number, done: () => void) => void {
  const port = ctx.nic.port;
  const pending: { left: number; done: () => void }[] = [];
  const source: PortSource = {
    ready: new Fifo<Packet>(),
    nextAllowedPs: 0,
    rateLimitGbps: 0,
    needsSentEvent: true,
    onSent: (pkt) => {
      if (pkt.vm !== STREAM_VM) return;
      const head = pending[0]!;
      if (--head.left === 0) {
        pending.shift();
        head.done();
      }
    },
  };
  port.addSource(source);
  // the far end: the destination takes the stream's frames; everything else goes on as before
  const deliver = port.deliver;
  port.deliver = (pkt, atPs) => {
    if (pkt.vm !== STREAM_VM) deliver(pkt, atPs);
  };
  let id = 0;
  return (bytes, done) => {
    let left = Math.max(1, Math.round(bytes));
    let bursts = 0;
    while (left > 0) {
      const payload = Math.min(left, GSO_MAX_PAYLOAD_BYTES);
      left -= payload;
      const frames = Math.ceil(payload / MSS_BYTES);
      const pkt = new Packet(--id, STREAM_VM, 0, 0, payload + frames * TCP_FRAME_OVERHEAD_BYTES, 0, ctx.sim.nowPs);
      pkt.frames = frames;
      pkt.payloadBytes = payload;
      source.ready.push(pkt);
      bursts++;
    }
    pending.push({ left: bursts, done });
    port.kick();
  };
}
