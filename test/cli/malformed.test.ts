/**
 * Bad input: every malformed scenario file, override or flag below must give exit status
 * 2, exactly one line on stderr that names the field (and the file, for file errors), no
 * stack trace, nothing on stdout, and leave the existing result folder and the working
 * folder untouched. The cases run through the built command a few at a time, each in a
 * folder of its own (with its own copy of a previous result), so that their count does
 * not make the file slow.
 */
import { cpSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, HOOK_TIMEOUT_MS, FIXTURES, ROOT, SMALL, ensureBuilt, readTree, runCli, startCli, tempDir, type CliResult } from './helpers.js';

const M = (f: string): string => join(FIXTURES, 'malformed', f);
/** A valid network scenario (vhost-kernel, virtio 1.0) that overrides make impossible. */
const NET_SMALL = join(FIXTURES, 'net-small.yaml');

interface Case {
  name: string;
  /**
   * Arguments; OUT is replaced by the existing result folder, NEWOUT by a folder that does
   * not exist (it must not be created: the working folder is compared before and after).
   */
  args: string[];
  /** Substrings the one stderr line must contain. */
  expect: string[];
}

const fileCase = (file: string, ...expect: string[]): Case => ({
  name: file,
  args: ['run', M(file), '--out', 'OUT', '--jobs', '1'],
  expect: [file, ...expect],
});
const setCase = (name: string, sets: string[], ...expect: string[]): Case => ({
  name,
  args: ['run', SMALL, '--out', 'OUT', '--jobs', '1', ...sets.flatMap((s) => ['--set', s])],
  expect,
});
const argsCase = (name: string, args: string[], ...expect: string[]): Case => ({ name, args, expect });
/** An alias bomb in flow style: 10^7 values if expanded. */
const BOMB = ['&a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefg'.split('').map((n, i) => `&${n} [${new Array(10).fill(`*${'abcdefg'[i]}`).join(', ')}]`)].join(', ');

