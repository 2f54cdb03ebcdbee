// Reads an SSTable written by SstableWriter (format in sstable_format.ts).
// open() verifies the footer and loads the index, filter and properties once;
// data blocks are read on demand, verified, decompressed, parsed and kept in
// the shared BlockCache. A block that fails its checksum fails only the reads
// that touch it: the reader keeps serving every other block.
//
// Every decoding failure surfaces as CorruptionError naming the file; disk
// read errors (DiskError) pass through unchanged, as they are not corruption.

import { AssertionError, assert } from '../../io/assert.ts';
import { DiskError, type File } from '../../io/disk.ts';
import { Block, BlockIterator } from './block_reader.ts';
import type { BlockCache } from './block_cache.ts';
import { BloomFilter } from './bloom_filter.ts';
import { compareInternal, type Entry, MAX_SEQ } from './entry.ts';
import type { EntryIterator } from './entry_iterator.ts';
import { CorruptionError } from './errors.ts';
import {
  type BlockHandle,
  blockEnd,
  decodeFooter,
  decodeHandle,
  decodeProperties,
  decodeStoredBlock,
  FOOTER_BYTES,
  TRAILER_BYTES,
} from './sstable_format.ts';
import type { SstableInfo } from './sstable_writer.ts';
import { SeparatorIndex } from './separator_index.ts';
import { ByteReader } from './varint.ts';

export interface SstableReadStats {
  /** Filter probes made by get(). */
  bloomChecks: number;
  /** Probes that ruled the key out. */
  bloomNegatives: number;
  /** Probes that passed where get() then found no version of the key at or below maxSeq. */
  bloomFalsePositives: number;
  /** Data blocks read from the file (cache misses). */
  blocksRead: number;
  /** Data blocks served from the block cache. */
  cacheHits: number;
}

export interface SstableReaderOptions {
  cache?: BlockCache;
  /** Identifies the file in the cache; one is drawn from the cache when absent. */
  fileId?: number;
}

export interface SstableIteratorOptions {
  /** Put blocks read by this iterator in the cache (false for compaction scans). Default true. */
  fillCache?: boolean;
  /** entry() refills one object, valid until the next move (block_reader.ts reuseEntry). Default false. */
  reuseEntry?: boolean;
}

/**
 * Converts anything thrown while decoding into CorruptionError naming the
 * file. Disk errors are not corruption, and a failed assertion is a bug in
 * this code (or a misuse, like reading a closed table): both pass unchanged.
 */
function asCorruption(e: unknown, fileName: string): Error {
  if (e instanceof DiskError || e instanceof AssertionError) return e;
  if (e instanceof CorruptionError) return e.file !== undefined ? e : new CorruptionError(e.message, fileName);
  const err = e instanceof Error ? e : new Error(String(e));
  return new CorruptionError(`${err.name}: ${err.message}`, fileName);
}

export class SstableReader {
  readonly stats: SstableReadStats = { bloomChecks: 0, bloomNegatives: 0, bloomFalsePositives: 0, blocksRead: 0, cacheHits: 0 };
  private readonly getIterator = new BlockIterator();
  private closed = false;

  private constructor(
    private readonly file: File,
    readonly info: SstableInfo,
    private readonly filter: BloomFilter,
    /** Index separators and data block handles, decoded once. */
    private readonly index: SeparatorIndex,
    private readonly blockOffsets: number[],
    private readonly blockSizes: number[],
    private readonly cache: BlockCache | undefined,
    readonly fileId: number,
  ) {}

  static open(file: File, options: SstableReaderOptions = {}): SstableReader {
    const cache = options.cache;
    const fileId = options.fileId ?? (cache ? cache.newFileId() : 0);
    try {
      return SstableReader.load(file, cache, fileId);
    } catch (e) {
      throw asCorruption(e, file.name);
    }
  }

