import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ring, type RingEntry } from './ring.ts';
import { MAX_TOKEN, RING_SIZE, rangeContains, rangeShare, rangeWidth } from './token_range.ts';

// Tokens drawn from the whole ring, from a tiny corner (so keys land on and
// next to tokens), and the extremes (wrap-around).
const token = fc.oneof(
  fc.bigInt({ min: 0n, max: MAX_TOKEN }),
  fc.bigInt({ min: 0n, max: 40n }),
  fc.constantFrom(0n, 1n, MAX_TOKEN, MAX_TOKEN - 1n),
);
const nodeId = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g');
const entries = fc.uniqueArray(fc.record({ token, node: nodeId }), {
  selector: (e) => e.token,
  minLength: 1,
  maxLength: 40,
});
const replicas = fc.integer({ min: 1, max: 5 });

function byToken(a: RingEntry, b: RingEntry): number {
  return a.token < b.token ? -1 : a.token > b.token ? 1 : 0;
}

/** Brute force: all distinct nodes clockwise from the key, by linear scan. */
function modelWalk(list: readonly RingEntry[], key: bigint): string[] {
  const sorted = [...list].sort(byToken);
  let start = sorted.findIndex((e) => e.token >= key);
  if (start < 0) start = 0;
  const out: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const node = sorted[(start + i) % sorted.length]!.node;
    if (!out.includes(node)) out.push(node);
  }
  return out;
}

