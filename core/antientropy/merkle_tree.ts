// A Merkle tree over one token range a node replicates, kept up to date as
// writes land instead of being rebuilt for every exchange.
//
// Shape: fixed, so two replicas of the range compare node by node. The range
// (start, end] is cut into 2^leafBits equal segments by a key's position in
// it (its token's offset from start, scaled); a node has 2^fanoutBits
// children, so the tree has depth leafBits / fanoutBits and level d holds
// 2^(d · fanoutBits) nodes (level 0 the root, level depth the leaves). The
// default 2^16 segments with fan-out 16 (depth 4) is Cassandra's order of
// leaf count (2^15) with Riak's wide fan-out: 1,000,000 keys give ~15 keys a
// segment, so a differing key costs ~15 listed keys; four levels cost four
// round trips of 16 hashes per differing node; and the tree takes ~550 KiB.
// Ranges much larger or smaller pick leafBits accordingly (leafBitsFor).
//
// Leaf = sum mod 2^64 of the entry hashes (merkle_hash.ts) of the segment's
// entries: independent of insertion order, updatable in O(1) by adding or
// subtracting one entry, and — unlike XOR — two equal entries do not cancel
// (entry hashes are odd). Because sums commute, updates may be applied in any
// order, a removal even before the insertion it undoes: a build that scans a
// snapshot while new writes are added as they land (remove old, insert new)
// ends with the same tree as a build from scratch at the end, so builds can
// proceed in bounded, throttled steps. An inner node is the hash of its
// children's hashes in order; an all-empty subtree hashes to zero.
//
// Inner nodes are recomputed lazily: an update marks the leaf's ancestors
// dirty (stopping at the first already dirty one) and root()/levelHashes()
// recompute only dirty nodes, bottom-up.
//
// What goes into the tree is the store's business: every live version and
// every tombstone not yet purged, and nothing the store has purged (expired
// TTL data purged by compaction must be removed here too, or trees bloat and
// replicas that purged at different times look divergent).

import { assert } from '../../io/assert.ts';
import { addMod64, entryHashInto, HASH_BYTES, nodeHashInto, writeHash } from './merkle_hash.ts';

/** A token range (start, end] as in core/ring/token_range.ts; start === end is the whole ring. */
export interface MerkleRange {
  readonly start: bigint;
  readonly end: bigint;
}

export interface MerkleShape {
  readonly leafBits: number;
  readonly fanoutBits: number;
}

export const DEFAULT_SHAPE: MerkleShape = { leafBits: 16, fanoutBits: 4 };
const MAX_LEAF_BITS = 24;
const RING_SIZE = 1n << 64n;
const TWO_32 = 0x1_0000_0000;
/**
 * segmentOfWords computes offset · 2^leafBits / width in doubles: relative
 * error under 2^-51, so under 2^-27 absolute below 2^24 segments. A quotient
 * this close to an integer is recomputed exactly with bigints.
 */
const FLOAT_MARGIN = 1e-6;

// Shared by every tree: a node is single-threaded and no call keeps them.
const entryScratch = new Uint32Array(2);
const childBytesByFanout: Uint8Array[] = [];

/**
 * leafBits for a range expected to hold `keys` keys: about 16 keys a segment,
 * a multiple of fanoutBits, within [fanoutBits, 24].
 */
export function leafBitsFor(keys: number, fanoutBits = DEFAULT_SHAPE.fanoutBits): number {
  assert(Number.isFinite(keys) && keys >= 0, `expected keys ${keys}`);
  const wanted = Math.ceil(Math.log2(Math.max(1, keys / 16)));
  const rounded = Math.ceil(wanted / fanoutBits) * fanoutBits;
  return Math.min(Math.max(rounded, fanoutBits), Math.floor(MAX_LEAF_BITS / fanoutBits) * fanoutBits);
}

export function isValidShape(shape: MerkleShape): boolean {
  const { leafBits, fanoutBits } = shape;
  return (
    Number.isInteger(leafBits) && Number.isInteger(fanoutBits) && fanoutBits >= 1 && fanoutBits <= 8 &&
    leafBits >= fanoutBits && leafBits <= MAX_LEAF_BITS && leafBits % fanoutBits === 0
  );
}

export class MerkleTree {
  readonly range: MerkleRange;
  readonly leafBits: number;
  readonly fanoutBits: number;
  readonly fanout: number;
  /** Level of the leaves; the root is level 0. */
  readonly depth: number;
  readonly segmentCount: number;
  // Allocated at the first update (materialize()): a node opens a tree for
  // every range it replicates, and a tree never written is all zeros anyway.
  // Every level lives in one buffer, root first: node i of level d is at
  // levelStart[d] + i.
  /** [hi, lo] word pairs, one per node. */
  private hashes: Uint32Array | null = null;
  /** Inner nodes only (they come before the leaves): 1 where a node must be recomputed. */
  private dirty: Uint8Array | null = null;
  /** Dirty node indices per inner level, so refreshing visits only them. */
  private dirtyLists: number[][] = [];
  private readonly levelStart: number[] = [];
  private readonly width: bigint;
  /** Offsets are taken from start + 1, the range's first token. */
  private readonly firstToken: bigint;
  private readonly leafBitsBig: bigint;
  /** Whole ring: the segment is the offset's top leafBits bits, no division needed. */
  private readonly wholeRing: boolean;
  // The first token and the width as numbers, for segmentOfWords.
  private readonly firstHi: number;
  private readonly firstLo: number;
  private readonly widthHi: number;
  private readonly widthLo: number;
  private readonly widthFloat: number;
  private entries = 0;