  private static load(file: File, cache: BlockCache | undefined, fileId: number): SstableReader {
    const size = file.size();
    if (size < FOOTER_BYTES) throw new CorruptionError(`file of ${size} bytes is too short to be a table`);
    const footer = decodeFooter(file.pread(size - FOOTER_BYTES, FOOTER_BYTES), size);
    const readMeta = (h: BlockHandle): Uint8Array => {
      if (h.offset < 0 || blockEnd(h) > size - FOOTER_BYTES) throw new CorruptionError(`block handle at ${h.offset} out of the file`);
      // A copy: the reader keeps these for its lifetime, whatever the File does with its buffers.
      return decodeStoredBlock(file.pread(h.offset, h.size + TRAILER_BYTES), h).slice();
    };
    const filter = new BloomFilter(readMeta(footer.filter));
    const props = decodeProperties(readMeta(footer.properties));
    const indexBlock = Block.parse(readMeta(footer.index));

    const keys: Uint8Array[] = [];
    const seqs: number[] = [];
    const offsets: number[] = [];
    const sizes: number[] = [];
    const it = new BlockIterator(indexBlock);
    let expectedOffset = 0;
    for (it.seekToFirst(); it.valid(); it.next()) {
      const handle = decodeHandle(new ByteReader(it.value()));
      if (handle.offset !== expectedOffset) throw new CorruptionError(`index: data block ${offsets.length} at ${handle.offset}, expected ${expectedOffset}`);
      const key = it.keyView().slice();
      const seq = it.seq();
      const n = keys.length;
      if (n > 0 && compareInternal(keys[n - 1]!, seqs[n - 1]!, key, seq) >= 0) throw new CorruptionError(`index: separator ${n} out of order`);
      keys.push(key);
      seqs.push(seq);
      offsets.push(handle.offset);
      sizes.push(handle.size);
      expectedOffset = blockEnd(handle);
    }
    if (expectedOffset !== footer.filter.offset) throw new CorruptionError(`index: data blocks end at ${expectedOffset}, filter starts at ${footer.filter.offset}`);
    if (keys.length !== props.dataBlockCount) throw new CorruptionError(`index has ${keys.length} blocks, properties say ${props.dataBlockCount}`);

    const info: SstableInfo = {
      fileBytes: size,
      entryCount: props.entryCount,
      tombstoneCount: props.tombstoneCount,
      smallestKey: props.smallestKey,
      largestKey: props.largestKey,
      smallestSeq: props.smallestSeq,
      largestSeq: props.largestSeq,
    };
    return new SstableReader(file, info, filter, new SeparatorIndex(keys, seqs), offsets, sizes, cache, fileId);
  }

  get name(): string {
    return this.file.name;
  }

  dataBlockCount(): number {
    return this.blockOffsets.length;
  }

  /**
   * Byte offset in the file where entries for `key` would be (the start of the
   * data block that covers it; the end of the data when past the last key), to
   * estimate how much of a table lies in a key range.
   */
  approximateOffsetOf(key: Uint8Array): number {
    const i = this.findBlock(key, MAX_SEQ);
    if (i < this.blockOffsets.length) return this.blockOffsets[i]!;
    const n = this.blockOffsets.length;
    return n === 0 ? 0 : this.blockOffsets[n - 1]! + this.blockSizes[n - 1]! + TRAILER_BYTES;
  }

  /** Where data block i is stored (trailer excluded). */
  dataBlockHandle(i: number): BlockHandle {
    assert(i >= 0 && i < this.blockOffsets.length, `data block ${i} out of range`);
    return { offset: this.blockOffsets[i]!, size: this.blockSizes[i]! };
  }

  /** False only when no version of the key is in the table. */
  mayContain(key: Uint8Array): boolean {
    return this.filter.mayContain(key);
  }

  /** Newest entry for `key` with seq <= maxSeq, or undefined. `hash` is bloomHash(key), when the caller has it. */
  get(key: Uint8Array, maxSeq: number = MAX_SEQ, hash?: number): Entry | undefined {
    assert(!this.closed, `get() on closed table ${this.file.name}`);
    assert(Number.isSafeInteger(maxSeq) && maxSeq >= 0, `maxSeq invalid: ${maxSeq}`);
    this.stats.bloomChecks++;
    if (!(hash === undefined ? this.filter.mayContain(key) : this.filter.mayContainHash(hash))) {
      this.stats.bloomNegatives++;
      return undefined;
    }
    const i = this.findBlock(key, maxSeq);
    if (i < this.blockOffsets.length) {
      const it = this.getIterator;
      try {
        it.reset(this.readBlock(i, true));
        it.seek(key, maxSeq);
        if (it.valid() && it.keyEquals(key)) return it.entry();
      } catch (e) {
        throw asCorruption(e, this.file.name);
      }
    }
    this.stats.bloomFalsePositives++;
    return undefined;
  }

