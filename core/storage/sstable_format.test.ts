import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys } from './entry.ts';
import { CorruptionError } from './errors.ts';
import {
  COMPRESSION_LZ4,
  COMPRESSION_NONE,
  decodeFooter,
  decodeProperties,
  decodeStoredBlock,
  encodeFooter,
  encodeProperties,
  encodeStoredBlock,
  FOOTER_BYTES,
  type Footer,
  shortSeparator,
  TRAILER_BYTES,
} from './sstable_format.ts';

const handle = fc.record({ offset: fc.maxSafeNat(), size: fc.maxSafeNat() });

/** A footer whose handles are laid out the way decodeFooter insists on. */
const footerArb = fc.tuple(fc.maxSafeNat(), fc.nat(), fc.nat(), fc.nat()).map(([start, a, b, c]) => {
  const base = start % 2 ** 50;
  const filter = { offset: base, size: a };
  const properties = { offset: base + a + TRAILER_BYTES, size: b };
  const index = { offset: properties.offset + b + TRAILER_BYTES, size: c };
  return { footer: { filter, properties, index } as Footer, fileSize: index.offset + c + TRAILER_BYTES + FOOTER_BYTES };
});

describe('sstable format', () => {
  it('round-trips footers with any handles, in 64 bytes', () => {
    fc.assert(
      fc.property(footerArb, ({ footer, fileSize }) => {
        const bytes = encodeFooter(footer);
        expect(bytes.length).toBe(FOOTER_BYTES);
        expect(decodeFooter(bytes, fileSize)).toEqual(footer);
      }),
    );
    // The widest handles still fit.
    const max = { offset: Number.MAX_SAFE_INTEGER, size: Number.MAX_SAFE_INTEGER };
    expect(encodeFooter({ filter: max, properties: max, index: max }).length).toBe(FOOTER_BYTES);
    fc.assert(
      fc.property(handle, (h) => {
        expect(encodeFooter({ filter: h, properties: h, index: h }).length).toBe(FOOTER_BYTES);
      }),
    );
  });

  it('rejects a footer with any bit flipped, or one that does not end the file', () => {
    fc.assert(
      fc.property(footerArb, fc.integer({ min: 0, max: FOOTER_BYTES * 8 - 1 }), ({ footer, fileSize }, bit) => {
        const bytes = encodeFooter(footer);
        bytes[bit >>> 3]! ^= 1 << (bit & 7);
        expect(() => decodeFooter(bytes, fileSize)).toThrow(CorruptionError);
        expect(() => decodeFooter(encodeFooter(footer), fileSize + 1)).toThrow(CorruptionError);
      }),
    );
    const bytes = encodeFooter({ filter: { offset: 0, size: 0 }, properties: { offset: 5, size: 0 }, index: { offset: 10, size: 0 } });
    bytes[FOOTER_BYTES - 1] = 0;
    expect(() => decodeFooter(bytes, 15 + FOOTER_BYTES)).toThrow(/magic/);
  });

  it('stores blocks raw or lz4-compressed and reads them back', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.string({ maxLength: 300 }).map((s) => new TextEncoder().encode(s.repeat(5)))), fc.boolean(), (raw, compress) => {
        const stored = encodeStoredBlock(raw, compress);
        const size = stored.length - TRAILER_BYTES;
        if (!compress) expect(stored[size]).toBe(COMPRESSION_NONE);
        expect(decodeStoredBlock(stored, { offset: 0, size })).toEqual(raw);
      }),
    );
    const text = new TextEncoder().encode('abcdefgh'.repeat(512));
    const stored = encodeStoredBlock(text, true);
    expect(stored[stored.length - TRAILER_BYTES]).toBe(COMPRESSION_LZ4);
    expect(stored.length).toBeLessThan(text.length / 4);
  });

  it('detects every single-bit flip in a stored block, and truncation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), fc.boolean(), fc.nat(), (raw, compress, bitSeed) => {
        const stored = encodeStoredBlock(raw, compress);
        const size = stored.length - TRAILER_BYTES;
        const bit = bitSeed % (stored.length * 8);
        const bad = stored.slice();
        bad[bit >>> 3]! ^= 1 << (bit & 7);
        expect(() => decodeStoredBlock(bad, { offset: 0, size })).toThrow(CorruptionError);
        expect(() => decodeStoredBlock(stored.subarray(0, stored.length - 1), { offset: 0, size })).toThrow(CorruptionError);
      }),
    );
  });

  it('round-trips properties and rejects inconsistent ones', () => {
    const props = {
      entryCount: 10,
      tombstoneCount: 3,
      smallestSeq: 4,
      largestSeq: 2 ** 50,
      dataBlockCount: 2,
      smallestKey: Uint8Array.of(1),
      largestKey: Uint8Array.of(9, 9),
    };
    expect(decodeProperties(encodeProperties(props))).toEqual(props);
    expect(() => decodeProperties(encodeProperties({ ...props, tombstoneCount: 11 }))).toThrow(CorruptionError);
    expect(() => decodeProperties(encodeProperties({ ...props, smallestSeq: 2 ** 51 }))).toThrow(CorruptionError);
    expect(() => decodeProperties(encodeProperties({ ...props, dataBlockCount: 0 }))).toThrow(CorruptionError);
    expect(() => decodeProperties(encodeProperties({ ...props, smallestKey: Uint8Array.of(9, 9, 9) }))).toThrow(CorruptionError);
    const bytes = encodeProperties(props);
    expect(() => decodeProperties(bytes.subarray(0, bytes.length - 1))).toThrow(CorruptionError);
  });

  it('finds separators strictly between two keys and shorter than the first', () => {
    const key = fc.array(fc.constantFrom(0, 1, 2, 100, 101, 102, 254, 255), { minLength: 1, maxLength: 8 }).map((a) => Uint8Array.from(a));
    let found = 0;
    fc.assert(
      fc.property(key, key, (x, y) => {
        const c = compareKeys(x, y);
        fc.pre(c !== 0);
        const [a, b] = c < 0 ? [x, y] : [y, x];
        const s = shortSeparator(a, b);
        if (s === undefined) return;
        found++;
        expect(compareKeys(a, s)).toBeLessThan(0);
        expect(compareKeys(s, b)).toBeLessThan(0);
        expect(s.length).toBeLessThan(a.length);
      }),
      { numRuns: 1000 },
    );
    expect(found).toBeGreaterThan(0);
    expect(shortSeparator(Uint8Array.of(1, 2, 3, 4), Uint8Array.of(1, 5))).toEqual(Uint8Array.of(1, 3));
    expect(shortSeparator(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBeUndefined();
    expect(shortSeparator(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 3))).toBeUndefined();
  });
});