  constructor(range: MerkleRange, shape: MerkleShape = DEFAULT_SHAPE) {
    assert(range.start >= 0n && range.start < RING_SIZE && range.end >= 0n && range.end < RING_SIZE, 'merkle range outside the ring');
    assert(isValidShape(shape), `merkle shape ${shape.leafBits}/${shape.fanoutBits}`);
    this.range = { start: range.start, end: range.end };
    this.leafBits = shape.leafBits;
    this.fanoutBits = shape.fanoutBits;
    this.fanout = 1 << shape.fanoutBits;
    this.depth = shape.leafBits / shape.fanoutBits;
    this.segmentCount = 2 ** shape.leafBits;
    const d = range.end - range.start;
    this.width = d > 0n ? d : d + RING_SIZE;
    this.firstToken = BigInt.asUintN(64, range.start + 1n);
    this.leafBitsBig = BigInt(shape.leafBits);
    this.wholeRing = this.width === RING_SIZE;
    this.firstHi = Number(this.firstToken >> 32n);
    this.firstLo = Number(this.firstToken & 0xffff_ffffn);
    this.widthHi = Number(this.width >> 32n); // 2^32 for the whole ring
    this.widthLo = Number(this.width & 0xffff_ffffn);
    this.widthFloat = Number(this.width);
    let start = 0;
    for (let level = 0; level <= this.depth; level++) {
      this.levelStart.push(start);
      start += 2 ** (level * this.fanoutBits);
    }
  }

  private materialize(): void {
    const nodes = this.levelStart[this.depth]! + this.segmentCount;
    this.hashes = new Uint32Array(2 * nodes);
    this.dirty = new Uint8Array(this.levelStart[this.depth]!);
    for (let level = 0; level < this.depth; level++) this.dirtyLists.push([]);
  }

  get shape(): MerkleShape {
    return { leafBits: this.leafBits, fanoutBits: this.fanoutBits };
  }

  /** Entries inserted minus entries removed. */
  get entryCount(): number {
    return this.entries;
  }

  nodesAt(level: number): number {
    assert(Number.isInteger(level) && level >= 0 && level <= this.depth, `merkle level ${level} of depth ${this.depth}`);
    return 2 ** (level * this.fanoutBits);
  }

  /** The leaf segment of a token inside the range. */
  segmentOf(token: bigint): number {
    // Messages are built only on failure: formatting a bigint costs more than the mapping.
    if (!(token >= 0n && token < RING_SIZE)) assert(false, `token ${token} outside the ring`);
    const offset = BigInt.asUintN(64, token - this.firstToken);
    if (!(offset < this.width)) assert(false, `token ${token} outside the tree's range`);
    const segment = this.wholeRing ? Number(offset >> BigInt(64 - this.leafBits)) : Number((offset << this.leafBitsBig) / this.width);
    assert(segment >= 0 && segment < this.segmentCount, 'segment beyond the last');
    return segment;
  }

  /**
   * segmentOf of the token (hi << 32) | lo, given as two unsigned 32-bit
   * words: the same segment, without a bigint unless the quotient falls
   * within FLOAT_MARGIN of a segment boundary.
   */
  segmentOfWords(hi: number, lo: number): number {
    if (!(hi >= 0 && hi < TWO_32 && lo >= 0 && lo < TWO_32 && Number.isInteger(hi) && Number.isInteger(lo))) assert(false, `token words ${hi}, ${lo}`);
    let offsetLo = lo - this.firstLo;
    let offsetHi = hi - this.firstHi;
    if (offsetLo < 0) {
      offsetLo += TWO_32;
      offsetHi--;
    }
    if (offsetHi < 0) offsetHi += TWO_32;
    if (!(offsetHi < this.widthHi || (offsetHi === this.widthHi && offsetLo < this.widthLo))) assert(false, `token ${hi}:${lo} outside the tree's range`);
    // leafBits <= 24, so the top leafBits bits of the offset are in its high word.
    if (this.wholeRing) return offsetHi >>> (32 - this.leafBits);
    const q = ((offsetHi * TWO_32 + offsetLo) * this.segmentCount) / this.widthFloat;
    let segment = Math.floor(q);
    const fraction = q - segment;
    if (fraction < FLOAT_MARGIN || fraction > 1 - FLOAT_MARGIN) {
      const offset = (BigInt(offsetHi) << 32n) | BigInt(offsetLo);
      segment = Number((offset << this.leafBitsBig) / this.width);
    }
    if (!(segment >= 0 && segment < this.segmentCount)) assert(false, `segment ${segment} of ${this.segmentCount}`);
    return segment;
  }

