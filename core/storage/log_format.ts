// The write-ahead log's on-disk format: LevelDB's log format.
//
// The file is a sequence of blocks of BLOCK_BYTES (32 KiB; the last block may
// be partial). A block holds fragments, each a 7-byte header and its payload:
//
//   fragment := crc:u32le length:u16le type:u8 payload[length]
//
//   crc    = maskCrc(crc32c(type byte ++ payload)), so a fragment whose type,
//            length or payload changed fails its check (the length is covered
//            indirectly: a different length checksums a different range).
//   type   = FULL   a whole record
//            FIRST  the first fragment of a record split across blocks
//            MIDDLE an interior fragment
//            LAST   the final fragment
//
// A fragment never crosses a block boundary. When fewer than HEADER_BYTES
// remain in a block, the writer fills them with zeros and starts the next
// fragment at the next block; a record that does not fit in the rest of a
// block continues in FIRST/MIDDLE.../LAST fragments. A zero-length record is a
// FULL fragment with no payload. Every block therefore starts with a fragment
// header, so a reader can resynchronise at any block boundary.
//
// Records are opaque to this layer; ringkv writes one encoded write batch
// (write_batch.ts) per record.

import { AssertionError, assert } from '../../io/assert.ts';
import { crc32cUpdate, maskCrc } from '../../io/crc32c.ts';

export const BLOCK_BYTES = 32 * 1024;
export const HEADER_BYTES = 7;
/** A fragment's payload length must fit the header's u16. */
export const MAX_BLOCK_BYTES = 0xffff + HEADER_BYTES;

export const FragmentType = Object.freeze({
  Full: 1,
  First: 2,
  Middle: 3,
  Last: 4,
} as const);
export type FragmentType = (typeof FragmentType)[keyof typeof FragmentType];

const TYPE_CRC_SEEDS: number[] = [0, 1, 2, 3, 4].map((t) => crc32cUpdate(0, new Uint8Array([t])));

/** The masked checksum stored in a fragment header. */
export function fragmentCrc(type: number, data: Uint8Array, start: number, end: number): number {
  if (!(type >= FragmentType.Full && type <= FragmentType.Last)) throw new AssertionError(`fragment type invalid: ${type}`);
  return maskCrc(crc32cUpdate(TYPE_CRC_SEEDS[type]!, data, start, end));
}

export function checkBlockBytes(blockBytes: number): void {
  assert(
    Number.isInteger(blockBytes) && blockBytes > HEADER_BYTES && blockBytes <= MAX_BLOCK_BYTES,
    `log block size out of range: ${blockBytes}`,
  );
}

/**
 * Bytes a record of `recordBytes` takes when appended at `blockOffset` within
 * its block, including the zero padding of a block tail it skips.
 */
export function encodedRecordBytes(recordBytes: number, blockOffset: number, blockBytes = BLOCK_BYTES): number {
  let total = 0;
  let offset = blockOffset;
  let left = recordBytes;
  let first = true;
  while (first || left > 0) {
    const room = blockBytes - offset;
    if (room < HEADER_BYTES) {
      total += room;
      offset = 0;
      continue;
    }
    const n = Math.min(left, room - HEADER_BYTES);
    total += HEADER_BYTES + n;
    offset += HEADER_BYTES + n;
    left -= n;
    first = false;
  }
  return total;
}

/**
 * Encodes `record` as the fragments to append at `blockOffset` (position within
 * the current block). Returns the bytes and the block offset after them.
 */
export function encodeRecord(
  record: Uint8Array,
  blockOffset: number,
  blockBytes = BLOCK_BYTES,
): { bytes: Uint8Array; blockOffset: number } {
  assert(blockOffset >= 0 && blockOffset < blockBytes, `block offset out of range: ${blockOffset}`);
  const out = new Uint8Array(encodedRecordBytes(record.length, blockOffset, blockBytes));
  let at = 0;
  let offset = blockOffset;
  let pos = 0;
  let first = true;
  while (first || pos < record.length) {
    const room = blockBytes - offset;
    if (room < HEADER_BYTES) {
      at += room; // zero padding: `out` starts zero-filled
      offset = 0;
      continue;
    }
    const n = Math.min(record.length - pos, room - HEADER_BYTES);
    const last = pos + n === record.length;
    const type = first ? (last ? FragmentType.Full : FragmentType.First) : last ? FragmentType.Last : FragmentType.Middle;
    const crc = fragmentCrc(type, record, pos, pos + n);
    out[at] = crc & 0xff;
    out[at + 1] = (crc >>> 8) & 0xff;
    out[at + 2] = (crc >>> 16) & 0xff;
    out[at + 3] = crc >>> 24;
    out[at + 4] = n & 0xff;
    out[at + 5] = n >>> 8;
    out[at + 6] = type;
    out.set(record.subarray(pos, pos + n), at + HEADER_BYTES);
    at += HEADER_BYTES + n;
    offset += HEADER_BYTES + n;
    pos += n;
    first = false;
  }
  assert(at === out.length, `log record size mismatch: ${at} != ${out.length}`);
  // A block filled exactly leaves the writer at the start of the next one.
  return { bytes: out, blockOffset: offset === blockBytes ? 0 : offset };
}

/**
 * Writes the header of a FULL fragment in place: `fragment` is the header's
 * HEADER_BYTES followed by the `length` payload bytes.
 */
export function writeFullHeader(fragment: Uint8Array, length: number): void {
  if (!(length <= 0xffff && fragment.length === HEADER_BYTES + length)) throw new AssertionError(`full fragment of ${length} bytes`);
  const crc = fragmentCrc(FragmentType.Full, fragment, HEADER_BYTES, HEADER_BYTES + length);
  fragment[0] = crc & 0xff;
  fragment[1] = (crc >>> 8) & 0xff;
  fragment[2] = (crc >>> 16) & 0xff;
  fragment[3] = crc >>> 24;
  fragment[4] = length & 0xff;
  fragment[5] = length >>> 8;
  fragment[6] = FragmentType.Full;
}

export interface FragmentHeader {
  crc: number;
  length: number;
  type: number;
}

export function readFragmentHeader(block: Uint8Array, at: number): FragmentHeader {
  assert(at + HEADER_BYTES <= block.length, 'fragment header past the end of the block');
  return {
    crc: (block[at]! | (block[at + 1]! << 8) | (block[at + 2]! << 16) | (block[at + 3]! << 24)) >>> 0,
    length: block[at + 4]! | (block[at + 5]! << 8),
    type: block[at + 6]!,
  };
}
