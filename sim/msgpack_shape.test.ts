import fc from 'fast-check';
import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../io/frame_codec.ts';
import { msgpackValueEnd } from './msgpack_shape.ts';

const whole = (b: Uint8Array): number => msgpackValueEnd(b, 0, b.length);
const anything = fc.anything({ withTypedArray: true, withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true });
/** The encoding of `x`, skipping the values msgpack cannot hold (bigints past 64 bits). */
function encoded(x: unknown): Uint8Array {
  try {
    return encodeMessage(x);
  } catch (err) {
    fc.pre(!(err instanceof RangeError));
    throw err;
  }
}

describe('msgpackValueEnd', () => {
  it('property: an encoded value spans exactly its bytes, also inside a larger buffer', () => {
    fc.assert(
      fc.property(anything, fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (x, before, after) => {
        const b = encoded(x);
        expect(whole(b)).toBe(b.length);
        const padded = new Uint8Array([...before, ...b, ...after]);
        expect(msgpackValueEnd(padded, before.length, before.length + b.length)).toBe(before.length + b.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: every strict prefix of an encoded value is refused', () => {
    fc.assert(
      fc.property(anything, (x) => {
        const b = encoded(x);
        for (let n = 0; n < b.length; n++) expect(msgpackValueEnd(b, 0, n)).toBe(-1);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses the reserved byte and counts that no bytes could hold', () => {
    expect(whole(new Uint8Array([0xc1]))).toBe(-1);
    expect(whole(new Uint8Array([0x92, 0x01]))).toBe(-1);
    expect(whole(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0x00]))).toBe(-1);
    expect(whole(new Uint8Array([0xdf, 0x00, 0x00, 0x00, 0x01, 0xc0, 0xc0]))).toBe(7);
    expect(whole(new Uint8Array([0xc6, 0x80, 0x00, 0x00, 0x00]))).toBe(-1);
  });

  it('agrees with a generic decoder on arbitrary bytes: whatever it accepts as one value decodes', () => {
    // Maps as Maps: msgpack allows any key, though the codec's object mode refuses container keys (the node counts such a frame as garbage).
    const generic = new Unpackr({ mapsAsObjects: false, useRecords: false });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        if (whole(b) !== b.length) return;
        // Ext payloads are walked but not understood here; everything else must decode.
        if (b.some((x) => (x >= 0xc7 && x <= 0xc9) || (x >= 0xd4 && x <= 0xd8))) return;
        expect(() => generic.unpack(b)).not.toThrow();
      }),
      { numRuns: 20_000 },
    );
  });
});
