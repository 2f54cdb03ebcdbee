import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyToken, murmur3x86_128 } from './key_hash.ts';

// SMHasher's verification: hash {}, {0}, {0,1}, ... {0..254} with seed 256-i,
// concatenate the digests, hash that with seed 0; the first four bytes read as
// little-endian must equal the value published for MurmurHash3_x86_128.
function smhasherVerification(): number {
  const key = new Uint8Array(256);
  const digests = new Uint8Array(16 * 256);
  const view = new DataView(digests.buffer);
  for (let i = 0; i < 256; i++) {
    key[i] = i;
    const words = murmur3x86_128(key.subarray(0, i), 256 - i);
    for (let w = 0; w < 4; w++) view.setUint32(i * 16 + w * 4, words[w]!, true);
  }
  return murmur3x86_128(digests, 0)[0];
}

describe('key_hash', () => {
  it('matches the published MurmurHash3_x86_128 verification value', () => {
    expect(smhasherVerification().toString(16)).toBe('b3ece62a');
  });

  it('hashes the empty key with seed 0 to zero, like the reference', () => {
    expect(murmur3x86_128(new Uint8Array(0), 0)).toEqual([0, 0, 0, 0]);
    expect(keyToken(new Uint8Array(0))).toBe(0n);
  });

  it('token is the first two digest words, big-end first, in [0, 2^64)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (key) => {
        const [h1, h2] = murmur3x86_128(key, 0);
        const token = keyToken(key);
        expect(token).toBe((BigInt(h1) << 32n) | BigInt(h2));
        expect(token >= 0n && token < 1n << 64n).toBe(true);
      }),
    );
  });

  it('every tail length reaches every byte (a flipped bit changes the token)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 48 }), fc.nat(), fc.nat(7), (key, at, bit) => {
        const flipped = key.slice();
        const i = at % key.length;
        flipped[i] = flipped[i]! ^ (1 << bit);
        expect(keyToken(flipped)).not.toBe(keyToken(key));
      }),
    );
  });

  it('spreads sequential keys evenly over the ring (chi-square over 64 buckets)', () => {
    const buckets = new Array<number>(64).fill(0);
    const keys = 64_000;
    const encoder = new TextEncoder();
    for (let i = 0; i < keys; i++) buckets[Number(keyToken(encoder.encode(`user:${i}`)) >> 58n)]!++;
    const expected = keys / 64;
    const chi2 = buckets.reduce((s, b) => s + (b - expected) ** 2 / expected, 0);
    // 63 degrees of freedom: the 99.9th percentile is about 103.
    expect(chi2).toBeLessThan(103);
  });
});
