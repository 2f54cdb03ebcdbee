// Writes one SSTable (format in sstable_format.ts) from entries given in
// strictly increasing internal order. Data blocks are appended to the file as
// they fill, so memory stays at about one block plus the filter's key hashes
// and the index. finish() writes the metadata blocks and footer; syncing the
// file is the caller's decision.

import { AssertionError, assert } from '../../io/assert.ts';
import type { File } from '../../io/disk.ts';
import { BlockBuilder, copyKey } from './block_builder.ts';
import { BloomFilterBuilder, bloomHash } from './bloom_filter.ts';
import { checkEntry, type Entry, EntryKind, MAX_SEQ } from './entry.ts';
import {
  type BlockHandle,
  encodeFooter,
  encodeHandle,
  encodeProperties,
  encodeStoredBlock,
  shortSeparator,
  TRAILER_BYTES,
} from './sstable_format.ts';
import { ByteWriter } from './varint.ts';

export interface SstableWriterOptions {
  /** Target size of a data block before compression. */
  blockBytes: number;
  /** 0 writes no filter. */
  bloomBitsPerKey: number;
  /** LZ4 data and index blocks. */
  compression: boolean;
  /** Entries between full keys in a data block. */
  restartInterval: number;
  /** Told each data block written (its offset and uncompressed contents, valid only during the call), e.g. to warm a block cache. */
  onDataBlock?: (offset: number, raw: Uint8Array) => void;
}

export const DEFAULT_SSTABLE_WRITER_OPTIONS: Readonly<SstableWriterOptions> = Object.freeze({
  blockBytes: 4096,
  bloomBitsPerKey: 10,
  compression: true,
  restartInterval: 16,
});

export interface SstableInfo {
  fileBytes: number;
  entryCount: number;
  tombstoneCount: number;
  /** Empty for a table without entries. */
  smallestKey: Uint8Array;
  largestKey: Uint8Array;
  /** 0 for a table without entries. */
  smallestSeq: number;
  largestSeq: number;
}

export class SstableWriter {
  private readonly options: SstableWriterOptions;
  private readonly dataBlock: BlockBuilder;
  private readonly indexBlock = new BlockBuilder(1);
  private readonly bloom: BloomFilterBuilder;
  private readonly handleScratch = new ByteWriter(24);
  private offset = 0;
  private entries = 0;
  private tombstones = 0;
  private dataBlocks = 0;
  private smallestKey: Uint8Array = new Uint8Array(0);
  private smallestSeq = 0;
  private largestSeq = 0;
  // Copy of the last key added (callers may reuse their buffers).
  private lastKey = new Uint8Array(64);
  private lastKeyLength = -1;
  private lastSeq = 0;
  // The block just flushed waits for the next key to pick its index separator.
  private pendingHandle: BlockHandle | undefined;
  private pendingKey: Uint8Array = new Uint8Array(0);
  private pendingSeq = 0;
  private state: 'open' | 'finished' | 'failed' = 'open';

  constructor(
    private readonly file: File,
    options?: Partial<SstableWriterOptions>,
  ) {
    this.options = { ...DEFAULT_SSTABLE_WRITER_OPTIONS, ...options };
    const o = this.options;
    assert(Number.isInteger(o.blockBytes) && o.blockBytes >= 64, `blockBytes invalid: ${o.blockBytes}`);
    assert(Number.isInteger(o.restartInterval) && o.restartInterval >= 1, `restartInterval invalid: ${o.restartInterval}`);
    assert(file.size() === 0, `table file ${file.name} is not empty`);
    this.dataBlock = new BlockBuilder(o.restartInterval);
    this.bloom = new BloomFilterBuilder(o.bloomBitsPerKey);
  }

  add(entry: Entry): void {
    if (!(this.state === 'open')) throw new AssertionError(`add() on a ${this.state} table writer`);
    checkEntry(entry);
    const key = entry.key;
    const sameKey = this.lastKeyEquals(key);
    if (this.lastKeyLength >= 0) {
      if (!(sameKey ? entry.seq < this.lastSeq : this.lastKeyBefore(key))) throw new AssertionError(`table entries out of order at seq ${entry.seq}`);
    } else {
      this.smallestKey = key.slice();
      this.smallestSeq = entry.seq;
      this.largestSeq = entry.seq;
    }
    if (this.pendingHandle !== undefined) this.addIndexEntry(key);
    if (!sameKey) this.bloom.addHash(bloomHash(key));

    this.dataBlock.add(key, entry.seq, entry.kind, entry.timeMs, entry.value);
    this.entries++;
    if (entry.kind === EntryKind.Delete) this.tombstones++;
    if (entry.seq < this.smallestSeq) this.smallestSeq = entry.seq;
    if (entry.seq > this.largestSeq) this.largestSeq = entry.seq;
    this.rememberKey(key, entry.seq);
    if (this.dataBlock.estimatedBytes() >= this.options.blockBytes) this.flushDataBlock();
  }

