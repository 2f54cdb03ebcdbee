// The engine's read paths over one consistent view: the memtables (newest
// first) and a version's tables. A point read stops at the first source
// holding a version of the key at or below the snapshot: memtables, then
// level-0 tables newest first, then one table per sorted level (each level
// holds only versions older than those above it, version.ts).

import { bloomHash } from './bloom_filter.ts';
import type { Entry } from './entry.ts';
import type { EntryIterator } from './entry_iterator.ts';
import { LevelIterator } from './level_iterator.ts';
import type { Memtable } from './memtable.ts';
import { MergingIterator } from './merging_iterator.ts';
import type { TableCache } from './table_cache.ts';
import { tableContainsKey, type Version } from './version.ts';
import { NUM_LEVELS, type TableMeta } from './version_edit.ts';

export interface ReadView {
  /** Newest first: the active memtable, then the one being flushed. */
  memtables: readonly Memtable[];
  version: Version;
  tableCache: TableCache;
}

/** The newest version of `key` with seq <= `seq`, tombstones included. Throws CorruptionError for a bad block it needs. */
export function findNewest(view: ReadView, key: Uint8Array, seq: number): Entry | undefined {
  // Hashed once for every filter on the way: the memtables' and each table's.
  const hash = bloomHash(key);
  for (const m of view.memtables) {
    const e = m.get(key, seq, hash);
    if (e !== undefined) return e;
  }
  const { version, tableCache } = view;
  for (const t of version.levels[0]!) {
    if (!tableContainsKey(t, key)) continue;
    const e = tableCache.get(t).get(key, seq, hash);
    if (e !== undefined) return e;
  }
  for (let level = 1; level < NUM_LEVELS; level++) {
    const t = version.tableForKey(level, key);
    if (t === undefined) continue;
    const e = tableCache.get(t).get(key, seq, hash);
    if (e !== undefined) return e;
  }
  return undefined;
}

/** Every entry of the view, merged into internal order; tables are opened only when the cursor reaches them. */
export function mergedView(view: ReadView, fillCache = true): EntryIterator {
  const open = (t: TableMeta): EntryIterator => view.tableCache.get(t).iterator({ fillCache });
  const sources: EntryIterator[] = view.memtables.map((m) => m.iterator());
  for (const t of view.version.levels[0]!) sources.push(new LevelIterator([t], open));
  for (let level = 1; level < NUM_LEVELS; level++) {
    const tables = view.version.levels[level]!;
    if (tables.length > 0) sources.push(new LevelIterator(tables, open));
  }
  return new MergingIterator(sources);
}
