import fc from 'fast-check';
import * as lz4 from 'lz4js';
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

  it('compresses each block exactly as lz4js does with a fresh hash table, whatever came before', () => {
    const table = new Uint32Array(1 << 16);
    const reference = (raw: Uint8Array): Uint8Array => {
      const out = new Uint8Array(lz4.compressBound(raw.length) + raw.length);
      table.fill(0);
      return out.subarray(0, lz4.compressBlock(raw, out, 0, raw.length, table));
    };
    const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
    const arbBlock = fc.oneof(
      fc.uint8Array({ minLength: 32, maxLength: 5000 }),
      fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 24 }), fc.integer({ min: 2, max: 400 })).map(([unit, reps]) => {
        const raw = new Uint8Array(unit.length * reps);
        for (let i = 0; i < reps; i++) raw.set(unit, i * unit.length);
        return raw;
      }),
    );
    // 40 blocks and more a run: the scratch space (blocks a 64 KiB window apart) wraps around.
    const big = new Uint8Array(300_000).map((_, i) => (i % 97) ^ (i >> 9));
    fc.assert(
      fc.property(fc.array(arbBlock, { minLength: 1, maxLength: 40 }), (blocks) => {
        // Each block twice in a row: the second must not match into the first.
        for (const raw of [...blocks.flatMap((b) => [b, b]), big, ...blocks]) {
          const c = compressBlock(raw);
          const ref = raw.length >= 32 ? reference(raw) : new Uint8Array(0);
          if (c[0] === BLOCK_LZ4) expect(same(c.subarray(5), ref)).toBe(true);
          else expect(ref.length === 0 || ref.length >= raw.length).toBe(true);
          expect(same(decompressBlock(c), raw)).toBe(true);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('rejects lengths that do not add up', () => {
    const c = compressBlock(new Uint8Array(1000)).slice();
    new DataView(c.buffer).setUint32(1, 999, true);
    expect(() => decompressBlock(c)).toThrow(CompressionError);
    expect(() => decompressBlock(new Uint8Array([9, 0, 0, 0, 0]))).toThrow(CompressionError);
    expect(() => decompressBlock(new Uint8Array([0, 1]))).toThrow(CompressionError);
  });
});
