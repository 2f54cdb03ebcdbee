import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../io/assert.ts';
import { SimRng } from './sim_rng.ts';

const draws = (rng: SimRng, n: number): number[] => Array.from({ length: n }, () => rng.next());

describe('SimRng', () => {
  it('is a function of its seed; numbers and strings (a git SHA) both work', () => {
    expect(draws(new SimRng(7), 50)).toEqual(draws(new SimRng(7), 50));
    expect(draws(new SimRng(7), 50)).toEqual(draws(new SimRng('7'), 50));
    expect(draws(new SimRng(7), 50)).not.toEqual(draws(new SimRng(8), 50));
    const sha = '3f786850e387550fdab836ed7e6dc881de23001b';
    expect(draws(new SimRng(sha), 20)).toEqual(draws(new SimRng(sha), 20));
    expect(draws(new SimRng(sha), 20)).not.toEqual(draws(new SimRng(sha.replace('3f', '3e')), 20));
    expect(() => new SimRng(Number.NaN)).toThrow(AssertionError);
  });

  it('fork depends on the seed and label only, not on draws made before', () => {
    const a = new SimRng('root');
    const b = new SimRng('root');
    draws(b, 1000);
    expect(draws(a.fork('disk'), 20)).toEqual(draws(b.fork('disk'), 20));
    expect(draws(new SimRng('root').fork('disk'), 20)).not.toEqual(draws(new SimRng('root').fork('net'), 20));
    // Forking the same label again gives a fresh, different stream.
    const r = new SimRng('root');
    expect(draws(r.fork('x'), 10)).not.toEqual(draws(r.fork('x'), 10));
    // And drawing from a fork leaves the parent's stream alone.
    const p = new SimRng('root');
    draws(p.fork('busy'), 500);
    expect(draws(p, 10)).toEqual(draws(new SimRng('root'), 10));
  });

  it('property: int, intBetween and between stay in range', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: -1000, max: 1000 }), fc.nat(1000), (seed, bound, lo, width) => {
        const rng = new SimRng(seed);
        for (let i = 0; i < 20; i++) {
          const x = rng.int(bound);
          expect(Number.isInteger(x) && x >= 0 && x < bound).toBe(true);
          const y = rng.intBetween(lo, lo + width);
          expect(Number.isInteger(y) && y >= lo && y <= lo + width).toBe(true);
          const z = rng.between(lo, lo + width);
          expect(z >= lo && (z < lo + width || width === 0)).toBe(true);
          const u = rng.next();
          expect(u >= 0 && u < 1).toBe(true);
        }
      }),
    );
  });

  it('int is roughly uniform and reaches every value', () => {
    const rng = new SimRng('uniform');
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) counts[rng.int(10)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(1800), expect(c).toBeLessThan(2200);
    expect(() => rng.int(0)).toThrow(AssertionError);
    expect(() => rng.int(1.5)).toThrow(AssertionError);
  });

  it('chance, pick, shuffle, exponential', () => {
    const rng = new SimRng('helpers');
    const hits = Array.from({ length: 10_000 }, () => rng.chance(0.25)).filter(Boolean).length;
    expect(hits).toBeGreaterThan(2300);
    expect(hits).toBeLessThan(2700);
    expect(rng.chance(0)).toBe(false);
    expect(rng.chance(1)).toBe(true);
    const items = ['a', 'b', 'c', 'd'];
    const picked = new Set(Array.from({ length: 200 }, () => rng.pick(items)));
    expect([...picked].sort()).toEqual(items);
    expect(() => rng.pick([])).toThrow(AssertionError);
    const input = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = rng.shuffle(input);
    expect(shuffled).not.toEqual(input);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(input);
    expect(input[0]).toBe(0);
    const mean = Array.from({ length: 20_000 }, () => rng.exponential(30)).reduce((a, b) => a + b, 0) / 20_000;
    expect(mean).toBeGreaterThan(28);
    expect(mean).toBeLessThan(32);
  });
});