  iterator(options: SstableIteratorOptions = {}): SstableIterator {
    assert(!this.closed, `iterator() on closed table ${this.file.name}`);
    return new SstableIterator(this, options.fillCache ?? true, options.reuseEntry ?? false);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.file.close();
  }

  /** First data block whose separator is >= (key, seq), or dataBlockCount() when none. */
  findBlock(key: Uint8Array, seq: number): number {
    return this.index.find(key, seq);
  }

  /** A verified, parsed data block; throws CorruptionError (without the file name) or DiskError. */
  readBlock(i: number, fillCache: boolean): Block {
    assert(!this.closed, `read from closed table ${this.file.name}`);
    assert(i >= 0 && i < this.blockOffsets.length, `data block ${i} out of range`);
    const offset = this.blockOffsets[i]!;
    const cache = this.cache;
    if (cache !== undefined) {
      const cached = cache.lookup(this.fileId, offset);
      if (cached !== undefined) {
        this.stats.cacheHits++;
        return cached;
      }
    }
    const handle = { offset, size: this.blockSizes[i]! };
    const stored = this.file.pread(offset, handle.size + TRAILER_BYTES);
    let decoded = decodeStoredBlock(stored, handle);
    // An uncompressed block is a view of what pread returned; cached blocks must
    // not share memory with the File, which may reuse or alter its buffers.
    if (decoded.buffer === stored.buffer) decoded = decoded.slice();
    const block = Block.parse(decoded);
    this.stats.blocksRead++;
    if (cache !== undefined && fillCache) cache.insert(this.fileId, offset, block);
    return block;
  }
}

/** Every entry of the table (all versions) in internal order. */
export class SstableIterator implements EntryIterator {
  private blockIndex = 0;
  private readonly blockIter: BlockIterator;
  private positioned = false;

  constructor(
    private readonly table: SstableReader,
    private readonly fillCache: boolean,
    reuseEntry = false,
  ) {
    this.blockIter = new BlockIterator(undefined, reuseEntry);
  }

  seekToFirst(): void {
    this.guard(() => this.enterBlock(0, undefined, 0));
  }

  seek(key: Uint8Array): void {
    this.seekVersion(key, MAX_SEQ);
  }

  /** Positions at the first entry >= (key, seq): the newest version of key with seq <= `seq`, or what follows. */
  seekVersion(key: Uint8Array, seq: number): void {
    this.guard(() => this.enterBlock(this.table.findBlock(key, seq), key, seq));
  }

  valid(): boolean {
    return this.positioned && this.blockIter.valid();
  }

  entry(): Entry {
    assert(this.valid(), 'entry() on an invalid table iterator');
    return this.blockIter.entry();
  }

  next(): void {
    assert(this.valid(), 'next() on an invalid table iterator');
    this.guard(() => {
      this.blockIter.next();
      if (!this.blockIter.valid()) this.enterBlock(this.blockIndex + 1, undefined, 0);
    });
  }

  private enterBlock(index: number, key: Uint8Array | undefined, seq: number): void {
    this.positioned = false;
    const count = this.table.dataBlockCount();
    for (let i = index; i < count; i++) {
      this.blockIndex = i;
      this.blockIter.reset(this.table.readBlock(i, this.fillCache));
      if (key !== undefined && i === index) this.blockIter.seek(key, seq);
      else this.blockIter.seekToFirst();
      if (this.blockIter.valid()) {
        this.positioned = true;
        return;
      }
    }
  }

  private guard(action: () => void): void {
    try {
      action();
    } catch (e) {
      this.positioned = false;
      throw asCorruption(e, this.table.name);
    }
  }
}
