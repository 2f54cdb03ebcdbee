// Reads a decoded (decompressed, checksum-verified) SSTable block: binary
// search over the restart points comparing keys in place, then a linear scan
// that rebuilds prefix-compressed keys into one reused scratch buffer, so a
// seek allocates nothing. Everything that does not parse throws
// CorruptionError (the caller adds the file name).

import { assert } from '../../io/assert.ts';
import { readUint32Le } from '../../io/byte_order.ts';
import { type Entry, EntryKind, MAX_SEQ } from './entry.ts';
import { CorruptionError } from './errors.ts';

/** A parsed block: immutable once built, so it can sit in the block cache. */
export class Block {
  private constructor(
    /** The decoded block bytes. Never mutated: entries hand out views into it. */
    readonly data: Uint8Array,
    /** Offset of the restart array (= end of the entries). */
    readonly restartsOffset: number,
    readonly restartCount: number,
  ) {}

  static parse(data: Uint8Array): Block {
    if (data.length < 8) throw new CorruptionError(`block too short: ${data.length} bytes`);
    const count = readUint32Le(data, data.length - 4);
    if (count < 1 || count > (data.length - 4) / 4) throw new CorruptionError(`block restart count invalid: ${count}`);
    const restartsOffset = data.length - 4 - count * 4;
    if (restartsOffset === 0) {
      // An empty block: the index of a table without entries.
      if (count !== 1 || readUint32Le(data, 0) !== 0) throw new CorruptionError('empty block with restart points');
      return new Block(data, 0, 1);
    }
    let prev = -1;
    for (let i = 0; i < count; i++) {
      const r = readUint32Le(data, restartsOffset + i * 4);
      if (r <= prev || r >= restartsOffset) throw new CorruptionError(`block restart point ${i} invalid: ${r}`);
      prev = r;
    }
    if (readUint32Le(data, restartsOffset) !== 0) throw new CorruptionError('block first restart is not 0');
    return new Block(data, restartsOffset, count);
  }

  restartPoint(i: number): number {
    return readUint32Le(this.data, this.restartsOffset + i * 4);
  }

  byteLength(): number {
    return this.data.length;
  }
}

/**
 * Internal-order comparison of the key stored at `data[start, start+length)`
 * with sequence `seq` against a target (key, seq): negative when the stored
 * entry sorts first.
 */
function compareAt(data: Uint8Array, start: number, length: number, seq: number, key: Uint8Array, targetSeq: number): number {
  const n = length < key.length ? length : key.length;
  for (let i = 0; i < n; i++) {
    const d = data[start + i]! - key[i]!;
    if (d !== 0) return d;
  }
  if (length !== key.length) return length - key.length;
  return targetSeq - seq;
}

/**
 * A cursor over one block. Reusable: reset(block) points it at another block
 * without allocating. The key of the current entry lives in a scratch buffer
 * that the next move overwrites; entry() hands out a copy of it.
 */
export class BlockIterator {
  private block: Block | undefined;
  private data: Uint8Array = new Uint8Array(0);
  private limit = 0;
  /** Offset of the current entry; == limit when not valid. */
  private current = 0;
  private nextOffset = 0;
  private keyBuf = new Uint8Array(64);
  private keyLen = 0;
  private curSeq = 0;
  private curKind: EntryKind = EntryKind.Put;
  private curTime = 0;
  private valueOffset = 0;
  private valueLength = 0;
  private materialized: Entry | undefined;
  /** With reuseEntry: the one Entry object handed out, and its key view (remade only when the key's length or buffer changes). */
  private reusable: Entry | undefined;
  private reusableKey: Uint8Array = new Uint8Array(0);

  /**
   * With `reuseEntry`, entry() refills one Entry object whose key views the
   * scratch buffer: valid only until the next move, and no allocation but the
   * value's view (compaction, which copies what it keeps).
   */
  constructor(block?: Block, reuseEntry = false) {
    if (block) this.reset(block);
    if (reuseEntry) this.reusable = { key: this.reusableKey, seq: 1, kind: EntryKind.Put, value: this.reusableKey, timeMs: 0 };
  }

  reset(block: Block): void {
    this.block = block;
    this.data = block.data;
    this.limit = block.restartsOffset;
    this.current = this.limit;
    this.nextOffset = this.limit;
    this.keyLen = 0;
    this.materialized = undefined;
  }

  valid(): boolean {
    return this.current < this.limit;
  }

  seekToFirst(): void {
    this.seekToRestart(0);
    this.parseNext();
  }

  /** Positions at the first entry >= (key, seq) in internal order. */
  seek(key: Uint8Array, seq: number = MAX_SEQ): void {
    const block = this.block;
    assert(block !== undefined, 'block iterator has no block');
    // Last restart whose full key sorts before the target.
    let left = 0;
    let right = block.restartCount - 1;
    while (left < right) {
      const mid = (left + right + 1) >>> 1;
      if (this.compareRestart(block.restartPoint(mid), key, seq) < 0) left = mid;
      else right = mid - 1;
    }
    this.seekToRestart(left);
    for (;;) {
      this.parseNext();
      if (!this.valid()) return;
      if (compareAt(this.keyBuf, 0, this.keyLen, this.curSeq, key, seq) >= 0) return;
    }
  }

  next(): void {
    assert(this.valid(), 'next() on an invalid block iterator');
    this.parseNext();
  }

