// CPU time of other processes, read from /proc, for the cluster bench's
// per-operation CPU figures and for waiting until the servers are idle.

import * as fs from 'node:fs';

/** Linux's USER_HZ, the unit of /proc/PID/stat times, is 100 on every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) of processes in microseconds, from /proc; null where /proc is not there. */
export function cpuMicros(pids: readonly number[]): number | null {
  let total = 0;
  try {
    for (const pid of pids) {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total += Number(fields[11]) + Number(fields[12]);
    }
  } catch {
    return null;
  }
  return (total * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/** CPU microseconds per operation between two cpuMicros readings; null when either is missing. */
export function perOp(before: number | null, after: number | null, ops: number): number | null {
  return before === null || after === null || ops === 0 ? null : (after - before) / ops;
}

export interface QuietOptions {
  /** Length of each window the CPU is measured over. */
  windowMs: number;
  /** Quiet: the processes together used less than this many cores over one window. */
  maxCores: number;
  /** Give up after this long. */
  maxWaitMs: number;
}

/**
 * Waits until the processes are idle: a window in which together they used
 * less than maxCores of CPU. After a closed loop at peak the servers still
 * work off what it left (writes to the replicas that did not count for the
 * quorum, flushes and compactions of its data), and a latency measurement at
 * a lower rate started at once would measure that drain, not the rate.
 * Returns how long it waited and whether the processes went quiet (false:
 * maxWaitMs passed, or /proc cannot be read).
 */
export async function waitUntilQuiet(pids: readonly number[], o: QuietOptions): Promise<{ waitedMs: number; quiet: boolean }> {
  const started = Date.now();
  for (;;) {
    const before = cpuMicros(pids);
    await new Promise((r) => setTimeout(r, o.windowMs));
    const after = cpuMicros(pids);
    const waitedMs = Date.now() - started;
    if (before === null || after === null) return { waitedMs, quiet: false };
    if ((after - before) / 1000 / o.windowMs < o.maxCores) return { waitedMs, quiet: true };
    if (waitedMs >= o.maxWaitMs) return { waitedMs, quiet: false };
  }
}
