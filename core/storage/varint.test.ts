import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptionError } from './errors.ts';
import { ByteReader, ByteWriter, MAX_VARINT_BYTES, putVarint, varintLength } from './varint.ts';

const safeInt = fc.oneof(
  fc.integer({ min: 0, max: 300 }),
  fc.integer({ min: 0, max: 0x7fffffff }),
  fc.integer({ min: 0x7fffffff, max: 2 ** 36 }),
  fc.maxSafeNat(),
  fc.constantFrom(0, 127, 128, 16383, 16384, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 32, 2 ** 49 - 1, 2 ** 49, Number.MAX_SAFE_INTEGER),
);

describe('varint', () => {
  it('round-trips any safe integer, in sequence, with the length varintLength predicts', () => {
    fc.assert(
      fc.property(fc.array(safeInt, { maxLength: 40 }), (values) => {
        const w = new ByteWriter(16);
        let expectedBytes = 0;
        for (const v of values) {
          w.varint(v);
          expectedBytes += varintLength(v);
        }
        expect(w.length).toBe(expectedBytes);
        const r = new ByteReader(w.copy());
        for (const v of values) expect(r.varint()).toBe(v);
        expect(r.remaining()).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('uses 7 bits per byte', () => {
    expect(varintLength(0)).toBe(1);
    expect(varintLength(127)).toBe(1);
    expect(varintLength(128)).toBe(2);
    expect(varintLength(2 ** 28 - 1)).toBe(4);
    expect(varintLength(2 ** 28)).toBe(5);
    expect(varintLength(Number.MAX_SAFE_INTEGER)).toBe(MAX_VARINT_BYTES);
    const buf = new Uint8Array(8);
    expect(putVarint(buf, 0, 300)).toBe(2);
    expect([...buf.subarray(0, 2)]).toEqual([0xac, 0x02]);
  });

  it('refuses values that are not safe non-negative integers', () => {
    const w = new ByteWriter();
    expect(() => w.varint(-1)).toThrow();
    expect(() => w.varint(1.5)).toThrow();
    expect(() => w.varint(2 ** 53)).toThrow();
  });

  it('reports truncated, overlong and oversized varints as corruption', () => {
    fc.assert(
      fc.property(safeInt.filter((v) => v >= 128), fc.nat(), (v, cut) => {
        const w = new ByteWriter();
        w.varint(v);
        const bytes = w.copy();
        const r = new ByteReader(bytes, 0, cut % bytes.length);
        expect(() => r.varint()).toThrow(CorruptionError);
      }),
    );
    expect(() => new ByteReader(new Uint8Array(9).fill(0x80)).varint()).toThrow(/longer than 8/);
    // 2^56 - 1: eight full groups, above 2^53.
    expect(() => new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)).varint()).toThrow(/2\^53/);
    expect(() => new ByteReader(new Uint8Array(0)).varint()).toThrow(CorruptionError);
  });

  it('reads fixed-width fields and bounded byte runs', () => {
    const w = new ByteWriter(16);
    w.u8(7);
    w.u32(0xdeadbeef);
    w.lengthPrefixed(Uint8Array.of(1, 2, 3));
    w.bytes(Uint8Array.of(9, 8, 7, 6), 1, 3);
    const r = new ByteReader(w.copy());
    expect(r.u8()).toBe(7);
    expect(r.u32()).toBe(0xdeadbeef);
    expect([...r.lengthPrefixed()]).toEqual([1, 2, 3]);
    expect([...r.bytes(2)]).toEqual([8, 7]);
    expect(() => r.u8()).toThrow(CorruptionError);
    expect(() => r.u32()).toThrow(CorruptionError);
    expect(() => new ByteReader(Uint8Array.of(5, 1)).lengthPrefixed()).toThrow(CorruptionError);
  });

  it('copies any range of a source, short or long', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 90 }), fc.nat(), fc.nat()), { maxLength: 20 }), (parts) => {
        const w = new ByteWriter(16);
        const expected: number[] = [];
        for (const [data, a, b] of parts) {
          const start = data.length === 0 ? 0 : a % (data.length + 1);
          const end = start + (data.length === 0 ? 0 : b % (data.length - start + 1));
          w.bytes(data, start, end);
          expected.push(...data.subarray(start, end));
        }
        expect([...w.view()]).toEqual(expected);
      }),
    );
  });

  it('grows its buffer and keeps earlier bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 30 }), (chunks) => {
        const w = new ByteWriter(16);
        for (const c of chunks) w.bytes(c);
        const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let p = 0;
        for (const c of chunks) {
          all.set(c, p);
          p += c.length;
        }
        expect(w.copy()).toEqual(all);
        w.reset();
        expect(w.length).toBe(0);
      }),
    );
  });
});
