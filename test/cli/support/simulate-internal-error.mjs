// Preloaded with `node --import` by test/cli/malformed.test.ts: the command's first write to
// standard output throws, as a bug would, so the test sees how an internal error is reported.
process.stdout.write = () => {
  throw new Error('simulated internal error');
};
