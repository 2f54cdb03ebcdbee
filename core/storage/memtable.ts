// The memtable: recent writes in a skip list ordered by compareEntries (key
// ascending, seq descending), so the first node at or after (key, maxSeq) is
// the newest visible version of key.
//
// Layout: nodes are indices into flat arrays rather than objects, so a search
// follows Int32Array links and allocates nothing. Node i's forward link at
// level l is links[linkBase(i) + l]. Node 0 is the head (all MAX_HEIGHT
// levels); 0 as a link target means "none", since nothing links to the head.
//
// What a search step reads of a node sits in one 32-byte record of `nodes`
// (NODE_WORDS u32s: the key's first 16 bytes, zero-padded and big-endian, as
// four words, then linkBase, keyStart, keyLength, valueStart), so a step
// costs one cache miss there rather than one per field array; nodes are
// visited in key order, which is random in memory. The key itself is copied
// into one byte arena, seq and time into `stamps`. Keys whose padded prefixes differ compare as their
// prefixes do (a key that ends early pads with 0, below any byte the other key
// has there), so most steps of a search read a few numbers; the rest compare
// arena bytes from the 17th on. 16 bytes because keys often share a long
// prefix (a keyspace or table name, zero-padded numbers), which 8 bytes rarely
// get past.
//
// Nothing per entry is an object: values are copied into a second arena
// (valueStart/valueLength), kinds into a typed array, so a full
// memtable is a handful of large buffers for the garbage collector instead
// of several objects per write that survive until the flush. get() and the
// iterator hand out Entry objects whose key and value are views into the
// arenas (an arena that grows is copied, never changed, so views stay valid).
//
// A point read that misses the memtable (most reads, once the data set is
// larger than one memtable) would still walk the whole skip list, so a small
// in-memory filter of key hashes (bloomHash, the one table filters use, so a
// read hashes its key once) answers "certainly absent" first. It has 16 to
// 32 bits per entry (refilled from each node's stored key hash whenever the
// node arrays double) and 3 probes: under 1% false positives.
//
// Heights are drawn from the injected Rng (P(height > h) = 1/4^h, as in
// LevelDB), so one seed builds one structure. Nodes are never removed: a
// memtable only grows, then is frozen, flushed and dropped whole.

import { AssertionError, assert } from '../../io/assert.ts';
import type { Rng } from '../../io/rng.ts';
import { bloomHash, probeDelta } from './bloom_filter.ts';
import { checkEntry, EntryKind, MAX_SEQ, prefixWord, type Entry } from './entry.ts';
import type { EntryIterator } from './entry_iterator.ts';

