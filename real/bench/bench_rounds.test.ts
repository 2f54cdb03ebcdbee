import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectGarbage, combineRounds, median, ringkvFirst } from './bench_rounds.ts';
import type { WorkloadResult } from './engine_workloads.ts';

const result = (opsPerSec: number, cpuMicrosPerOp = 10): WorkloadResult => ({ ops: 1000, seconds: 1000 / opsPerSec, opsPerSec, cpuMicrosPerOp, found: 7, wrong: 0 });

describe('combineRounds', () => {
  it('pairs each round with itself: the median of per-round ratios, not a ratio of medians', () => {
    // Round 2 ran while the machine was busy for both stores: its ratio is like the others.
    const c = combineRounds({ ringkv: [300, 100, 330].map(result), classicLevel: [100, 35, 100].map(result) });
    expect(c.ratios.map((r) => r.toFixed(3))).toEqual(['3.000', '2.857', '3.300']);
    expect(c.ratio).toBe(3);
    expect(c.ringkv.opsPerSec).toBe(300);
    expect(c.classicLevel.opsPerSec).toBe(100);
    // The ratio of the two medians would be the same here; shift one round and they differ.
    const d = combineRounds({ ringkv: [300, 90, 200].map(result), classicLevel: [100, 30, 50].map(result) });
    expect(d.ratio).toBe(3);
    expect(d.ringkv.opsPerSec / d.classicLevel.opsPerSec).toBe(4);
  });

  it('matches a sorted-list model for any rounds', () => {
    const rounds = fc.integer({ min: 1, max: 9 }).chain((n) =>
      fc.tuple(fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: n, maxLength: n }), fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: n, maxLength: n })),
    );
    fc.assert(
      fc.property(rounds, ([ours, theirs]) => {
        const c = combineRounds({ ringkv: ours.map(result), classicLevel: theirs.map(result) });
        const ratios = ours.map((o, i) => o / theirs[i]!);
        expect(c.ratios).toEqual(ratios);
        const sorted = [...ratios].sort((a, b) => a - b);
        const m = sorted.length >> 1;
        expect(c.ratio).toBe(sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2);
        // The reported run is a real round, the lower middle one by ops/s.
        const low = (xs: number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
        expect(c.ringkv.opsPerSec).toBe(low(ours));
        expect(c.classicLevel.opsPerSec).toBe(low(theirs));
        expect(c.ratio).toBeGreaterThanOrEqual(Math.min(...ratios));
        expect(c.ratio).toBeLessThanOrEqual(Math.max(...ratios));
      }),
    );
  });

  it('compares CPU time per op round by round, classic-level over ringkv', () => {
    const c = combineRounds({
      ringkv: [result(300, 10), result(100, 30), result(330, 8)],
      classicLevel: [result(100, 40), result(35, 60), result(100, 40)],
    });
    expect(c.cpuRatio).toBe(4);
  });

  it('refuses rounds of different counts', () => {
    expect(() => combineRounds({ ringkv: [result(1)], classicLevel: [] })).toThrow();
    expect(() => median([])).toThrow();
  });
});

describe('round order and collection', () => {
  it('the stores take turns to go first', () => {
    expect([0, 1, 2, 3].map(ringkvFirst)).toEqual([true, false, true, false]);
  });

  it('collectGarbage runs a full collection', async () => {
    const weak = (() => new WeakRef({ big: new Uint8Array(1 << 20) }))();
    // A WeakRef keeps its target alive until the turn that made (or last dereferenced) it ends;
    // nothing else allocates meanwhile, so only a forced collection frees it.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(weak.deref()).toBeUndefined();
  });
});
