import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BloomFilter, BloomFilterBuilder, probesForBitsPerKey } from './bloom_filter.ts';
import { CorruptionError } from './errors.ts';

const text = (s: string) => new TextEncoder().encode(s);

function build(keys: Uint8Array[], bitsPerKey = 10): BloomFilter {
  const b = new BloomFilterBuilder(bitsPerKey);
  for (const k of keys) b.addKey(k);
  return new BloomFilter(b.finish());
}

/** Fraction of `absent` keys the filter wrongly admits. */
function falsePositiveRate(filter: BloomFilter, absent: number, prefix: string): number {
  let hits = 0;
  for (let i = 0; i < absent; i++) if (filter.mayContain(text(`${prefix}${i}`))) hits++;
  return hits / absent;
}

describe('bloom filter', () => {
  it('uses k = round(ln2 * bits/key) probes', () => {
    expect(probesForBitsPerKey(10)).toBe(7);
    expect(probesForBitsPerKey(5)).toBe(3);
    expect(probesForBitsPerKey(1)).toBe(1);
    expect(probesForBitsPerKey(64)).toBe(30);
    const b = new BloomFilterBuilder(10);
    b.addKey(text('x'));
    const encoded = b.finish();
    expect(encoded[encoded.length - 1]).toBe(7);
  });

  it('never forgets a key it was given', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 300 }), fc.integer({ min: 1, max: 20 }), (keys, bits) => {
        const filter = build(keys, bits);
        for (const k of keys) expect(filter.mayContain(k)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('admits at most 1.2% of 100,000 absent keys at 10 bits per key', () => {
    const present: Uint8Array[] = [];
    for (let i = 0; i < 100_000; i++) present.push(text(`user:${i}:profile`));
    const filter = build(present, 10);
    expect(filter.byteLength()).toBe(125_000);
    const rate = falsePositiveRate(filter, 100_000, 'absent:');
    console.log(`bloom false-positive rate at 10 bits/key: ${(rate * 100).toFixed(3)}% over 100000 absent keys (100000 keys in the filter)`);
    expect(rate).toBeLessThanOrEqual(0.012);
    // A filter that admitted nothing would be broken the other way.
    expect(rate).toBeGreaterThan(0.002);
  });

  it('keeps its rate on small tables and binary keys', () => {
    for (const n of [10, 100, 1000, 10_000]) {
      const present: Uint8Array[] = [];
      for (let i = 0; i < n; i++) present.push(Uint8Array.of(i & 0xff, (i >>> 8) & 0xff, 0, 0));
      const filter = build(present);
      let hits = 0;
      const absent = 100_000;
      for (let i = 0; i < absent; i++) if (filter.mayContain(Uint8Array.of(i & 0xff, (i >>> 8) & 0xff, (i >>> 16) & 0xff | 1, 7))) hits++;
      // Tiny filters round up to 64 bits, so they are at least as good.
      expect(hits / absent).toBeLessThanOrEqual(0.02);
    }
  });

  it('gets worse with fewer bits, better with more', () => {
    const present: Uint8Array[] = [];
    for (let i = 0; i < 20_000; i++) present.push(text(`k${i}`));
    const r5 = falsePositiveRate(build(present, 5), 50_000, 'z');
    const r10 = falsePositiveRate(build(present, 10), 50_000, 'z');
    const r20 = falsePositiveRate(build(present, 20), 50_000, 'z');
    expect(r5).toBeGreaterThan(r10);
    expect(r10).toBeGreaterThan(r20);
  });

  it('with 0 bits per key writes no filter and admits everything', () => {
    const b = new BloomFilterBuilder(0);
    b.addKey(text('a'));
    const encoded = b.finish();
    expect(encoded.length).toBe(0);
    expect(new BloomFilter(encoded).mayContain(text('zzz'))).toBe(true);
  });

  it('rejects encodings a builder cannot produce', () => {
    expect(() => new BloomFilter(Uint8Array.of(1, 2, 7))).toThrow(CorruptionError);
    const b = new BloomFilterBuilder(10);
    b.addKey(text('a'));
    const encoded = b.finish();
    encoded[encoded.length - 1] = 0;
    expect(() => new BloomFilter(encoded)).toThrow(CorruptionError);
    encoded[encoded.length - 1] = 31;
    expect(() => new BloomFilter(encoded)).toThrow(CorruptionError);
  });
});