const CASES: Case[] = [
  // Scenario files.
  fileCase('ops-wrong-type.yaml', 'workload.ops', 'must be a number', '"many"'),
  fileCase('ops-missing.yaml', 'workload.ops', 'is required'),
  fileCase('ops-zero.yaml', 'workload.ops', '> 0', 'got 0'),
  fileCase('top-unknown-field.yaml', 'replicatons', 'unknown field', 'did you mean replications'),
  fileCase('workload-unknown-field.yaml', 'workload.opz', 'unknown field', 'did you mean ops'),
  fileCase('path-unknown.yaml', 'paths[0]', '"custum"', 'did you mean custom'),
  fileCase('rate-negative.yaml', 'workload.arrival.rate_per_s', '> 0', 'got -5'),
  fileCase('rate-zero.yaml', 'workload.arrival.rate_per_s', '> 0', 'got 0'),
  fileCase('rate-string.yaml', 'workload.arrival.rate_per_s', 'must be a number', '"fast"'),
  fileCase('distribution-unknown-kind.yaml', 'workload.stages[0].service_ns.kind', '"expo"', 'did you mean exponential', 'lognormal'),
  fileCase('arrival-unknown-kind.yaml', 'workload.arrival.kind', '"poison"', 'did you mean poisson', 'closed'),
  fileCase('workload-unknown-kind.yaml', 'workload.kind', '"net-rx-typo"', 'allowed: custom'),
  fileCase('stages-empty.yaml', 'workload.stages', 'at least one stage'),
  fileCase('cv-too-large.yaml', 'workload.stages[0].service_ns.cv', 'at most 10', 'got 25'),
  fileCase('cv-zero.yaml', 'workload.stages[0].service_ns.cv', '> 0', 'got 0'),
  fileCase('mean-negative.yaml', 'workload.stages[0].service_ns.mean', '> 0', 'got -3'),
  fileCase('uniform-max-below-min.yaml', 'workload.stages[0].service_ns.max', 'at least min', 'got 100'),
  fileCase('empirical-weights-length.yaml', 'workload.stages[0].service_ns.weights', 'as many entries as values'),
  fileCase('servers-fraction.yaml', 'workload.stages[0].servers', 'integer', 'got 2.5'),
  fileCase('stage-unknown-field.yaml', 'workload.stages[0].servrs', 'did you mean servers'),
  fileCase('stage-names-duplicate.yaml', 'workload.stages', 'unique'),
  fileCase('when-full-unknown.yaml', 'workload.stages[0].when_full', 'drop, block', '"maybe"'),
  fileCase('clients-zero.yaml', 'workload.arrival.clients', '>= 1', 'got 0'),
  fileCase('warmup-negative.yaml', 'workload.warmup_ops', '>= 0', 'got -10'),
  fileCase('replications-zero.yaml', 'replications', '>= 1', 'got 0'),
  fileCase('seed-fraction.yaml', 'seed', 'integer', 'got 1.5'),
  fileCase('name-with-space.yaml', 'name', 'letters, digits', '"my scenario"'),
  fileCase('name-missing.yaml', 'name', 'is required'),
  fileCase('sweep-unknown-param.yaml', 'sweep.kvm.exit_usr_ns', 'unknown parameter', 'did you mean kvm.exit_user_ns'),
  fileCase('sweep-not-a-list.yaml', 'sweep.workload.ops', 'list of values', 'got 5000'),
  fileCase('sweep-empty-list.yaml', 'sweep.workload.ops', 'at least one value'),
  fileCase('sweep-zip-unequal.yaml', 'sweep.zip', 'equal length'),
  fileCase('sweep-bad-point.yaml', 'sweep point 1', 'workload.ops=-1', 'workload.ops', 'got -1'),
  fileCase('sweep-param-out-of-range.yaml', 'sweep.kvm.exit_user_ns', 'must be in [0,', 'got -1'),
  fileCase('sweep-key-twice.yaml', 'sweep.zip.workload.ops', 'swept twice'),
  fileCase('sweep-too-many-points.yaml', 'sweep', '125000 points', 'at most 100000'),
  fileCase('params-unknown.yaml', 'params.kvm.exit_usr_ns', 'unknown parameter', 'did you mean kvm.exit_user_ns'),
  fileCase('yaml-syntax.yaml', 'not valid YAML', 'line 3'),
  fileCase('json-syntax.json', 'not valid JSON'),
  fileCase('top-level-list.yaml', '(top level)', 'mapping', 'got a list'),
  fileCase('capacity-negative.json', 'workload.stages[0].capacity', '>= 0', 'got -1'),
  // Structure (issue 17 item 7): alias cycles and bombs, keys given twice, nesting beyond 64 levels, reserved keys.
  fileCase('yaml-alias-cycle.yaml', 'workload.x', 'cycle'),
  fileCase('yaml-alias-cycle-list.yaml', 'sweep.workload.ops[1]', 'cycle'),
  fileCase('yaml-alias-cycle-deep.yaml', 'workload.stages[0].service_ns.value', 'cycle'),
  fileCase('yaml-alias-bomb.yaml', 'alias bomb'),
  fileCase('yaml-duplicate-top-key.yaml', 'name', 'given twice', 'lines 1 and 8'),
  fileCase('yaml-duplicate-workload-key.yaml', 'workload.ops', 'given twice'),
  fileCase('yaml-duplicate-flow-key.yaml', 'workload.arrival.rate_per_s', 'given twice'),
  fileCase('yaml-duplicate-sweep-key.yaml', 'sweep.workload.ops', 'given twice'),
  fileCase('yaml-duplicate-param-quoted.yaml', 'params.kvm.exit_user_ns', 'given twice'),
  fileCase('json-duplicate-top-key.json', 'name', 'given twice'),
  fileCase('json-duplicate-nested-key.json', 'workload.ops', 'given twice'),
  fileCase('json-duplicate-escaped-key.json', 'workload.ops', 'given twice'),
  fileCase('json-duplicate-in-list.json', 'workload.stages[0].servers', 'given twice'),
  fileCase('json-deep-50000.json', 'workload[0][0][0]', 'nested more than 64'),
  fileCase('json-deep-70.json', 'workload.a.a.a', 'nested more than 64'),
  fileCase('yaml-deep-flow.yaml', 'nested more than 64'),
  fileCase('yaml-deep-block.yaml', 'workload.a.a.a', 'nested more than 64'),
  fileCase('yaml-deep-dashes.yaml', 'nested more than 64'),
  fileCase('proto-key-workload.yaml', 'workload.__proto__', 'reserved'),
  fileCase('proto-key-top.json', '__proto__', 'reserved'),
  fileCase('constructor-key-params.yaml', 'params.constructor', 'reserved'),
  fileCase('prototype-key-stage.yaml', 'workload.stages[0].prototype', 'reserved'),
  fileCase('sweep-proto-key.yaml', 'sweep.workload.__proto__.ops', 'reserved'),
  fileCase('sweep-zip-constructor-key.yaml', 'sweep.zip.workload.constructor.x', 'reserved'),
  fileCase('params-dotted-proto.yaml', 'params.kvm.__proto__', 'reserved'),
  fileCase('validation-where-proto.yaml', 'validation[0].where.__proto__', 'reserved'),
  // Messages (issue 17 item 11): numbers that are not finite, values and keys cut at about 100 characters, a byte order mark.
  fileCase('ops-infinite.yaml', 'workload.ops', 'finite', 'got Infinity'),
  fileCase('rate-nan.yaml', 'workload.arrival.rate_per_s', 'finite', 'got NaN'),
  fileCase('ops-1e400.json', 'workload.ops', 'finite', 'got Infinity'),
  fileCase('mean-negative-infinite.yaml', 'workload.stages[0].service_ns.mean', 'got -Infinity'),
  fileCase('param-infinite.yaml', 'params.kvm.exit_user_ns', 'finite', 'got Infinity'),
  fileCase('sweep-nan-value.yaml', 'sweep.workload.ops[1]', 'finite', 'got NaN'),
  fileCase('sweep-param-infinite.yaml', 'sweep.kvm.exit_user_ns[1]', 'finite', 'got Infinity'),
  fileCase('seed-infinite.yaml', 'seed', 'got Infinity'),
  fileCase('long-path-name.yaml', 'paths[0]', '"' + 'x'.repeat(90), '..."'),
  fileCase('long-unknown-key.yaml', 'workload.' + 'k'.repeat(90), 'unknown field'),
  fileCase('long-name.yaml', 'name', 'at most 100 characters', '..."'),
  fileCase('long-seed-string.yaml', 'seed', 'must be', '..."'),
  fileCase('long-param-value.yaml', 'params.qemu.aio', 'one of threads', '..."'),
  fileCase('json-bom-ops-zero.json', 'workload.ops', '> 0', 'got 0'),
  fileCase('yaml-bom-ops-zero.yaml', 'workload.ops', '> 0'),
  // What a file holds: nothing, a comment, binary bytes, a scalar or a list, truncated or broken YAML and JSON.
  fileCase('empty.yaml', '(top level)', 'empty'),
  fileCase('empty.json', 'not valid json'),
  fileCase('only-comment.yaml', '(top level)', 'empty'),
  fileCase('only-whitespace.yaml', '(top level)'),
  fileCase('binary-garbage.yaml', 'not utf-8'),
  fileCase('binary-nul.yaml', 'nul'),
  fileCase('scalar-top.yaml', '(top level)', 'mapping', 'got 42'),
  fileCase('string-top.yaml', '(top level)', 'got "just some words"'),
  fileCase('null-top.yaml', '(top level)'),
  fileCase('top-level-list.json', '(top level)', 'got a list'),
  fileCase('top-level-string.json', '(top level)', 'got "a scenario"'),
  fileCase('truncated.yaml', 'not valid yaml'),
  fileCase('truncated.json', 'not valid json'),
  fileCase('yaml-tab-indent.yaml', 'not valid yaml'),
  fileCase('yaml-bad-indent.yaml', 'not valid yaml'),
  fileCase('yaml-two-documents.yaml', 'not valid yaml', 'more than one YAML document', 'line 3'),
  fileCase('yaml-unclosed-quote.yaml', 'not valid yaml'),
  fileCase('yaml-unknown-tag.yaml', 'not valid yaml', 'unresolved tag', 'line 2'),
  fileCase('json-trailing-garbage.json', 'not valid json'),
  fileCase('json-single-quotes.json', 'not valid json'),
  fileCase('json-comment.json', 'not valid json'),
  fileCase('json-trailing-comma-list.json', 'not valid json'),
  // Every workload kind: out-of-range, wrongly typed, unknown and inconsistent fields.
  fileCase('net-rr-size-too-small.yaml', 'workload.size_bytes'),
  fileCase('net-rr-outstanding-zero.yaml', 'workload.outstanding', '>= 1', 'got 0'),
  fileCase('net-rr-outstanding-too-many.yaml', 'workload.outstanding', '<= 4096', 'got 5000'),
  fileCase('net-rr-arrival-unknown.yaml', 'workload.arrival', 'poisson, constant', '"bursty"'),
  fileCase('net-rr-flows-fraction.yaml', 'workload.flows', 'integer', 'got 1.5'),
  fileCase('net-rr-think-negative.yaml', 'workload.think_ns', '>= 0', 'got -1'),
  fileCase('net-rr-unknown-field.yaml', 'workload.mtu_bytes', 'unknown field'),
  fileCase('net-rr-rate-string.yaml', 'workload.rate_per_s', 'must be a number', '"lots"'),
  fileCase('net-tx-size-and-message.yaml', 'workload.size_bytes', 'omit size_bytes'),
  fileCase('net-tx-mtu-too-big.yaml', 'workload.mtu_bytes', '<= 9000', 'got 10000'),
  fileCase('net-tx-saturate-with-rate.yaml', 'workload.rate_per_s', 'saturating'),
  fileCase('net-tx-constant-without-rate.yaml', 'workload.rate_per_s', 'needs rate_per_s'),
  fileCase('net-tx-window-without-message.yaml', 'workload.window_bytes', 'message_bytes'),
  fileCase('net-tx-batch-zero.yaml', 'workload.tx_batch', '>= 1', 'got 0'),
  fileCase('net-rx-burst-on-zero.yaml', 'workload.burst_on_ns', '> 0', 'got 0'),
  fileCase('net-rx-flows-too-many.yaml', 'workload.flows', '<= 1024', 'got 2000'),
  fileCase('net-rx-arrival-closed.yaml', 'workload.arrival', 'saturate', '"closed"'),
  fileCase('net-pvp-unknown-field.yaml', 'workload.outstanding', 'unknown field'),
  fileCase('net-pvp-path-cannot-run.yaml', 'paths[0]', 'cannot run workload net-pvp'),
  fileCase('net-pvp-size-string.yaml', 'workload.size_bytes', 'must be a number', '"big"'),
  fileCase('blk-bs-not-sector.yaml', 'workload.bs', 'multiple of 512'),
  fileCase('blk-bs-bad-suffix.yaml', 'workload.bs', 'not a byte count'),
  fileCase('blk-rw-unknown.yaml', 'workload.rw', 'randread', '"randomread"'),
  fileCase('blk-ioengine-unknown.yaml', 'workload.ioengine', 'libaio', '"aio"'),
  fileCase('blk-hipri-libaio.yaml', 'workload.hipri', 'io_uring'),
  fileCase('blk-size-below-bs.yaml', 'workload.size', 'at least bs'),
  fileCase('blk-iodepth-zero.yaml', 'workload.iodepth', '>= 1', 'got 0'),
  fileCase('blk-rwmixread-over.yaml', 'workload.rwmixread', '<= 100', 'got 150'),
  fileCase('blk-numjobs-too-many.yaml', 'workload.numjobs', '<= 1024', 'got 5000'),
  fileCase('blk-hipri-string.yaml', 'workload.hipri', 'true or false', '"yes"'),
  fileCase('blk-read-rw-write.yaml', 'workload.rw', 'read, randread', '"write"'),
  fileCase('blk-write-rw-randread.yaml', 'workload.rw', 'write, randwrite', '"randread"'),
  fileCase('blk-write-rate-negative.yaml', 'workload.rate_iops', '> 0', 'got -5'),
  fileCase('custom-arrival-missing.yaml', 'workload.arrival', 'required'),
  fileCase('custom-stages-not-a-list.yaml', 'workload.stages', 'must be a list'),
  fileCase('custom-stage-name-space.yaml', 'workload.stages[0].name', 'letters, digits'),
  fileCase('custom-closed-think-uniform-reversed.yaml', 'workload.arrival.think_ns.max', 'at least min'),
  fileCase('custom-capacity-fraction.yaml', 'workload.stages[0].capacity', 'integer', 'got 2.5'),
  fileCase('custom-size-negative.yaml', 'workload.size_bytes', '>= 0', 'got -1'),
  // Distributions.
  fileCase('dist-gamma-shape-zero.yaml', 'service_ns.shape', '>= 0.01', 'got 0'),
  fileCase('dist-erlang-k-fraction.yaml', 'service_ns.k', 'integer', 'got 1.5'),
  fileCase('dist-normal-stdev-negative.yaml', 'service_ns.stdev', '>= 0', 'got -1'),
  fileCase('dist-empirical-weights-zero.yaml', 'service_ns.weights', 'positive'),
  fileCase('dist-empirical-values-empty.yaml', 'service_ns.values', 'at least 1'),
  fileCase('dist-constant-value-missing.yaml', 'service_ns.value', 'required'),
  fileCase('dist-kind-missing.yaml', 'service_ns.kind', 'required'),
  fileCase('dist-string.yaml', 'workload.stages[0].service_ns', 'must be', '"fast"'),
  fileCase('dist-list.yaml', 'workload.stages[0].service_ns', 'must be'),
  fileCase('dist-uniform-unknown-field.yaml', 'service_ns.mean', 'unknown field'),
  // Wrong types and values at every level: workload, paths, params, sweep, seed, replications, name, description, validation.
  fileCase('workload-string.yaml', 'workload', 'mapping', '"net-rr"'),
  fileCase('workload-list.yaml', 'workload', 'mapping'),
  fileCase('workload-kind-number.yaml', 'workload.kind', 'unknown value 5', 'allowed: custom'),
  fileCase('workload-missing.yaml', 'workload', 'required'),
  fileCase('paths-string.yaml', 'paths', 'must be a list', '"vhost-user"'),
  fileCase('paths-empty.yaml', 'paths', 'at least one path'),
  fileCase('paths-duplicate.yaml', 'paths[1]', 'listed twice'),
  fileCase('paths-number.yaml', 'paths[0]', 'must be a string', 'got 5'),
  fileCase('path-cannot-run-custom.yaml', 'paths[0]', 'cannot run the custom workload'),
  fileCase('params-list.yaml', 'params', 'mapping'),
  fileCase('params-value-mapping.yaml', 'params.kvm.exit_user_ns'),
  fileCase('param-out-of-range.yaml', 'params.host.vms', 'must be in [1', 'got 0'),
  fileCase('param-wrong-choice.yaml', 'params.qemu.aio', 'one of threads', '"posix"'),
  fileCase('param-bool-string.yaml', 'params.kvm.apicv', 'true or false', '"maybe"'),
  fileCase('param-integer-fraction.yaml', 'params.qemu.pool_size', 'integer', 'got 2.5'),
  fileCase('sweep-list.yaml', 'sweep', 'mapping'),
  fileCase('sweep-zip-list.yaml', 'sweep.zip'),
  fileCase('sweep-zip-empty.yaml', 'sweep.zip', 'equal length'),
  fileCase('sweep-value-mapping.yaml', 'sweep.workload.ops[0]'),
  fileCase('sweep-param-wrong-choice.yaml', 'sweep.qemu.aio', '"posix"', 'one of threads'),
  fileCase('sweep-workload-kind.yaml', 'sweep.workload.kind', 'cannot be swept'),
  fileCase('seed-negative.yaml', 'seed', '>= 0', 'got -1'),
  fileCase('seed-too-big.yaml', 'seed', '<= 4294967295', 'got 4294967296'),
  fileCase('seed-string.yaml', 'seed', 'must be a number', '"seven"'),
  fileCase('replications-too-many.yaml', 'replications', '<= 10000', 'got 10001'),
  fileCase('replications-fraction.yaml', 'replications', 'integer', 'got 2.5'),
  fileCase('name-number.yaml', 'name', 'must be a string', 'got 5'),
  fileCase('name-dot-dot.yaml', 'name', 'must not start with a dot'),
  fileCase('name-too-long.yaml', 'name', 'at most 100 characters'),
  fileCase('description-number.yaml', 'description', 'must be a string', 'got 5'),
  fileCase('validation-empty.yaml', 'validation', 'at least 1'),
  fileCase('validation-unknown-metric.yaml', 'validation[0].metric', '"latency_avg_ns"', 'latency_mean_ns'),
  fileCase('validation-tolerance-negative.yaml', 'validation[0].tolerance', '>= 0'),
  fileCase('validation-source-missing.yaml', 'validation[0].source', 'required'),
  argsCase('missing-file', ['run', M('no-such-file.yaml'), '--out', 'OUT'], 'no-such-file.yaml', 'cannot read'),
  argsCase('run-a-folder', ['run', FIXTURES, '--out', 'OUT'], `${FIXTURES}: is not a regular file (a folder)`),
  argsCase('run-a-device', ['run', '/dev/null', '--out', 'OUT'], '/dev/null: is not a regular file (a device)', '4 MiB'),
  // Overrides.
  setCase('set-without-equals', ['workload.ops'], '--set', 'workload.ops', 'name=value'),
  setCase('set-empty-name', ['=5'], '--set', '"=5"', 'name=value'),
  setCase('set-unknown-name', ['replicatons=3'], '--set replicatons', 'did you mean replications'),
  setCase('set-unknown-param', ['kvm.exit_usr_ns=5'], '--set kvm.exit_usr_ns', 'unknown parameter or field', 'did you mean kvm.exit_user_ns'),
  setCase('set-param-out-of-range', ['kvm.exit_user_ns=-5'], 'params.kvm.exit_user_ns', '-5', 'from --set kvm.exit_user_ns=-5'),
  setCase('set-param-wrong-type', ['params.kvm.exit_user_ns=fast'], 'params.kvm.exit_user_ns', 'must be a number', '"fast"'),
  setCase('set-wrong-type', ['workload.ops=abc'], 'small.yaml', 'workload.ops', '"abc"', 'from --set workload.ops=abc'),
  setCase('set-negative-rate', ['workload.arrival.rate_per_s=-1'], 'workload.arrival.rate_per_s', '> 0', 'from --set'),
  setCase('set-bad-list-index', ['workload.stages.4.servers=2'], 'workload.stages.4', 'list index'),
  setCase('set-zero-servers', ['workload.stages.0.servers=0'], 'workload.stages[0].servers', '>= 1', 'from --set workload.stages.0.servers=0'),
  setCase('set-unknown-distribution', ['workload.stages.0.service_ns.kind=expo'], 'service_ns.kind', 'did you mean exponential'),
  setCase('set-sweep-workload-kind', ['sweep.workload.kind=[custom]'], 'sweep.workload.kind', 'cannot be swept'),
  setCase('set-replications-zero', ['replications=0'], 'replications', '>= 1'),
  // Structure of --set names and values (issue 17 item 7): reserved parts, cycles, keys given twice, depth.
  setCase('set-proto-part', ['workload.__proto__.x=1'], '--set workload.__proto__.x', '"__proto__" is a reserved name'),
  setCase('set-constructor-field', ['workload.constructor=1'], '--set workload.constructor', 'reserved'),
  setCase('set-proto-param-part', ['kvm.__proto__=1'], '--set kvm.__proto__', 'reserved'),
  setCase('set-sweep-proto-key', ['sweep.workload.__proto__.ops=[5]'], '--set sweep.workload.__proto__.ops', 'reserved'),
  setCase('set-sweep-zip-prototype-key', ['sweep.zip.workload.prototype=[5]'], '--set sweep.zip.workload.prototype', 'reserved'),
  setCase('set-proto-in-value', ['workload.arrival={__proto__: {x: 1}}'], '--set workload.arrival: workload.arrival.__proto__', 'reserved'),
  setCase('set-cyclic-list', ['workload.x=&a [*a]'], '--set workload.x: workload.x[0]', 'refers back to workload.x', 'cycle'),
  setCase('set-cyclic-mapping', ['workload.arrival=&m {kind: poisson, m: *m}'], '--set workload.arrival: workload.arrival.m', 'cycle'),
  setCase('set-duplicate-key', ['workload.arrival={kind: poisson, kind: closed}'], '--set workload.arrival: workload.arrival.kind', 'given twice'),
  setCase('set-deep-value', [`workload.x=${'['.repeat(100)}${']'.repeat(100)}`], '--set workload.x', 'nested more than 64'),
  setCase('set-name-too-deep', [`workload.${'a.'.repeat(70)}b=1`], 'more than 64 dotted parts'),
  setCase('set-alias-bomb', [`workload.x=[${BOMB}]`], '--set workload.x', 'alias'),
  setCase('set-inherited-field', ['workload.toString.x=1'], 'workload.toString', 'unknown field'),
  // Messages of --set values (issue 17 item 11).
  setCase('set-infinite', ['workload.ops=.inf'], 'workload.ops', 'finite', 'got Infinity', 'from --set workload.ops=.inf'),
  setCase('set-nan-param', ['kvm.exit_user_ns=.nan'], 'params.kvm.exit_user_ns', 'finite', 'got NaN'),
  setCase('set-long-value', [`workload.ops=${'x'.repeat(100_000)}`], 'workload.ops', 'must be a number', `"${'x'.repeat(90)}`, '..."', '...)'),
  setCase('set-long-name', [`${'k'.repeat(100_000)}=1`], 'unknown parameter or field', '..."'),
  argsCase('compare-set-proto', ['compare', '--set', 'workload.__proto__.ops=5', '--out', 'OUT'], '--set workload.__proto__.ops', 'reserved'),
  argsCase('validate-set-cyclic', ['validate', SMALL, '--set', 'workload.x=&a [*a]'], '--set workload.x', 'cycle'),
  argsCase('seed-long', ['run', SMALL, '--out', 'OUT', '--seed', '9'.repeat(100_000)], '--seed', '..."'),
  // Flags.
  argsCase('seed-negative', ['run', SMALL, '--out', 'OUT', '--seed', '-1'], '--seed', '"-1"'),
  argsCase('seed-text', ['run', SMALL, '--out', 'OUT', '--seed', 'abc'], '--seed', '"abc"'),
  argsCase('seed-too-big', ['run', SMALL, '--out', 'OUT', '--seed', '4294967296'], '--seed', '4294967295'),
  argsCase('shard-index-above-count', ['run', SMALL, '--out', 'OUT', '--shard', '3/2'], '--shard', '"3/2"', 'I/N'),
  argsCase('shard-zero', ['run', SMALL, '--out', 'OUT', '--shard', '0/2'], '--shard', '"0/2"'),
  argsCase('shard-text', ['run', SMALL, '--out', 'OUT', '--shard', 'two'], '--shard', '"two"'),
  argsCase('jobs-zero', ['run', SMALL, '--out', 'OUT', '--jobs', '0'], '--jobs', '"0"'),
  argsCase('jobs-text', ['run', SMALL, '--out', 'OUT', '--jobs', 'x'], '--jobs', '"x"'),
  argsCase('jobs-fraction', ['run', SMALL, '--out', 'OUT', '--jobs', '1.5'], '--jobs', '"1.5"'),
  argsCase('unknown-option', ['run', SMALL, '--out', 'OUT', '--jobz', '2'], "'--jobz'", 'did you mean --jobs'),
  argsCase('missing-argument', ['run'], "'file'"),
  argsCase('unknown-command', ['rnu', SMALL], "'rnu'"),
  argsCase('unknown-option-long', ['run', SMALL, `--${'x'.repeat(100_000)}`], 'unknown option', 'characters cut'),
  argsCase('unknown-command-long', ['y'.repeat(100_000)], 'unknown command', 'characters cut'),
  argsCase('unknown-list-target', ['list', 'pathz'], 'list', '"pathz"', 'paths, workloads, params, scenarios'),
  argsCase('out-not-a-result', ['run', SMALL, '--out', FIXTURES], '--out', 'not an iovsim result'),
  argsCase('validate-bad-file', ['validate', M('cv-too-large.yaml')], 'cv-too-large.yaml', 'service_ns.cv'),
  argsCase('compare-unknown-workload', ['compare', '--workload', 'net-rrr', '--out', 'OUT'], '--workload', '"net-rrr"'),
  argsCase('compare-bad-ops', ['compare', '--workload', 'custom', '--ops', '0', '--out', 'OUT'], '--ops', '"0"'),
  argsCase('compare-bad-set', ['compare', '--set', 'nonsense', '--out', 'OUT'], '--set', '"nonsense"'),
  argsCase('merge-not-a-shard', ['merge', 'OUT', '--out', 'OUT2'], 'merge', 'no shard.json'),
  // Timelines and faults (issue 16): the fields, and actions a path has no part for.
  fileCase('timeline-unknown-action.yaml', 'timeline[0].action', 'unknown value "explode"', 'allowed: migrate'),
  fileCase('timeline-no-time.yaml', 'timeline[0]', 'exactly one of at_s, at_ms, at_op'),
  fileCase('timeline-loss-rate-above-one.yaml', 'timeline[0].rate', '<= 1', '1.5'),
  fileCase('timeline-unknown-field.yaml', 'timeline[0].duration_s', 'did you mean duration_ms', 'allowed: action, at_ms, at_op, at_s, duration_ms'),
  fileCase('timeline-vf-reset-on-virtio.yaml', 'path vhost-kernel: timeline[0].action', 'cannot do "vf-reset"', 'it can: link-down, link-up, loss'),
  fileCase('timeline-migrate-passthrough.yaml', 'path passthrough: timeline[0].action', 'VFIO device without migration support', 'migration.failover=true'),
  fileCase('timeline-migrate-bare-metal.yaml', 'timeline[0].action', 'bare metal has no VM to migrate'),
  fileCase('timeline-iscsi-on-local-disk.yaml', 'timeline[0].action', 'cannot do "iscsi-disconnect"'),
  fileCase('timeline-custom-workload.yaml', 'timeline', 'custom workload runs on no path'),
  fileCase('faults-migrate-random.yaml', 'faults[0].action', 'migrate cannot be a random fault'),
  fileCase('faults-negative-rate.yaml', 'faults[0].rate_per_s', '> 0', '-2'),
  argsCase('set-timeline-rate-bad', ['run', NET_SMALL, '--out', 'NEWOUT', '--set', 'timeline=[{action: loss, at_s: 0, rate: 0.1, duration_ms: 5}]', '--set', 'timeline.0.rate=5'], 'timeline[0].rate', '<= 1', '(from --set timeline.0.rate=5)'),
  argsCase('set-timeline-vf-reset-virtio', ['validate', NET_SMALL, '--set', 'timeline=[{action: vf-reset, at_s: 1}]'], 'path vhost-kernel: timeline[0].action', 'cannot do "vf-reset"', '(from --set timeline='),
  fileCase('timeline-sweep-rate-bad.yaml', 'sweep point 1 (timeline.0.rate=2)', 'timeline[0].rate', '<= 1'),
  // Impossible path/parameter combinations, rejected at plan time (PathModel.check), before any task runs.
  fileCase('packed-ring-vhost-kernel.yaml', 'path vhost-kernel: params.virtio.version', 'packed ring', 'not supported by vhost-kernel'),
  argsCase(
    'sweep-one-impossible-point',
    ['run', M('sweep-one-impossible-point.yaml'), '--out', 'NEWOUT', '--jobs', '1'],
    'sweep-one-impossible-point.yaml',
    'sweep point 2 (virtio.version=1.1), path vhost-kernel: params.virtio.version',
    'packed ring',
  ),
  argsCase(
    'sweep-sriov-too-many-vms',
    ['run', M('sweep-sriov-too-many-vms.yaml'), '--out', 'NEWOUT', '--jobs', '1'],
    'sweep point 2 (host.vms=8), path sriov: params.host.vms',
    'sriov.max_vfs = 4',
  ),
  argsCase(
    'set-packed-ring-vhost-kernel',
    ['run', NET_SMALL, '--out', 'NEWOUT', '--set', 'params.virtio.version=1.1'],
    'net-small.yaml',
    'path vhost-kernel: params.virtio.version',
    'packed ring',
    'from --set params.virtio.version=1.1',
  ),
  argsCase(
    'set-split-ring-size-vhost-kernel',
    ['run', NET_SMALL, '--out', 'NEWOUT', '--set', 'virtio.rx_queue_size=300'],
    'path vhost-kernel: params.virtio.rx_queue_size',
    'power of two',
    'got 300',
    'from --set virtio.rx_queue_size=300',
  ),
  argsCase(
    'set-passthrough-two-vms',
    ['run', NET_SMALL, '--out', 'NEWOUT', '--set', 'paths=passthrough', '--set', 'host.vms=2'],
    'path passthrough: params.host.vms',
    'one vm',
    'from --set host.vms=2',
  ),
  argsCase(
    'validate-packed-ring-vhost-kernel',
    ['validate', M('packed-ring-vhost-kernel.yaml')],
    'packed-ring-vhost-kernel.yaml',
    'path vhost-kernel: params.virtio.version',
  ),
  argsCase(
    'validate-sweep-one-impossible-point',
    ['validate', M('sweep-one-impossible-point.yaml')],
    'sweep point 2 (virtio.version=1.1), path vhost-kernel: params.virtio.version',
  ),
  argsCase(
    'validate-set-packed-ring-vhost-kernel',
    ['validate', NET_SMALL, '--set', 'virtio.version=1.1'],
    'path vhost-kernel: params.virtio.version',
    'from --set virtio.version=1.1',
  ),
  argsCase(
    'compare-packed-ring-default-paths',
    ['compare', '--set', 'virtio.version=1.1', '--out', 'NEWOUT'],
    'compare: path vhost-kernel: params.virtio.version',
    'packed ring',
  ),
];

