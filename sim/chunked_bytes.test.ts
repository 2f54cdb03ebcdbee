import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../io/assert.ts';
import { ChunkedBytes } from './chunked_bytes.ts';

describe('ChunkedBytes', () => {
  it('property: behaves like a plain growable array', () => {
    type Cmd =
      | { t: 'append'; len: number; seed: number }
      | { t: 'read'; off: number; len: number }
      | { t: 'truncate'; frac: number }
      | { t: 'write'; off: number; len: number; seed: number }
      | { t: 'flip'; off: number };
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ t: fc.constant('append' as const), len: fc.oneof(fc.nat(300), fc.integer({ min: 60_000, max: 140_000 })), seed: fc.nat(255) }) },
      { weight: 3, arbitrary: fc.record({ t: fc.constant('read' as const), off: fc.nat(300_000), len: fc.nat(140_000) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('truncate' as const), frac: fc.double({ min: 0, max: 1, noNaN: true }) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('write' as const), off: fc.nat(300_000), len: fc.nat(70_000), seed: fc.nat(255) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('flip' as const), off: fc.nat(300_000) }) },
    );
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 25 }), (cmds) => {
        const b = new ChunkedBytes();
        let model = new Uint8Array(0);
        const gen = (len: number, seed: number): Uint8Array => Uint8Array.from({ length: len }, (_, i) => (seed + i * 13) & 0xff);
        for (const c of cmds) {
          if (c.t === 'append') {
            const d = gen(c.len, c.seed);
            b.append(d);
            const next = new Uint8Array(model.length + d.length);
            next.set(model);
            next.set(d, model.length);
            model = next;
          } else if (c.t === 'read') {
            expect(Buffer.from(b.read(c.off, c.len)).equals(Buffer.from(model.subarray(c.off, c.off + c.len)))).toBe(true);
          } else if (c.t === 'truncate') {
            const n = Math.floor(model.length * c.frac);
            b.truncate(n);
            model = model.slice(0, n);
          } else if (c.t === 'write') {
            const off = model.length === 0 ? 0 : c.off % model.length;
            const d = gen(Math.min(c.len, model.length - off), c.seed);
            b.write(off, d);
            model.set(d, off);
          } else if (model.length > 0) {
            const off = c.off % model.length;
            b.setByte(off, b.byteAt(off) ^ 0x10);
            model[off]! ^= 0x10;
          }
          expect(b.length).toBe(model.length);
        }
        expect(Buffer.from(b.read(0, b.length)).equals(Buffer.from(model))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('a small file does not reserve a whole chunk', () => {
    const b = new ChunkedBytes();
    b.append(new Uint8Array(10));
    // Reach into the storage only to check its footprint.
    const chunks = (b as unknown as { chunks: Uint8Array[] }).chunks;
    expect(chunks[0]!.length).toBe(256);
    b.append(new Uint8Array(1000));
    expect(chunks[0]!.length).toBe(1024);
  });

  it('refuses out-of-range offsets', () => {
    const b = new ChunkedBytes();
    b.append(new Uint8Array(5));
    expect(() => b.byteAt(5)).toThrow(AssertionError);
    expect(() => b.write(3, new Uint8Array(3))).toThrow(AssertionError);
    expect(() => b.truncate(6)).toThrow(AssertionError);
    expect(() => b.read(-1, 2)).toThrow(AssertionError);
    expect(b.read(7, 2).length).toBe(0);
  });
});
