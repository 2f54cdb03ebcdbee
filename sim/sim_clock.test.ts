import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../io/assert.ts';
import { SIM_EPOCH_MS, SimClock } from './sim_clock.ts';

describe('SimClock', () => {
  it('starts at the epoch plus skew and runs at 1 + drift/1e6', () => {
    let now = 0;
    const c = new SimClock(() => now, { skewMs: 250, driftPpm: 100 });
    expect(c.wallMs()).toBe(SIM_EPOCH_MS + 250);
    expect(c.monotonicMs()).toBe(0);
    now = 1_000_000;
    expect(c.monotonicMs()).toBeCloseTo(1_000_100, 6);
    expect(c.wallMs()).toBeCloseTo(SIM_EPOCH_MS + 250 + 1_000_100, 3);
  });

  it('jumps move the wall reading only', () => {
    let now = 1000;
    const c = new SimClock(() => now);
    const mono = c.monotonicMs();
    c.jump(-5000);
    expect(c.wallMs()).toBe(SIM_EPOCH_MS + 1000 - 5000);
    expect(c.monotonicMs()).toBe(mono);
    expect(c.offsetMs).toBe(-5000);
    now = 2000;
    c.jump(10_000);
    expect(c.wallMs()).toBe(SIM_EPOCH_MS + 2000 + 5000);
  });

  it('refuses a drift that would stop or reverse time, and true time going back', () => {
    let now = 10;
    expect(() => new SimClock(() => now, { driftPpm: -1_000_000 })).toThrow(AssertionError);
    const c = new SimClock(() => now);
    c.monotonicMs();
    now = 5;
    expect(() => c.monotonicMs()).toThrow(AssertionError);
  });

  it('property: monotonic never decreases and wall = epoch + offset + monotonic, under random jumps and drift changes', () => {
    type Step = { t: 'advance'; ms: number } | { t: 'jump'; ms: number } | { t: 'drift'; ppm: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ t: fc.constant('advance' as const), ms: fc.double({ min: 0, max: 1e6, noNaN: true }) }),
      fc.record({ t: fc.constant('jump' as const), ms: fc.integer({ min: -1e9, max: 1e9 }) }),
      fc.record({ t: fc.constant('drift' as const), ppm: fc.integer({ min: -500_000, max: 500_000 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: -1e6, max: 1e6 }), fc.array(step, { maxLength: 100 }), (skew, steps) => {
        let now = 0;
        const c = new SimClock(() => now, { skewMs: skew });
        let lastMono = c.monotonicMs();
        let offset = skew;
        for (const s of steps) {
          if (s.t === 'advance') now += s.ms;
          else if (s.t === 'jump') {
            c.jump(s.ms);
            offset += s.ms;
          } else c.setDriftPpm(s.ppm);
          const mono = c.monotonicMs();
          expect(mono).toBeGreaterThanOrEqual(lastMono);
          lastMono = mono;
          expect(c.wallMs() - (SIM_EPOCH_MS + offset + mono)).toBeCloseTo(0, 0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: trueDelayFor never lets a timer be observed early', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e7, noNaN: true }), fc.integer({ min: -900_000, max: 900_000 }), fc.double({ min: 0, max: 1e5, noNaN: true }), (start, ppm, delay) => {
        let now = 0;
        const c = new SimClock(() => now, { driftPpm: ppm });
        now = start;
        const before = c.monotonicMs();
        const d = c.trueDelayFor(delay);
        expect(d).toBeGreaterThanOrEqual(0);
        now = start + d;
        expect(c.monotonicMs() - before).toBeGreaterThanOrEqual(delay);
        // ... and late by no more than float rounding at this magnitude.
        expect(d).toBeLessThanOrEqual((delay / (1 + ppm / 1e6)) * (1 + 1e-9) + Math.max(1, start) * 2 ** -45);
      }),
      { numRuns: 500 },
    );
  });
});
