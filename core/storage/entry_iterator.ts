// The cursor every sorted source in the engine exposes (memtable, SSTable,
// merged view), in internal order: key ascending, then seq descending.

import type { Entry } from './entry.ts';

export interface EntryIterator {
  /** Positions at the first entry. */
  seekToFirst(): void;
  /** Positions at the first entry whose key is >= `key` (its newest version first). */
  seek(key: Uint8Array): void;
  valid(): boolean;
  /** The current entry; only while valid(). Callers must not mutate it. */
  entry(): Entry;
  next(): void;
}
