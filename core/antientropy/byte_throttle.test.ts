// ByteThrottle against a manual clock: bursts of one message, then the
// average rate holds; a purge schedule pops slots in time order.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteThrottle } from './byte_throttle.ts';
import { PurgeSchedule } from './purge_schedule.ts';

class ManualTime {
  now = 0;
  private timers: { at: number; fn: () => void }[] = [];
  readonly clock = { monotonicMs: () => this.now, wallMs: () => this.now };
  readonly timers_ = {
    setTimer: (delayMs: number, fn: () => void) => {
      this.timers.push({ at: this.now + delayMs, fn });
      return this.timers.length;
    },
    cancelTimer: () => {},
  };
  /** Runs timers in time order until none are left. */
  drain(): void {
    while (this.timers.length > 0) {
      this.timers.sort((a, b) => a.at - b.at);
      const t = this.timers.shift()!;
      this.now = Math.max(this.now, t.at);
      t.fn();
    }
  }
}

describe('byte throttle', () => {
  it('holds the average rate over many messages', () => {
    const time = new ManualTime();
    const throttle = new ByteThrottle(time.clock, time.timers_, 10_000);
    let sent = 0;
    const next = (): void => {
      if (sent === 100) return;
      throttle.wait(() => {
        sent++;
        throttle.spend(1000);
        next();
      });
    };
    next();
    time.drain();
    expect(sent).toBe(100);
    // 100 messages of 1,000 B at 10,000 B/s: the last one starts after 99 x 100 ms.
    expect(time.now).toBeGreaterThanOrEqual(9900);
    expect(time.now).toBeLessThanOrEqual(9901);
  });

  it('lets the first message through at once', () => {
    const time = new ManualTime();
    const throttle = new ByteThrottle(time.clock, time.timers_, 1);
    let went = false;
    throttle.wait(() => (went = true));
    expect(went).toBe(true);
  });
});

describe('purge schedule', () => {
  it('pops exactly the slots due, earliest first', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 200 }), fc.integer({ min: 0, max: 1000 }), (times, now) => {
        const s = new PurgeSchedule();
        times.forEach((t, i) => s.add(t, `k${i}`));
        const due = s.popDue(now).map((x) => x.atMs);
        expect(due).toEqual(times.filter((t) => t <= now).sort((a, b) => a - b));
        expect(s.size).toBe(times.filter((t) => t > now).length);
      }),
    );
  });
});
