import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cImplementation, crc32cUpdate, crc32cUpdateJs, installNativeCrc32c, maskCrc, unmaskCrc } from './crc32c.ts';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32c', () => {
  it('matches the published check values', () => {
    // RFC 3720 appendix B.4 and the standard "123456789" check value.
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('is the same computed in pieces as in one go', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(200), (data, cut) => {
        const at = Math.min(cut, data.length);
        expect(crc32cUpdate(crc32c(data, 0, at), data, at)).toBe(crc32c(data));
      }),
    );
  });

  it('detects every single-bit flip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), (data, bit) => {
        const flipped = data.slice();
        const at = bit % (data.length * 8);
        flipped[at >> 3]! ^= 1 << (at & 7);
        expect(crc32c(flipped)).not.toBe(crc32c(data));
      }),
    );
  });

  it('masks reversibly', () => {
    fc.assert(fc.property(fc.nat({ max: 0xffffffff }), (c) => {
      expect(unmaskCrc(maskCrc(c))).toBe(c);
    }));
  });

  it('uses the native implementation where its prebuilt binary exists (installed by the test setup, as by the CLI)', () => {
    // @node-rs/crc32 ships a binary for linux-x64 (this project's CI); elsewhere the fallback is fine.
    if (process.platform === 'linux' && process.arch === 'x64' && process.env.RINGKV_CRC32C !== 'js') expect(crc32cImplementation()).toBe('native');
  });

  it('refuses a native implementation that disagrees with the tables, and keeps the one it had', () => {
    const before = crc32cImplementation();
    expect(() => installNativeCrc32c((input, initial = 0) => (crc32cUpdateJs(initial, input) ^ 1) >>> 0)).toThrow(/disagrees/);
    expect(crc32cImplementation()).toBe(before);
  });

  it('gives the same checksums natively as in JavaScript, for any range and starting value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(5000), fc.nat(5000), fc.nat({ max: 0xffffffff }), (data, a, b, seed) => {
        const start = Math.min(a, b, data.length);
        const end = Math.min(Math.max(a, b), data.length);
        expect(crc32cUpdate(seed, data, start, end)).toBe(crc32cUpdateJs(seed, data, start, end));
        expect(crc32c(data)).toBe(crc32cUpdateJs(0, data));
      }),
      { numRuns: 300 },
    );
  });

  it('computes a long input in pieces the same as in one go, across the native threshold', () => {
    const data = new Uint8Array(70_000).map((_, i) => (i * 2654435761) >>> 24);
    for (const cut of [0, 1, 199, 200, 201, 255, 256, 4096, 69_999, 70_000]) {
      expect(crc32cUpdate(crc32c(data, 0, cut), data, cut)).toBe(crc32cUpdateJs(0, data));
    }
  });
});