describe('Ring lookups', () => {
  it('preference list = first n distinct nodes clockwise (brute-force model)', () => {
    fc.assert(
      fc.property(entries, token, replicas, (list, key, n) => {
        const ring = Ring.fromEntries(list);
        const got = ring.preferenceList(key, n);
        expect(got).toEqual(modelWalk(list, key).slice(0, n));
        expect(new Set(got).size).toBe(Math.min(n, ring.nodeCount));
        expect(ring.ownerOf(key)).toBe(got[0]);
      }),
      { numRuns: 500 },
    );
  });

  it('a key equal to a token belongs to that token; one past it to the next (wrapping)', () => {
    fc.assert(
      fc.property(entries, fc.nat(), (list, pick) => {
        const ring = Ring.fromEntries(list);
        const i = pick % ring.tokenCount;
        const t = ring.tokenAt(i);
        expect(ring.tokenIndexFor(t)).toBe(i);
        const after = t === MAX_TOKEN ? 0n : t + 1n;
        const expected = t === MAX_TOKEN || i === ring.tokenCount - 1 ? 0 : i + 1;
        expect(ring.tokenIndexFor(after)).toBe(expected);
      }),
    );
  });

  it('extended list: up home replicas as primaries, then up nodes beyond as fallbacks with hints', () => {
    fc.assert(
      fc.property(entries, token, replicas, fc.nat(4), fc.subarray(['a', 'b', 'c', 'd', 'e', 'f', 'g']), (list, key, n, extra, down) => {
        const ring = Ring.fromEntries(list);
        const isUp = (node: string): boolean => !down.includes(node);
        const walk = modelWalk(list, key);
        const homes = walk.slice(0, n);
        const downHomes = homes.filter((x) => !isUp(x));
        const fallbacks = walk.slice(n).filter(isUp);
        const expected = [
          ...homes.filter(isUp).map((node) => ({ node, role: 'primary' })),
          ...fallbacks.map((node, i) =>
            i < downHomes.length ? { node, role: 'fallback', hintFor: downHomes[i] } : { node, role: 'fallback' },
          ),
        ].slice(0, n + extra);
        expect(ring.extendedPreferenceList(key, n, extra, isUp)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('with every node up the extended list starts with the preference list', () => {
    fc.assert(
      fc.property(entries, token, replicas, fc.nat(3), (list, key, n, extra) => {
        const ring = Ring.fromEntries(list);
        const ext = ring.extendedPreferenceList(key, n, extra);
        expect(ext.slice(0, n).map((e) => e.node)).toEqual(ring.preferenceList(key, n));
        expect(ext.filter((e) => e.role === 'primary').length).toBe(Math.min(n, ring.nodeCount));
        expect(ext.length).toBe(Math.min(n + extra, ring.nodeCount));
      }),
    );
  });

  it('an empty ring has no replicas', () => {
    expect(Ring.EMPTY.preferenceList(5n, 3)).toEqual([]);
    expect(Ring.EMPTY.extendedPreferenceList(5n, 3, 2)).toEqual([]);
    expect(Ring.EMPTY.ownership(3).size).toBe(0);
  });
});

describe('Ring membership changes', () => {
  const joiner = fc.uniqueArray(token, { minLength: 1, maxLength: 8 });

  it('adding a node changes only the lists it joins, and only by pushing the last one out', () => {
    fc.assert(
      fc.property(entries, joiner, fc.array(token, { minLength: 1, maxLength: 20 }), replicas, (list, extra, keys, n) => {
        const ring = Ring.fromEntries(list);
        const taken = new Set(list.map((e) => e.token));
        const mine = extra.filter((t) => !taken.has(t));
        fc.pre(mine.length > 0);
        const grown = ring.withNode('z', mine);
        for (const key of keys) {
          const before = ring.preferenceList(key, n);
          const after = grown.preferenceList(key, n);
          if (!after.includes('z')) expect(after).toEqual(before);
          else expect(after.filter((x) => x !== 'z')).toEqual(before.slice(0, after.length - 1));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('withNode then withoutNode gives back the same ring', () => {
    fc.assert(
      fc.property(entries, joiner, fc.double({ min: 0.25, max: 4, noNaN: true }), (list, extra, weight) => {
        const ring = Ring.fromEntries(list);
        const taken = new Set(list.map((e) => e.token));
        const mine = extra.filter((t) => !taken.has(t));
        fc.pre(mine.length > 0);
        const grown = ring.withNode('z', mine, weight);
        expect(grown.weightOf('z')).toBe(weight);
        expect(grown.tokensOf('z')).toEqual([...mine].sort((a, b) => (a < b ? -1 : 1)));
        expect(grown.entries()).toEqual(Ring.fromEntries([...list, ...mine.map((t) => ({ token: t, node: 'z' }))]).entries());
        const back = grown.withoutNode('z');
        expect(back.entries()).toEqual(ring.entries());
        expect(back.nodes()).toEqual(ring.nodes());
      }),
    );
  });

  it('refuses a token already on the ring, a node already on it, and unknown nodes', () => {
    const ring = Ring.fromEntries([
      { token: 10n, node: 'a' },
      { token: 20n, node: 'b' },
    ]);
    expect(() => ring.withNode('c', [20n])).toThrow(/already on the ring/);
    expect(() => ring.withNode('a', [30n])).toThrow(/already on the ring/);
    expect(() => ring.withNode('c', [30n, 30n])).toThrow(/sorted and unique/);
    expect(() => ring.withoutNode('c')).toThrow(/not on the ring/);
    expect(() => Ring.fromEntries([{ token: RING_SIZE, node: 'a' }])).toThrow(/outside/);
    expect(() => ring.preferenceList(-1n, 3)).toThrow(/outside/);
  });
});

describe('Ring ownership and ranges', () => {
  it('ownership matches a per-range brute force, sums to 1 (primary) and min(n, nodes) (replica)', () => {
    fc.assert(
      fc.property(entries, replicas, (list, n) => {
        const ring = Ring.fromEntries(list);
        const own = ring.ownership(n);
        const primary = new Map<string, bigint>();
        const replica = new Map<string, bigint>();
        for (const { range, node } of ring.ranges()) {
          const w = rangeWidth(range);
          primary.set(node, (primary.get(node) ?? 0n) + w);
          for (const r of modelWalk(list, range.end).slice(0, n)) replica.set(r, (replica.get(r) ?? 0n) + w);
        }
        let sumP = 0;
        let sumR = 0;
        for (const node of ring.nodes()) {
          const o = own.get(node)!;
          expect(o.primary).toBeCloseTo(Number(primary.get(node) ?? 0n) / Number(RING_SIZE), 12);
          expect(o.replica).toBeCloseTo(Number(replica.get(node) ?? 0n) / Number(RING_SIZE), 12);
          sumP += o.primary;
          sumR += o.replica;
        }
        expect(sumP).toBeCloseTo(1, 9);
        expect(sumR).toBeCloseTo(Math.min(n, ring.nodeCount), 9);
      }),
      { numRuns: 300 },
    );
  });

  it('rangesOf(node) holds exactly the keys whose preference list has the node', () => {
    fc.assert(
      fc.property(entries, replicas, fc.array(token, { minLength: 1, maxLength: 30 }), (list, n, keys) => {
        const ring = Ring.fromEntries(list);
        const own = ring.ownership(n);
        for (const node of ring.nodes()) {
          const ranges = ring.rangesOf(node, n);
          const share = ranges.reduce((s, r) => s + rangeShare(r), 0);
          expect(share).toBeCloseTo(own.get(node)!.replica, 9);
          for (const key of [...keys, ...ranges.flatMap((r) => [r.start, r.end])]) {
            const holds = ring.preferenceList(key, n).includes(node);
            expect(ranges.some((r) => rangeContains(r, key))).toBe(holds);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a single token owns the whole ring', () => {
    const ring = Ring.fromEntries([{ token: 77n, node: 'a' }]);
    expect(ring.rangesOf('a', 3)).toEqual([{ start: 77n, end: 77n }]);
    expect(ring.ownership(3).get('a')).toEqual({ primary: 1, replica: 1 });
    expect(ring.preferenceList(MAX_TOKEN, 3)).toEqual(['a']);
  });

  it('spread is max/min of share per target share (replica targets capped at the whole ring)', () => {
    const ring = Ring.fromEntries(
      [
        { token: RING_SIZE / 4n, node: 'a' },
        { token: RING_SIZE / 2n, node: 'b' },
        { token: 0n, node: 'c' },
      ],
      new Map([['b', 0.5]]),
    );
    // Primary: a owns 1/4 (target 0.4), b 1/4 (target 0.2), c 1/2 (target 0.4).
    expect(ring.spread(1).primary).toBeCloseTo(2, 12);
    expect(ring.spread(1).replica).toBeCloseTo(2, 12);
    // Two replicas: a and c hold 3/4 (target 0.8), b 1/2 (target 0.4).
    expect(ring.spread(2).replica).toBeCloseTo(1.25 / 0.9375, 12);
    // Three replicas on three nodes: everyone holds everything, as it must.
    expect(ring.spread(3).replica).toBe(1);
  });
});
