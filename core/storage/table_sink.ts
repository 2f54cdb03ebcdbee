// Where a flush or compaction writes its output: one table, or a sequence of
// tables cut at about targetFileBytes. A cut falls only between two keys,
// never between versions of one key, so the tables of a sorted level keep
// disjoint key ranges. finish() syncs every output and then the directory,
// so the tables it reports survive any crash before the manifest names them.
//
// With a block budget, data blocks written are also kept parsed (from the
// bytes in memory, as a read would find them), up to that many bytes, for the
// caller to put in the block cache once the tables are installed: reads of a
// compaction's output then hit instead of paying a miss per block, and the
// blocks do not push the inputs' hot blocks out while the compaction runs.

import { AssertionError, assert } from '../../io/assert.ts';
import type { Disk, File } from '../../io/disk.ts';
import { Block } from './block_reader.ts';
import type { BlockCache } from './block_cache.ts';
import type { Entry } from './entry.ts';
import { tableFileName } from './manifest.ts';
import { SstableWriter, type SstableWriterOptions } from './sstable_writer.ts';
import type { TableMeta } from './version_edit.ts';

/** Output blocks one flush or compaction keeps for the cache: a quarter of it, so one job cannot push out all the rest. */
export function outputBlockBudget(cache: BlockCache): number {
  return Math.floor(cache.capacityBytes / 4);
}

export class TableSink {
  private current: { writer: SstableWriter; number: number } | null = null;
  private readonly done: TableMeta[] = [];
  /** Output files still open. */
  private openFiles: File[] = [];
  /** Every file number this sink has created (for the obsolete-file sweep to spare, and abandon() to remove). */
  readonly fileNumbers: number[] = [];
  private finishedBytes = 0;
  private state: 'open' | 'finishing' | 'done' | 'abandoned' = 'open';
  /** Parsed data blocks written so far, within the block budget. */
  blocks: Array<{ fileNumber: number; offset: number; block: Block }> = [];
  private blockBytes = 0;

  constructor(
    private readonly disk: Disk,
    private readonly newFileNumber: () => number,
    private readonly writerOptions: Partial<SstableWriterOptions>,
    private readonly targetFileBytes: number,
    /** Bytes of written data blocks to keep in `blocks` (0: none). */
    private readonly blockBudgetBytes = 0,
  ) {
    assert(targetFileBytes > 0, 'target file size must be positive');
  }

  /** Entries in strictly increasing internal order. Throws what the disk throws (DiskFullError). */
  add(entry: Entry): void {
    if (!(this.state === 'open')) throw new AssertionError(`add() on a ${this.state} table sink`);
    // The writer holds the last key: a table is cut only before a new key, so after a cut the entry that caused it is the new table's first.
    const newKey = this.current === null || !this.current.writer.lastKeyEquals(entry.key);
    if (newKey && this.current !== null && this.current.writer.bytesWritten() >= this.targetFileBytes) this.cut();
    if (this.current === null) {
      const number = this.newFileNumber();
      this.fileNumbers.push(number);
      const file = this.disk.create(tableFileName(number));
      this.openFiles.push(file);
      const options: Partial<SstableWriterOptions> =
        this.blockBudgetBytes === 0 ? this.writerOptions : { ...this.writerOptions, onDataBlock: (offset, raw) => this.keepBlock(number, offset, raw) };
      this.current = { writer: new SstableWriter(file, options), number };
    }
    this.current.writer.add(entry);
  }

  /** Bytes appended to output files so far. */
  bytesWritten(): number {
    return this.finishedBytes + (this.current?.writer.bytesWritten() ?? 0);
  }

  /** Finishes the last table, syncs every output and the directory, then reports the tables (none if nothing was added). */
  finish(cb: (err: Error | null, tables?: TableMeta[]) => void): void {
    assert(this.state === 'open', `finish() on a ${this.state} table sink`);
    try {
      if (this.current !== null) this.cut();
    } catch (err) {
      return cb(err as Error);
    }
    this.state = 'finishing';
    const files = this.openFiles.slice();
    let i = 0;
    const next = (err: Error | null): void => {
      if (this.state === 'abandoned') return;
      if (err !== null) return cb(err);
      if (i < files.length) {
        files[i++]!.sync(next);
        return;
      }
      this.closeFiles();
      const finishDir = (dirErr: Error | null): void => {
        if (this.state === 'abandoned') return;
        if (dirErr !== null) return cb(dirErr);
        this.state = 'done';
        cb(null, this.done.slice());
      };
      if (files.length === 0) finishDir(null);
      else this.disk.syncDir(finishDir);
    };
    next(null);
  }

  /** Gives up: closes and removes every output (a failed or cancelled job). */
  abandon(): void {
    if (this.state === 'done' || this.state === 'abandoned') return;
    this.state = 'abandoned';
    this.current = null;
    this.closeFiles();
    this.blocks = [];
    for (const n of this.fileNumbers) {
      const name = tableFileName(n);
      if (this.disk.exists(name)) this.disk.remove(name);
    }
  }

  /** Puts the kept blocks in `cache`: call once the tables are installed. */
  warm(cache: BlockCache): void {
    for (const b of this.blocks) cache.insert(b.fileNumber, b.offset, b.block);
  }

  private keepBlock(fileNumber: number, offset: number, raw: Uint8Array): void {
    if (this.blockBytes + raw.length > this.blockBudgetBytes) return;
    this.blockBytes += raw.length;
    this.blocks.push({ fileNumber, offset, block: Block.parse(raw.slice()) });
  }

  private closeFiles(): void {
    const files = this.openFiles;
    this.openFiles = [];
    for (const f of files) f.close();
  }

  private cut(): void {
    const { writer, number } = this.current!;
    const info = writer.finish();
    this.current = null;
    this.finishedBytes += info.fileBytes;
    this.done.push({
      fileNumber: number,
      fileBytes: info.fileBytes,
      entryCount: info.entryCount,
      tombstoneCount: info.tombstoneCount,
      smallestKey: info.smallestKey,
      largestKey: info.largestKey,
      smallestSeq: info.smallestSeq,
      largestSeq: info.largestSeq,
    });
  }
}
