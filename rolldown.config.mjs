// Bundles the compiled command and its worker-thread entry into one file each
// (dist/bundle/iovsim.js, the package's bin, and dist/bundle/worker.js; see the README's
// Install section). Node's ES module loader pays per file (resolve, stat, read, compile):
// the unbundled command reads about 380 files (360 modules), which costs 0.15-0.6 s more
// per process, and again per worker thread, than the bundle on this project's machines.
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
  { ...common, input: 'dist/src/cli.js', output: { file: 'dist/bundle/iovsim.js', format: 'esm', sourcemap: true, codeSplitting: false } },
  { ...common, input: 'dist/src/scenario/worker.js', output: { file: 'dist/bundle/worker.js', format: 'esm', sourcemap: true } },
]);
