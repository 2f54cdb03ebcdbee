import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur3_32 } from './hash32.ts';

const text = (s: string) => new TextEncoder().encode(s);

describe('murmur3_32', () => {
  it('matches the reference implementation (MurmurHash3_x86_32 vectors)', () => {
    expect(murmur3_32(new Uint8Array(0), 0)).toBe(0);
    expect(murmur3_32(new Uint8Array(0), 1)).toBe(0x514e28b7);
    expect(murmur3_32(new Uint8Array(0), 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3_32(new Uint8Array(4), 0)).toBe(0x2362f9de);
    expect(murmur3_32(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 0)).toBe(0x76293b50);
    expect(murmur3_32(Uint8Array.of(0x21, 0x43, 0x65, 0x87), 0)).toBe(0xf55b516b);
    expect(murmur3_32(Uint8Array.of(0x21, 0x43, 0x65, 0x87), 0x5082edee)).toBe(0x2362f9de);
    expect(murmur3_32(Uint8Array.of(0x21, 0x43, 0x65), 0)).toBe(0x7e4a8634);
    expect(murmur3_32(Uint8Array.of(0x21, 0x43), 0)).toBe(0xa0f7b07a);
    expect(murmur3_32(Uint8Array.of(0x21), 0)).toBe(0x72661cf4);
    expect(murmur3_32(text('aaaa'), 0x9747b28c)).toBe(0x5a97808a);
    expect(murmur3_32(text('aaa'), 0x9747b28c)).toBe(0x283e0130);
    expect(murmur3_32(text('aa'), 0x9747b28c)).toBe(0x5d211726);
    expect(murmur3_32(text('a'), 0x9747b28c)).toBe(0x7fa09ea6);
    expect(murmur3_32(text('Hello, world!'), 0x9747b28c)).toBe(0x24884cba);
    expect(murmur3_32(text('The quick brown fox jumps over the lazy dog'), 0x9747b28c)).toBe(0x2fa826cd);
  });

  it('hashes a sub-range exactly as the same bytes on their own', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.nat(), fc.nat(), (data, a, b, seed) => {
        const start = data.length === 0 ? 0 : a % (data.length + 1);
        const end = start + (data.length === start ? 0 : b % (data.length - start + 1));
        expect(murmur3_32(data, seed, start, end)).toBe(murmur3_32(data.slice(start, end), seed));
      }),
    );
  });

  it('returns unsigned 32-bit values and spreads single-bit changes', () => {
    let totalFlipped = 0;
    const trials = 2000;
    for (let i = 0; i < trials; i++) {
      const key = text(`key-${i}`);
      const h = murmur3_32(key);
      expect(h >>> 0).toBe(h);
      const flipped = key.slice();
      flipped[i % key.length]! ^= 1 << (i % 8);
      let x = h ^ murmur3_32(flipped);
      while (x !== 0) {
        totalFlipped += x & 1;
        x >>>= 1;
      }
    }
    // Avalanche: about half of the 32 output bits change.
    const mean = totalFlipped / trials;
    expect(mean).toBeGreaterThan(15);
    expect(mean).toBeLessThan(17);
  });
});
