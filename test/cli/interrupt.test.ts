/**
 * Killing a sweep part-way leaves the previous result (or, when the kill came after the
 * swap, the complete new one), never a truncated or partial CSV. Ctrl-C (SIGINT) exits
 * 130 and leaves no staging folder; after SIGKILL the next run removes the dead
 * process's staging folder.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOOK_TIMEOUT_MS, SMALL, ensureBuilt, readCsvs, readTree, runCli, startCli, tempDir } from './helpers.js';

// 4 points x 2 replications of 200,000 ops: one to a few seconds on two cores.
const LONG = [
  '--set', 'workload.ops=200000',
  '--set', 'sweep.workload.arrival.rate_per_s=[200000, 400000, 600000, 800000]',
  '--jobs', '2', '--quiet',
];

// The same sweep with 250 times the ops: minutes of work, so a SIGINT sent a second in
// always lands mid-run however fast the engine gets (LONG itself may finish in under a
// second on a fast minute). It is never run to the end.
const ENDLESS = LONG.map((a) => (a === 'workload.ops=200000' ? 'workload.ops=50000000' : a));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function hiddenSiblings(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('.'));
}

describe('interrupted runs', () => {
  let dir: string;
  let out: string;
  let previous: Record<string, string>;
  let complete: Record<string, string>;

  beforeAll(() => {
    ensureBuilt();
    dir = tempDir('interrupt');
    out = join(dir, 'result');
    const prev = runCli(['run', SMALL, '--out', out, '--set', 'workload.ops=1000', '--seed', '3', '--quiet'], dir);
    expect(prev.status, prev.stderr).toBe(0);
    previous = readTree(out);
    const ref = runCli(['run', SMALL, '--out', join(dir, 'reference'), ...LONG], dir);
    expect(ref.status, ref.stderr).toBe(0);
    complete = readCsvs(join(dir, 'reference'));
  }, HOOK_TIMEOUT_MS);

  it('SIGINT part-way: exit 130, previous result intact, no staging folder', async () => {
    const { child, done } = startCli(['run', SMALL, '--out', out, ...ENDLESS], dir);
    // Late enough for the handlers (installed as the process starts) to be in place.
    await sleep(1000);
    child.kill('SIGINT');
    const r = await done;
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/^iovsim: interrupted by SIGINT; no result written\n$/);
    expect(readTree(out)).toEqual(previous);
    expect(hiddenSiblings(dir)).toEqual([]);
  });

  it('SIGKILL at several moments: previous result or the complete new one, never partial', async () => {
    let killedMidRun = 0;
    for (const delayMs of [150, 400, 800, 1300, 2000]) {
      const { child, done } = startCli(['run', SMALL, '--out', out, ...LONG], dir);
      await sleep(delayMs);
      child.kill('SIGKILL');
      const r = await done;
      if (r.signal === 'SIGKILL') killedMidRun++;
      const names = Object.keys(readTree(out)).sort();
      expect(names, `after kill at ${delayMs} ms`).toEqual(['cpu.csv', 'exits.csv', 'latency.csv', 'manifest.json', 'stages.csv', 'summary.csv']);
      const csvs = readCsvs(out);
      if (csvs['summary.csv'] === previous['summary.csv']) {
        expect(csvs, `after kill at ${delayMs} ms`).toEqual(csvsOf(previous));
      } else {
        expect(csvs, `after kill at ${delayMs} ms`).toEqual(complete);
        // Put the previous result back for the next kill.
        const restore = runCli(['run', SMALL, '--out', out, '--set', 'workload.ops=1000', '--seed', '3', '--quiet'], dir);
        expect(restore.status).toBe(0);
        expect(readCsvs(out)).toEqual(csvsOf(previous));
      }
    }
    expect(killedMidRun).toBeGreaterThan(0);
    // A later run cleans up what killed runs left beside the folder.
    const again = runCli(['run', SMALL, '--out', out, '--set', 'workload.ops=1000', '--quiet'], dir);
    expect(again.status, again.stderr).toBe(0);
    expect(hiddenSiblings(dir)).toEqual([]);
  });
});

function csvsOf(tree: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tree).filter(([k]) => k.endsWith('.csv')));
}
