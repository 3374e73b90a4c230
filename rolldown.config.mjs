// Bundles the compiled command and its worker-thread entry into one file each
// (dist/bundle/iovsim.js, dist/bundle/worker.js; see docs/... in the README). Node's ES
// module loader pays per file (resolve, stat, read, compile): the unbundled command loads
// about 390 files, which costs about 0.6-1 s per process and again per worker thread on
// this project's 2-core machines, against about 0.2 s for one file.
import { defineConfig } from 'rolldown';

const common = {
  platform: 'node',
  onLog(level, log, handler) {
    // hdr-histogram-js's histogram encoding reaches zlib through a direct eval; iovsim
    // never encodes histograms, and the warning would bury real ones.
    if (log.code === 'EVAL' && (log.id ?? '').includes('hdr-histogram-js')) return;
    handler(level, log);
  },
};

export default defineConfig([
  { ...common, input: 'dist/src/cli.js', output: { file: 'dist/bundle/iovsim.js', format: 'esm', sourcemap: true } },
  { ...common, input: 'dist/src/scenario/worker.js', output: { file: 'dist/bundle/worker.js', format: 'esm', sourcemap: true } },
]);
