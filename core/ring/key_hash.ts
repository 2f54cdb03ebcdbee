// The ring position (token) of a key: MurmurHash3 x86_128 of the key's bytes,
// first 64 bits of the digest. The x86 variant works in 32-bit lanes, which
// JavaScript multiplies natively with Math.imul; the x64 variant would need
// 64-bit products emulated through BigInt or 16-bit limbs, several times slower
// on a path every request takes. Only the final token becomes a BigInt.
//
// Token = (h1 << 32) | h2, where h1..h4 are the four output words of the
// reference implementation (the digest bytes are h1..h4 little-endian), so a
// token is an unsigned integer in [0, 2^64). Changing this function moves every
// key to a different replica set: it is part of the on-disk and wire contract.

import { assert } from '../../io/assert.ts';

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

/** The four 32-bit output words of MurmurHash3_x86_128, each an unsigned number. */
export function murmur3x86_128(key: Uint8Array, seed = 0): [number, number, number, number] {
  const digest = new Uint32Array(4);
  murmur3x86_128Into(key, seed, digest);
  return [digest[0]!, digest[1]!, digest[2]!, digest[3]!];
}

/** Writes the four output words into `out` (no allocation: the hot path). */
export function murmur3x86_128Into(key: Uint8Array, seed: number, out: Uint32Array): void {
  assert(out.length >= 4, 'murmur3 output needs four words');
  const len = key.length;
  let h1 = seed | 0;
  let h2 = h1;
  let h3 = h1;
  let h4 = h1;
  const blockEnd = len - (len & 15);
  let i = 0;
  for (; i < blockEnd; i += 16) {
    let k1 = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    let k2 = key[i + 4]! | (key[i + 5]! << 8) | (key[i + 6]! << 16) | (key[i + 7]! << 24);
    let k3 = key[i + 8]! | (key[i + 9]! << 8) | (key[i + 10]! << 16) | (key[i + 11]! << 24);
    let k4 = key[i + 12]! | (key[i + 13]! << 8) | (key[i + 14]! << 16) | (key[i + 15]! << 24);

    k1 = Math.imul(k1, C1); k1 = (k1 << 15) | (k1 >>> 17); k1 = Math.imul(k1, C2); h1 ^= k1;
    h1 = (h1 << 19) | (h1 >>> 13); h1 = (h1 + h2) | 0; h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;

    k2 = Math.imul(k2, C2); k2 = (k2 << 16) | (k2 >>> 16); k2 = Math.imul(k2, C3); h2 ^= k2;
    h2 = (h2 << 17) | (h2 >>> 15); h2 = (h2 + h3) | 0; h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;

    k3 = Math.imul(k3, C3); k3 = (k3 << 17) | (k3 >>> 15); k3 = Math.imul(k3, C4); h3 ^= k3;
    h3 = (h3 << 15) | (h3 >>> 17); h3 = (h3 + h4) | 0; h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;

    k4 = Math.imul(k4, C4); k4 = (k4 << 18) | (k4 >>> 14); k4 = Math.imul(k4, C1); h4 ^= k4;
    h4 = (h4 << 13) | (h4 >>> 19); h4 = (h4 + h1) | 0; h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }

  // Tail: the reference's fall-through switch, one lane at a time.
  const rest = len & 15;
  if (rest > 12) {
    let k4 = 0;
    for (let j = rest - 1; j >= 12; j--) k4 = (k4 << 8) | key[i + j]!;
    k4 = Math.imul(k4, C4); k4 = (k4 << 18) | (k4 >>> 14); k4 = Math.imul(k4, C1); h4 ^= k4;
  }
  if (rest > 8) {
    let k3 = 0;
    for (let j = Math.min(rest, 12) - 1; j >= 8; j--) k3 = (k3 << 8) | key[i + j]!;
    k3 = Math.imul(k3, C3); k3 = (k3 << 17) | (k3 >>> 15); k3 = Math.imul(k3, C4); h3 ^= k3;
  }
  if (rest > 4) {
    let k2 = 0;
    for (let j = Math.min(rest, 8) - 1; j >= 4; j--) k2 = (k2 << 8) | key[i + j]!;
    k2 = Math.imul(k2, C2); k2 = (k2 << 16) | (k2 >>> 16); k2 = Math.imul(k2, C3); h2 ^= k2;
  }
  if (rest > 0) {
    let k1 = 0;
    for (let j = Math.min(rest, 4) - 1; j >= 0; j--) k1 = (k1 << 8) | key[i + j]!;
    k1 = Math.imul(k1, C1); k1 = (k1 << 15) | (k1 >>> 17); k1 = Math.imul(k1, C2); h1 ^= k1;
  }

  h1 ^= len; h2 ^= len; h3 ^= len; h4 ^= len;
  h1 = (h1 + h2) | 0; h1 = (h1 + h3) | 0; h1 = (h1 + h4) | 0;
  h2 = (h2 + h1) | 0; h3 = (h3 + h1) | 0; h4 = (h4 + h1) | 0;
  h1 = fmix32(h1); h2 = fmix32(h2); h3 = fmix32(h3); h4 = fmix32(h4);
  h1 = (h1 + h2) | 0; h1 = (h1 + h3) | 0; h1 = (h1 + h4) | 0;
  h2 = (h2 + h1) | 0; h3 = (h3 + h1) | 0; h4 = (h4 + h1) | 0;

  out[0] = h1; out[1] = h2; out[2] = h3; out[3] = h4;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

const scratch = new Uint32Array(4);
// Assembling the token through an 8-byte view costs one BigInt allocation,
// against three for (BigInt(h1) << 32n) | BigInt(h2).
const tokenBytes = new DataView(new ArrayBuffer(8));

/** The key's token on the ring, in [0, 2^64). */
export function keyToken(key: Uint8Array): bigint {
  murmur3x86_128Into(key, 0, scratch);
  tokenBytes.setUint32(0, scratch[0]!);
  tokenBytes.setUint32(4, scratch[1]!);
  return tokenBytes.getBigUint64(0);
}
