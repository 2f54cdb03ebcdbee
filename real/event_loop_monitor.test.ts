import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { EventLoopMonitor } from './event_loop_monitor.ts';

function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
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
    } finally {
      monitor.stop();
    }
  });
});
