// The memtable: recent writes in a skip list ordered by compareEntries (key
// ascending, seq descending), so the first node at or after (key, maxSeq) is
// the newest visible version of key.
//
// Layout: nodes are indices into flat arrays rather than objects, so a search
// follows Int32Array links and allocates nothing. Node i's entry is
// entries[i]; its forward link at level l is links[linkBase[i] + l]; it has
// heights[i] levels. Node 0 is the head (all MAX_HEIGHT levels); index 0 as a
// link target means "none", since nothing links to the head.
//
// Heights are drawn from the injected Rng (P(height > h) = 1/4^h, as in
// LevelDB), so one seed builds one structure. Nodes are never removed: a
// memtable only grows, then is frozen, flushed and dropped whole.

import { assert } from '../../io/assert.ts';
import type { Rng } from '../../io/rng.ts';
import { checkEntry, compareKeys, MAX_SEQ, type Entry } from './entry.ts';
import type { EntryIterator } from './entry_iterator.ts';

const MAX_HEIGHT = 12;
const BRANCHING = 4;
const HEAD = 0;
const NONE = 0;
/**
 * Bytes charged per entry beyond its key and value: the Entry object, its slot
 * in `entries`, height and link base; links are charged 4 bytes per level.
 */
const ENTRY_OVERHEAD_BYTES = 64;

export class Memtable {
  private entries: Entry[] = [];
  private heights = new Uint8Array(1024);
  private linkBase = new Int32Array(1024);
  private links = new Int32Array(4096);
  private linkCount = MAX_HEIGHT;
  /** Levels in use: the tallest node's height. */
  private height = 1;
  private bytes = 0;
  private minSeq = MAX_SEQ;
  private maxSeq = 0;
  /** Predecessors found by the last insertion search; reused so add() allocates no array. */
  private readonly prev = new Int32Array(MAX_HEIGHT);
  private isFrozen = false;

  constructor(private readonly rng: Rng) {
    // The head: no entry, every level, links all NONE.
    this.entries.push(undefined as unknown as Entry);
    this.heights[HEAD] = MAX_HEIGHT;
    this.linkBase[HEAD] = 0;
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  /**
   * Inserts an entry. The memtable keeps the object itself: callers must not
   * change it afterwards. A (key, seq) pair may be added only once.
   */
  add(entry: Entry): void {
    assert(!this.isFrozen, 'add to a frozen memtable');
    checkEntry(entry);
    const found = this.findGreaterOrEqual(entry.key, entry.seq, true);
    assert(
      found === NONE || this.entries[found]!.seq !== entry.seq || compareKeys(this.entries[found]!.key, entry.key) !== 0,
      `memtable already holds seq ${entry.seq} of this key`,
    );
    const h = this.randomHeight();
    if (h > this.height) {
      for (let l = this.height; l < h; l++) this.prev[l] = HEAD;
      this.height = h;
    }
    const node = this.entries.length;
    this.reserve(node + 1, this.linkCount + h);
    this.entries.push(entry);
    this.heights[node] = h;
    const base = this.linkCount;
    this.linkBase[node] = base;
    this.linkCount += h;
    for (let l = 0; l < h; l++) {
      const p = this.linkBase[this.prev[l]!]! + l;
      this.links[base + l] = this.links[p]!;
      this.links[p] = node;
    }
    this.bytes += entry.key.length + entry.value.length + ENTRY_OVERHEAD_BYTES + 4 * h;
    if (entry.seq < this.minSeq) this.minSeq = entry.seq;
    if (entry.seq > this.maxSeq) this.maxSeq = entry.seq;
  }

  /** Newest entry for key with seq <= maxSeq, or undefined. */
  get(key: Uint8Array, maxSeq: number = MAX_SEQ): Entry | undefined {
    const node = this.findGreaterOrEqual(key, maxSeq, false);
    if (node === NONE) return undefined;
    const entry = this.entries[node]!;
    return compareKeys(entry.key, key) === 0 ? entry : undefined;
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
    return this.entries.length - 1;
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

  /** @internal The first node at or after (key, seq) in internal order, or NONE. */
  findGreaterOrEqual(key: Uint8Array, seq: number, recordPrev: boolean): number {
    const { entries, links, linkBase } = this;
    let x = HEAD;
    let level = this.height - 1;
    for (;;) {
      const next = links[linkBase[x]! + level]!;
      if (next !== NONE && nodeBefore(entries[next]!, key, seq)) {
        x = next;
        continue;
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

  /** @internal */
  entryAt(node: number): Entry {
    assert(node !== NONE, 'no entry at the head');
    return this.entries[node]!;
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

  private reserve(nodes: number, links: number): void {
    if (nodes > this.heights.length) {
      const capacity = Math.max(nodes, this.heights.length * 2);
      const heights = new Uint8Array(capacity);
      heights.set(this.heights);
      this.heights = heights;
      const linkBase = new Int32Array(capacity);
      linkBase.set(this.linkBase);
      this.linkBase = linkBase;
    }
    if (links > this.links.length) {
      const grown = new Int32Array(Math.max(links, this.links.length * 2));
      grown.set(this.links);
      this.links = grown;
    }
  }
}

/** Whether `entry` sorts strictly before (key, seq) in internal order. */
function nodeBefore(entry: Entry, key: Uint8Array, seq: number): boolean {
  const c = compareKeys(entry.key, key);
  return c < 0 || (c === 0 && entry.seq > seq);
}

/** Starts unpositioned (not valid) until seekToFirst or seek. */
class MemtableIterator implements EntryIterator {
  private node = NONE;

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
    return this.table.entryAt(this.node);
  }

  next(): void {
    assert(this.node !== NONE, 'next() on an iterator that is not valid');
    this.node = this.table.nextNode(this.node);
  }
}
