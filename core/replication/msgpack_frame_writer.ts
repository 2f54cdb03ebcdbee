// Writes one frame (io/frame_codec.ts: length, masked crc32c, msgpack
// payload) straight from a plain value, byte for byte what encodeFrame
// writes for it, without msgpackr's generic dispatch: every message between
// store nodes is encoded here, so this is on the path of every simulated
// request. Covered: null, booleans, numbers, well-formed strings, byte
// arrays, arrays and plain objects. Anything else (undefined, bigint, other
// typed arrays, a lone surrogate) returns null and the caller falls back to
// encodeFrame, so the output never depends on which path ran.
//
// msgpackr's choices, kept here: integers in the smallest int format up to
// 32 bits and float64 beyond (and for fractions, -0 as 0); objects always as
// map16; strings, byte strings and arrays in their smallest format.
//
// Frames are written one after another into a shared 64 KiB chunk and
// handed out as views of it, so a frame costs no allocation of its own (a
// slice per frame was ~0.3 us, a view ~0.05). A chunk is never written again
// where a frame was handed out: when the next frame does not fit, its bytes
// so far move to a fresh chunk and the old one lives on only through its
// frames. The encoder does not call out, so a frame is never interleaved with
// another.

import { assert } from '../../io/assert.ts';
import { crc32c, maskCrc } from '../../io/crc32c.ts';
import { FRAME_HEADER_BYTES, FRAME_MAX_PAYLOAD_BYTES, FrameError } from '../../io/frame_codec.ts';

const CHUNK_BYTES = 64 * 1024;
let chunk = new Uint8Array(CHUNK_BYTES);
let view = new DataView(chunk.buffer);
/** Where the next frame starts in `chunk`: everything before it was handed out. */
let chunkUsed = 0;

/** Thrown inside the writer to abandon a value it cannot encode. */
const UNSUPPORTED = Symbol('unsupported');

export class MsgpackFrameWriter {
  /** The frame's first byte (its header) in `chunk`. */
  private start = chunkUsed;
  /** The write position in `chunk`. */
  private at = chunkUsed + FRAME_HEADER_BYTES;

  /** Begins a new frame with an empty payload (the writer is reused frame after frame). */
  restart(): void {
    this.start = chunkUsed;
    this.at = chunkUsed + FRAME_HEADER_BYTES;
  }

  /** Room for `n` more bytes at the write position (in the returned buffer, at `position`). */
  reserve(n: number): Uint8Array {
    if (this.at + n > chunk.length) {
      // Move the frame so far to a fresh chunk, larger than usual for a frame that needs it.
      const sofar = this.at - this.start;
      let size = CHUNK_BYTES;
      while (size < sofar + n) size *= 2;
      const fresh = new Uint8Array(size);
      fresh.set(chunk.subarray(this.start, this.at));
      chunk = fresh;
      view = new DataView(chunk.buffer);
      chunkUsed = 0;
      this.start = 0;
      this.at = sofar;
    }
    return chunk;
  }

  get position(): number {
    return this.at;
  }

  /** Advances past `n` bytes written by the caller into reserve()'s buffer at `position`. */
  advance(n: number): void {
    assert(this.at + n <= chunk.length, 'MsgpackFrameWriter.advance past the reserved room');
    this.at += n;
  }

  /** Writes `value`; throws UNSUPPORTED (caught by encodeFrameFast) on a value outside the covered types. */
  value(value: unknown): void {
    if (value === null) return this.byte(0xc0);
    switch (typeof value) {
      case 'boolean':
        return this.byte(value ? 0xc3 : 0xc2);
      case 'number':
        return this.number(value);
      case 'string':
        return this.string(value);
      case 'object':
        if (value instanceof Uint8Array) return this.bin(value);
        if (Array.isArray(value)) return this.array(value);
        if (Object.getPrototypeOf(value) === Object.prototype) return this.object(value as Record<string, unknown>);
        throw UNSUPPORTED;
      default:
        throw UNSUPPORTED;
    }
  }

  /** The header of a map of `size` entries, as msgpackr writes it for a plain object (map16). */
  mapHeader(size: number): void {
    if (size > 0xffff) throw UNSUPPORTED;
    const out = this.reserve(3);
    const at = this.at;
    out[at] = 0xde;
    out[at + 1] = size >>> 8;
    out[at + 2] = size & 0xff;
    this.at = at + 3;
  }

  /** A byte-string header for `length` bytes the caller writes next. */
  binHeader(length: number): void {
    const out = this.reserve(5);
    let at = this.at;
    if (length < 0x100) {
      out[at++] = 0xc4;
      out[at++] = length;
    } else if (length < 0x10000) {
      out[at++] = 0xc5;
      out[at++] = length >>> 8;
      out[at++] = length & 0xff;
    } else {
      out[at++] = 0xc6;
      view.setUint32(at, length, false);
      at += 4;
    }
    this.at = at;
  }

  bin(bytes: Uint8Array): void {
    this.binHeader(bytes.length);
    const out = this.reserve(bytes.length);
    // Short byte strings (keys, small values): a loop beats set() on a fresh view.
    if (bytes.length <= 64) for (let i = 0; i < bytes.length; i++) out[this.at + i] = bytes[i]!;
    else out.set(bytes, this.at);
    this.at += bytes.length;
  }

