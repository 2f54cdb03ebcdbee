import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entryHash64 } from './merkle_hash.ts';
import { DEFAULT_SHAPE, leafBitsFor, type MerkleRange, type MerkleShape, MerkleTree } from './merkle_tree.ts';

const RING = 1n << 64n;
const u64 = fc.bigInt({ min: 0n, max: RING - 1n });
const SHAPES: MerkleShape[] = [
  { leafBits: 1, fanoutBits: 1 },
  { leafBits: 4, fanoutBits: 1 },
  { leafBits: 4, fanoutBits: 2 },
  { leafBits: 4, fanoutBits: 4 },
  { leafBits: 6, fanoutBits: 3 },
  { leafBits: 8, fanoutBits: 2 },
  { leafBits: 8, fanoutBits: 4 },
];
const shapeArb = fc.constantFrom(...SHAPES);
const rangeArb = fc.tuple(u64, u64).map(([start, end]): MerkleRange => ({ start, end }));

function width(range: MerkleRange): bigint {
  const d = (range.end - range.start + RING) % RING;
  return d === 0n ? RING : d;
}

/** A token inside the range, from any 64-bit number. */
function tokenIn(range: MerkleRange, r: bigint): bigint {
  return (range.start + 1n + (r % width(range))) % RING;
}

function allHashes(tree: MerkleTree): string[] {
  const out: string[] = [];
  for (let level = 0; level <= tree.depth; level++) {
    const indices = Array.from({ length: tree.nodesAt(level) }, (_, i) => i);
    out.push(Buffer.from(tree.levelHashes(level, indices)).toString('hex'));
  }
  return out;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

type Op = { kind: 'put'; key: number; content: bigint } | { kind: 'del'; key: number } | { kind: 'root' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('put' as const), key: fc.nat(40), content: u64 }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), key: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'root' as const }) },
);

