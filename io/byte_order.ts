// Unsigned 32-bit integers read from bytes at an offset, in either byte
// order, without a DataView per read: the formats read these per record,
// per frame and per block entry.

/** The little-endian u32 at bytes[at..at+4). */
export function readUint32Le(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** The big-endian u32 at bytes[at..at+4). */
export function readUint32Be(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}
