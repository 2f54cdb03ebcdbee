import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatWorkloadValue, parseWorkloadValue, valueBytes, valueText } from './workload_value.ts';

describe('workload values', () => {
  it('valueBytes is the UTF-8 encoding of any string, ASCII or not', () => {
    const utf8 = new TextEncoder();
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' })), (s) => {
        expect(valueBytes(s)).toEqual(utf8.encode(s));
      }),
    );
  });

  it('a formatted value parses back to its write, and one changed byte does not', () => {
    const arb = fc.record({
      keyspace: fc.stringMatching(/^[a-z]{1,8}$/),
      key: fc.stringMatching(/^[a-z0-9]{0,8}$/),
      process: fc.nat(1000),
      seq: fc.integer({ min: 1, max: 1_000_000 }),
    });
    fc.assert(
      fc.property(arb, fc.nat(), (v, at) => {
        const text = formatWorkloadValue(v);
        expect(parseWorkloadValue(valueText(valueBytes(text)))).toEqual(v);
        const bytes = valueBytes(text);
        bytes[at % bytes.length] ^= 0x01;
        expect(parseWorkloadValue(valueText(bytes))).toBeTypeOf('string');
      }),
    );
  });
});