  insert(token: bigint, key: Uint8Array, contentHash: bigint): void {
    entryHashInto(key, contentHash, entryScratch);
    this.insertHash(this.segmentOf(token), entryScratch[0]!, entryScratch[1]!);
  }

  remove(token: bigint, key: Uint8Array, contentHash: bigint): void {
    entryHashInto(key, contentHash, entryScratch);
    this.removeHash(this.segmentOf(token), entryScratch[0]!, entryScratch[1]!);
  }

  /** The key's content changed from `oldContentHash` to `newContentHash`. */
  update(token: bigint, key: Uint8Array, oldContentHash: bigint, newContentHash: bigint): void {
    if (oldContentHash === newContentHash) return;
    const segment = this.segmentOf(token);
    entryHashInto(key, oldContentHash, entryScratch);
    this.applyToLeaf(segment, entryScratch[0]!, entryScratch[1]!, -1);
    entryHashInto(key, newContentHash, entryScratch);
    this.applyToLeaf(segment, entryScratch[0]!, entryScratch[1]!, 1);
    this.markDirty(segment);
  }

  /** Adds an entry whose hash (merkle_hash.ts entryHashInto) is already known. */
  insertHash(segment: number, hi: number, lo: number): void {
    this.applyToLeaf(segment, hi, lo, 1);
    this.entries++;
    this.markDirty(segment);
  }

  removeHash(segment: number, hi: number, lo: number): void {
    this.applyToLeaf(segment, hi, lo, -1);
    this.entries--;
    this.markDirty(segment);
  }

  /** The root hash, as 8 bytes. */
  root(): Uint8Array {
    return this.levelHashes(0, [0]);
  }

  /** Hashes of the given nodes of a level, 8 bytes each in the order given. */
  levelHashes(level: number, indices: readonly number[]): Uint8Array {
    const nodes = this.nodesAt(level);
    this.refresh();
    const words = this.hashes; // null: never written, every hash zero
    const first = this.levelStart[level]!;
    const out = new Uint8Array(indices.length * HASH_BYTES);
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i]!;
      if (!(Number.isInteger(index) && index >= 0 && index < nodes)) assert(false, `node ${index} of level ${level}`);
      if (words !== null) writeHash(out, i * HASH_BYTES, words[2 * (first + index)]!, words[2 * (first + index) + 1]!);
    }
    return out;
  }

  /** Hashes of all children (at level + 1) of the given nodes of `level`, parent by parent. */
  childHashes(level: number, parents: readonly number[]): Uint8Array {
    assert(level < this.depth, `leaves (level ${level}) have no children`);
    const children: number[] = [];
    for (const p of parents) for (let c = 0; c < this.fanout; c++) children.push(p * this.fanout + c);
    return this.levelHashes(level + 1, children);
  }

  /** Inner nodes waiting to be recomputed (for tests and metrics). */
  dirtyNodeCount(): number {
    let n = 0;
    for (const list of this.dirtyLists) n += list.length;
    return n;
  }

  private applyToLeaf(segment: number, hi: number, lo: number, sign: 1 | -1): void {
    if (!(Number.isInteger(segment) && segment >= 0 && segment < this.segmentCount)) assert(false, `segment ${segment} of ${this.segmentCount}`);
    if (this.hashes === null) this.materialize();
    addMod64(this.hashes!, 2 * (this.levelStart[this.depth]! + segment), hi, lo, sign);
  }

  private markDirty(segment: number): void {
    const flags = this.dirty!;
    let index = segment;
    for (let level = this.depth - 1; level >= 0; level--) {
      index >>>= this.fanoutBits;
      const at = this.levelStart[level]! + index;
      // An already dirty node has dirty ancestors too.
      if (flags[at] === 1) return;
      flags[at] = 1;
      this.dirtyLists[level]!.push(index);
    }
  }

  /** Recomputes dirty inner nodes, deepest level first (a node's children are clean by then). */
  private refresh(): void {
    const words = this.hashes;
    const flags = this.dirty;
    if (words === null || flags === null) return;
    let childBytes = childBytesByFanout[this.fanoutBits];
    if (childBytes === undefined) {
      childBytes = new Uint8Array(this.fanout * HASH_BYTES);
      childBytesByFanout[this.fanoutBits] = childBytes;
    }
    for (let level = this.depth - 1; level >= 0; level--) {
      const list = this.dirtyLists[level]!;
      if (list.length === 0) continue;
      const here = this.levelStart[level]!;
      const below = this.levelStart[level + 1]!;
      for (const index of list) {
        const first = below + index * this.fanout;
        for (let c = 0; c < this.fanout; c++) {
          writeHash(childBytes, c * HASH_BYTES, words[2 * (first + c)]!, words[2 * (first + c) + 1]!);
        }
        nodeHashInto(childBytes, words, 2 * (here + index));
        flags[here + index] = 0;
      }
      list.length = 0;
    }
  }
}
