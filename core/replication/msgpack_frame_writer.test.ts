import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../io/frame_codec.ts';
import { writeFrame } from './msgpack_frame_writer.ts';

const frameOf = (x: unknown): Uint8Array | null => writeFrame((out) => out.value(x));
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

/** Values of the covered types, with numbers and strings near every format boundary. */
const edgeNumber = fc.oneof(
  fc.constantFrom(0, -0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 52, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, 0.5, Number.NaN, Infinity, -Infinity),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
);
const edgeString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer({ min: 0, max: 70_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 0, max: 300 }).map((n) => 'é'.repeat(n)),
);
const covered = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    edgeNumber,
    edgeString,
    fc.uint8Array({ maxLength: 300 }),
    fc.integer({ min: 0, max: 70_000 }).map((n) => new Uint8Array(n).fill(7)),
    fc.array(tie('value'), { maxLength: 20 }),
    fc.dictionary(edgeString.filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 20, noNullPrototype: true }),
  ),
})).value;

describe('msgpack frame writer', () => {
  it('property: writes exactly the bytes encodeFrame writes, or declines', () => {
    fc.assert(
      fc.property(covered, (x) => {
        const fast = frameOf(x);
        const slow = encodeFrame(x);
        // Declining is allowed only for a string with a lone surrogate somewhere in it.
        if (fast === null) expect(JSON.stringify(x)).toMatch(/\\ud[89a-f]/);
        else expect(same(fast, slow)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it('declines values outside the covered types instead of writing something else', () => {
    for (const x of [undefined, 1n, new Uint16Array(2), new Map(), new Date(0), { a: undefined }, [1, undefined], Object.create(null), 'a\ud800b'])
      expect(frameOf(x)).toBeNull();
  });

  it('property: arbitrary values are either declined or written as encodeFrame writes them', () => {
    fc.assert(
      fc.property(fc.anything({ withTypedArray: true, withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withSparseArray: true }), (x) => {
        const fast = frameOf(x);
        if (fast !== null) expect(same(fast, encodeFrame(x))).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it('property: a frame handed out keeps its bytes while later frames (some declined, some spanning chunks) are written', () => {
    fc.assert(
      fc.property(fc.array(covered, { minLength: 1, maxLength: 40 }), (xs) => {
        const written: { frame: Uint8Array; x: unknown }[] = [];
        for (const x of xs) {
          const frame = frameOf(x);
          if (frame !== null) written.push({ frame, x });
        }
        for (const { frame, x } of written) expect(same(frame, encodeFrame(x))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps working after a frame larger than a chunk', () => {
    const big = new Uint8Array(3 << 20).fill(9);
    expect(same(frameOf({ big })!, encodeFrame({ big }))).toBe(true);
    expect(same(frameOf({ small: 'x' })!, encodeFrame({ small: 'x' }))).toBe(true);
  });
});