const MAX_HEIGHT = 12;
const BRANCHING = 4;
const HEAD = 0;
const NONE = 0;
// A node opens a memtable per engine at start and after every flush, and a
// simulated cluster restarts nodes often: start small (a few hundred bytes)
// and double on demand, which costs O(1) amortised per entry.
const INITIAL_NODES = 16;
/** Key bytes held as u32 words at the start of each node record. */
const PREFIX_BYTES = 16;
/** u32 words per node record: 4 prefix words, then the fields at the offsets below. */
const NODE_WORDS = 8;
const LINK_BASE = 4;
const KEY_START = 5;
const KEY_LENGTH = 6;
const VALUE_START = 7;
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
  /** Nodes the per-node arrays have room for (a power of two). */
  private capacity = 0;
  // The per-node arrays and the key filter are views of one buffer
  // (nodeArraysFor): a memtable is made at every open and flush, and
  // grows by doubling, so one allocation per size rather than six.
  /** Node records (see the layout above). */
  private nodes!: Uint32Array;
  /** Per node: seq at 2i, entry time at 2i + 1. */
  private stamps!: Float64Array;
  private kinds!: Uint8Array;
  private valueLength!: Int32Array;
  /** Per node: bloomHash of its key, so the filter is refilled without hashing again. */
  private keyHashes!: Int32Array;
  /** Key filter: bit i is word i >>> 5, bit i & 31; FILTER_BITS_PER_NODE bits per node of capacity. */
  private filter!: Int32Array;
  private filterMask = 0;
  // The head alone holds MAX_HEIGHT links.
  private links = new Int32Array(Math.max(INITIAL_NODES * 2, 2 * MAX_HEIGHT));
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
  private isFrozen = false;

  constructor(private readonly rng: Rng) {
    this.setCapacity(INITIAL_NODES);
    // The head: no entry, every level (links 0..MAX_HEIGHT-1), links all NONE.
    this.nodes[HEAD * NODE_WORDS + LINK_BASE] = 0;
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
    if (!(seq >= 1 && seq <= MAX_SEQ && Number.isInteger(seq))) throw new AssertionError(`entry seq out of range: ${seq}`);
    if (!(kind === EntryKind.Put || (kind === EntryKind.Delete && value.length === 0))) throw new AssertionError(`entry kind ${kind} with a ${value.length}-byte value`);
    if (!(Number.isInteger(timeMs) && timeMs >= 0)) throw new AssertionError(`entry timeMs invalid: ${timeMs}`);
    const found = this.findGreaterOrEqual(key, seq, true);
    if (!(found === NONE || this.stamps[2 * found] !== seq || !this.keyEquals(found, key))) throw new AssertionError(`memtable already holds seq ${seq} of this key`);
    const h = this.randomHeight();
    if (h > this.height) {
      for (let l = this.height; l < h; l++) this.prev[l] = HEAD;
      this.height = h;
    }
    const node = this.nodeCount;
    this.reserve(node + 1, this.linkCount + h, this.arenaUsed + key.length, this.valuesUsed + value.length);
    this.nodeCount++;
    const nodes = this.nodes;
    const r = node * NODE_WORDS;
    copyBytes(this.arena, this.arenaUsed, key);
    nodes[r + KEY_START] = this.arenaUsed;
    nodes[r + KEY_LENGTH] = key.length;
    this.arenaUsed += key.length;
    copyBytes(this.values, this.valuesUsed, value);
    nodes[r + VALUE_START] = this.valuesUsed;
    this.valueLength[node] = value.length;
    this.valuesUsed += value.length;
    const hash = bloomHash(key);
    this.keyHashes[node] = hash;
    this.addToFilter(hash);
    nodes[r] = prefixWord(key, 0);
    nodes[r + 1] = prefixWord(key, 4);
    nodes[r + 2] = prefixWord(key, 8);
    nodes[r + 3] = prefixWord(key, 12);
    this.stamps[2 * node] = seq;
    this.stamps[2 * node + 1] = timeMs;
    this.kinds[node] = kind;
    const base = this.linkCount;
    nodes[r + LINK_BASE] = base;
    this.linkCount += h;
    for (let l = 0; l < h; l++) {
      const p = nodes[this.prev[l]! * NODE_WORDS + LINK_BASE]! + l;
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

  /**
   * Moves the per-node arrays into a buffer for `capacity` nodes (a power of
   * two, at least twice the last), and refills the key filter, sized to it,
   * from the stored key hashes. Layout of the buffer, in bytes per node of
   * capacity, each section aligned for its type: stamps 16, nodes 32,
   * valueLength 4, keyHashes 4, filter FILTER_BITS_PER_NODE / 8, kinds 1.
   */
  private setCapacity(capacity: number): void {
    assert(capacity >= INITIAL_NODES && (capacity & (capacity - 1)) === 0 && capacity > this.capacity, `memtable capacity ${capacity}`);
    const c = capacity;
    const filterBytes = (c * FILTER_BITS_PER_NODE) >>> 3;
    const buf = new ArrayBuffer(c * 56 + filterBytes + c);
    const stamps = new Float64Array(buf, 0, 2 * c);
    const nodes = new Uint32Array(buf, 16 * c, NODE_WORDS * c);
    const valueLength = new Int32Array(buf, 48 * c, c);
    const keyHashes = new Int32Array(buf, 52 * c, c);
    const filter = new Int32Array(buf, 56 * c, filterBytes >>> 2);
    const kinds = new Uint8Array(buf, 56 * c + filterBytes, c);
    if (this.capacity > 0) {
      const n = this.nodeCount;
      stamps.set(this.stamps.subarray(0, 2 * n));
      nodes.set(this.nodes.subarray(0, NODE_WORDS * n));
      valueLength.set(this.valueLength.subarray(0, n));
      keyHashes.set(this.keyHashes.subarray(0, n));
      kinds.set(this.kinds.subarray(0, n));
    }
    this.capacity = c;
    this.stamps = stamps;
    this.nodes = nodes;
    this.valueLength = valueLength;
    this.keyHashes = keyHashes;
    this.kinds = kinds;
    this.filter = filter;
    this.filterMask = c * FILTER_BITS_PER_NODE - 1;
    for (let node = 1; node < this.nodeCount; node++) this.addToFilter(keyHashes[node]!);
  }

  /** @internal The first node at or after (key, seq) in internal order, or NONE. */
  findGreaterOrEqual(key: Uint8Array, seq: number, recordPrev: boolean): number {
    const { links, nodes } = this;
    const w0 = prefixWord(key, 0);
    const w1 = prefixWord(key, 4);
    const w2 = prefixWord(key, 8);
    const w3 = prefixWord(key, 12);
    let x = HEAD;
    let level = this.height - 1;
    for (;;) {
      const next = links[nodes[x * NODE_WORDS + LINK_BASE]! + level]!;
      if (next !== NONE) {
        let before: boolean;
        const r = next * NODE_WORDS;
        const n0 = nodes[r]!;
        if (n0 !== w0) before = n0 < w0;
        else {
          const n1 = nodes[r + 1]!;
          if (n1 !== w1) before = n1 < w1;
          else {
            const n2 = nodes[r + 2]!;
            if (n2 !== w2) before = n2 < w2;
            else {
              const n3 = nodes[r + 3]!;
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
    return this.links[this.nodes[node * NODE_WORDS + LINK_BASE]!]!;
  }

  /** @internal A new Entry for node, its key and value views into the arenas. */
  entryAt(node: number): Entry {
    assert(node !== NONE && node < this.nodeCount, 'no entry at the head');
    const r = node * NODE_WORDS;
    const k = this.nodes[r + KEY_START]!;
    const v = this.nodes[r + VALUE_START]!;
    return {
      key: this.arena.subarray(k, k + this.nodes[r + KEY_LENGTH]!),
      seq: this.stamps[2 * node]!,
      kind: this.kinds[node]! as EntryKind,
      value: this.values.subarray(v, v + this.valueLength[node]!),
      timeMs: this.stamps[2 * node + 1]!,
    };
  }

  private keyEquals(node: number, key: Uint8Array): boolean {
    const length = this.nodes[node * NODE_WORDS + KEY_LENGTH]!;
    if (length !== key.length) return false;
    const arena = this.arena;
    const start = this.nodes[node * NODE_WORDS + KEY_START]!;
    for (let i = 0; i < length; i++) if (arena[start + i] !== key[i]) return false;
    return true;
  }

  /** Whether `node` sorts strictly before (key, seq), given their padded 16-byte prefixes are equal. */
  private nodeBefore(node: number, key: Uint8Array, seq: number): boolean {
    const arena = this.arena;
    const start = this.nodes[node * NODE_WORDS + KEY_START]!;
    const length = this.nodes[node * NODE_WORDS + KEY_LENGTH]!;
    const n = length < key.length ? length : key.length;
    // Equal padded prefixes mean the first min(PREFIX_BYTES, n) bytes are equal.
    for (let i = n < PREFIX_BYTES ? n : PREFIX_BYTES; i < n; i++) {
      const d = arena[start + i]! - key[i]!;
      if (d !== 0) return d < 0;
    }
    if (length !== key.length) return length < key.length;
    return this.stamps[2 * node]! > seq;
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
    if (nodes > this.capacity) this.setCapacity(this.capacity * 2);
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
