// Watches how long the event loop of a node process is held: one stalled
// turn delays every request in flight on the node, so a tail latency of
// 100+ ms at low load is usually one. Node's own histogram
// (perf_hooks.monitorEventLoopDelay) samples the delay; every interval the
// worst delay of the interval is kept and, when it exceeds the threshold,
// logged with what the process was doing around it (heap, GC counts), then
// the histogram starts over.

import { type IntervalHistogram, PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { assert } from '../io/assert.ts';

export interface EventLoopDelaySummary {
  /** Worst delay seen since the monitor started, ms. */
  maxMs: number;
  /** Worst delay of the last full interval, ms. */
  lastIntervalMaxMs: number;
  /** p99 of the last full interval, ms. */
  lastIntervalP99Ms: number;
  /** Intervals whose worst delay exceeded the threshold. */
  stalledIntervals: number;
}

export interface EventLoopMonitorOptions {
  intervalMs: number;
  /** A delay over this is logged at warn. */
  warnMs: number;
  logger: Logger;
}

export class EventLoopMonitor {
  private readonly histogram: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private readonly gc: PerformanceObserver;
  private gcCount = 0;
  private gcMaxMs = 0;
  private readonly summaryNow: EventLoopDelaySummary = { maxMs: 0, lastIntervalMaxMs: 0, lastIntervalP99Ms: 0, stalledIntervals: 0 };

  constructor(private readonly o: EventLoopMonitorOptions) {
    assert(o.intervalMs > 0 && o.warnMs > 0, 'event loop monitor interval and threshold must be positive');
    // 10 ms resolution: the check itself is a timer, so finer costs CPU on every node for little.
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    this.gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.gcCount++;
        if (e.duration > this.gcMaxMs) this.gcMaxMs = e.duration;
      }
    });
    this.gc.observe({ entryTypes: ['gc'] });
    this.timer = setInterval(() => this.roll(), o.intervalMs);
    this.timer.unref();
  }

  summary(): EventLoopDelaySummary {
    return { ...this.summaryNow };
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
    this.gc.disconnect();
  }

  private roll(): void {
    const h = this.histogram;
    // The histogram counts in nanoseconds; a delay includes the sampling resolution.
    const maxMs = h.count > 0 ? h.max / 1e6 : 0;
    const p99Ms = h.count > 0 ? h.percentile(99) / 1e6 : 0;
    const s = this.summaryNow;
    s.lastIntervalMaxMs = maxMs;
    s.lastIntervalP99Ms = p99Ms;
    if (maxMs > s.maxMs) s.maxMs = maxMs;
    if (maxMs > this.o.warnMs) {
      s.stalledIntervals++;
      const mem = process.memoryUsage();
      this.o.logger.warn(
        { maxMs: Math.round(maxMs), p99Ms: Math.round(p99Ms), gcs: this.gcCount, gcMaxMs: Math.round(this.gcMaxMs), heapUsedMiB: Math.round(mem.heapUsed / 2 ** 20), rssMiB: Math.round(mem.rss / 2 ** 20) },
        'event loop stalled',
      );
    }
    this.gcCount = 0;
    this.gcMaxMs = 0;
    h.reset();
  }
}
