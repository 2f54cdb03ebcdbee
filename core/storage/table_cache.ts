// Open SSTable readers by file number, opened on first use and closed when
// their table becomes obsolete. Reader statistics are summed over every
// reader the cache has had, closed ones included.

import type { Disk } from '../../io/disk.ts';
import type { BlockCache } from './block_cache.ts';
import { CorruptionError } from './errors.ts';
import { tableFileName } from './manifest.ts';
import { SstableReader, type SstableReadStats } from './sstable_reader.ts';
import type { TableMeta } from './version_edit.ts';

export class TableCache {
  private readonly readers = new Map<number, SstableReader>();
  private readonly retired: SstableReadStats = { bloomChecks: 0, bloomNegatives: 0, bloomFalsePositives: 0, blocksRead: 0, cacheHits: 0 };

  constructor(
    private readonly disk: Disk,
    readonly blockCache: BlockCache,
  ) {}

  /** The table's reader; throws CorruptionError (naming the file) when it cannot be opened or does not match its metadata. */
  get(table: TableMeta): SstableReader {
    const cached = this.readers.get(table.fileNumber);
    if (cached !== undefined) return cached;
    const name = tableFileName(table.fileNumber);
    if (!this.disk.exists(name)) throw new CorruptionError('table file missing', name);
    const file = this.disk.open(name);
    let reader: SstableReader;
    try {
      if (file.size() !== table.fileBytes) throw new CorruptionError(`size ${file.size()} B, manifest says ${table.fileBytes} B`, name);
      reader = SstableReader.open(file, { cache: this.blockCache, fileId: table.fileNumber });
    } catch (err) {
      file.close();
      throw err;
    }
    const info = reader.info;
    if (info.entryCount !== table.entryCount || info.smallestSeq !== table.smallestSeq || info.largestSeq !== table.largestSeq) {
      reader.close();
      throw new CorruptionError('properties disagree with the manifest', name);
    }
    this.readers.set(table.fileNumber, reader);
    return reader;
  }

  /** Closes the reader of a table that is going away, and drops its cached blocks. */
  evict(fileNumber: number): void {
    const reader = this.readers.get(fileNumber);
    if (reader === undefined) return;
    this.readers.delete(fileNumber);
    addStats(this.retired, reader.stats);
    reader.close();
    this.blockCache.evictFile(fileNumber);
  }

  stats(): SstableReadStats {
    const total = { ...this.retired };
    for (const r of this.readers.values()) addStats(total, r.stats);
    return total;
  }

  close(): void {
    for (const n of [...this.readers.keys()]) this.evict(n);
  }
}

function addStats(into: SstableReadStats, from: SstableReadStats): void {
  into.bloomChecks += from.bloomChecks;
  into.bloomNegatives += from.bloomNegatives;
  into.bloomFalsePositives += from.bloomFalsePositives;
  into.blocksRead += from.blocksRead;
  into.cacheHits += from.cacheHits;
}
