import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { EventLoopMonitor } from './event_loop_monitor.ts';

/** Holds the event loop until this process has used `ms` of CPU (on a loaded machine, longer in wall time). */
function busyFor(ms: number): void {
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const until = cpu() + ms;
  while (cpu() < until) {
    // holds the event loop
  }
}

describe('event loop monitor', () => {
  it('reports a turn that holds the loop past the threshold', async () => {
    const warned: Array<Record<string, number>> = [];
    const logger = { warn: (fields: Record<string, number>) => warned.push(fields) } as unknown as Logger;
    const monitor = new EventLoopMonitor({ intervalMs: 300, warnMs: 50, logger });
    try {
      await new Promise((r) => setTimeout(r, 20));
      busyFor(150);
      await new Promise((r) => setTimeout(r, 400));
      expect(warned.length).toBeGreaterThanOrEqual(1);
      expect(warned[0]!.maxMs).toBeGreaterThanOrEqual(100);
      expect(monitor.summary().maxMs).toBeGreaterThanOrEqual(100);
      expect(monitor.summary().stalledIntervals).toBeGreaterThanOrEqual(1);
      // The loop was held by this process computing, so the longest gap holds that CPU time.
      expect(warned[0]!.worstGapMs).toBeGreaterThanOrEqual(100);
      expect(warned[0]!.cpuInWorstGapMs).toBeGreaterThanOrEqual(100);
    } finally {
      monitor.stop();
    }
  });
});
