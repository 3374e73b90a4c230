/**
 * iovsim report: the SVGs hold the marks the result calls for (Node, no browser), bad
 * folders exit 2 with one line, and the page opens in a real headless Chromium (Debian's
 * chromium, through puppeteer-core; skipped with a warning where it is not installed)
 * with no console errors and the same mark counts in the live DOM.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, HOOK_TIMEOUT_MS, ROOT, SMALL, ensureBuilt, runCli, tempDir } from '../cli/helpers.js';

const SWEEP = join(FIXTURES, 'report-sweep.yaml'); // 3 points x 2 paths x 2 replications
const NET = join(FIXTURES, 'net-small.yaml'); // 1 point, vhost-kernel, 1 replication

/** Paths inside the role-mark groups named `<name>_marks`, summed over the groups. */
function marks(svg: string, name: string): number {
  let n = 0;
  for (const m of svg.matchAll(new RegExp(`<g class="mark-\\w+ role-mark ${name}_marks"[^>]*>(.*?)</g>`, 'gs'))) n += (m[1]!.match(/<path\b/g) ?? []).length;
  return n;
}
function groups(svg: string, name: string): number {
  return (svg.match(new RegExp(`<g class="mark-\\w+ role-mark ${name}_marks"`, 'g')) ?? []).length;
}

let dir = '';
let sweep = '';
let net = '';
let custom = '';
let events = '';
beforeAll(() => {
  ensureBuilt();
  dir = tempDir('report');
  sweep = join(dir, 'sweep');
  net = join(dir, 'net');
  custom = join(dir, 'custom');
  expect(runCli(['run', SWEEP, '--out', sweep, '--quiet', '--report']).status).toBe(0);
  expect(runCli(['run', NET, '--out', net, '--quiet']).status).toBe(0);
  expect(runCli(['report', net]).status).toBe(0);
  expect(runCli(['run', SMALL, '--out', custom, '--quiet']).status).toBe(0);
  expect(runCli(['report', custom, '--quiet']).status).toBe(0);
  // a timeline: a link flap and a migration, on two paths
  events = join(dir, 'events');
  const timeline = 'timeline=[{action: link-down, at_ms: 20, duration_ms: 10}, {action: migrate, at_ms: 40}]';
  const r = runCli(['run', NET, '--out', events, '--quiet', '--report', '--set', 'paths=vhost-kernel,vhost-user', '--set', 'workload.ops=3000', '--set', 'vm.memory_gib=0.125', '--set', 'migration.max_bandwidth_mibps=2048', '--set', 'timeline_bucket_ms=5', '--set', timeline]);
  expect(r.status, r.stderr).toBe(0);
}, HOOK_TIMEOUT_MS);

const svgOf = (d: string, f: string): string => readFileSync(join(d, f), 'utf8');

