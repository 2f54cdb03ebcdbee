// The V8 flags a node process runs with. They must be on the command line
// (V8 sizes its heap as the process starts, and Node refuses these in
// NODE_OPTIONS), so every launcher passes them: bin/ringkv.mjs's first line
// for `ringkv start`, LocalCluster, the chaos cluster and the restart bench.
// A node started without them still works, and logs a warning.
//
// --initial-old-space-size: after each full GC, V8 lets the old generation
// grow to a limit derived from what the GC left alive. A node keeps its data
// in typed arrays outside the JS heap, so that live size is small (20-30 MB),
// the limit sits barely a young generation's worth above it, and V8 starts
// the next incremental marking almost at once. A single node under a write
// load ran two full GCs a second, 10-70 ms of pauses per 5 s on top of the
// concurrent marking threads on the same cores. With a 256 MB floor it runs
// one every few seconds; in a 3-node cluster on 2 cores the QUORUM mix's p99
// at 2,000 ops/s fell from 12-19 ms to 4-5 ms. The cost is memory: up to
// 256 MB of garbage may wait for a full GC.

/** V8 flags for a node process, in the form `node` takes them. */
export const NODE_PROCESS_V8_FLAGS: readonly string[] = ['--initial-old-space-size=256'];

/** The flags of NODE_PROCESS_V8_FLAGS that `execArgv` (a process's own: process.execArgv) lacks. */
export function missingV8Flags(execArgv: readonly string[]): string[] {
  return NODE_PROCESS_V8_FLAGS.filter((flag) => !execArgv.includes(flag));
}
