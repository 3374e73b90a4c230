/**
 * Waits until V8 has no optimizing compile running in the background for this thread's
 * isolate. The worker pool asks each worker to do this before terminating it, and the
 * command does it before the process exits.
 *
 * Why: Node 20 unregisters an isolate from its platform before it disposes of it, and a
 * TurboFan job still running for that isolate can then ask the platform for the
 * isolate's task runner (to schedule incremental marking when an allocation of the job
 * crosses the heap's limit). Node then aborts: "Assertion failed: (data.first) !=
 * nullptr" in node::NodePlatform::ForIsolate, from
 * OptimizingCompileDispatcher::CompileTask. Seen once in the test suite: a `run
 * --jobs 2` of a shortened scenario died of SIGABRT instead of exiting 0 (the pool
 * terminated its workers as the last result came in, while the main thread wrote the
 * results). Workers that just finished short runs are the likely case: their JIT is
 * still busy.
 *
 * V8's %WaitForBackgroundOptimization intrinsic waits for those jobs. Natives syntax is
 * switched on at run time for the one function that calls it. Without the intrinsic
 * (another Node or V8), this does nothing.
 */
import { setFlagsFromString } from 'node:v8';

let wait: (() => void) | null | undefined;

export function awaitBackgroundCompiles(): void {
  if (wait === undefined) {
    try {
      setFlagsFromString('--allow-natives-syntax');
      wait = new Function('%WaitForBackgroundOptimization()') as () => void;
    } catch {
      wait = null;
    }
  }
  if (wait !== null) wait();
}
