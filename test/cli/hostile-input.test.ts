/**
 * Inputs and surroundings a hostile or careless user brings (issue 17 items 8 and 11):
 * special files given as the scenario, files too large to read, signals while the
 * command is busy, a reader of standard output that goes away, enormous sweeps.
 */
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, HOOK_TIMEOUT_MS, ensureBuilt } from './helpers.js';

/** Starts the command with its standard output's reader gone before it writes anything. */
function runWithClosedStdout(args: string[]): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // as `| head -c 100` does once it has its bytes
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res) => child.on('close', (status, signal) => res({ status, signal, stderr })));
}

describe('hostile input and surroundings', () => {
  beforeAll(() => ensureBuilt(), HOOK_TIMEOUT_MS);

  it('standard output closed by its reader (iovsim schema | head): exit 0, quietly', async () => {
    for (const args of [['schema'], ['list', 'params'], ['--help']]) {
      const r = await runWithClosedStdout(args);
      expect({ args, status: r.status, stderr: r.stderr }).toEqual({ args, status: 0, stderr: '' });
    }
  });
});
