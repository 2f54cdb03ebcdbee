import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur3x86_128 } from '../ring/key_hash.ts';
import { addMod64, contentHash64, entryHash64, hashFromBytes, hashToBytes, nodeHashInto } from './merkle_hash.ts';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe('merkle_hash', () => {
  it('addMod64 adds and subtracts modulo 2^64 like bigint arithmetic', () => {
    fc.assert(
      fc.property(u64, fc.array(fc.tuple(u64, fc.boolean()), { maxLength: 20 }), (start, ops) => {
        const words = new Uint32Array([Number(start >> 32n), Number(start & 0xffff_ffffn)]);
        let model = start;
        for (const [x, add] of ops) {
          addMod64(words, 0, Number(x >> 32n), Number(x & 0xffff_ffffn), add ? 1 : -1);
          model = (add ? model + x : model - x + (1n << 64n)) % (1n << 64n);
        }
        expect((BigInt(words[0]!) << 32n) | BigInt(words[1]!)).toBe(model);
      }),
    );
  });

  it('hash bytes round-trip, big-endian', () => {
    fc.assert(
      fc.property(u64, (h) => {
        expect(hashFromBytes(hashToBytes(h))).toBe(h);
      }),
    );
    expect([...hashToBytes(0x0102030405060708n)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(() => hashToBytes(1n << 64n)).toThrow();
  });

  it('content hash is murmur3 x86_128 (its first two words) under its own seed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const h = contentHash64(bytes);
        expect(h >= 0n && h < 1n << 64n).toBe(true);
        expect(contentHash64(bytes.slice())).toBe(h);
        const [h1, h2] = murmur3x86_128(bytes, 0);
        // Not the token hash: a value's content hash never equals its key's token by construction.
        expect(h === ((BigInt(h1) << 32n) | BigInt(h2)) && bytes.length > 0).toBe(false);
      }),
    );
  });

  it('entry hashes are odd and depend on key and content alike', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), u64, u64, (key, c1, c2) => {
        const h = entryHash64(key, c1);
        expect(h & 1n).toBe(1n);
        if (c1 !== c2) expect(entryHash64(key, c2)).not.toBe(h);
        const other = Uint8Array.of(...key, 7);
        expect(entryHash64(other, c1)).not.toBe(h);
      }),
    );
    // Key ‖ content splits one way: moving a byte between them changes the hash.
    expect(entryHash64(Uint8Array.of(1, 2), 0x0300000000000000n)).not.toBe(entryHash64(Uint8Array.of(1), 0x0203000000000000n));
  });

  it('an all-zero set of children hashes to zero, anything else does not', () => {
    const out = new Uint32Array(2);
    nodeHashInto(new Uint8Array(128), out, 0);
    expect([...out]).toEqual([0, 0]);
    const children = new Uint8Array(128);
    children[127] = 1;
    nodeHashInto(children, out, 0);
    expect(out[0]! !== 0 || out[1]! !== 0).toBe(true);
  });
});
