// A version: an immutable snapshot of which tables are live, per level.
//
// Level 0 holds tables in newest-first order whose sequence ranges are
// disjoint (each is a flushed memtable, or in tiered compaction the merge of
// consecutive ones), so the first level-0 table holding a key holds its newest
// version. Levels >= 1 hold tables sorted by key with disjoint key ranges, and
// any version of a key in level n is newer than every version in level n+1.
// Readers and compactions hold a reference to the version they started with,
// so its files stay on disk until they let go (version_set.ts).

import { assert } from '../../io/assert.ts';
import { compareKeys } from './entry.ts';
import { NUM_LEVELS, type TableMeta } from './version_edit.ts';

export class Version {
  /** Reference count, maintained by VersionSet. */
  refs = 0;
  readonly levels: ReadonlyArray<readonly TableMeta[]>;

  constructor(levels: TableMeta[][]) {
    assert(levels.length === NUM_LEVELS, `a version has ${NUM_LEVELS} levels`);
    const l0 = levels[0]!;
    for (let i = 1; i < l0.length; i++) {
      assert(
        l0[i - 1]!.smallestSeq > l0[i]!.largestSeq,
        `level 0: table ${l0[i - 1]!.fileNumber} and table ${l0[i]!.fileNumber} out of seq order or overlapping`,
      );
    }
    for (let level = 1; level < NUM_LEVELS; level++) {
      const tables = levels[level]!;
      for (let i = 1; i < tables.length; i++) {
        assert(
          compareKeys(tables[i - 1]!.largestKey, tables[i]!.smallestKey) < 0,
          `level ${level}: table ${tables[i - 1]!.fileNumber} overlaps table ${tables[i]!.fileNumber}`,
        );
      }
    }
    this.levels = levels;
  }

  static empty(): Version {
    // A loop, not Array.from({ length }): every engine open makes one, and the generic array-like path is slow.
    const levels: TableMeta[][] = [];
    for (let level = 0; level < NUM_LEVELS; level++) levels.push([]);
    return new Version(levels);
  }

  levelBytes(level: number): number {
    let total = 0;
    for (const t of this.levels[level]!) total += t.fileBytes;
    return total;
  }

  totalBytes(): number {
    let total = 0;
    for (let level = 0; level < NUM_LEVELS; level++) total += this.levelBytes(level);
    return total;
  }

  tableCount(): number {
    let n = 0;
    for (const tables of this.levels) n += tables.length;
    return n;
  }

  *allTables(): Iterable<{ level: number; table: TableMeta }> {
    for (let level = 0; level < NUM_LEVELS; level++) {
      for (const table of this.levels[level]!) yield { level, table };
    }
  }

  /** Tables of `level` whose key range intersects [smallest, largest]. */
  overlapping(level: number, smallest: Uint8Array, largest: Uint8Array): TableMeta[] {
    return this.levels[level]!.filter((t) => tableOverlaps(t, smallest, largest));
  }

  /** In a sorted level (>= 1), the one table whose range may contain `key`. */
  tableForKey(level: number, key: Uint8Array): TableMeta | undefined {
    assert(level >= 1, 'level 0 tables overlap; scan them all');
    const tables = this.levels[level]!;
    // First table whose largest key is >= key.
    let lo = 0;
    let hi = tables.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(tables[mid]!.largestKey, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    const t = tables[lo];
    return t !== undefined && compareKeys(t.smallestKey, key) <= 0 ? t : undefined;
  }
}

export function tableOverlaps(t: TableMeta, smallest: Uint8Array, largest: Uint8Array): boolean {
  return compareKeys(t.largestKey, smallest) >= 0 && compareKeys(t.smallestKey, largest) <= 0;
}

export function tableContainsKey(t: TableMeta, key: Uint8Array): boolean {
  return compareKeys(t.smallestKey, key) <= 0 && compareKeys(key, t.largestKey) <= 0;
}

/** The smallest and largest key over some tables (which must be non-empty). */
export function keyRange(tables: readonly TableMeta[]): { smallest: Uint8Array; largest: Uint8Array } {
  assert(tables.length > 0, 'key range of no tables');
  let smallest = tables[0]!.smallestKey;
  let largest = tables[0]!.largestKey;
  for (const t of tables) {
    if (compareKeys(t.smallestKey, smallest) < 0) smallest = t.smallestKey;
    if (compareKeys(t.largestKey, largest) > 0) largest = t.largestKey;
  }
  return { smallest, largest };
}
