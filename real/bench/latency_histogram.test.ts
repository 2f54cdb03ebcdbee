import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencySamples } from './latency_histogram.ts';

describe('LatencySamples', () => {
  it('gives nearest-rank percentiles equal to a sorted-array model', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 1, max: 100 }),
        (xs, p) => {
          const s = new LatencySamples();
          for (const x of xs) s.record(x);
          const sorted = [...xs].sort((a, b) => a - b);
          expect(s.count).toBe(xs.length);
          expect(s.percentile(p)).toBe(sorted[Math.ceil((p / 100) * xs.length) - 1]);
          expect(s.percentile(100)).toBe(sorted[sorted.length - 1]);
          expect(s.mean()).toBeCloseTo(xs.reduce((a, b) => a + b, 0) / xs.length, 6);
        },
      ),
    );
  });

  it('keeps recording after a percentile was read', () => {
    const s = new LatencySamples();
    for (const x of [5, 1, 3]) s.record(x);
    expect(s.percentile(50)).toBe(3);
    s.record(0);
    s.record(0);
    expect(s.percentile(50)).toBe(1);
  });

  it('refuses empty and invalid input', () => {
    const s = new LatencySamples();
    expect(() => s.percentile(99)).toThrow();
    expect(() => s.record(-1)).toThrow();
    expect(() => s.record(Number.NaN)).toThrow();
  });
});
