import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CandidateHeap } from './candidate_heap.ts';
import { MaxTree } from './max_tree.ts';

describe('CandidateHeap', () => {
  it('pops in score order, ties by smaller id, against a sorted-list model', () => {
    const op = fc.oneof(
      fc.record({ push: fc.constant(true), score: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: true, noDefaultInfinity: true })), id: fc.nat(50) }),
      fc.record({ push: fc.constant(false) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const heap = new CandidateHeap();
        const model: { score: number; id: number }[] = [];
        for (const o of ops) {
          if ('score' in o) {
            heap.push(o.score, o.id);
            model.push({ score: o.score, id: o.id });
          } else if (model.length > 0) {
            model.sort((a, b) => b.score - a.score || a.id - b.id);
            expect(heap.peekScore()).toBe(model[0]!.score);
            expect(heap.peekId()).toBe(model[0]!.id);
            expect(heap.pop()).toBe(model.shift()!.id);
          }
          expect(heap.size).toBe(model.length);
        }
      }),
    );
  });

  it('heapify after appends orders like pushes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -9, max: 9 }), fc.nat(30)), { maxLength: 200 }), (entries) => {
        const heap = new CandidateHeap();
        for (const [score, id] of entries) heap.append(score, id);
        heap.heapify();
        const sorted = [...entries].sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        expect(sorted.map(() => heap.pop())).toEqual(sorted.map(([, id]) => id));
      }),
    );
  });

  it('refuses NaN and popping when empty', () => {
    const heap = new CandidateHeap();
    expect(() => heap.push(Number.NaN, 1)).toThrow(/NaN/);
    expect(() => heap.pop()).toThrow(/empty/);
  });
});

describe('MaxTree', () => {
  it('argmax is the first slot holding the largest key, after any updates', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: -3, max: 3 })), { maxLength: 200 }), (size, updates) => {
        const tree = new MaxTree(size);
        const keys = new Array<number>(size).fill(-Infinity);
        expect(tree.max()).toBe(-Infinity);
        for (const [slot, key] of updates) {
          tree.set(slot % size, key);
          keys[slot % size] = key;
          const best = Math.max(...keys);
          expect(tree.max()).toBe(best);
          expect(tree.argmax()).toBe(keys.indexOf(best));
        }
      }),
    );
  });
});
