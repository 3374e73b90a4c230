/**
 * The scenario's `timeline` (actions at a simulated time or op count) and `faults`
 * (actions repeated at random, a Poisson process with a rate), and their normal form.
 * Each action has its own fields; which path can do which action is the path's to say
 * (Timeline.check), at set-up.
 */
import { z } from 'zod';
import { PS_PER_MS, PS_PER_S, MAX_TIME_PS } from '../core/time.js';
import type { FaultProcess, TimelineEntry } from './timeline.js';

const positiveMs = z.number().positive().lte(3_600_000);
const nonNegativeMs = z.number().nonnegative().lte(3_600_000);

/** The fields of each action besides when it happens. */
export const ACTION_FIELDS = {
  /** Live migration of the VM (the migration.* parameters say how). */
  migrate: {},
  /** The vhost-user back-end process dies and starts again after restart_ms (then reconnects). */
  'backend-restart': { restart_ms: nonNegativeMs.default(100) },
  /** The host NIC's link goes down; with duration_ms it comes back by itself. */
  'link-down': { duration_ms: positiveMs.optional() },
  'link-up': {},
  /** Packets on the wire are lost with probability rate, each way, for duration_ms. */
  loss: { rate: z.number().gt(0).lte(1), duration_ms: positiveMs },
  /** The storage device stops answering commands for duration_ms (default: until the host resets it). */
  'device-error': { duration_ms: positiveMs.optional() },
  /** The iSCSI target is unreachable for duration_ms; the initiator notices, reconnects and retries. */
  'iscsi-disconnect': { duration_ms: nonNegativeMs.default(0) },
  /** The SR-IOV virtual function (or the assigned NIC) is reset by the host. */
  'vf-reset': {},
} as const;

export type ActionName = keyof typeof ACTION_FIELDS;
export const ACTION_NAMES = Object.keys(ACTION_FIELDS) as ActionName[];

const when = {
  at_s: z.number().nonnegative().optional(),
  at_ms: z.number().nonnegative().optional(),
  at_op: z.number().int().nonnegative().optional(),
};

function actionSchemas(extra: z.ZodRawShape) {
  return ACTION_NAMES.map((name) =>
    z.strictObject({ action: z.literal(name), ...(ACTION_FIELDS[name] as z.ZodRawShape), ...extra }),
  );
}

/** One timeline entry: an action and exactly one of at_s, at_ms, at_op. */
export const timelineEntrySchema = z
  .discriminatedUnion('action', actionSchemas(when) as unknown as [z.ZodObject, ...z.ZodObject[]], {
    error: (iss) => (iss.code === 'invalid_union' ? `action must be one of ${ACTION_NAMES.join(', ')}` : undefined),
  })
  .superRefine((e, ctx) => {
    const given = (['at_s', 'at_ms', 'at_op'] as const).filter((k) => (e as Record<string, unknown>)[k] !== undefined);
    if (given.length !== 1) ctx.addIssue({ code: 'custom', message: `give exactly one of at_s, at_ms, at_op${given.length > 1 ? ` (got ${given.join(', ')})` : ''}` });
  });

/** A random fault process: the action at a rate, between start_s and end_s. */
export const faultProcessSchema = z
  .discriminatedUnion(
    'action',
    actionSchemas({ rate_per_s: z.number().positive().lte(1e6), start_s: z.number().nonnegative().default(0), end_s: z.number().positive().optional() }) as unknown as [z.ZodObject, ...z.ZodObject[]],
    { error: (iss) => (iss.code === 'invalid_union' ? `action must be one of ${ACTION_NAMES.join(', ')}` : undefined) },
  )
  .superRefine((f, ctx) => {
    const r = f as Record<string, unknown>;
    if (r['action'] === 'migrate') ctx.addIssue({ code: 'custom', path: ['action'], message: 'migrate cannot be a random fault (put it in the timeline)' });
    if (r['end_s'] !== undefined && (r['end_s'] as number) <= (r['start_s'] as number)) ctx.addIssue({ code: 'custom', path: ['end_s'], message: 'must be after start_s' });
  });

export const timelineSchema = z.array(timelineEntrySchema).max(10_000, 'at most 10,000 actions');
export const faultsSchema = z.array(faultProcessSchema).max(100, 'at most 100 fault processes');

/** What a run gets: its timeline in simulator units. */
export interface TimelineInput {
  entries: TimelineEntry[];
  faults: FaultProcess[];
  bucketPs: number;
}

const WHEN_KEYS = new Set(['action', 'at_s', 'at_ms', 'at_op', 'rate_per_s', 'start_s', 'end_s']);

function argsOf(r: Record<string, unknown>): Record<string, number | string | boolean> {
  const args: Record<string, number | string | boolean> = {};
  for (const [k, v] of Object.entries(r)) if (!WHEN_KEYS.has(k) && v !== undefined) args[k] = v as number | string | boolean;
  return args;
}

/** The scenario's timeline and faults in simulator units (null when it has neither). */
export function toTimelineInput(timeline: readonly unknown[] | undefined, faults: readonly unknown[] | undefined, bucketMs: number): TimelineInput | null {
  if ((timeline?.length ?? 0) === 0 && (faults?.length ?? 0) === 0) return null;
  const entries: TimelineEntry[] = (timeline ?? []).map((raw) => {
    const r = raw as Record<string, unknown>;
    const e: TimelineEntry = { action: r['action'] as string, args: argsOf(r) };
    if (r['at_s'] !== undefined) e.atPs = Math.round((r['at_s'] as number) * PS_PER_S);
    else if (r['at_ms'] !== undefined) e.atPs = Math.round((r['at_ms'] as number) * PS_PER_MS);
    else e.atOp = r['at_op'] as number;
    return e;
  });
  const fs: FaultProcess[] = (faults ?? []).map((raw) => {
    const r = raw as Record<string, unknown>;
    return {
      action: r['action'] as string,
      ratePerS: r['rate_per_s'] as number,
      startPs: Math.round(((r['start_s'] as number | undefined) ?? 0) * PS_PER_S),
      endPs: r['end_s'] !== undefined ? Math.round((r['end_s'] as number) * PS_PER_S) : MAX_TIME_PS,
      args: argsOf(r),
    };
  });
  return { entries, faults: fs, bucketPs: Math.round(bucketMs * PS_PER_MS) };
}
