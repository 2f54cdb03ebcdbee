import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate_limiter.ts';

class ManualClock {
  now = 1000;
  monotonicMs(): number {
    return this.now;
  }
  wallMs(): number {
    return this.now;
  }
}

describe('rate limiter', () => {
  it('never waits when unlimited', () => {
    const limiter = new RateLimiter(new ManualClock(), 0);
    expect(limiter.charge(1e9)).toBe(0);
  });

  it('lets a burst through, then paces at the configured rate', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(clock, 1000, 100);
    expect(limiter.charge(100)).toBe(0);
    expect(limiter.charge(500)).toBe(500);
    clock.now += 500;
    expect(limiter.charge(0)).toBe(0);
    expect(limiter.charge(10)).toBe(10);
  });

  // Following its advice, a worker's throughput over a long run stays at the
  // rate (plus at most one burst).
  it('following the returned waits keeps throughput at the rate', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 1_000_000 }),
        fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 200 }),
        (rate, steps) => {
          const clock = new ManualClock();
          const start = clock.now;
          const limiter = new RateLimiter(clock, rate);
          let bytes = 0;
          for (const s of steps) {
            bytes += s;
            clock.now += limiter.charge(s);
          }
          const elapsedSec = (clock.now - start) / 1000;
          expect(bytes).toBeLessThanOrEqual(rate * elapsedSec + limiter.burstBytes + 1);
          // And it does not over-throttle: ceil rounding costs at most 1 ms a step.
          expect(elapsedSec).toBeLessThanOrEqual(bytes / rate + steps.length / 1000 + 1e-9);
        },
      ),
      { numRuns: 300 },
    );
  });
});
