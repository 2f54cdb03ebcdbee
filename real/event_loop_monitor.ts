// Watches how long the event loop of a node process is held: one stalled
// turn delays every request in flight on the node, so a tail latency of
// 100+ ms at low load is usually one. Node's own histogram
// (perf_hooks.monitorEventLoopDelay) samples the delay; every interval the
// worst delay of the interval is kept and, when it exceeds the threshold,
// logged with what the process was doing around it (heap, GC counts), then
// the histogram starts over.
//
// A delay has two possible causes that call for different fixes: this
// process computing (a long synchronous step) or this process not running
// at all (the machine's other processes had the CPUs). A 20 ms probe timer
// tells them apart: for its longest gap of the interval it reports the CPU
// time the process used during the gap. CPU close to the gap is a step to
// bound; CPU far below it is the scheduler.

import { type IntervalHistogram, PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { assert } from '../io/assert.ts';

const PROBE_MS = 20;

export interface EventLoopDelaySummary {
  /** Worst delay seen since the monitor started, ms. */
  maxMs: number;
  /** Worst delay of the last full interval, ms. */
  lastIntervalMaxMs: number;
  /** p99 of the last full interval, ms. */
  lastIntervalP99Ms: number;
  /** Intervals whose worst delay exceeded the threshold. */
  stalledIntervals: number;
  /** The probe's longest gap past its period in the last full interval, and the process CPU time used during it, ms. */
  lastIntervalWorstGapMs: number;
  lastIntervalWorstGapCpuMs: number;
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
  private readonly probe: NodeJS.Timeout;
  private probeAt = performance.now();
  private probeCpu = cpuMs();
  private worstGapMs = 0;
  private worstGapCpuMs = 0;
  private readonly summaryNow: EventLoopDelaySummary = {
    maxMs: 0,
    lastIntervalMaxMs: 0,
    lastIntervalP99Ms: 0,
    stalledIntervals: 0,
    lastIntervalWorstGapMs: 0,
    lastIntervalWorstGapCpuMs: 0,
  };

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
    this.probe = setInterval(() => this.onProbe(), PROBE_MS);
    this.probe.unref();
  }

  summary(): EventLoopDelaySummary {
    return { ...this.summaryNow };
  }

  stop(): void {
    clearInterval(this.timer);
    clearInterval(this.probe);
    this.histogram.disable();
    this.gc.disconnect();
  }

  private onProbe(): void {
    const now = performance.now();
    const cpu = cpuMs();
    const gap = now - this.probeAt - PROBE_MS;
    if (gap > this.worstGapMs) {
      this.worstGapMs = gap;
      this.worstGapCpuMs = cpu - this.probeCpu;
    }
    this.probeAt = now;
    this.probeCpu = cpu;
  }

  private roll(): void {
    // The gap up to now belongs to this interval, whichever timer the loop ran first after it.
    this.onProbe();
    const h = this.histogram;
    // The histogram counts in nanoseconds; a delay includes the sampling resolution.
    const maxMs = h.count > 0 ? h.max / 1e6 : 0;
    const p99Ms = h.count > 0 ? h.percentile(99) / 1e6 : 0;
    const s = this.summaryNow;
    s.lastIntervalMaxMs = maxMs;
    s.lastIntervalP99Ms = p99Ms;
    s.lastIntervalWorstGapMs = this.worstGapMs;
    s.lastIntervalWorstGapCpuMs = this.worstGapCpuMs;
    if (maxMs > s.maxMs) s.maxMs = maxMs;
    if (maxMs > this.o.warnMs) {
      s.stalledIntervals++;
      const mem = process.memoryUsage();
      this.o.logger.warn(
        {
          maxMs: Math.round(maxMs),
          p99Ms: Math.round(p99Ms),
          worstGapMs: Math.round(this.worstGapMs),
          cpuInWorstGapMs: Math.round(this.worstGapCpuMs),
          gcs: this.gcCount, gcMaxMs: Math.round(this.gcMaxMs), heapUsedMiB: Math.round(mem.heapUsed / 2 ** 20),
          rssMiB: Math.round(mem.rss / 2 ** 20),
        },
        'event loop stalled',
      );
    }
    this.gcCount = 0;
    this.gcMaxMs = 0;
    this.worstGapMs = 0;
    this.worstGapCpuMs = 0;
    h.reset();
  }
}

/** CPU time (user + system, every thread) of this process, ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
