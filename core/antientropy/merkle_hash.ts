// The 64-bit hashes of the Merkle trees: of a stored value (content), of one
// entry (key with content), and of an inner node (its children). All three
// are MurmurHash3 x86_128 (core/ring/key_hash.ts), first two output words,
// each with its own seed so that the three kinds never coincide by
// construction. Murmur3 is not cryptographic: anti-entropy guards against
// accidents (lost writes, bit rot, bugs), not against a replica forging
// collisions; 64 bits make an accidental collision among a range's entries
// (~2^-64 per pair compared) negligible.
//
// A 64-bit hash is held as two unsigned 32-bit words (hi, lo), or as a bigint
// at the API edge; on the wire it is 8 bytes, hi then lo, big-endian.

import { assert } from '../../io/assert.ts';
import { murmur3x86_128Into } from '../ring/key_hash.ts';

const CONTENT_SEED = 0x6d65726b; // "merk"
const ENTRY_SEED = 0x656e7472; // "entr"
const NODE_SEED = 0x6e6f6465; // "node"

export const HASH_BYTES = 8;
const TWO_32 = 0x1_0000_0000;
const MAX_U64 = (1n << 64n) - 1n;

const digest = new Uint32Array(4);

/** The 64-bit value of words (hi, lo) as a bigint. */
export function toBigint(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/**
 * Hash of a stored value's bytes as the store holds them (version, value or
 * tombstone marker, expiry), so replicas holding different versions of a key
 * differ even where the value bytes are equal.
 */
export function contentHash64(bytes: Uint8Array): bigint {
  murmur3x86_128Into(bytes, CONTENT_SEED, digest);
  return toBigint(digest[0]!, digest[1]!);
}

/** contentHash64 as [hi, lo] words written into `out` (no bigint: the write path). */
export function contentHashInto(bytes: Uint8Array, out: Uint32Array): void {
  murmur3x86_128Into(bytes, CONTENT_SEED, digest);
  out[0] = digest[0]!;
  out[1] = digest[1]!;
}

let entryScratch = new Uint8Array(64);
/** Views of entryScratch by length, so hashing a short key makes no new view (reset when it grows). */
let entryViews: Uint8Array[] = [];

/**
 * Hash of one entry, from the key and the content hash together (hashing the
 * key alone would hide replicas that hold different values). The low bit is
 * forced to 1: an odd number times any count below 2^64 is never 0 mod 2^64,
 * so in a leaf's sum no number of copies of one entry can cancel out.
 * Writes [hi, lo] into `out`.
 */
export function entryHashInto(key: Uint8Array, contentHash: bigint, out: Uint32Array): void {
  if (!(contentHash >= 0n && contentHash <= MAX_U64)) assert(false, `content hash ${contentHash} outside 64 bits`);
  entryHashWordsInto(key, Number(contentHash >> 32n), Number(contentHash & 0xffff_ffffn), out);
}

/** entryHashInto of a content hash given as words (hi, lo), each an unsigned 32-bit number. */
export function entryHashWordsInto(key: Uint8Array, contentHi: number, contentLo: number, out: Uint32Array): void {
  const n = key.length + HASH_BYTES;
  if (entryScratch.length < n) {
    entryScratch = new Uint8Array(Math.max(n, entryScratch.length * 2));
    entryViews = [];
  }
  // Short keys byte by byte: TypedArray.set has a fixed cost that dominates them.
  if (key.length > 32) entryScratch.set(key, 0);
  else for (let i = 0; i < key.length; i++) entryScratch[i] = key[i]!;
  // The content hash has a fixed width, so key ‖ hash splits one way only.
  writeHash(entryScratch, key.length, contentHi, contentLo);
  let view = entryViews[n];
  if (view === undefined) {
    view = entryScratch.subarray(0, n);
    if (n <= 1024) entryViews[n] = view;
  }
  murmur3x86_128Into(view, ENTRY_SEED, digest);
  out[0] = digest[0]!;
  out[1] = (digest[1]! | 1) >>> 0;
}

/** entryHashInto as a bigint. */
export function entryHash64(key: Uint8Array, contentHash: bigint): bigint {
  const out = new Uint32Array(2);
  entryHashInto(key, contentHash, out);
  return toBigint(out[0]!, out[1]!);
}

/**
 * Hash of an inner node from its children's hashes in order (`children` is
 * fanout × 8 bytes). A node whose children are all zero (an empty subtree)
 * hashes to zero, so an empty tree needs no hashing at all.
 */
export function nodeHashInto(children: Uint8Array, out: Uint32Array, outIndex: number): void {
  let allZero = true;
  for (let i = 0; i < children.length; i++) {
    if (children[i] !== 0) {
      allZero = false;
      break;
    }
  }
  if (allZero) {
    out[outIndex] = 0;
    out[outIndex + 1] = 0;
    return;
  }
  murmur3x86_128Into(children, NODE_SEED, digest);
  out[outIndex] = digest[0]!;
  out[outIndex + 1] = digest[1]!;
}

/** Adds (sign 1) or subtracts (sign -1) the 64-bit value (hi, lo) to words[i], words[i+1], mod 2^64. */
export function addMod64(words: Uint32Array, i: number, hi: number, lo: number, sign: 1 | -1): void {
  if (sign === 1) {
    let l = words[i + 1]! + lo;
    let carry = 0;
    if (l >= TWO_32) {
      l -= TWO_32;
      carry = 1;
    }
    words[i + 1] = l;
    words[i] = (words[i]! + hi + carry) >>> 0;
  } else {
    let l = words[i + 1]! - lo;
    let borrow = 0;
    if (l < 0) {
      l += TWO_32;
      borrow = 1;
    }
    words[i + 1] = l;
    words[i] = (words[i]! - hi - borrow) >>> 0;
  }
}

/** Writes the 64-bit value (hi, lo) as 8 big-endian bytes at `at`. */
export function writeHash(bytes: Uint8Array, at: number, hi: number, lo: number): void {
  bytes[at] = hi >>> 24;
  bytes[at + 1] = (hi >>> 16) & 0xff;
  bytes[at + 2] = (hi >>> 8) & 0xff;
  bytes[at + 3] = hi & 0xff;
  bytes[at + 4] = lo >>> 24;
  bytes[at + 5] = (lo >>> 16) & 0xff;
  bytes[at + 6] = (lo >>> 8) & 0xff;
  bytes[at + 7] = lo & 0xff;
}

/** 8 big-endian bytes of a 64-bit bigint. */
export function hashToBytes(hash: bigint): Uint8Array {
  if (!(hash >= 0n && hash <= MAX_U64)) assert(false, `hash ${hash} outside 64 bits`);
  const out = new Uint8Array(HASH_BYTES);
  writeHash(out, 0, Number(hash >> 32n), Number(hash & 0xffff_ffffn));
  return out;
}

/** The 64-bit bigint held in 8 big-endian bytes at `at`. */
export function hashFromBytes(bytes: Uint8Array, at = 0): bigint {
  if (!(at >= 0 && at + HASH_BYTES <= bytes.length)) assert(false, `hash at ${at} of ${bytes.length} bytes`);
  const hi = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
  const lo = ((bytes[at + 4]! << 24) | (bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) | bytes[at + 7]!) >>> 0;
  return toBigint(hi, lo);
}
