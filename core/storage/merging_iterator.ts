// A k-way merge of sorted entry sources (memtables, tables, levels) into one
// cursor in internal order (key ascending, seq descending), with a binary
// min-heap of the children positioned at their current entries.
//
// When two children hold the same (key, seq) — which the engine never
// produces, but a merge must still be total — the child given first wins and
// both are yielded, first-given first.

import { assert } from '../../io/assert.ts';
import { compareEntries, type Entry } from './entry.ts';
import type { EntryIterator } from './entry_iterator.ts';

export class MergingIterator implements EntryIterator {
  /** Indices into `children` of the valid ones, as a min-heap. */
  private heap: number[] = [];

  constructor(private readonly children: readonly EntryIterator[]) {}

  seekToFirst(): void {
    for (const c of this.children) c.seekToFirst();
    this.rebuild();
  }

  seek(key: Uint8Array): void {
    for (const c of this.children) c.seek(key);
    this.rebuild();
  }

  valid(): boolean {
    return this.heap.length > 0;
  }

  entry(): Entry {
    assert(this.heap.length > 0, 'merging iterator: entry() while not valid');
    return this.children[this.heap[0]!]!.entry();
  }

  next(): void {
    assert(this.heap.length > 0, 'merging iterator: next() while not valid');
    const child = this.children[this.heap[0]!]!;
    child.next();
    if (!child.valid()) {
      const last = this.heap.pop()!;
      if (this.heap.length === 0) return;
      this.heap[0] = last;
    }
    this.siftDown(0);
  }

  private rebuild(): void {
    this.heap = [];
    this.children.forEach((c, i) => {
      if (c.valid()) this.heap.push(i);
    });
    for (let i = (this.heap.length >>> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private less(a: number, b: number): boolean {
    const c = compareEntries(this.children[a]!.entry(), this.children[b]!.entry());
    return c < 0 || (c === 0 && a < b);
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const smallest = r < n && this.less(heap[r]!, heap[l]!) ? r : l;
      if (!this.less(heap[smallest]!, heap[i]!)) return;
      const t = heap[i]!;
      heap[i] = heap[smallest]!;
      heap[smallest] = t;
      i = smallest;
    }
  }
}

/** A sorted array of entries as a cursor (tests, and small in-memory sources). */
export class ArrayIterator implements EntryIterator {
  private i: number;

  constructor(private readonly entries: readonly Entry[]) {
    for (let k = 1; k < entries.length; k++) {
      assert(compareEntries(entries[k - 1]!, entries[k]!) < 0, 'array iterator: entries out of order');
    }
    this.i = entries.length;
  }

  seekToFirst(): void {
    this.i = 0;
  }

  seek(key: Uint8Array): void {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareEntries(this.entries[mid]!, { key, seq: Number.MAX_SAFE_INTEGER }) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.i = lo;
  }

  valid(): boolean {
    return this.i < this.entries.length;
  }

  entry(): Entry {
    assert(this.valid(), 'array iterator: entry() while not valid');
    return this.entries[this.i]!;
  }

  next(): void {
    assert(this.valid(), 'array iterator: next() while not valid');
    this.i++;
  }
}