  /** The current key, a view into scratch space valid until the next move. */
  keyView(): Uint8Array {
    return this.keyBuf.subarray(0, this.keyLen);
  }

  keyEquals(key: Uint8Array): boolean {
    if (key.length !== this.keyLen) return false;
    const buf = this.keyBuf;
    for (let i = 0; i < key.length; i++) if (buf[i] !== key[i]) return false;
    return true;
  }

  seq(): number {
    return this.curSeq;
  }

  /** A view into the block (never to be mutated). */
  value(): Uint8Array {
    return this.data.subarray(this.valueOffset, this.valueOffset + this.valueLength);
  }

  /** The current entry: a copied key, the value as a view into the block. */
  entry(): Entry {
    assert(this.valid(), 'entry() on an invalid block iterator');
    const reusable = this.reusable;
    if (reusable !== undefined) {
      if (this.materialized === undefined) {
        if (this.reusableKey.length !== this.keyLen || this.reusableKey.buffer !== this.keyBuf.buffer) this.reusableKey = this.keyBuf.subarray(0, this.keyLen);
        reusable.key = this.reusableKey;
        reusable.seq = this.curSeq;
        reusable.kind = this.curKind;
        reusable.value = this.value();
        reusable.timeMs = this.curTime;
        this.materialized = reusable;
      }
      return reusable;
    }
    if (this.materialized === undefined) {
      this.materialized = {
        key: this.keyBuf.slice(0, this.keyLen),
        seq: this.curSeq,
        kind: this.curKind,
        value: this.value(),
        timeMs: this.curTime,
      };
    }
    return this.materialized;
  }

  private seekToRestart(index: number): void {
    const block = this.block;
    assert(block !== undefined, 'block iterator has no block');
    this.keyLen = 0;
    this.nextOffset = block.restartPoint(index);
  }

  private compareRestart(offset: number, key: Uint8Array, seq: number): number {
    const data = this.data;
    const limit = this.limit;
    let p = offset;
    // shared, unshared, seq, kind, timeMs, valueLength
    const shared = data[p++]!; // a restart entry has shared = 0, one byte
    if (shared !== 0) throw new CorruptionError(`restart entry at ${offset} shares ${shared} bytes`);
    this.pos = p;
    const unshared = this.varint(limit);
    const entrySeq = this.varint(limit);
    this.varint(limit);
    this.varint(limit);
    this.varint(limit);
    p = this.pos;
    if (unshared > limit - p) throw new CorruptionError(`restart key at ${offset} overruns the block`);
    return compareAt(data, p, unshared, entrySeq, key, seq);
  }

  // Decoding position shared by varint() and its callers (avoids returning pairs).
  private pos = 0;

  private varint(limit: number): number {
    const data = this.data;
    let p = this.pos;
    if (p >= limit) throw new CorruptionError('truncated varint in block');
    let b = data[p++]!;
    if (b < 128) {
      this.pos = p;
      return b;
    }
    let result = b & 127;
    let scale = 128;
    for (let i = 1; i < 8; i++) {
      if (p >= limit) throw new CorruptionError('truncated varint in block');
      b = data[p++]!;
      result += (b & 127) * scale;
      if (b < 128) {
        if (result > Number.MAX_SAFE_INTEGER) throw new CorruptionError('varint above 2^53 in block');
        this.pos = p;
        return result;
      }
      scale *= 128;
    }
    throw new CorruptionError('varint longer than 8 bytes in block');
  }

  private parseNext(): void {
    this.materialized = undefined;
    const limit = this.limit;
    const start = this.nextOffset;
    if (start >= limit) {
      this.current = limit;
      this.nextOffset = limit;
      return;
    }
    this.pos = start;
    const shared = this.varint(limit);
    const unshared = this.varint(limit);
    const seq = this.varint(limit);
    const kind = this.varint(limit);
    const timeMs = this.varint(limit);
    const valueLength = this.varint(limit);
    const p = this.pos;
    if (shared > this.keyLen) throw new CorruptionError(`entry at ${start} shares ${shared} bytes of a ${this.keyLen}-byte key`);
    if (unshared > limit - p || valueLength > limit - p - unshared) throw new CorruptionError(`entry at ${start} overruns the block`);
    if (seq < 1) throw new CorruptionError(`entry at ${start} has seq 0`);
    if (kind !== EntryKind.Put && kind !== EntryKind.Delete) throw new CorruptionError(`entry at ${start} has kind ${kind}`);
    if (kind === EntryKind.Delete && valueLength !== 0) throw new CorruptionError(`delete at ${start} carries a value`);
    const keyLength = shared + unshared;
    if (keyLength > this.keyBuf.length) {
      const bigger = new Uint8Array(Math.max(keyLength, this.keyBuf.length * 2));
      bigger.set(this.keyBuf.subarray(0, shared));
      this.keyBuf = bigger;
    }
    const keyBuf = this.keyBuf;
    const data = this.data;
    for (let i = 0; i < unshared; i++) keyBuf[shared + i] = data[p + i]!;
    this.keyLen = keyLength;
    this.curSeq = seq;
    this.curKind = kind;
    this.curTime = timeMs;
    this.valueOffset = p + unshared;
    this.valueLength = valueLength;
    this.current = start;
    this.nextOffset = p + unshared + valueLength;
  }
}
