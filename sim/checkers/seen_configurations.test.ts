import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeenConfigurations, zobristKey } from './seen_configurations.ts';

describe('SeenConfigurations', () => {
  it('behaves as a set of (bitset, state) pairs, whatever the hashes (model: a Set of strings)', () => {
    const pair = fc.record({ bits: fc.array(fc.integer({ min: 0, max: 70 }), { maxLength: 6 }), state: fc.integer({ min: 0, max: 3 }) });
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 3000 }), fc.boolean(), (pairs, collide) => {
        const words = 3;
        const seen = new SeenConfigurations(words);
        const model = new Set<string>();
        for (const { bits, state } of pairs) {
          const set = new Uint32Array(words);
          let hash = 0;
          for (const b of new Set(bits)) {
            set[b >>> 5]! |= 1 << (b & 31);
            hash ^= zobristKey(b);
          }
          // Colliding hashes must cost time only, never a wrong answer.
          const key = `${set.join(',')}/${state}`;
          expect(seen.add(set, collide ? 7 : hash, state)).toBe(!model.has(key));
          model.add(key);
        }
        expect(seen.size).toBe(model.size);
      }),
      { numRuns: 60 },
    );
  });

  it('zobrist keys are distinct and do not change as more are drawn', () => {
    const first = Array.from({ length: 100 }, (_, i) => zobristKey(i));
    const more = Array.from({ length: 2000 }, (_, i) => zobristKey(i));
    expect(more.slice(0, 100)).toEqual(first);
    expect(new Set(more).size).toBe(2000);
  });
});
