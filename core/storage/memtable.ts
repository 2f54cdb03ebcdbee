// The memtable: recent writes in a skip list ordered by compareEntries (key
// ascending, seq descending), so the first node at or after (key, maxSeq) is
// the newest visible version of key.
//
// Layout: nodes are indices into flat arrays rather than objects, so a search
// follows Int32Array links and allocates nothing. Node i has heights[i]
// levels; its forward link at level l is links[linkBase[i] + l]. Node 0 is the
// head (all MAX_HEIGHT levels); 0 as a link target means "none", since nothing
// links to the head.
//
// Comparisons read flat arrays only: each node's key is copied into one byte
// arena (keyStart/keyLength), its seq into seqs, and the first 16 key bytes (zero-padded, big-endian) into four
// u32s (prefix0..prefix3). Keys whose padded prefixes differ compare as their
// prefixes do (a key that ends early pads with 0, below any byte the other key
// has there), so most steps of a search read a few numbers; the rest compare
// arena bytes from the 17th on. 16 bytes because keys often share a long
// prefix (a keyspace or table name, zero-padded numbers), which 8 bytes rarely
// get past.
//
// Nothing per entry is an object: values are copied into a second arena
// (valueStart/valueLength), kinds and times into typed arrays, so a full
// memtable is a handful of large buffers for the garbage collector instead
// of several objects per write that survive until the flush. get() and the
// iterator hand out Entry objects whose key and value are views into the
// arenas (an arena that grows is copied, never changed, so views stay valid).
//
// A point read that misses the memtable (most reads, once the data set is
// larger than one memtable) would still walk the whole skip list, so a small
// in-memory filter of key hashes (bloomHash, the one table filters use, so a
// read hashes its key once) answers "certainly absent" first. It has 16 to
// 32 bits per entry (it is rebuilt from the arena whenever the node arrays
// double) and 3 probes: under 1% false positives.
//
// Heights are drawn from the injected Rng (P(height > h) = 1/4^h, as in
// LevelDB), so one seed builds one structure. Nodes are never removed: a
// memtable only grows, then is frozen, flushed and dropped whole.

import { assert } from '../../io/assert.ts';
import type { Rng } from '../../io/rng.ts';
import { bloomHash, probeDelta } from './bloom_filter.ts';
import { checkEntry, EntryKind, MAX_SEQ, type Entry } from './entry.ts';
import type { EntryIterator } from './entry_iterator.ts';

const MAX_HEIGHT = 12;
const BRANCHING = 4;
const HEAD = 0;
const NONE = 0;
const INITIAL_NODES = 1024;
/** Key bytes held as u32 words per node (prefix0..prefix3). */
const PREFIX_BYTES = 16;
/**
 * Bytes charged per entry beyond its key (charged twice, as when each entry
 * also kept its own copy) and value: the per-node typed-array fields and
 * slack; links are charged 4 bytes per level. Unchanged from when entries
 * were objects, so memtables still fill (and flush) at the same size.
 */
const ENTRY_OVERHEAD_BYTES = 80;
/** Key-filter bits per node of capacity (a power of two). */
const FILTER_BITS_PER_NODE = 16;
const FILTER_PROBES = 3;

export class Memtable {
  /** Nodes in use, the head included. */
  private nodeCount = 1;
  private heights = new Uint8Array(INITIAL_NODES);
  private linkBase = new Int32Array(INITIAL_NODES);
  private prefix0 = new Uint32Array(INITIAL_NODES);
  private prefix1 = new Uint32Array(INITIAL_NODES);
  private prefix2 = new Uint32Array(INITIAL_NODES);
  private prefix3 = new Uint32Array(INITIAL_NODES);
  private keyStart = new Int32Array(INITIAL_NODES);
  private keyLength = new Int32Array(INITIAL_NODES);
  private seqs = new Float64Array(INITIAL_NODES);
  private kinds = new Uint8Array(INITIAL_NODES);
  private times = new Float64Array(INITIAL_NODES);
  private valueStart = new Int32Array(INITIAL_NODES);
  private valueLength = new Int32Array(INITIAL_NODES);
  private links = new Int32Array(INITIAL_NODES * 2);
  private linkCount = MAX_HEIGHT;
  private arena = new Uint8Array(INITIAL_NODES * 16);
  private arenaUsed = 0;
  private values = new Uint8Array(INITIAL_NODES * 64);
  private valuesUsed = 0;
  /** Levels in use: the tallest node's height. */
  private height = 1;
  private bytes = 0;
  private minSeq = MAX_SEQ;
  private maxSeq = 0;
  /** Predecessors found by the last insertion search; reused so add() allocates no array. */
  private readonly prev = new Int32Array(MAX_HEIGHT);
  /** Key filter: bit i is word i >>> 5, bit i & 31; its bit count is a power of two. */
  private filter = new Int32Array((INITIAL_NODES * FILTER_BITS_PER_NODE) >>> 5);
  private filterMask = INITIAL_NODES * FILTER_BITS_PER_NODE - 1;
  private isFrozen = false;

