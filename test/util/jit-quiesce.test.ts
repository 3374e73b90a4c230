/**
 * awaitBackgroundCompiles() must wait for a TurboFan job still running for this isolate
 * (util/jit-quiesce.ts: Node 20 can abort when an isolate goes away under one), and a
 * scenario worker must do so when the pool asks before terminating it. V8's
 * --concurrent-recompilation-delay makes every background compile take that much longer,
 * so a child process can make a function hot and be sure its job is still running.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOOK_TIMEOUT_MS, ROOT, ensureBuilt } from '../cli/helpers.js';

const DELAY_MS = 2000;

/** In a child whose background compiles take delayMs longer: makes a function hot, then times the call [ms]. */
function waitInChild(delayMs: number): number {
  const helper = pathToFileURL(join(ROOT, 'dist', 'src', 'util', 'jit-quiesce.js')).href;
  const script = `
    import { awaitBackgroundCompiles } from '${helper}';
    function hot(x) { let s = 0; for (let j = 0; j < 10; j++) s += (x + j) % 7; return s; }
    let t = 0;
    for (let i = 0; i < 100000; i++) t += hot(i & 1023);
    const t0 = performance.now();
    awaitBackgroundCompiles();
    console.log(JSON.stringify({ ms: performance.now() - t0, t }));`;
  const r = spawnSync(process.execPath, [`--concurrent-recompilation-delay=${delayMs}`, '--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout.trim()) as { ms: number }).ms;
}

describe('awaitBackgroundCompiles', () => {
  beforeAll(() => {
    ensureBuilt();
  }, HOOK_TIMEOUT_MS);

  it('waits for an optimizing compile still running in the background', () => {
    // the job was queued during the loop and takes DELAY_MS more: the call waits for most of it
    expect(waitInChild(DELAY_MS)).toBeGreaterThan(DELAY_MS / 2);
  });

  it('returns at once when the compiles take their usual few milliseconds', () => {
    expect(waitInChild(0)).toBeLessThan(DELAY_MS / 2);
  });

  it('a scenario worker answers a quiesce request, so the pool need not wait for its timeout', async () => {
    const w = new Worker(join(ROOT, 'dist', 'src', 'scenario', 'worker.js'));
    try {
      const reply = await new Promise<unknown>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.postMessage({ quiesce: true });
      });
      expect(reply).toEqual({ quiet: true });
    } finally {
      await w.terminate();
    }
  });
});
