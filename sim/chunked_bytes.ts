// A growable byte array stored as fixed 64 KiB chunks, so appending to a
// simulated file costs one copy of the appended bytes (not of the whole file)
// and a small file does not reserve a whole chunk: only the last chunk grows,
// by doubling, until it is full.

// Per-event checks throw AssertionError themselves: a template message passed to
// assert() would be built (numbers formatted) on every call, not only on failure.
import { AssertionError, assert } from '../io/assert.ts';

const CHUNK = 64 * 1024;
const MIN_CHUNK = 256;

export class ChunkedBytes {
  private readonly chunks: Uint8Array[] = [];
  private len = 0;

  get length(): number {
    return this.len;
  }

  append(data: Uint8Array): void {
    let src = 0;
    while (src < data.length) {
      const ci = Math.floor(this.len / CHUNK);
      const within = this.len - ci * CHUNK;
      const count = Math.min(CHUNK - within, data.length - src);
      assert(ci <= this.chunks.length, 'ChunkedBytes.append: chunk index skipped');
      if (ci === this.chunks.length) this.chunks.push(new Uint8Array(ChunkedBytes.capacityFor(count)));
      let chunk = this.chunks[ci]!;
      if (within + count > chunk.length) {
        const grown = new Uint8Array(Math.min(CHUNK, Math.max(chunk.length * 2, ChunkedBytes.capacityFor(within + count))));
        grown.set(chunk.subarray(0, within));
        this.chunks[ci] = grown;
        chunk = grown;
      }
      chunk.set(data.subarray(src, src + count), within);
      src += count;
      this.len += count;
    }
  }

  /** A copy of up to `length` bytes at `offset`, fewer at the end. */
  read(offset: number, length: number): Uint8Array {
    if (!(Number.isSafeInteger(offset) && offset >= 0)) throw new AssertionError(`ChunkedBytes.read: bad offset ${offset}`);
    if (!(Number.isSafeInteger(length) && length >= 0)) throw new AssertionError(`ChunkedBytes.read: bad length ${length}`);
    const end = Math.min(this.len, offset + length);
    if (end <= offset) return new Uint8Array(0);
    const out = new Uint8Array(end - offset);
    let pos = offset;
    while (pos < end) {
      const ci = Math.floor(pos / CHUNK);
      const within = pos - ci * CHUNK;
      const count = Math.min(CHUNK - within, end - pos);
      out.set(this.chunks[ci]!.subarray(within, within + count), pos - offset);
      pos += count;
    }
    return out;
  }

  /** Overwrites bytes that already exist (no growth). */
  write(offset: number, data: Uint8Array): void {
    if (!(Number.isSafeInteger(offset) && offset >= 0 && offset + data.length <= this.len)) throw new AssertionError(`ChunkedBytes.write: [${offset}, +${data.length}) outside [0, ${this.len})`);
    let src = 0;
    while (src < data.length) {
      const pos = offset + src;
      const ci = Math.floor(pos / CHUNK);
      const within = pos - ci * CHUNK;
      const count = Math.min(CHUNK - within, data.length - src);
      this.chunks[ci]!.set(data.subarray(src, src + count), within);
      src += count;
    }
  }

  byteAt(offset: number): number {
    if (!(Number.isSafeInteger(offset) && offset >= 0 && offset < this.len)) throw new AssertionError(`ChunkedBytes.byteAt: ${offset} outside [0, ${this.len})`);
    const ci = Math.floor(offset / CHUNK);
    return this.chunks[ci]![offset - ci * CHUNK]!;
  }

  setByte(offset: number, value: number): void {
    if (!(Number.isSafeInteger(offset) && offset >= 0 && offset < this.len)) throw new AssertionError(`ChunkedBytes.setByte: ${offset} outside [0, ${this.len})`);
    if (!(Number.isInteger(value) && value >= 0 && value < 256)) throw new AssertionError(`ChunkedBytes.setByte: bad byte ${value}`);
    const ci = Math.floor(offset / CHUNK);
    this.chunks[ci]![offset - ci * CHUNK] = value;
  }

  truncate(newLength: number): void {
    assert(Number.isSafeInteger(newLength) && newLength >= 0 && newLength <= this.len, `ChunkedBytes.truncate: ${newLength} outside [0, ${this.len}]`);
    const keepChunks = Math.ceil(newLength / CHUNK);
    this.chunks.length = keepChunks;
    this.len = newLength;
    // Stale bytes past the end of the last chunk would reappear if a later
    // append grew the chunk by copying; clear them now.
    if (keepChunks > 0) {
      const within = newLength - (keepChunks - 1) * CHUNK;
      this.chunks[keepChunks - 1]!.fill(0, within);
    }
  }

  private static capacityFor(bytes: number): number {
    let cap = MIN_CHUNK;
    while (cap < bytes) cap *= 2;
    return Math.min(cap, CHUNK);
  }
}
