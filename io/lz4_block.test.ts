import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCK_LZ4, BLOCK_RAW, CompressionError, compressBlock, decompressBlock } from './lz4_block.ts';

describe('lz4 block codec', () => {
  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (raw) => {
        expect(decompressBlock(compressBlock(raw))).toEqual(raw);
      }),
    );
  });

  it('round-trips repetitive bytes and actually compresses them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.integer({ min: 64, max: 400 }), (unit, reps) => {
        const raw = new Uint8Array(unit.length * reps);
        for (let i = 0; i < reps; i++) raw.set(unit, i * unit.length);
        const c = compressBlock(raw);
        expect(c[0]).toBe(BLOCK_LZ4);
        expect(c.length).toBeLessThan(raw.length);
        expect(decompressBlock(c)).toEqual(raw);
      }),
    );
  });

  it('stores incompressible data raw', () => {
    const raw = new Uint8Array([1, 2, 3]);
    expect(compressBlock(raw)[0]).toBe(BLOCK_RAW);
  });

  it('is deterministic regardless of what was compressed before', () => {
    const a = new Uint8Array(4096).map((_, i) => (i * 7) % 13);
    const first = compressBlock(a);
    compressBlock(new Uint8Array(4096).map((_, i) => (i * 31) % 251));
    expect(compressBlock(a)).toEqual(first);
  });

  it('rejects lengths that do not add up', () => {
    const c = compressBlock(new Uint8Array(1000)).slice();
    new DataView(c.buffer).setUint32(1, 999, true);
    expect(() => decompressBlock(c)).toThrow(CompressionError);
    expect(() => decompressBlock(new Uint8Array([9, 0, 0, 0, 0]))).toThrow(CompressionError);
    expect(() => decompressBlock(new Uint8Array([0, 1]))).toThrow(CompressionError);
  });
});
