// LZ4 block compression (lz4js) with a one-byte header so incompressible
// blocks are stored raw:
//
//   compressed := kind:u8 rawLength:u32le payload
//   kind 0 = payload is the raw bytes; kind 1 = payload is an LZ4 block
//
// Callers checksum the compressed bytes before decompressing, so the decoder
// only has to reject lengths that do not add up.

import * as lz4 from 'lz4js';
import { assert } from './assert.ts';

export const BLOCK_RAW = 0;
export const BLOCK_LZ4 = 1;
const HEADER_BYTES = 5;

// lz4js keys its 64Ki-entry hash table by position in the source and only
// accepts a candidate less than 64 KiB behind the current position. Clearing
// that 256 KiB table for every 4 KiB block cost more than compressing the
// block, so blocks are instead copied into a scratch buffer at positions at
// least 64 KiB apart: whatever an earlier block left in the table is too far
// back to be accepted, so the compressed bytes depend only on the input, as
// with a fresh table. The table is cleared only when the scratch buffer wraps.
const WINDOW = 1 << 16;
const SCRATCH_BYTES = 4 << 20;
/** Blocks larger than this are compressed in place with a freshly cleared table. */
const MAX_STRIDED_BYTES = 256 << 10;
const hashTable = new Uint32Array(1 << 16);
let scratch: Uint8Array | null = null;
/** Where the next block goes in `scratch`: past every position the table may hold, by a window. */
let scratchAt = 0;

/** Compresses raw into dst (lz4js), returning the bytes written (0 = not compressible). */
function lz4Compress(raw: Uint8Array, dst: Uint8Array): number {
  if (raw.length > MAX_STRIDED_BYTES) {
    hashTable.fill(0);
    return lz4.compressBlock(raw, dst, 0, raw.length, hashTable);
  }
  if (scratch === null || scratchAt + raw.length > SCRATCH_BYTES) {
    scratch ??= new Uint8Array(SCRATCH_BYTES);
    hashTable.fill(0);
    scratchAt = 0;
  }
  const at = scratchAt;
  scratch.set(raw, at);
  scratchAt = at + raw.length + WINDOW;
  return lz4.compressBlock(scratch, dst, at, raw.length, hashTable);
}

export class CompressionError extends Error {
  override name = 'CompressionError';
}

export function compressBlock(raw: Uint8Array): Uint8Array {
  const bound = lz4.compressBound(raw.length);
  const out = new Uint8Array(HEADER_BYTES + Math.max(bound, raw.length));
  const view = new DataView(out.buffer);
  view.setUint32(1, raw.length, true);
  let used = 0;
  if (raw.length >= 32) {
    used = lz4Compress(raw, out.subarray(HEADER_BYTES));
  }
  if (used > 0 && used < raw.length) {
    out[0] = BLOCK_LZ4;
    return out.subarray(0, HEADER_BYTES + used);
  }
  out[0] = BLOCK_RAW;
  out.set(raw, HEADER_BYTES);
  return out.subarray(0, HEADER_BYTES + raw.length);
}

export function decompressBlock(compressed: Uint8Array): Uint8Array {
  if (compressed.length < HEADER_BYTES) throw new CompressionError('block shorter than its header');
  const view = new DataView(compressed.buffer, compressed.byteOffset, compressed.byteLength);
  const kind = compressed[0];
  const rawLength = view.getUint32(1, true);
  const payload = compressed.subarray(HEADER_BYTES);
  if (kind === BLOCK_RAW) {
    if (payload.length !== rawLength) throw new CompressionError('raw block length mismatch');
    return payload;
  }
  if (kind !== BLOCK_LZ4) throw new CompressionError(`unknown block kind ${kind}`);
  // LZ4 expands at most 255x; anything claiming more is corrupt.
  if (rawLength > payload.length * 255 + 16) throw new CompressionError('implausible raw length');
  const out = new Uint8Array(rawLength);
  const produced = lz4.decompressBlock(payload, out, 0, payload.length, 0);
  if (produced !== rawLength) throw new CompressionError(`lz4 produced ${produced} bytes, header says ${rawLength}`);
  assert(out.length === rawLength, 'decompressed length');
  return out;
}
