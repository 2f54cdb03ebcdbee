// Unsigned LEB128 varints (7 bits per byte, low group first, high bit = more)
// for the integers of the storage formats: lengths, sequence numbers, times,
// file offsets. JavaScript numbers are exact up to 2^53, so a varint here has
// at most 8 bytes (56 bits) and decodes to at most Number.MAX_SAFE_INTEGER.
//
// It lives in core/storage because only the storage formats (SSTable blocks,
// write batches) use it; the wire codecs in io/ use msgpack.

import { AssertionError, assert } from '../../io/assert.ts';
import { CorruptionError } from './errors.ts';

export const MAX_VARINT_BYTES = 8;
const TWO_POW_28 = 2 ** 28;

/** Bytes `value` takes as a varint. */
export function varintLength(value: number): number {
  // Hot paths throw AssertionError themselves: assert()'s template message would be built on every call.
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new AssertionError(`varint value out of range: ${value}`);
  let n = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Writes `value` at `buf[pos]` (room must exist); returns the position after it. */
export function putVarint(buf: Uint8Array, pos: number, value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new AssertionError(`varint value out of range: ${value}`);
  // Values above 2^31 cannot use bit operators (they are 32-bit signed).
  while (value > 0x7fffffff) {
    buf[pos++] = (value % 128) | 128;
    value = Math.floor(value / 128);
  }
  while (value >= 128) {
    buf[pos++] = (value & 127) | 128;
    value >>>= 7;
  }
  buf[pos++] = value;
  return pos;
}

/**
 * A cursor over bytes that throws CorruptionError (without a file name; the
 * caller knows it and rewraps) on anything that does not parse.
 */
export class ByteReader {
  constructor(
    public buf: Uint8Array,
    public pos = 0,
    public end = buf.length,
  ) {
    assert(pos >= 0 && pos <= end && end <= buf.length, 'ByteReader bounds');
  }

  varint(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    // Fast path: up to four bytes (28 bits) with bit operators.
    let result = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw new CorruptionError('truncated varint');
      const b = buf[pos++]!;
      result |= (b & 127) << shift;
      if (b < 128) {
        this.pos = pos;
        return result >>> 0;
      }
    }
    let high = 0;
    let scale = 1;
    for (let i = 4; i < MAX_VARINT_BYTES; i++) {
      if (pos >= end) throw new CorruptionError('truncated varint');
      const b = buf[pos++]!;
      high += (b & 127) * scale;
      scale *= 128;
      if (b < 128) {
        const value = (result >>> 0) + high * TWO_POW_28;
        if (value > Number.MAX_SAFE_INTEGER) throw new CorruptionError('varint above 2^53');
        this.pos = pos;
        return value;
      }
    }
    throw new CorruptionError('varint longer than 8 bytes');
  }

  u8(): number {
    if (this.pos >= this.end) throw new CorruptionError('truncated byte');
    return this.buf[this.pos++]!;
  }

  /** Little-endian unsigned 32-bit integer. */
  u32(): number {
    const p = this.pos;
    if (this.end - p < 4) throw new CorruptionError('truncated u32');
    const b = this.buf;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  /** A view (not a copy) of the next `length` bytes. */
  bytes(length: number): Uint8Array {
    if (length < 0 || this.end - this.pos < length) throw new CorruptionError(`truncated bytes (want ${length})`);
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  /** A varint length followed by that many bytes (a view). */
  lengthPrefixed(): Uint8Array {
    return this.bytes(this.varint());
  }

  remaining(): number {
    return this.end - this.pos;
  }
}

/** A growable byte buffer for encoders; reuse it with reset() between records. */
/** Copies up to this many bytes go byte by byte (keys, small values, suffixes). */
const SMALL_COPY_BYTES = 32;

export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
  }

  get length(): number {
    return this.len;
  }

  reset(): void {
    this.len = 0;
  }

  private reserve(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  varint(value: number): void {
    this.reserve(MAX_VARINT_BYTES);
    this.len = putVarint(this.buf, this.len, value);
  }

  u8(value: number): void {
    if (!(Number.isInteger(value) && value >= 0 && value <= 0xff)) throw new AssertionError(`u8 out of range: ${value}`);
    this.reserve(1);
    this.buf[this.len++] = value;
  }

  u32(value: number): void {
    if (!(Number.isInteger(value) && value >= 0 && value <= 0xffffffff)) throw new AssertionError(`u32 out of range: ${value}`);
    this.reserve(4);
    const b = this.buf;
    const p = this.len;
    b[p] = value & 0xff;
    b[p + 1] = (value >>> 8) & 0xff;
    b[p + 2] = (value >>> 16) & 0xff;
    b[p + 3] = (value >>> 24) & 0xff;
    this.len = p + 4;
  }

  bytes(data: Uint8Array, start = 0, end = data.length): void {
    const n = end - start;
    this.reserve(n);
    const buf = this.buf;
    if (n <= SMALL_COPY_BYTES) {
      // TypedArray.set (and the subarray view it needs) costs more than a short loop.
      let p = this.len;
      for (let i = start; i < end; i++) buf[p++] = data[i]!;
    } else {
      buf.set(n === data.length ? data : data.subarray(start, end), this.len);
    }
    this.len += n;
  }

  lengthPrefixed(data: Uint8Array): void {
    this.varint(data.length);
    this.bytes(data);
  }

  /** A view of the bytes written; valid until the next write or reset. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** A copy of the bytes written, safe to keep. */
  copy(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
