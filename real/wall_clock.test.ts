import { describe, expect, it } from 'vitest';
import { WallClock } from './wall_clock.ts';

describe('WallClock', () => {
  it('has a monotonic reading that never decreases and advances with real time', async () => {
    const clock = new WallClock();
    let last = clock.monotonicMs();
    for (let i = 0; i < 10_000; i++) {
      const now = clock.monotonicMs();
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
    const before = clock.monotonicMs();
    await new Promise((r) => setTimeout(r, 20));
    const elapsed = clock.monotonicMs() - before;
    expect(elapsed).toBeGreaterThanOrEqual(15);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('reads wall time as Unix epoch milliseconds', () => {
    const clock = new WallClock();
    const a = Date.now();
    const w = clock.wallMs();
    const b = Date.now();
    expect(w).toBeGreaterThanOrEqual(a);
    expect(w).toBeLessThanOrEqual(b);
  });
});
