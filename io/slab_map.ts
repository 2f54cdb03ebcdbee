// A Map for entries that come and go many times a second (requests in
// flight, pending timers): the values sit in a slab array whose free slots
// are reused, and the hash table holds only slab indices (small integers).
//
// Why not a Map of the values: once a Map's hash table has been promoted to
// V8's old generation, each rehash allocates its replacement in the old
// generation too, and the replaced table keeps its entries. Under churn a
// Map rehashes every few dozen inserts, so whatever was in it at each rehash
// stays referenced from a dead old-generation table until the next full GC,
// and every young-generation collection copies (then promotes) those values
// and everything they reach. For a node's request deadlines that was 1.3 MB
// copied per scavenge at 1,000 requests/s, scavenge pauses of 5-7 ms instead
// of 1 ms. Integers in a dead table reach nothing; the slab is one array
// that only grows, and a freed slot is cleared at once.

import { assert } from './assert.ts';

export class SlabMap<K, V> {
  private readonly index = new Map<K, number>();
  private readonly slab: Array<V | undefined> = [];
  private readonly free: number[] = [];

  get size(): number {
    return this.index.size;
  }

  get(key: K): V | undefined {
    const at = this.index.get(key);
    return at === undefined ? undefined : this.slab[at];
  }

  has(key: K): boolean {
    return this.index.has(key);
  }

  set(key: K, value: V): void {
    const at = this.index.get(key);
    if (at !== undefined) {
      this.slab[at] = value;
      return;
    }
    const slot = this.free.length > 0 ? this.free.pop()! : this.slab.length;
    this.slab[slot] = value;
    this.index.set(key, slot);
  }

  delete(key: K): boolean {
    const at = this.index.get(key);
    if (at === undefined) return false;
    this.index.delete(key);
    this.slab[at] = undefined;
    this.free.push(at);
    return true;
  }

  /** Removes the entry and returns its value (undefined when absent). */
  take(key: K): V | undefined {
    const at = this.index.get(key);
    if (at === undefined) return undefined;
    const value = this.slab[at];
    this.index.delete(key);
    this.slab[at] = undefined;
    this.free.push(at);
    return value;
  }

  clear(): void {
    this.index.clear();
    this.slab.length = 0;
    this.free.length = 0;
  }

  /** Keys in insertion order, as a Map gives them. */
  keys(): IterableIterator<K> {
    return this.index.keys();
  }

  /** Values in insertion order of their keys. */
  *values(): IterableIterator<V> {
    for (const at of this.index.values()) yield this.valueAt(at);
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [key, at] of this.index) yield [key, this.valueAt(at)];
  }

  private valueAt(at: number): V {
    assert(at < this.slab.length, 'slab index out of range');
    return this.slab[at] as V;
  }
}