/** A case that has not ended after this long is stuck (a read that blocks, a loop). */
const CASE_TIMEOUT_MS = 30_000;

/** Runs the command, killing it when it outlives CASE_TIMEOUT_MS (it then fails its case). */
async function runCase(args: readonly string[], cwd: string): Promise<CliResult> {
  const { child, done } = startCli(args, cwd);
  const timer = setTimeout(() => child.kill('SIGKILL'), CASE_TIMEOUT_MS);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `work` on each item, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

interface Outcome {
  result: CliResult;
  /** The case's previous result folder and working folder, before and after. */
  out: string;
  outBefore: Record<string, string>;
  outMtimes: Record<string, number>;
  cwd: string;
  cwdBefore: Record<string, string>;
}

const mtimes = (dir: string): Record<string, number> =>
  Object.fromEntries(Object.keys(readTree(dir)).map((f) => [f, statSync(join(dir, f)).mtimeMs]));

describe('malformed input: exit 2, one line naming the field, nothing touched', () => {
  const outcomes = new Map<string, Outcome>();

  beforeAll(async () => {
    ensureBuilt();
    const root = tempDir('malformed');
    const previous = join(root, 'previous-result');
    const ok = runCli(['run', SMALL, '--out', previous, '--set', 'workload.ops=500', '--jobs', '1', '--quiet'], root);
    expect(ok.status, ok.stderr).toBe(0);
    // Each case runs in a folder of its own, with its own copy of the previous result.
    const setups = CASES.map((c, i) => {
      const cwd = join(root, `case-${i}`);
      mkdirSync(cwd);
      const out = join(cwd, 'previous-result');
      cpSync(previous, out, { recursive: true, preserveTimestamps: true });
      return { c, cwd, out };
    });
    // One more than the cores: a case's process also waits (its worker's start, the disk).
    const lanes = Math.max(2, Math.min(4, availableParallelism() + 1));
    await eachLimited(setups, lanes, async ({ c, cwd, out }) => {
      const outBefore = readTree(out);
      const outMtimes = mtimes(out);
      const cwdBefore = readTree(cwd);
      const args = c.args.map((a) => (a === 'OUT' ? out : a === 'OUT2' ? join(cwd, 'merged') : a === 'NEWOUT' ? join(cwd, 'new-result') : a));
      const result = await runCase(args, cwd);
      outcomes.set(c.name, { result, out, outBefore, outMtimes, cwd, cwdBefore });
    });
  }, HOOK_TIMEOUT_MS * 2);

  it('has at least 150 cases, and a case for every fixture (but setup-*, checked in their own file)', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(150);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    const fixtures = readdirSync(join(FIXTURES, 'malformed')).filter((f) => !f.startsWith('setup-'));
    expect(fixtures.length).toBeGreaterThanOrEqual(130);
    const used = new Set(CASES.flatMap((c) => c.args));
    expect(fixtures.filter((f) => !used.has(M(f)))).toEqual([]);
  });

  for (const c of CASES) {
    it(c.name, () => {
      const o = outcomes.get(c.name)!;
      const r = o.result;
      expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.split('\n');
      expect(lines.length, r.stderr).toBe(2); // one line and its newline
      expect(lines[1]).toBe('');
      const line = lines[0]!;
      expect(line.startsWith('iovsim: ')).toBe(true);
      expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
      expect(line.length).toBeLessThanOrEqual(1008); // "iovsim: " and at most 1000 characters
      for (const part of c.expect) expect(line.toLowerCase()).toContain(part.toLowerCase());
      // Nothing written or touched: the previous result and the working folder are as they were.
      expect(readTree(o.out)).toEqual(o.outBefore);
      expect(mtimes(o.out)).toEqual(o.outMtimes);
      expect(readTree(o.cwd)).toEqual(o.cwdBefore);
    });
  }
});

