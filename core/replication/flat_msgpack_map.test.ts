import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../io/frame_codec.ts';
import { readFlatMsgpackMap } from './flat_msgpack_map.ts';

const read = (b: Uint8Array) => readFlatMsgpackMap(b, 0, b.length);
/** Byte strings as plain arrays, so a Buffer and a Uint8Array view compare equal. */
const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? { bytes: [...v] } : v)));

const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 52 + 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), 0.5, -0),
  fc.double({ noNaN: true }),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ minLength: 250, maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }),
);
const key = fc.oneof(fc.constantFrom('v', 't', 'id', 'ks', 'key', 'value', 'complete', 'constructor', '__proto__'), fc.string({ maxLength: 31 }));
const nested = fc.oneof(fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }));

describe('readFlatMsgpackMap', () => {
  it('property: a flat map reads as msgpackr reads it, or is declined', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.oneof({ weight: 8, arbitrary: scalar }, { weight: 1, arbitrary: nested })), { maxLength: 20 }), (entries) => {
        const obj: Record<string, unknown> = {};
        for (const [k, v] of entries) if (k !== '__proto__') obj[k] = v;
        const bytes = encodeMessage(obj);
        const fast = read(bytes);
        if (fast !== null) expect(plain(fast)).toEqual(plain(decodeMessage(bytes)));
        else {
          // Declined only for what the reader does not cover.
          const covered = Object.entries(obj).every(
            ([k, v]) => /^[\x00-\x7f]*$/.test(k) && (v === null || typeof v !== 'object' || v instanceof Uint8Array) && (typeof v !== 'string' || /^[\x00-\x7f]*$/.test(v)) && (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) < 2 ** 31),
          );
          expect(covered).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('property: arbitrary bytes it accepts decode with msgpackr to the same object', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }).map((b) => new Uint8Array([0x80 | (b.length % 4), ...b])), (bytes) => {
        const fast = read(bytes);
        if (fast === null) return;
        expect(plain(fast)).toEqual(plain(decodeMessage(bytes)));
      }),
      { numRuns: 5000 },
    );
  });

  it('declines truncations and trailing bytes; a repeated key keeps its last value, as msgpackr does', () => {
    const bytes = encodeMessage({ v: 1, t: 'read', id: 2 ** 40, key: new Uint8Array([1, 2]) });
    expect(read(bytes)).not.toBeNull();
    for (let n = 0; n < bytes.length; n++) expect(readFlatMsgpackMap(bytes, 0, n)).toBeNull();
    expect(read(new Uint8Array([...bytes, 0]))).toBeNull();
    const repeated = new Uint8Array([0x82, 0xa1, 0x61, 0x01, 0xa1, 0x61, 0x02]);
    expect(read(repeated)).toEqual({ a: 2 });
    expect(decodeMessage(repeated)).toEqual({ a: 2 });
    expect(read(new Uint8Array([0x81, 0xa1, 0x61, 0x01]))).toEqual({ a: 1 });
  });
});