  bytesWritten(): number {
    return this.offset;
  }

  entryCount(): number {
    return this.entries;
  }

  finish(): SstableInfo {
    assert(this.state === 'open', `finish() on a ${this.state} table writer`);
    if (!this.dataBlock.isEmpty()) this.flushDataBlock();
    if (this.pendingHandle !== undefined) this.flushIndexEntry(this.pendingKey, this.pendingSeq);
    const filter = this.writeBlock(this.bloom.finish(), false);
    const largestKey = this.lastKeyLength >= 0 ? this.lastKey.slice(0, this.lastKeyLength) : new Uint8Array(0);
    const properties = this.writeBlock(
      encodeProperties({
        entryCount: this.entries,
        tombstoneCount: this.tombstones,
        smallestSeq: this.smallestSeq,
        largestSeq: this.largestSeq,
        dataBlockCount: this.dataBlocks,
        smallestKey: this.smallestKey,
        largestKey,
      }),
      false,
    );
    const index = this.writeBlock(this.indexBlock.finish(), this.options.compression);
    this.append(encodeFooter({ filter, properties, index }));
    this.state = 'finished';
    return {
      fileBytes: this.offset,
      entryCount: this.entries,
      tombstoneCount: this.tombstones,
      smallestKey: this.smallestKey,
      largestKey,
      smallestSeq: this.smallestSeq,
      largestSeq: this.largestSeq,
    };
  }

  private flushDataBlock(): void {
    assert(!this.dataBlock.isEmpty(), 'flushing an empty data block');
    assert(this.pendingHandle === undefined, 'index entry of the previous block still pending');
    const raw = this.dataBlock.finish();
    this.pendingHandle = this.writeBlock(raw, this.options.compression);
    this.options.onDataBlock?.(this.pendingHandle.offset, raw);
    this.dataBlock.reset();
    this.dataBlocks++;
    this.pendingKey = this.lastKey.slice(0, this.lastKeyLength);
    this.pendingSeq = this.lastSeq;
  }

  /** Indexes the flushed block now that the first key after it is known. */
  private addIndexEntry(nextKey: Uint8Array): void {
    const separator = shortSeparator(this.pendingKey, nextKey);
    if (separator !== undefined) this.flushIndexEntry(separator, MAX_SEQ);
    else this.flushIndexEntry(this.pendingKey, this.pendingSeq);
  }

  private flushIndexEntry(key: Uint8Array, seq: number): void {
    const handle = this.pendingHandle;
    assert(handle !== undefined, 'no block to index');
    this.handleScratch.reset();
    encodeHandle(this.handleScratch, handle);
    this.indexBlock.add(key, seq, EntryKind.Put, 0, this.handleScratch.view());
    this.pendingHandle = undefined;
  }

  private writeBlock(raw: Uint8Array, compress: boolean): BlockHandle {
    const stored = encodeStoredBlock(raw, compress);
    const handle = { offset: this.offset, size: stored.length - TRAILER_BYTES };
    this.append(stored);
    return handle;
  }

  private append(bytes: Uint8Array): void {
    // A failed append (disk full) leaves a partial table: the writer is done.
    this.guard(() => this.file.append(bytes));
    this.offset += bytes.length;
    assert(this.offset === this.file.size(), `table file ${this.file.name} size out of step with the writer`);
  }

  private guard(action: () => void): void {
    try {
      action();
    } catch (e) {
      this.state = 'failed';
      throw e;
    }
  }

  private rememberKey(key: Uint8Array, seq: number): void {
    if (key.length > this.lastKey.length) this.lastKey = new Uint8Array(Math.max(key.length, this.lastKey.length * 2));
    copyKey(this.lastKey, key);
    this.lastKeyLength = key.length;
    this.lastSeq = seq;
  }

  /** Whether `key` is the last key added (false before the first). */
  lastKeyEquals(key: Uint8Array): boolean {
    if (key.length !== this.lastKeyLength) return false;
    for (let i = 0; i < key.length; i++) if (this.lastKey[i] !== key[i]) return false;
    return true;
  }

  /** lastKey < key bytewise (the keys differ). */
  private lastKeyBefore(key: Uint8Array): boolean {
    const n = Math.min(key.length, this.lastKeyLength);
    for (let i = 0; i < n; i++) {
      const d = this.lastKey[i]! - key[i]!;
      if (d !== 0) return d < 0;
    }
    return this.lastKeyLength < key.length;
  }
}
