// The SSTable file format (LevelDB's layout, ringkv's entries). An SSTable is
// an immutable sorted run of entries in internal order (key ascending, seq
// descending), written once by SstableWriter and read by SstableReader.
//
//   <beginning of file>
//   [data block 0]       [trailer]
//   [data block 1]       [trailer]
//   ...
//   [data block N-1]     [trailer]
//   [filter block]       [trailer]    whole-table bloom filter (bloom_filter.ts)
//   [properties block]   [trailer]    counts, seq range, key range
//   [index block]        [trailer]    one entry per data block
//   [footer]                          FOOTER_BYTES, fixed size
//   <end of file>
//
// Data blocks are contiguous from offset 0; the filter, properties and index
// blocks follow in that order and the index ends where the footer starts.
//
// trailer (5 bytes):
//   compression: u8      0 = the stored bytes are the block itself,
//                        1 = the stored bytes are io/lz4_block.ts framing
//   crc: u32le           maskCrc(crc32c(stored bytes ++ compression byte))
//
// A block handle (offset, size) names the stored bytes, trailer excluded:
//   handle := offset: varint, size: varint
//
// footer (FOOTER_BYTES = 64):
//   filterHandle propertiesHandle indexHandle   varints, zero-padded to 48 bytes
//   formatVersion: u32le                         FORMAT_VERSION
//   crc: u32le                                   maskCrc(crc32c(footer[0, 52)))
//   magic: 8 bytes                               TABLE_MAGIC, "ringkvST"
//
// block (data and index blocks; built by block_builder.ts):
//   entry*  restart: u32le * restartCount  restartCount: u32le
//   entry := shared: varint        bytes shared with the previous key (0 at a restart)
//            unshared: varint      bytes of key that follow
//            seq: varint
//            kind: varint          EntryKind (0 = Delete, 1 = Put)
//            timeMs: varint        Entry.timeMs
//            valueLength: varint
//            keyDelta: unshared bytes
//            value: valueLength bytes
//   restart[i] is the offset of an entry stored with shared = 0; restart[0] = 0.
//
// Index block entries (restart interval 1, kind Put, timeMs 0): key and seq are
// a separator S with  last entry of block i <= S < first entry of block i+1
// (internal order); value is block i's handle. The separator is the block's
// last (key, seq), or a shorter user key strictly between the blocks' keys
// (with seq MAX_SEQ) when one exists.
//
// properties block:
//   entryCount tombstoneCount smallestSeq largestSeq dataBlockCount   varints
//   smallestKey largestKey                                            varint length + bytes
//
// Every byte of the file is under a checksum (a block's trailer or the footer's
// crc), so any single bit flip is detected where it is read.

import { assert } from '../../io/assert.ts';
import { crc32cUpdate, maskCrc } from '../../io/crc32c.ts';
import { BLOCK_LZ4, compressBlock, decompressBlock } from '../../io/lz4_block.ts';
import { compareKeys } from './entry.ts';
import { CorruptionError } from './errors.ts';
import { ByteReader, ByteWriter, putVarint } from './varint.ts';

export const FOOTER_BYTES = 64;
const FOOTER_HANDLES_BYTES = 48;
export const FORMAT_VERSION = 1;
export const TABLE_MAGIC = Uint8Array.of(0x72, 0x69, 0x6e, 0x67, 0x6b, 0x76, 0x53, 0x54); // "ringkvST"
export const TRAILER_BYTES = 5;
export const COMPRESSION_NONE = 0;
export const COMPRESSION_LZ4 = 1;

export interface BlockHandle {
  offset: number;
  size: number;
}

export function encodeHandle(w: ByteWriter, h: BlockHandle): void {
  w.varint(h.offset);
  w.varint(h.size);
}

export function decodeHandle(r: ByteReader): BlockHandle {
  const offset = r.varint();
  const size = r.varint();
  return { offset, size };
}

export interface Footer {
  filter: BlockHandle;
  properties: BlockHandle;
  index: BlockHandle;
}

export function encodeFooter(f: Footer): Uint8Array {
  const out = new Uint8Array(FOOTER_BYTES);
  let p = 0;
  for (const h of [f.filter, f.properties, f.index]) {
    p = putVarint(out, p, h.offset);
    p = putVarint(out, p, h.size);
  }
  assert(p <= FOOTER_HANDLES_BYTES, 'footer handles overflow');
  const view = new DataView(out.buffer);
  view.setUint32(FOOTER_HANDLES_BYTES, FORMAT_VERSION, true);
  view.setUint32(FOOTER_HANDLES_BYTES + 4, maskCrc(crc32cUpdate(0, out, 0, FOOTER_HANDLES_BYTES + 4)), true);
  out.set(TABLE_MAGIC, FOOTER_HANDLES_BYTES + 8);
  return out;
}

