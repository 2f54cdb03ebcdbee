// An estimate of the table bytes that hold distinct live data, for space
// amplification: tables are taken from the oldest data up (deepest level
// first; level 0 oldest first), and each counts only if its key range
// overlaps no table counted before it, less its share of tombstones. Newer
// tables over the same range are taken to rewrite it (RocksDB's estimate):
// high when a range is full of dead overwrites, low when fresh overlapping
// tables add new keys.

import { tableOverlaps, type Version } from './version.ts';
import { NUM_LEVELS, type TableMeta } from './version_edit.ts';

export function estimateLiveBytes(version: Version): number {
  const counted: TableMeta[] = [];
  let total = 0;
  const consider = (t: TableMeta): void => {
    for (const c of counted) if (tableOverlaps(c, t.smallestKey, t.largestKey)) return;
    counted.push(t);
    total += t.fileBytes * (1 - t.tombstoneCount / t.entryCount);
  };
  for (let level = NUM_LEVELS - 1; level >= 1; level--) for (const t of version.levels[level]!) consider(t);
  const l0 = version.levels[0]!;
  for (let i = l0.length - 1; i >= 0; i--) consider(l0[i]!);
  return Math.round(total);
}