  constructor(private readonly rng: Rng) {
    // The head: no entry, every level, links all NONE.
    this.heights[HEAD] = MAX_HEIGHT;
    this.linkBase[HEAD] = 0;
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  /** Inserts a copy of the entry (its buffers are not kept). A (key, seq) pair may be added only once. */
  add(entry: Entry): void {
    checkEntry(entry);
    this.insert(entry.key, entry.seq, entry.kind, entry.timeMs, entry.value);
  }

  /** add() of an entry given by its fields: key and value are copied. */
  insert(key: Uint8Array, seq: number, kind: EntryKind, timeMs: number, value: Uint8Array): void {
    assert(!this.isFrozen, 'add to a frozen memtable');
    assert(seq >= 1 && seq <= MAX_SEQ && Number.isInteger(seq), `entry seq out of range: ${seq}`);
    assert(kind === EntryKind.Put || (kind === EntryKind.Delete && value.length === 0), `entry kind ${kind} with a ${value.length}-byte value`);
    assert(Number.isInteger(timeMs) && timeMs >= 0, `entry timeMs invalid: ${timeMs}`);
    const found = this.findGreaterOrEqual(key, seq, true);
    assert(found === NONE || this.seqs[found] !== seq || !this.keyEquals(found, key), `memtable already holds seq ${seq} of this key`);
    const h = this.randomHeight();
    if (h > this.height) {
      for (let l = this.height; l < h; l++) this.prev[l] = HEAD;
      this.height = h;
    }
    const node = this.nodeCount;
    this.reserve(node + 1, this.linkCount + h, this.arenaUsed + key.length, this.valuesUsed + value.length);
    this.nodeCount++;
    copyBytes(this.arena, this.arenaUsed, key);
    this.keyStart[node] = this.arenaUsed;
    this.keyLength[node] = key.length;
    this.arenaUsed += key.length;
    copyBytes(this.values, this.valuesUsed, value);
    this.valueStart[node] = this.valuesUsed;
    this.valueLength[node] = value.length;
    this.valuesUsed += value.length;
    this.addToFilter(bloomHash(key));
    this.prefix0[node] = prefixWord(key, 0);
    this.prefix1[node] = prefixWord(key, 4);
    this.prefix2[node] = prefixWord(key, 8);
    this.prefix3[node] = prefixWord(key, 12);
    this.seqs[node] = seq;
    this.kinds[node] = kind;
    this.times[node] = timeMs;
    this.heights[node] = h;
    const base = this.linkCount;
    this.linkBase[node] = base;
    this.linkCount += h;
    for (let l = 0; l < h; l++) {
      const p = this.linkBase[this.prev[l]!]! + l;
      this.links[base + l] = this.links[p]!;
      this.links[p] = node;
    }
    this.bytes += 2 * key.length + value.length + ENTRY_OVERHEAD_BYTES + 4 * h;
    if (seq < this.minSeq) this.minSeq = seq;
    if (seq > this.maxSeq) this.maxSeq = seq;
  }

  /** Newest entry for key with seq <= maxSeq, or undefined. `hash` is bloomHash(key), when the caller has it. */
  get(key: Uint8Array, maxSeq: number = MAX_SEQ, hash: number = bloomHash(key)): Entry | undefined {
    if (!this.mayContainHash(hash)) return undefined;
    const node = this.findGreaterOrEqual(key, maxSeq, false);
    if (node === NONE || !this.keyEquals(node, key)) return undefined;
    return this.entryAt(node);
  }

  /** A cursor over every entry (all versions) in internal order; it sees entries added later. */
  iterator(): EntryIterator {
    return new MemtableIterator(this);
  }

  /** Keys, values and per-entry overhead: what the memtable holds in memory, roughly. */
  approximateBytes(): number {
    return this.bytes;
  }

  entryCount(): number {
    return this.nodeCount - 1;
  }

  /** Smallest seq held, or MAX_SEQ when empty. */
  smallestSeq(): number {
    return this.minSeq;
  }

  /** Largest seq held, or 0 when empty. */
  largestSeq(): number {
    return this.maxSeq;
  }

  /** After this, add() asserts; reads continue (while the memtable is flushed). */
  freeze(): void {
    this.isFrozen = true;
  }

  /** False only when no entry has a key whose bloomHash is `hash`. */
  mayContainHash(hash: number): boolean {
    const filter = this.filter;
    const mask = this.filterMask;
    let h = hash >>> 0;
    const delta = probeDelta(h);
    for (let j = 0; j < FILTER_PROBES; j++) {
      const bit = h & mask;
      if ((filter[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
      h = (h + delta) >>> 0;
    }
    return true;
  }

  private addToFilter(hash: number): void {
    const filter = this.filter;
    const mask = this.filterMask;
    let h = hash >>> 0;
    const delta = probeDelta(h);
    for (let j = 0; j < FILTER_PROBES; j++) {
      const bit = h & mask;
      filter[bit >>> 5]! |= 1 << (bit & 31);
      h = (h + delta) >>> 0;
    }
  }

  /** A filter sized for `capacity` nodes, refilled from every key held (amortized: capacity doubles). */
  private rebuildFilter(capacity: number): void {
    const bits = FILTER_BITS_PER_NODE * 2 ** Math.ceil(Math.log2(capacity));
    assert(bits >= 32 && (bits & (bits - 1)) === 0, `key filter of ${bits} bits`);
    this.filter = new Int32Array(bits >>> 5);
    this.filterMask = bits - 1;
    for (let node = 1; node < this.nodeCount; node++) {
      const k = this.keyStart[node]!;
      this.addToFilter(bloomHash(this.arena.subarray(k, k + this.keyLength[node]!)));
    }
  }

  /** @internal The first node at or after (key, seq) in internal order, or NONE. */
  findGreaterOrEqual(key: Uint8Array, seq: number, recordPrev: boolean): number {
    const { links, linkBase, prefix0, prefix1, prefix2, prefix3 } = this;
    const w0 = prefixWord(key, 0);
    const w1 = prefixWord(key, 4);
    const w2 = prefixWord(key, 8);
    const w3 = prefixWord(key, 12);
    let x = HEAD;
    let level = this.height - 1;
    for (;;) {
      const next = links[linkBase[x]! + level]!;
      if (next !== NONE) {
        let before: boolean;
        const n0 = prefix0[next]!;
        if (n0 !== w0) before = n0 < w0;
        else {
          const n1 = prefix1[next]!;
          if (n1 !== w1) before = n1 < w1;
          else {
            const n2 = prefix2[next]!;
            if (n2 !== w2) before = n2 < w2;
            else {
              const n3 = prefix3[next]!;
              before = n3 !== w3 ? n3 < w3 : this.nodeBefore(next, key, seq);
            }
          }
        }
        if (before) {
          x = next;
          continue;
        }
      }
      if (recordPrev) this.prev[level] = x;
      if (level === 0) return next;
      level--;
    }
  }

  /** @internal The node after `node` at level 0, or NONE. */
  nextNode(node: number): number {
    return this.links[this.linkBase[node]!]!;
  }

  /** @internal A new Entry for node, its key and value views into the arenas. */
  entryAt(node: number): Entry {
    assert(node !== NONE && node < this.nodeCount, 'no entry at the head');
    const k = this.keyStart[node]!;
    const v = this.valueStart[node]!;
    return {
      key: this.arena.subarray(k, k + this.keyLength[node]!),
      seq: this.seqs[node]!,
      kind: this.kinds[node]! as EntryKind,
      value: this.values.subarray(v, v + this.valueLength[node]!),
      timeMs: this.times[node]!,
    };
  }

  private keyEquals(node: number, key: Uint8Array): boolean {
    const length = this.keyLength[node]!;
    if (length !== key.length) return false;
    const arena = this.arena;
    const start = this.keyStart[node]!;
    for (let i = 0; i < length; i++) if (arena[start + i] !== key[i]) return false;
    return true;
  }

  /** Whether `node` sorts strictly before (key, seq), given their padded 16-byte prefixes are equal. */
  private nodeBefore(node: number, key: Uint8Array, seq: number): boolean {
    const arena = this.arena;
    const start = this.keyStart[node]!;
    const length = this.keyLength[node]!;
    const n = length < key.length ? length : key.length;
    // Equal padded prefixes mean the first min(PREFIX_BYTES, n) bytes are equal.
    for (let i = n < PREFIX_BYTES ? n : PREFIX_BYTES; i < n; i++) {
      const d = arena[start + i]! - key[i]!;
      if (d !== 0) return d < 0;
    }
    if (length !== key.length) return length < key.length;
    return this.seqs[node]! > seq;
  }

  private randomHeight(): number {
    // One draw per node: given r < 1/4, r * 4 is again uniform in [0, 1).
    let r = this.rng.next();
    let h = 1;
    while (h < MAX_HEIGHT && r < 1 / BRANCHING) {
      h++;
      r *= BRANCHING;
    }
    return h;
  }

  private reserve(nodes: number, links: number, arenaBytes: number, valueBytes: number): void {
    if (nodes > this.heights.length) {
      const capacity = Math.max(nodes, this.heights.length * 2);
      this.heights = grow(this.heights, new Uint8Array(capacity));
      this.linkBase = grow(this.linkBase, new Int32Array(capacity));
      this.prefix0 = grow(this.prefix0, new Uint32Array(capacity));
      this.prefix1 = grow(this.prefix1, new Uint32Array(capacity));
      this.prefix2 = grow(this.prefix2, new Uint32Array(capacity));
      this.prefix3 = grow(this.prefix3, new Uint32Array(capacity));
      this.keyStart = grow(this.keyStart, new Int32Array(capacity));
      this.keyLength = grow(this.keyLength, new Int32Array(capacity));
      this.seqs = grow(this.seqs, new Float64Array(capacity));
      this.kinds = grow(this.kinds, new Uint8Array(capacity));
      this.times = grow(this.times, new Float64Array(capacity));
      this.valueStart = grow(this.valueStart, new Int32Array(capacity));
      this.valueLength = grow(this.valueLength, new Int32Array(capacity));
      this.rebuildFilter(capacity);
    }
    if (links > this.links.length) this.links = grow(this.links, new Int32Array(Math.max(links, this.links.length * 2)));
    if (arenaBytes > this.arena.length) {
      assert(arenaBytes < 2 ** 31, 'memtable key arena over 2 GiB');
      this.arena = grow(this.arena, new Uint8Array(Math.min(2 ** 31 - 1, Math.max(arenaBytes, this.arena.length * 2))));
    }
    if (valueBytes > this.values.length) {
      assert(valueBytes < 2 ** 31, 'memtable value arena over 2 GiB');
      // Only the used part is copied: the rest of the old arena is zeros.
      const bigger = new Uint8Array(Math.min(2 ** 31 - 1, Math.max(valueBytes, this.values.length * 2)));
      bigger.set(this.values.subarray(0, this.valuesUsed));
      this.values = bigger;
    }
  }
}

/** Short copies byte by byte: TypedArray.set has a fixed cost that dominates 16-byte keys. */
function copyBytes(to: Uint8Array, at: number, from: Uint8Array): void {
  const n = from.length;
  if (n > 32) {
    to.set(from, at);
    return;
  }
  for (let i = 0; i < n; i++) to[at + i] = from[i]!;
}

function grow<T extends Uint8Array | Int32Array | Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

/** Bytes [at, at + 4) of key as a big-endian u32, zero-padded past the key's end. */
function prefixWord(key: Uint8Array, at: number): number {
  const n = key.length;
  if (n >= at + 4) return ((key[at]! << 24) | (key[at + 1]! << 16) | (key[at + 2]! << 8) | key[at + 3]!) >>> 0;
  let word = 0;
  for (let i = 0; i < 4; i++) word = word * 256 + (at + i < n ? key[at + i]! : 0);
  return word;
}

/** Starts unpositioned (not valid) until seekToFirst or seek. */
class MemtableIterator implements EntryIterator {
  private node = NONE;
  /** The Entry made for the current node (a merge asks for it several times per position). */
  private current: Entry | undefined;
  private currentNode = NONE;

  constructor(private readonly table: Memtable) {}

  seekToFirst(): void {
    this.node = this.table.nextNode(HEAD);
  }

  seek(key: Uint8Array): void {
    this.node = this.table.findGreaterOrEqual(key, MAX_SEQ, false);
  }

  valid(): boolean {
    return this.node !== NONE;
  }

  entry(): Entry {
    assert(this.node !== NONE, 'entry() on an iterator that is not valid');
    if (this.currentNode !== this.node) {
      this.current = this.table.entryAt(this.node);
      this.currentNode = this.node;
    }
    return this.current!;
  }

  next(): void {
    assert(this.node !== NONE, 'next() on an iterator that is not valid');
    this.node = this.table.nextNode(this.node);
  }
}