/** Decodes and verifies a footer; `fileSize` bounds the handles. */
export function decodeFooter(bytes: Uint8Array, fileSize: number): Footer {
  if (bytes.length !== FOOTER_BYTES) throw new CorruptionError(`footer is ${bytes.length} bytes, not ${FOOTER_BYTES}`);
  for (let i = 0; i < TABLE_MAGIC.length; i++) {
    if (bytes[FOOTER_HANDLES_BYTES + 8 + i] !== TABLE_MAGIC[i]) throw new CorruptionError('bad magic number: not an SSTable, or truncated');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const crc = view.getUint32(FOOTER_HANDLES_BYTES + 4, true);
  if (crc !== maskCrc(crc32cUpdate(0, bytes, 0, FOOTER_HANDLES_BYTES + 4))) throw new CorruptionError('footer checksum mismatch');
  const version = view.getUint32(FOOTER_HANDLES_BYTES, true);
  if (version !== FORMAT_VERSION) throw new CorruptionError(`unsupported table format version ${version}`);
  const r = new ByteReader(bytes, 0, FOOTER_HANDLES_BYTES);
  const footer = { filter: decodeHandle(r), properties: decodeHandle(r), index: decodeHandle(r) };
  // The metadata blocks are contiguous and the index ends at the footer.
  const footerStart = fileSize - FOOTER_BYTES;
  if (blockEnd(footer.filter) !== footer.properties.offset) throw new CorruptionError('filter block does not precede properties');
  if (blockEnd(footer.properties) !== footer.index.offset) throw new CorruptionError('properties block does not precede index');
  if (blockEnd(footer.index) !== footerStart) throw new CorruptionError('index block does not end at the footer');
  return footer;
}

/** Offset just past a block's trailer. */
export function blockEnd(h: BlockHandle): number {
  return h.offset + h.size + TRAILER_BYTES;
}

/**
 * The bytes to append for one block: stored bytes plus trailer, in a fresh
 * array (files may keep a reference to what they are given). LZ4 is used only
 * when it saves at least an eighth, so incompressible blocks skip decompression.
 */
export function encodeStoredBlock(raw: Uint8Array, compress: boolean): Uint8Array {
  let stored = raw;
  let kind = COMPRESSION_NONE;
  if (compress && raw.length >= 64) {
    const c = compressBlock(raw);
    if (c[0] === BLOCK_LZ4 && c.length <= raw.length - (raw.length >>> 3)) {
      stored = c;
      kind = COMPRESSION_LZ4;
    }
  }
  const out = new Uint8Array(stored.length + TRAILER_BYTES);
  out.set(stored);
  out[stored.length] = kind;
  const crc = maskCrc(crc32cUpdate(crc32cUpdate(0, stored), out, stored.length, stored.length + 1));
  new DataView(out.buffer).setUint32(stored.length + 1, crc, true);
  return out;
}

/**
 * Verifies and decodes stored bytes + trailer (as read from the file for a
 * handle). Throws CorruptionError, never any other error.
 */
export function decodeStoredBlock(bytes: Uint8Array, handle: BlockHandle): Uint8Array {
  if (bytes.length !== handle.size + TRAILER_BYTES) throw new CorruptionError(`block at ${handle.offset} truncated: ${bytes.length} of ${handle.size + TRAILER_BYTES} bytes`);
  const n = handle.size;
  const kind = bytes[n]!;
  const stored = (bytes[n + 1]! | (bytes[n + 2]! << 8) | (bytes[n + 3]! << 16) | (bytes[n + 4]! << 24)) >>> 0;
  const actual = maskCrc(crc32cUpdate(0, bytes, 0, n + 1));
  if (stored !== actual) throw new CorruptionError(`block at ${handle.offset} checksum mismatch`);
  const body = bytes.subarray(0, n);
  if (kind === COMPRESSION_NONE) return body;
  if (kind !== COMPRESSION_LZ4) throw new CorruptionError(`block at ${handle.offset} has compression kind ${kind}`);
  try {
    return decompressBlock(body);
  } catch (e) {
    throw new CorruptionError(`block at ${handle.offset} does not decompress: ${(e as Error).message}`);
  }
}

export interface TableProperties {
  entryCount: number;
  tombstoneCount: number;
  smallestSeq: number;
  largestSeq: number;
  dataBlockCount: number;
  smallestKey: Uint8Array;
  largestKey: Uint8Array;
}

export function encodeProperties(p: TableProperties): Uint8Array {
  const w = new ByteWriter(64 + p.smallestKey.length + p.largestKey.length);
  w.varint(p.entryCount);
  w.varint(p.tombstoneCount);
  w.varint(p.smallestSeq);
  w.varint(p.largestSeq);
  w.varint(p.dataBlockCount);
  w.lengthPrefixed(p.smallestKey);
  w.lengthPrefixed(p.largestKey);
  return w.copy();
}

export function decodeProperties(bytes: Uint8Array): TableProperties {
  const r = new ByteReader(bytes);
  const p: TableProperties = {
    entryCount: r.varint(),
    tombstoneCount: r.varint(),
    smallestSeq: r.varint(),
    largestSeq: r.varint(),
    dataBlockCount: r.varint(),
    smallestKey: r.lengthPrefixed().slice(),
    largestKey: r.lengthPrefixed().slice(),
  };
  if (r.remaining() !== 0) throw new CorruptionError(`properties block has ${r.remaining()} trailing bytes`);
  if (p.tombstoneCount > p.entryCount) throw new CorruptionError('properties: more tombstones than entries');
  if (p.smallestSeq > p.largestSeq) throw new CorruptionError('properties: smallest seq above largest');
  if ((p.entryCount === 0) !== (p.dataBlockCount === 0)) throw new CorruptionError('properties: entry and block counts disagree');
  if (p.entryCount > 0 && compareKeys(p.smallestKey, p.largestKey) > 0) throw new CorruptionError('properties: smallest key above largest');
  return p;
}

/**
 * A user key S with a < S < b that is shorter than a, or undefined when none
 * exists (LevelDB's FindShortestSeparator). Requires a < b.
 */
export function shortSeparator(a: Uint8Array, b: Uint8Array): Uint8Array | undefined {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  if (i >= n) return undefined; // one is a prefix of the other
  const byte = a[i]!;
  if (byte === 0xff || byte + 1 >= b[i]! || i + 1 >= a.length) return undefined;
  const s = a.slice(0, i + 1);
  s[i] = byte + 1;
  return s;
}