  string(s: string): void {
    const n = s.length;
    // At most 3 bytes per UTF-16 unit, plus the largest header.
    const out = this.reserve(5 + 3 * n);
    // Fast path: ASCII into the smallest header, guessed from the char count.
    const headerBytes = n < 0x20 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    const start = this.at + headerBytes;
    let at = start;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) out[at++] = c;
      else if (c < 0x800) {
        out[at++] = 0xc0 | (c >> 6);
        out[at++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const low = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c > 0xdbff || low < 0xdc00 || low > 0xdfff) throw UNSUPPORTED;
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        out[at++] = 0xf0 | (c >> 18);
        out[at++] = 0x80 | ((c >> 12) & 0x3f);
        out[at++] = 0x80 | ((c >> 6) & 0x3f);
        out[at++] = 0x80 | (c & 0x3f);
      } else {
        out[at++] = 0xe0 | (c >> 12);
        out[at++] = 0x80 | ((c >> 6) & 0x3f);
        out[at++] = 0x80 | (c & 0x3f);
      }
    }
    const length = at - start;
    const needed = length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
    if (needed !== headerBytes) {
      out.copyWithin(this.at + needed, start, at);
      at += needed - headerBytes;
    }
    let h = this.at;
    if (needed === 1) out[h] = 0xa0 | length;
    else if (needed === 2) {
      out[h++] = 0xd9;
      out[h] = length;
    } else if (needed === 3) {
      out[h++] = 0xda;
      out[h++] = length >>> 8;
      out[h] = length & 0xff;
    } else {
      out[h++] = 0xdb;
      view.setUint32(h, length, false);
    }
    this.at = at;
  }

  number(x: number): void {
    const out = this.reserve(9);
    let at = this.at;
    if (Number.isInteger(x) && x >= -0x8000_0000 && x <= 0xffff_ffff) {
      if (x >= 0) {
        if (x < 0x80) out[at++] = x;
        else if (x < 0x100) {
          out[at++] = 0xcc;
          out[at++] = x;
        } else if (x < 0x10000) {
          out[at++] = 0xcd;
          out[at++] = x >>> 8;
          out[at++] = x & 0xff;
        } else {
          out[at++] = 0xce;
          view.setUint32(at, x, false);
          at += 4;
        }
      } else if (x >= -0x20) out[at++] = x & 0xff;
      else if (x >= -0x80) {
        out[at++] = 0xd0;
        out[at++] = x & 0xff;
      } else if (x >= -0x8000) {
        out[at++] = 0xd1;
        view.setInt16(at, x, false);
        at += 2;
      } else {
        out[at++] = 0xd2;
        view.setInt32(at, x, false);
        at += 4;
      }
    } else {
      out[at++] = 0xcb;
      view.setFloat64(at, x, false);
      at += 8;
    }
    this.at = at;
  }

  private byte(b: number): void {
    this.reserve(1)[this.at++] = b;
  }

  private array(a: readonly unknown[]): void {
    const n = a.length;
    this.arrayHeader(n);
    for (let i = 0; i < n; i++) this.value(a[i]);
  }

  /** The header of an array of `n` items the caller writes next. */
  arrayHeader(n: number): void {
    const out = this.reserve(5);
    let at = this.at;
    if (n < 0x10) out[at++] = 0x90 | n;
    else if (n < 0x10000) {
      out[at++] = 0xdc;
      out[at++] = n >>> 8;
      out[at++] = n & 0xff;
    } else {
      out[at++] = 0xdd;
      view.setUint32(at, n, false);
      at += 4;
    }
    this.at = at;
  }

  private object(o: Record<string, unknown>): void {
    const keys = Object.keys(o);
    this.mapHeader(keys.length);
    for (const k of keys) {
      this.string(k);
      this.value(o[k]);
    }
  }

  /** The finished frame: header, then the payload written so far; a view that nothing writes to again. */
  finish(): Uint8Array {
    assert(this.start === chunkUsed, 'MsgpackFrameWriter.finish: another frame was handed out meanwhile');
    const length = this.at - this.start - FRAME_HEADER_BYTES;
    if (length > FRAME_MAX_PAYLOAD_BYTES) throw new FrameError(`frame payload ${length} B exceeds ${FRAME_MAX_PAYLOAD_BYTES} B`);
    view.setUint32(this.start, length, true);
    view.setUint32(this.start + 4, maskCrc(crc32c(chunk, this.start + FRAME_HEADER_BYTES, this.at)), true);
    const frame = new Uint8Array(chunk.buffer, this.start, this.at - this.start);
    chunkUsed = this.at;
    if (chunk.length > CHUNK_BYTES) {
      // A chunk grown for one large frame is left to it.
      chunk = new Uint8Array(CHUNK_BYTES);
      view = new DataView(chunk.buffer);
      chunkUsed = 0;
    }
    return frame;
  }
}

/**
 * Encodes one frame with `write` (which writes the payload into the writer);
 * returns null when the payload holds a value the writer does not cover, and
 * the caller encodes it with encodeFrame instead.
 */
export function writeFrame(write: (out: MsgpackFrameWriter) => void): Uint8Array | null {
  return writeFrameWith(callWrite, write, undefined);
}

const callWrite = (out: MsgpackFrameWriter, write: (out: MsgpackFrameWriter) => void): void => write(out);

// One writer for every frame (its bytes go to the module's chunk anyway): a frame is written start to finish
// without calling out, so frames never interleave; `writing` turns a violation into an assertion.
let shared: MsgpackFrameWriter | null = null;
let writing = false;

/** writeFrame calling `write(out, a, b)`: callers pass their data instead of making a closure per frame. */
export function writeFrameWith<A, B>(write: (out: MsgpackFrameWriter, a: A, b: B) => void, a: A, b: B): Uint8Array | null {
  assert(!writing, 'writeFrameWith: a frame is already being written');
  const out = (shared ??= new MsgpackFrameWriter());
  out.restart();
  writing = true;
  try {
    write(out, a, b);
    return out.finish();
  } catch (err) {
    if (err === UNSUPPORTED) return null;
    throw err;
  } finally {
    writing = false;
  }
}
