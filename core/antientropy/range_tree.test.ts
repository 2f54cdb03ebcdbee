// RangeTree against a model: the entries it holds after any sequence of
// writes (by bigint or by words) and sweeps are the model's live entries,
// with the same tree as inserting those entries from scratch.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyToken } from '../ring/key_hash.ts';
import { MerkleTree } from './merkle_tree.ts';
import { RangeTree } from './range_tree.ts';
import { keyTokenWords } from './replica_trees.ts';

const RANGE = { start: 0n, end: 0n }; // the whole ring: every key is inside
const SHAPE = { leafBits: 4, fanoutBits: 2 };
const keyOf = (i: number): Uint8Array => Uint8Array.of(0x6b, i);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

type Op =
  | { t: 'set'; key: number; hash: bigint | null; purgeAt: number | null; words: boolean }
  | { t: 'sweep' }
  | { t: 'tick'; ms: number };

describe('range tree', () => {
  it('holds exactly the live, unpurged entries, whatever the order of writes, purge times and sweeps', () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        t: fc.constant('set' as const),
        key: fc.integer({ min: 0, max: 12 }),
        // Few distinct hashes and times, so rewrites of the same content and the same purge time happen.
        hash: fc.option(fc.constantFrom(1n, 2n, 0xffff_ffff_0000_0001n, (1n << 64n) - 1n), { freq: 5 }),
        purgeAt: fc.option(fc.integer({ min: 0, max: 40 }), { freq: 2 }),
        words: fc.boolean(),
      }),
      fc.constant({ t: 'sweep' as const }),
      fc.record({ t: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 10 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const tree = new RangeTree('ks', RANGE, SHAPE);
        const model = new Map<number, { hash: bigint; purgeAt: number | null }>();
        let now = 0;
        for (const o of ops) {
          if (o.t === 'tick') now += o.ms;
          else if (o.t === 'sweep') {
            let due = 0;
            for (const [k, e] of model) {
              if (e.purgeAt !== null && e.purgeAt <= now) {
                model.delete(k);
                due++;
              }
            }
            expect(tree.sweep(now)).toBe(due);
          } else {
            const key = keyOf(o.key);
            const token = keyToken(key);
            if (o.words && o.hash !== null) {
              tree.setWords(Number(token >> 32n), Number(token & 0xffff_ffffn), key, Number(o.hash >> 32n), Number(o.hash & 0xffff_ffffn), o.purgeAt, now);
            } else tree.set(token, key, o.hash, o.purgeAt, now);
            if (o.hash !== null && (o.purgeAt === null || o.purgeAt > now)) model.set(o.key, { hash: o.hash, purgeAt: o.purgeAt });
            else model.delete(o.key);
          }
        }
        expect(tree.keyCount).toBe(model.size);
        const fresh = new MerkleTree(RANGE, SHAPE);
        for (const [k, e] of model) {
          expect(tree.contentOf(keyToken(keyOf(k)), keyOf(k))).toBe(e.hash);
          fresh.insert(keyToken(keyOf(k)), keyOf(k), e.hash);
        }
        expect(hex(tree.tree.root())).toBe(hex(fresh.root()));
        const listed = [];
        for (let s = 0; s < tree.tree.segmentCount; s++) listed.push(...tree.entriesInSegment(s).map((e) => `${e.key[1]}=${e.contentHash}`));
        expect(listed.sort()).toEqual([...model].map(([k, e]) => `${k}=${e.hash}`).sort());
      }),
      {
        numRuns: 300,
        // Found by this property: the same content rewritten without a purge time must not be swept at the old one.
        examples: [[[{ t: 'set', key: 4, hash: 2n, purgeAt: 1, words: false }, { t: 'tick', ms: 1 }, { t: 'set', key: 4, hash: 2n, purgeAt: null, words: false }, { t: 'sweep' }]]],
      },
    );
  });

  it('keyTokenWords is keyToken', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (key) => {
        expect(keyTokenWords(key)).toBe(keyToken(key));
      }),
    );
  });
});
