// A cursor over one sorted level (>= 1): its tables have disjoint key ranges
// in key order, so the level reads as their concatenation. A table is opened
// only when the cursor reaches it, so a short scan touches few files.

import { assert } from '../../io/assert.ts';
import { compareKeys, type Entry } from './entry.ts';
import type { EntryIterator } from './entry_iterator.ts';
import type { TableMeta } from './version_edit.ts';

export class LevelIterator implements EntryIterator {
  private index: number;
  private current: EntryIterator | null = null;

  constructor(
    private readonly tables: readonly TableMeta[],
    private readonly openTable: (table: TableMeta) => EntryIterator,
  ) {
    this.index = tables.length;
  }

  seekToFirst(): void {
    this.load(0);
    this.current?.seekToFirst();
    this.skipExhausted();
  }

  seek(key: Uint8Array): void {
    // First table whose largest key is >= key.
    let lo = 0;
    let hi = this.tables.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.tables[mid]!.largestKey, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.load(lo);
    this.current?.seek(key);
    this.skipExhausted();
  }

  valid(): boolean {
    return this.current !== null && this.current.valid();
  }

  entry(): Entry {
    assert(this.valid(), 'level iterator: entry() while not valid');
    return this.current!.entry();
  }

  next(): void {
    assert(this.valid(), 'level iterator: next() while not valid');
    this.current!.next();
    this.skipExhausted();
  }

  private load(index: number): void {
    this.index = index;
    this.current = index < this.tables.length ? this.openTable(this.tables[index]!) : null;
  }

  private skipExhausted(): void {
    while (this.current !== null && !this.current.valid()) {
      this.load(this.index + 1);
      this.current?.seekToFirst();
    }
  }
}