describe('MerkleTree', () => {
  it('incremental updates end where a build from scratch of the final entries does', () => {
    fc.assert(
      fc.property(shapeArb, rangeArb, fc.array(u64, { minLength: 41, maxLength: 41 }), fc.array(opArb, { maxLength: 200 }), (shape, range, draws, ops) => {
        const tokens = draws.map((r) => tokenIn(range, r));
        const keys = tokens.map((_, i) => Uint8Array.of(i, i >> 8));
        const tree = new MerkleTree(range, shape);
        const model = new Map<number, bigint>();
        for (const op of ops) {
          if (op.kind === 'root') {
            tree.root();
            expect(tree.dirtyNodeCount()).toBe(0);
          } else if (op.kind === 'put') {
            const old = model.get(op.key);
            if (old === undefined) tree.insert(tokens[op.key]!, keys[op.key]!, op.content);
            else tree.update(tokens[op.key]!, keys[op.key]!, old, op.content);
            model.set(op.key, op.content);
          } else {
            const old = model.get(op.key);
            if (old === undefined) continue;
            tree.remove(tokens[op.key]!, keys[op.key]!, old);
            model.delete(op.key);
          }
        }
        const fresh = new MerkleTree(range, shape);
        for (const [k, content] of [...model].reverse()) fresh.insert(tokens[k]!, keys[k]!, content);
        expect(allHashes(tree)).toEqual(allHashes(fresh));
        expect(tree.entryCount).toBe(model.size);
      }),
      { numRuns: 200 },
    );
  });

  it('the tree does not depend on the order updates are applied in, removals first included', () => {
    fc.assert(
      fc.property(shapeArb, rangeArb, fc.array(fc.tuple(u64, u64), { minLength: 1, maxLength: 60 }), fc.nat(), (shape, range, entries, seed) => {
        const ops = entries.flatMap(([r, content], i) => {
          const token = tokenIn(range, r);
          const key = Uint8Array.of(i);
          // Each entry goes in, and half of them are replaced by a new version.
          const list = [{ sign: 1, token, key, content }];
          if (i % 2 === 0) list.push({ sign: -1, token, key, content }, { sign: 1, token, key, content: content ^ 1n });
          return list;
        });
        const inOrder = new MerkleTree(range, shape);
        for (const o of ops) (o.sign === 1 ? inOrder.insert(o.token, o.key, o.content) : inOrder.remove(o.token, o.key, o.content));
        // A seeded permutation: a removal may land before the insertion it undoes.
        const shuffled = ops.map((o, i) => ({ o, k: (i * 2654435761 + seed) % 4294967291 })).sort((a, b) => a.k - b.k);
        const permuted = new MerkleTree(range, shape);
        for (const { o } of shuffled) (o.sign === 1 ? permuted.insert(o.token, o.key, o.content) : permuted.remove(o.token, o.key, o.content));
        expect(allHashes(permuted)).toEqual(allHashes(inOrder));
      }),
    );
  });

  it('removing then re-adding entries restores the root; removing all gives the empty root', () => {
    fc.assert(
      fc.property(shapeArb, rangeArb, fc.array(fc.tuple(u64, u64), { minLength: 1, maxLength: 50 }), fc.nat(49), (shape, range, entries, pick) => {
        const tree = new MerkleTree(range, shape);
        const items = entries.map(([r, content], i) => ({ token: tokenIn(range, r), key: Uint8Array.of(i, 1), content }));
        for (const e of items) tree.insert(e.token, e.key, e.content);
        const root = hex(tree.root());
        const e = items[pick % items.length]!;
        tree.remove(e.token, e.key, e.content);
        expect(hex(tree.root())).not.toBe(root);
        tree.insert(e.token, e.key, e.content);
        expect(hex(tree.root())).toBe(root);
        for (const x of items) tree.remove(x.token, x.key, x.content);
        expect(hex(tree.root())).toBe(hex(new MerkleTree(range, shape).root()));
        expect(hex(tree.root())).toBe('0000000000000000');
      }),
    );
  });

  it('two identical entries in a segment differ from none (no XOR-style cancelling)', () => {
    const range = { start: 0n, end: 0n };
    const key = new TextEncoder().encode('k');
    const empty = new MerkleTree(range);
    const one = new MerkleTree(range);
    const two = new MerkleTree(range);
    one.insert(5n, key, 42n);
    two.insert(5n, key, 42n);
    two.insert(5n, key, 42n);
    expect(hex(two.root())).not.toBe(hex(empty.root()));
    expect(hex(two.root())).not.toBe(hex(one.root()));
    expect(hex(one.root())).not.toBe(hex(empty.root()));
    // The same pair under XOR would vanish: this is the bug the sum avoids.
    const h = entryHash64(key, 42n);
    expect(h ^ h).toBe(0n);
    expect((h + h) % RING).not.toBe(0n);
  });

  it('any number of copies of an entry never sums to an empty segment', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), u64, fc.integer({ min: 1, max: 64 }), (key, content, copies) => {
        const tree = new MerkleTree({ start: 0n, end: 0n }, { leafBits: 4, fanoutBits: 4 });
        for (let i = 0; i < copies; i++) tree.insert(0n, key, content);
        expect(hex(tree.root())).not.toBe('0000000000000000');
      }),
    );
  });

  it('hashes the content, not only the key', () => {
    const range = { start: 10n, end: 5n };
    const a = new MerkleTree(range);
    const b = new MerkleTree(range);
    const key = Uint8Array.of(1, 2, 3);
    a.insert(100n, key, 1n);
    b.insert(100n, key, 2n);
    expect(hex(a.root())).not.toBe(hex(b.root()));
    b.update(100n, key, 2n, 1n);
    expect(hex(a.root())).toBe(hex(b.root()));
  });

  it('recomputes lazily, only along dirty paths', () => {
    const tree = new MerkleTree({ start: 0n, end: 0n }, DEFAULT_SHAPE);
    expect(tree.depth).toBe(4);
    expect(tree.dirtyNodeCount()).toBe(0);
    tree.insert(1n, Uint8Array.of(1), 1n);
    expect(tree.dirtyNodeCount()).toBe(4);
    tree.insert(2n, Uint8Array.of(2), 1n); // same leaf segment
    expect(tree.dirtyNodeCount()).toBe(4);
    tree.insert((1n << 63n) + 1n, Uint8Array.of(3), 1n); // another half of the ring: root already dirty
    expect(tree.dirtyNodeCount()).toBe(7);
    tree.root();
    expect(tree.dirtyNodeCount()).toBe(0);
  });

  it('maps tokens onto segments in range order, wrapping through zero', () => {
    fc.assert(
      fc.property(shapeArb, rangeArb, u64, u64, (shape, range, r1, r2) => {
        const tree = new MerkleTree(range, shape);
        const w = width(range);
        expect(tree.segmentOf(tokenIn(range, 0n))).toBe(0);
        // The last token lands in the last segment (of those a narrow range can reach).
        expect(tree.segmentOf(range.end)).toBe(Number(((w - 1n) * BigInt(tree.segmentCount)) / w));
        if (w >= BigInt(tree.segmentCount)) expect(tree.segmentOf(range.end)).toBe(tree.segmentCount - 1);
        const [o1, o2] = [r1 % w, r2 % w].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(tree.segmentOf(tokenIn(range, o1!))).toBeLessThanOrEqual(tree.segmentOf(tokenIn(range, o2!)));
        if (w < RING) expect(() => tree.segmentOf(range.start)).toThrow(/outside the tree's range/);
      }),
    );
    // Whole ring: the segment is the token's top bits.
    const ring = new MerkleTree({ start: 0n, end: 0n }, { leafBits: 8, fanoutBits: 4 });
    expect(ring.segmentOf(1n)).toBe(0);
    expect(ring.segmentOf(0n)).toBe(255);
    expect(ring.segmentOf(0x80_00_00_00_00_00_00_01n)).toBe(128);
  });

  it('segmentOfWords agrees with segmentOf, at segment boundaries too', () => {
    const shapes: MerkleShape[] = [...SHAPES, { leafBits: 12, fanoutBits: 4 }, { leafBits: 16, fanoutBits: 4 }, { leafBits: 24, fanoutBits: 4 }];
    const words = (t: bigint): [number, number] => [Number(t >> 32n), Number(t & 0xffff_ffffn)];
    fc.assert(
      fc.property(fc.constantFrom(...shapes), rangeArb, u64, fc.integer({ min: -2, max: 2 }), (shape, range, r, nudge) => {
        const tree = new MerkleTree(range, shape);
        const w = width(range);
        const any = tokenIn(range, r);
        expect(tree.segmentOfWords(...words(any))).toBe(tree.segmentOf(any));
        // The first offset of a segment, nudged: where the double quotient is closest to an integer.
        const s = BigInt(Number(r % BigInt(tree.segmentCount)));
        const boundary = (s * w + BigInt(tree.segmentCount) - 1n) / BigInt(tree.segmentCount);
        const offset = boundary + BigInt(nudge);
        if (offset < 0n || offset >= w) return;
        const t = tokenIn(range, offset);
        expect(tree.segmentOfWords(...words(t))).toBe(tree.segmentOf(t));
        if (w < RING) expect(() => tree.segmentOfWords(...words(range.start))).toThrow(/outside the tree's range/);
      }),
      { numRuns: 2000 },
    );
  });

  it('levelHashes and childHashes agree on the same nodes', () => {
    const tree = new MerkleTree({ start: 0n, end: 0n }, { leafBits: 4, fanoutBits: 2 });
    for (let i = 0; i < 50; i++) tree.insert(BigInt(i) * 0x0400_0000_0000_0000n + 7n, Uint8Array.of(i), BigInt(i));
    expect(hex(tree.childHashes(0, [0]))).toBe(hex(tree.levelHashes(1, [0, 1, 2, 3])));
    expect(hex(tree.childHashes(1, [2]))).toBe(hex(tree.levelHashes(2, [8, 9, 10, 11])));
    expect(() => tree.childHashes(2, [0])).toThrow();
    expect(() => tree.levelHashes(1, [4])).toThrow();
  });

  it('rejects shapes that do not divide into levels', () => {
    expect(() => new MerkleTree({ start: 0n, end: 0n }, { leafBits: 6, fanoutBits: 4 })).toThrow();
    expect(() => new MerkleTree({ start: 0n, end: 0n }, { leafBits: 0, fanoutBits: 0 })).toThrow();
    expect(() => new MerkleTree({ start: 0n, end: RING }, DEFAULT_SHAPE)).toThrow();
  });

  it('leafBitsFor aims at ~16 keys a segment', () => {
    expect(leafBitsFor(0)).toBe(4);
    expect(leafBitsFor(1_000_000)).toBe(16);
    expect(leafBitsFor(5_000)).toBe(12);
    expect(leafBitsFor(1e12)).toBe(24);
    expect(leafBitsFor(1_000_000, 3)).toBe(18);
  });
});
