import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../io/assert.ts';
import { EventQueue } from './event_queue.ts';
import { SimClock } from './sim_clock.ts';
import { SimTimers, type TimerScheduler } from './sim_timers.ts';

/** SimTimers over a bare queue, with the loop the Simulator runs. */
function world(driftPpm = 0) {
  let now = 0;
  const q = new EventQueue<{ fn: () => void; owner: SimTimers }>();
  const clock = new SimClock(() => now, { driftPpm });
  const scheduler: TimerScheduler = {
    scheduleTimer: (d, fn, owner) => q.push(now + d, { fn, owner }),
    cancelTimer: (id, owner) => q.payloadOf(id)?.owner === owner && q.cancel(id),
  };
  const timers = new SimTimers(scheduler, clock);
  const run = (): void => {
    for (let e = q.pop(); e !== undefined; e = q.pop()) {
      now = e.timeMs;
      e.payload.owner.fired();
      e.payload.fn();
    }
  };
  return { timers, clock, run, now: () => now, other: () => new SimTimers(scheduler, clock) };
}

describe('SimTimers', () => {
  it('property: exactly the uncancelled timers fire, ordered by due time then by setting order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ delay: fc.integer({ min: 0, max: 50 }), cancel: fc.boolean() }), { maxLength: 60 }),
        fc.integer({ min: -100_000, max: 100_000 }),
        (specs, ppm) => {
          const { timers, clock, run } = world(ppm);
          const fired: number[] = [];
          const ids = specs.map((s, i) => timers.setTimer(s.delay, () => fired.push(i)));
          specs.forEach((s, i) => s.cancel && timers.cancelTimer(ids[i]!));
          expect(timers.pendingCount).toBe(specs.filter((s) => !s.cancel).length);
          const start = clock.monotonicMs();
          run();
          const expected = specs
            .map((s, i) => ({ ...s, i }))
            .filter((s) => !s.cancel)
            .sort((a, b) => a.delay - b.delay || a.i - b.i)
            .map((s) => s.i);
          expect(fired).toEqual(expected);
          expect(timers.pendingCount).toBe(0);
          expect(clock.monotonicMs() - start).toBeGreaterThanOrEqual(Math.max(0, ...specs.filter((s) => !s.cancel).map((s) => s.delay)));
        },
      ),
    );
  });

  it('a timer fires after its delay in the node’s monotonic time', () => {
    const { timers, clock, run, now } = world(50_000);
    let monoAtFire = 0;
    timers.setTimer(1000, () => (monoAtFire = clock.monotonicMs()));
    run();
    expect(monoAtFire).toBeGreaterThanOrEqual(1000);
    expect(now()).toBeCloseTo(1000 / 1.05, 6);
  });

  it('cancelling a fired, cancelled or foreign timer is a no-op', () => {
    const { timers, run, other } = world();
    const fired: string[] = [];
    const a = timers.setTimer(1, () => fired.push('a'));
    const b = timers.setTimer(2, () => fired.push('b'));
    const stranger = other();
    const c = stranger.setTimer(3, () => fired.push('c'));
    timers.cancelTimer(c);
    stranger.cancelTimer(a);
    expect([timers.pendingCount, stranger.pendingCount]).toEqual([2, 1]);
    timers.cancelTimer(b);
    timers.cancelTimer(b);
    expect(timers.pendingCount).toBe(1);
    run();
    expect(fired).toEqual(['a', 'c']);
    timers.cancelTimer(a);
    expect([timers.pendingCount, stranger.pendingCount]).toEqual([0, 0]);
  });

  it('refuses negative and non-finite delays', () => {
    const { timers } = world();
    expect(() => timers.setTimer(-1, () => {})).toThrow(AssertionError);
    expect(() => timers.setTimer(Number.NaN, () => {})).toThrow(AssertionError);
  });
});
