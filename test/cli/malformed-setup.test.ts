/**
 * Inputs that `validate` accepted and `run` then failed on at set-up, or that both
 * accepted as nonsense (issue 17 items 9 and 10): times past the simulator's clock, rates
 * that cannot produce the ops in it, actors that refuse their parameters, host.pinning,
 * numbers given as text, iommu.guest_page_kib, net-rr's arrival without a rate, keys named
 * __proto__. Planning finds each: `validate` and `run` both exit 2 with the same one line
 * naming the field, print nothing on stdout and write nothing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, HOOK_TIMEOUT_MS, SMALL, ensureBuilt, readTree, runCli, tempDir } from './helpers.js';

const M = (f: string): string => join(FIXTURES, 'malformed', f);
const NET_SMALL = join(FIXTURES, 'net-small.yaml');

interface Case {
  name: string;
  /** The scenario file and overrides, given to both validate and run. */
  file: string;
  sets: string[];
  /** Substrings the one stderr line must contain. */
  expect: string[];
}

const fileCase = (file: string, ...expect: string[]): Case => ({ name: file, file: M(file), sets: [], expect: [file, ...expect] });
const setCase = (name: string, file: string, sets: string[], ...expect: string[]): Case => ({ name, file, sets, expect });

const CASES: Case[] = [
  // Item 9: times past the clock, rates that cannot produce the ops in it, set-up refusals.
  fileCase('setup-custom-rate-tiny.yaml', 'workload.arrival.rate_per_s', '1e-9 per second', 'clock'),
  fileCase('setup-custom-service-huge.yaml', 'workload.stages[0].service_ns.value', '1e+300 ns', 'clock'),
  fileCase('setup-custom-service-slow.yaml', 'workload.stages[1].service_ns', '100000 ops', '28 h'),
  fileCase('setup-custom-think-slow.yaml', 'workload.arrival.think_ns', '2 client(s)', '14 h'),
  fileCase('setup-custom-think-uniform-huge.yaml', 'workload.arrival.think_ns.max', '100000000000000000000 ns', 'at most 4503599627370 ns'),
  fileCase('setup-timeline-after-clock.yaml', 'timeline[0]', 'at 3.0 h is later than a run may simulate 1.3 h', 'at most 4503 s'),
  fileCase('setup-rr-think-huge.yaml', 'workload.think_ns', '1e+300 ns', 'clock'),
  fileCase('setup-rr-peer-app-empirical-huge.yaml', 'workload.peer_app_ns.values[1]', '10000000000000000000 ns'),
  fileCase('setup-rr-rate-tiny.yaml', 'workload.rate_per_s', '0.0001 per second', 'raise the rate'),
  fileCase('setup-tx-rate-tiny.yaml', 'workload.rate_per_s', '0.000001 per second', 'clock'),
  fileCase('setup-rx-stack-slow.yaml', 'workload.guest_stack_ns', '2.8 h'),
  fileCase('setup-pvp-burst-off-huge.yaml', 'workload.burst_off_ns', '100000000000000000000 ns'),
  fileCase('setup-blk-rate-tiny.yaml', 'workload.rate_iops', '0.01 I/Os per second', '1.4 h'),
  fileCase('setup-ssd-read-zero.yaml', 'path bare-metal: params.ssd.read_us', 'ssd.read_cv'),
  fileCase('setup-iommu-page-3000.yaml', 'params.iommu.guest_page_kib', '4, 2048, 1048576', 'got 3000'),
  // Item 10: nonsense that was accepted.
  fileCase('setup-iommu-page-8.yaml', 'params.iommu.guest_page_kib', '4, 2048, 1048576', 'got 8'),
  fileCase('setup-pinning-garbage.yaml', 'path vhost-kernel: params.host.pinning', '"garbage==="', 'thread=core'),
  fileCase('setup-pinning-empty-core.yaml', 'params.host.pinning', '"vm0/vcpu0="', 'core number'),
  fileCase('setup-pinning-unknown-thread.yaml', 'path vhost-kernel: params.host.pinning', 'no thread "vm0/vcpu3"', 'vm0/vcpu0'),
  fileCase('setup-pinning-core-beyond.yaml', 'path vhost-user: params.host.pinning', 'vm0/vcpu0=5', 'allowed: 0 to 1'),
  fileCase('setup-pinning-twice.yaml', 'params.host.pinning', 'vm0/vcpu0 is pinned twice'),
  fileCase('setup-param-hex-string.yaml', 'params.host.cores', 'must be a number', '"0x10"'),
  fileCase('setup-param-number-string.json', 'params.kvm.exit_user_ns', 'must be a number', '"3200"'),
  fileCase('setup-sweep-param-string.yaml', 'sweep.host.cores', 'must be a number', '"2"'),
  fileCase('setup-rr-constant-no-rate.yaml', 'workload.arrival', 'needs rate_per_s'),
  fileCase('setup-params-proto.yaml', 'params.__proto__'),
  fileCase('setup-params-proto.json', 'params.__proto__'),
  fileCase('setup-sweep-proto.yaml', 'sweep.__proto__'),
  // The same through overrides.
  setCase('set-pinning-garbage', NET_SMALL, ['host.pinning=garbage==='], 'params.host.pinning', '"garbage==="', 'from --set host.pinning=garbage==='),
  setCase('set-pinning-empty-core', NET_SMALL, ['host.pinning=vm0/vcpu0='], 'params.host.pinning', '"vm0/vcpu0="'),
  setCase('set-iommu-page-8', NET_SMALL, ['paths=passthrough', 'iommu.guest_page_kib=8'], 'params.iommu.guest_page_kib', 'got 8', 'from --set'),
  setCase('set-think-huge', NET_SMALL, ['workload.think_ns=1e300'], 'workload.think_ns', 'from --set workload.think_ns=1e300'),
  setCase('set-sweep-rate-tiny', SMALL, ['sweep.workload.arrival.rate_per_s=[1e-9]'], 'sweep point 0 (workload.arrival.rate_per_s=1e-9): workload.arrival.rate_per_s'),
  setCase('set-rr-poisson-no-rate', NET_SMALL, ['workload.arrival=poisson'], 'workload.arrival', 'needs rate_per_s', 'from --set workload.arrival=poisson'),
];

