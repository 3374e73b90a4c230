/**
 * A machine-speed control for wall-clock benchmarks: a fixed piece of code-heavy
 * JavaScript that is not iovsim (the `yaml` package parsing and printing a generated
 * document). Timed next to a model's runs, it shows whether a slow run was the model or
 * the machine.
 *
 * Why this and not a tight loop: this project's machines run in two speed modes, seconds
 * to minutes long, and in the slow one code that runs through a lot of distinct machine
 * code per unit of work (a simulator's request: 75-100 KB; a YAML parser) takes up to
 * twice as long, while a loop that fits in the first-level caches (bench.ts's reference)
 * slows by 10-20% (docs/model.md section 8).
 */
import YAML from 'yaml';

/** The document: 300 entries of mixed maps, lists, strings and numbers (about 40 KB of YAML). */
function makeDocument(): string {
  const entries = Array.from({ length: 300 }, (_, i) => ({
    name: `vm${i}`,
    params: { 'host.cores': i % 8, rate_gbps: i * 1.5, pinning: `vm${i}/vcpu0=${i % 4}` },
    tags: ['net', 'rr', `q${i % 4}`],
    nested: { x: { y: { z: i, w: i / 7 } } },
  }));
  return YAML.stringify(entries);
}

/** Returns a function that runs the control once and returns its wall time [ms]. */
export function makeControl(): () => number {
  const doc = makeDocument();
  let sink = 0;
  const once = (): number => YAML.stringify(YAML.parse(doc) as unknown).length;
  for (let i = 0; i < 5; i++) sink += once(); // compiled before it is timed
  return () => {
    const t0 = performance.now();
    sink += once();
    const ms = performance.now() - t0;
    if (sink < 0) throw new Error('unreachable');
    return ms;
  };
}

/** Pearson correlation of two equally long series (NaN when either is constant). */
export function correlation(xs: number[], ys: number[]): number {
  const n = xs.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]! / n;
    my += ys[i]! / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