describe('stack traces only with --debug or IOVSIM_DEBUG=1', () => {
  const PRELOAD = join(ROOT, 'test', 'cli', 'support', 'simulate-internal-error.mjs');
  /** Runs the built command with a preload that makes its first write to stdout throw. */
  const crash = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--import', pathToFileURL(PRELOAD).href, CLI, ...args], {
      encoding: 'utf8',
      env: { ...process.env, IOVSIM_DEBUG: '', ...env },
    });
  const STACK_LINE = /^\s+at /m;

  beforeAll(() => ensureBuilt(), HOOK_TIMEOUT_MS);

  it('an internal error is one line without the stack, exit 1', () => {
    const r = crash(['list', 'paths']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe('iovsim: internal error: simulated internal error (run with --debug for the stack trace)\n');
  });

  it('--debug (before or after the command) prints the stack trace', () => {
    for (const args of [['--debug', 'list', 'paths'], ['list', 'paths', '--debug']]) {
      const r = crash(args);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^iovsim: internal error: Error: simulated internal error\n/);
      expect(r.stderr).toMatch(STACK_LINE);
    }
  });

  it('IOVSIM_DEBUG=1 prints the stack trace; IOVSIM_DEBUG=0 does not', () => {
    const on = crash(['list', 'paths'], { IOVSIM_DEBUG: '1' });
    expect(on.status).toBe(1);
    expect(on.stderr).toMatch(STACK_LINE);
    const off = crash(['list', 'paths'], { IOVSIM_DEBUG: '0' });
    expect(off.status).toBe(1);
    expect(off.stderr).not.toMatch(STACK_LINE);
  });

  it('bad input stays one line with --debug', () => {
    const r = runCli(['--debug', 'validate', M('cv-too-large.yaml')]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toContain('service_ns.cv');
  });
});
