import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlabMap } from './slab_map.ts';

type Op = { t: 'set'; k: number; v: number } | { t: 'delete'; k: number } | { t: 'take'; k: number } | { t: 'get'; k: number } | { t: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('set' as const), k: fc.integer({ min: 0, max: 20 }), v: fc.integer() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('delete' as const), k: fc.integer({ min: 0, max: 20 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('take' as const), k: fc.integer({ min: 0, max: 20 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('get' as const), k: fc.integer({ min: 0, max: 20 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'clear' as const }) },
);

describe('SlabMap', () => {
  it('behaves as a Map, iteration order included, under any sequence of operations', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const model = new Map<number, { v: number }>();
        const slab = new SlabMap<number, { v: number }>();
        for (const o of ops) {
          switch (o.t) {
            case 'set': {
              const value = { v: o.v };
              model.set(o.k, value);
              slab.set(o.k, value);
              break;
            }
            case 'delete':
              expect(slab.delete(o.k)).toBe(model.delete(o.k));
              break;
            case 'take': {
              const expected = model.get(o.k);
              model.delete(o.k);
              expect(slab.take(o.k)).toBe(expected);
              break;
            }
            case 'get':
              expect(slab.get(o.k)).toBe(model.get(o.k));
              expect(slab.has(o.k)).toBe(model.has(o.k));
              break;
            case 'clear':
              model.clear();
              slab.clear();
              break;
          }
          expect(slab.size).toBe(model.size);
        }
        expect([...slab.keys()]).toEqual([...model.keys()]);
        expect([...slab.values()]).toEqual([...model.values()]);
        expect([...slab.entries()]).toEqual([...model.entries()]);
      }),
    );
  });

  it('reuses freed slots, so the slab stays as large as the most entries held at once', () => {
    const m = new SlabMap<number, string>();
    for (let i = 0; i < 10_000; i++) {
      m.set(i, `v${i}`);
      if (i >= 3) m.delete(i - 3);
    }
    expect(m.size).toBe(3);
    expect((m as unknown as { slab: unknown[] }).slab.length).toBeLessThanOrEqual(4);
    expect([...m.values()]).toEqual(['v9997', 'v9998', 'v9999']);
  });

  it('drops its reference to a value when the entry goes', () => {
    const m = new SlabMap<string, object>();
    m.set('a', {});
    m.delete('a');
    expect((m as unknown as { slab: unknown[] }).slab.every((v) => v === undefined)).toBe(true);
  });
});