describe('report SVGs (Node)', () => {
  it('a sweep: one CDF line per path and point, p99 points = sweep points x paths, CI bands', () => {
    const cdf = svgOf(sweep, 'report-latency-cdf.svg');
    expect(cdf.startsWith('<svg') || cdf.startsWith('<?xml')).toBe(true);
    expect(marks(cdf, 'cdf_line')).toBe(3 * 2);
    const pct = svgOf(sweep, 'report-percentiles.svg');
    expect(marks(pct, 'p99_point')).toBe(3 * 2);
    expect(marks(pct, 'p50_point')).toBe(3 * 2);
    expect(marks(pct, 'p99_line')).toBe(2);
    expect(marks(pct, 'p99_band')).toBe(2);
    const stages = svgOf(sweep, 'report-stages.svg');
    const [stageHeader, ...stageLines] = readFileSync(join(sweep, 'stages.csv'), 'utf8').trim().split('\n');
    const stageRows = stageLines.filter((l) => l.startsWith('0,') && l.split(',')[2] === '0');
    const tailAt = stageHeader!.split(',').indexOf('tail_mean_ns');
    const withTail = stageRows.filter((l) => l.split(',')[tailAt] !== '');
    expect(withTail.length).toBeGreaterThan(0);
    // a mean bar segment per stage, and a p99 one (slowest 1%) per stage with a tail
    expect(marks(stages, 'stage_bar')).toBe(stageRows.length + withTail.length);
    expect(marks(svgOf(sweep, 'report-cost.svg'), 'cost_bar')).toBe(2 * 5);
    const threads = readFileSync(join(sweep, 'cpu.csv'), 'utf8').trim().split('\n').slice(1).filter((l) => l.startsWith('0,') && l.split(',')[2] === '0');
    expect(marks(svgOf(sweep, 'report-cpu.svg'), 'cpu_bar')).toBe(threads.length * 2);
  });

  it('one point: one CDF line, no percentile chart (said so), no stray SVG', () => {
    expect(marks(svgOf(net, 'report-latency-cdf.svg'), 'cdf_line')).toBe(1);
    expect(groups(svgOf(net, 'report-latency-cdf.svg'), 'cdf_line')).toBe(1);
    expect(existsSync(join(net, 'report-percentiles.svg'))).toBe(false);
    expect(readFileSync(join(net, 'report.html'), 'utf8')).toContain('no swept parameter');
  });

  it('a timeline: p99 and ops over time, a line per path; none without a timeline', () => {
    const svg = svgOf(events, 'report-timeline.svg');
    expect(marks(svg, 'timeline_p99')).toBe(2);
    expect(marks(svg, 'timeline_ops')).toBe(2);
    expect(readFileSync(join(events, 'report.html'), 'utf8')).toContain('stop-and-copy');
    expect(existsSync(join(net, 'report-timeline.svg'))).toBe(false);
    expect(existsSync(join(sweep, 'report-timeline.svg'))).toBe(false);
  });

  it('a custom workload: no CPU chart, with a note; the p99 line has a point per sweep point', () => {
    expect(existsSync(join(custom, 'report-cpu.svg'))).toBe(false);
    const html = readFileSync(join(custom, 'report.html'), 'utf8');
    expect(html).toContain('no CPU chart');
    expect(marks(svgOf(custom, 'report-percentiles.svg'), 'p99_point')).toBe(2);
  });

  it('two swept parameters: a panel per value of the other, a p99 point per sweep point in each chart', () => {
    const two = join(dir, 'two');
    const r = runCli(['run', join(FIXTURES, 'report-two-params.yaml'), '--out', two, '--quiet', '--report']);
    expect(r.status, r.stderr).toBe(0);
    const pct = svgOf(two, 'report-percentiles.svg');
    expect(groups(pct, 'p99_point')).toBe(2 * 2); // 2 charts x 2 panels
    expect(marks(pct, 'p99_point')).toBe(2 * 4); // each chart shows all 4 points once
    expect(marks(pct, 'p99_band')).toBe(0); // one replication: no band
  });

  it('the page is self-contained: no script, no external reference, every SVG inline', () => {
    const html = readFileSync(join(sweep, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)="https?:/i);
    expect((html.match(/<svg\b/g) ?? []).length).toBeGreaterThanOrEqual(5);
    expect(html).toContain('<h3>Parameters changed from the defaults</h3>');
  });

  it('the folder stays a valid result: run --out replaces it', () => {
    const r = runCli(['run', NET, '--out', net, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('report on bad folders: exit 2, one line', () => {
  const bad = (args: string[], pattern: RegExp): void => {
    const r = runCli(args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  };
  it('missing folder, a folder that is not a result, a foreign manifest', () => {
    bad(['report', join(dir, 'nope')], /no such folder/);
    const plain = join(dir, 'plain');
    mkdirSync(plain, { recursive: true });
    writeFileSync(join(plain, 'notes.txt'), 'x');
    bad(['report', plain], /not an iovsim result/);
    writeFileSync(join(plain, 'manifest.json'), JSON.stringify({ tool: 'other' }));
    bad(['report', plain], /not an iovsim result/);
    bad(['report', join(ROOT, 'package.json')], /not a folder/);
  });
  it('another major version, a missing column, a missing file', () => {
    const old = join(dir, 'old');
    cpSync(net, old, { recursive: true });
    const m = JSON.parse(readFileSync(join(old, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(old, 'manifest.json'), JSON.stringify({ ...m, version: '99.0.0' }));
    bad(['report', old], /incompatible/);
    writeFileSync(join(old, 'manifest.json'), JSON.stringify(m));
    const s = readFileSync(join(old, 'summary.csv'), 'utf8');
    writeFileSync(join(old, 'summary.csv'), s.replace('latency_p99_ns', 'latency_q99'));
    bad(['report', old], /lacks column\(s\) latency_p99_ns/);
    writeFileSync(join(old, 'summary.csv'), s);
    rmSync(join(old, 'cpu.csv'));
    bad(['report', old], /has no cpu\.csv/);
  });
});

/** Debian's chromium, when installed. */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
if (!CHROMIUM) console.warn('report.test.ts: no Chromium (/usr/bin/chromium): the browser test is SKIPPED; install it with apt-get install -y chromium');

describe('report in a real headless Chromium', () => {
  it.skipIf(!CHROMIUM)('opens without console errors or network requests; every chart has its marks; screenshot', async () => {
    const { default: puppeteer } = await import('puppeteer-core');
    const browser = await puppeteer.launch({ executablePath: CHROMIUM!, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) requests.push(r.url());
      });
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(`file://${join(sweep, 'report.html')}`, { waitUntil: 'load' });
      const count = (sel: string): Promise<number> => page.$$eval(sel, (els) => els.length);
      expect(await count('svg')).toBeGreaterThanOrEqual(5);
      expect(await count('#report-latency-cdf g.cdf_line_marks path')).toBe(3 * 2);
      expect(await count('#report-percentiles g.p99_point_marks path')).toBe(3 * 2);
      expect(await count('#report-percentiles g.p99_line_marks path')).toBe(2);
      expect(await count('#report-cost g.cost_bar_marks path')).toBe(2 * 5);
      expect(await count('#report-stages g.stage_bar_marks path')).toBeGreaterThan(2);
      expect(await count('#report-cpu g.cpu_bar_marks path')).toBeGreaterThan(2);
      // the charts are drawn: a CDF line has a real extent on screen
      const box = await page.$eval('#report-latency-cdf g.cdf_line_marks path', (el) => (el as unknown as SVGGraphicsElement).getBBox().width);
      expect(box).toBeGreaterThan(10);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      // the README's screenshot is refreshed only when asked (IOVSIM_UPDATE_SCREENSHOT=1), so
      // that running the tests leaves the checkout as it was
      const shot = process.env['IOVSIM_UPDATE_SCREENSHOT'] === '1' ? join(ROOT, 'docs', 'report-screenshot.png') : join(dir, 'report-screenshot.png');
      mkdirSync(dirname(shot), { recursive: true });
      await page.screenshot({ path: shot, fullPage: false, clip: { x: 0, y: 0, width: 1280, height: 1800 } });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});