describe('set-up errors found by planning: validate and run both exit 2 with one line naming the field', () => {
  let cwd: string;

  beforeAll(() => {
    ensureBuilt();
    cwd = tempDir('malformed-setup');
  }, HOOK_TIMEOUT_MS);

  it('has at least twenty fixture cases', () => {
    expect(CASES.filter((c) => c.sets.length === 0).length).toBeGreaterThanOrEqual(20);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  for (const c of CASES) {
    it(c.name, () => {
      const sets = c.sets.flatMap((s) => ['--set', s]);
      const out = join(cwd, 'new-result');
      const before = readTree(cwd);
      const lines: string[] = [];
      for (const args of [['validate', c.file, ...sets], ['run', c.file, ...sets, '--out', out, '--jobs', '1']]) {
        const r = runCli(args, cwd);
        expect(r.status, `${args[0]}: stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
        expect(r.stdout).toBe('');
        const errLines = r.stderr.split('\n');
        expect(errLines.length, r.stderr).toBe(2); // one line and its newline
        expect(errLines[1]).toBe('');
        const line = errLines[0]!;
        expect(line.startsWith('iovsim: ')).toBe(true);
        for (const part of c.expect) expect(line).toContain(part);
        lines.push(line);
      }
      // validate says what run says, and nothing was written
      expect(lines[1]).toBe(lines[0]);
      expect(existsSync(out)).toBe(false);
      expect(readTree(cwd)).toEqual(before);
    });
  }

  it('takes a --set value as YAML reads it: 0x10 is the number 16', () => {
    const r = runCli(['validate', NET_SMALL, '--set', 'host.cores=0x10', '--set', 'workload.ops=0x10'], cwd);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('valid: 1 point(s) x 1 path(s)');
  });

  it('still accepts the page sizes the IOMMU has, and an open-loop net-rr with its arrival', () => {
    for (const sets of [['paths=passthrough', 'iommu.guest_page_kib=2048'], ['workload.rate_per_s=20000', 'workload.arrival=constant'], ['host.cores=2', 'host.pinning=vm0/vcpu0=1, vm0/vhost0=0']]) {
      const r = runCli(['validate', NET_SMALL, ...sets.flatMap((s) => ['--set', s])], cwd);
      expect(r.status, `${sets.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });
});
