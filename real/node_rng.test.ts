import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeRng } from './node_rng.ts';

describe('NodeRng', () => {
  it('matches the xoshiro128** reference output', () => {
    // Reference: the C implementation (prng.di.unimi.it/xoshiro128starstar.c)
    // seeded with s = {1, 2, 3, 4}.
    const rng = new NodeRng([1, 2, 3, 4]);
    const got = Array.from({ length: 6 }, () => rng.nextUint32());
    expect(got).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('replays from its seed', () => {
    const a = new NodeRng();
    const b = new NodeRng(a.seed);
    for (let i = 0; i < 100; i++) expect(b.next()).toBe(a.next());
  });

  it('keeps next() in [0, 1) and int() in range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.nat(0xffffffff), (max, s) => {
        const rng = new NodeRng([s, 1, 2, 3]);
        for (let i = 0; i < 50; i++) {
          const x = rng.next();
          expect(x >= 0 && x < 1).toBe(true);
          const n = rng.int(max);
          expect(Number.isInteger(n) && n >= 0 && n < max).toBe(true);
        }
      }),
    );
  });

  it('is roughly uniform', () => {
    const rng = new NodeRng([7, 7, 7, 7]);
    const buckets = new Array(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) buckets[rng.int(10)]++;
    for (const c of buckets) expect(Math.abs(c - n / 10)).toBeLessThan(n / 100); // > 10 sigma slack
    let heads = 0;
    for (let i = 0; i < n; i++) if (rng.chance(0.25)) heads++;
    expect(Math.abs(heads / n - 0.25)).toBeLessThan(0.01);
  });

  it('refuses an all-zero seed', () => {
    expect(() => new NodeRng([0, 0, 0, 0])).toThrow(/zero/);
  });
});
