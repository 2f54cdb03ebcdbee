import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ring } from './ring.ts';
import { transferredShare, transfersFor } from './ring_transfers.ts';
import { MAX_TOKEN, rangeContains, rangeWidth } from './token_range.ts';

const token = fc.oneof(fc.bigInt({ min: 0n, max: MAX_TOKEN }), fc.bigInt({ min: 0n, max: 40n }), fc.constantFrom(0n, MAX_TOKEN));
const nodeId = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const entries = (minLength: number) =>
  fc.uniqueArray(fc.record({ token, node: nodeId }), { selector: (e) => e.token, minLength, maxLength: 30 });

describe('transfersFor', () => {
  it('for every key, sends it to exactly the new replicas that lacked it, from its old replicas', () => {
    fc.assert(
      fc.property(entries(0), entries(1), fc.integer({ min: 1, max: 4 }), fc.array(token, { maxLength: 20 }), (a, b, n, keys) => {
        const before = Ring.fromEntries(a);
        const after = Ring.fromEntries(b);
        const transfers = transfersFor(before, after, n);
        const probes = [...keys, ...a.map((e) => e.token), ...b.map((e) => e.token)];
        for (const key of probes) {
          const old = before.tokenCount === 0 ? [] : before.preferenceList(key, n);
          const gained = after.preferenceList(key, n).filter((x) => !old.includes(x));
          const covering = transfers.filter((t) => rangeContains(t.range, key));
          expect(covering.map((t) => t.to).sort()).toEqual([...gained].sort());
          for (const t of covering) expect(t.from).toEqual(old);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('merges adjacent ranges: no two transfers to one node touch with the same sources', () => {
    fc.assert(
      fc.property(entries(1), entries(1), fc.integer({ min: 1, max: 3 }), (a, b, n) => {
        const transfers = transfersFor(Ring.fromEntries(a), Ring.fromEntries(b), n);
        for (const x of transfers) {
          for (const y of transfers) {
            if (x === y || x.to !== y.to || x.from.join() !== y.from.join()) continue;
            expect(x.range.end === y.range.start && x.range.start !== y.range.end).toBe(false);
          }
        }
      }),
    );
  });

  it('an unchanged ring needs no transfers; a node joining receives exactly its replica share', () => {
    fc.assert(
      fc.property(entries(1), fc.uniqueArray(token, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 4 }), (a, mine, n) => {
        const ring = Ring.fromEntries(a);
        expect(transfersFor(ring, ring, n)).toEqual([]);
        const taken = new Set(a.map((e) => e.token));
        const tokens = mine.filter((t) => !taken.has(t));
        fc.pre(tokens.length > 0);
        const grown = ring.withNode('z', tokens);
        const transfers = transfersFor(ring, grown, n);
        expect(transfers.every((t) => t.to === 'z')).toBe(true);
        expect(transferredShare(transfers)).toBeCloseTo(grown.ownership(n).get('z')!.replica, 9);
        // Leaving: every range the node held goes to exactly one new replica, if any node is left to take it.
        const shrunk = transfersFor(grown, ring, n);
        expect(shrunk.every((t) => t.from.includes('z') && t.to !== 'z')).toBe(true);
        if (ring.nodeCount >= n) expect(transferredShare(shrunk)).toBeCloseTo(grown.ownership(n).get('z')!.replica, 9);
      }),
      { numRuns: 300 },
    );
  });

  it('a whole-ring change is one whole-ring range per new node', () => {
    const before = Ring.fromEntries([{ token: 5n, node: 'a' }]);
    const after = Ring.fromEntries([{ token: 5n, node: 'b' }]);
    const transfers = transfersFor(before, after, 1);
    expect(transfers).toEqual([{ range: { start: 5n, end: 5n }, from: ['a'], to: 'b' }]);
    expect(rangeWidth(transfers[0]!.range)).toBe(1n << 64n);
  });
});
