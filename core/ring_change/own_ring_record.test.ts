import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeOwnRing, encodeOwnRing } from './own_ring_record.ts';

describe('own ring record', () => {
  it('round-trips phase, tokens and the replaced member', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('joining', 'normal', 'leaving', 'left', 'removed' as const),
        fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { maxLength: 20 }),
        fc.option(fc.stringMatching(/^[a-z0-9-]{1,12}$/)),
        (phase, tokens, replaces) => {
          expect(decodeOwnRing(encodeOwnRing({ phase, tokens, replaces }))).toEqual({ phase, tokens, replaces });
        },
      ),
    );
  });

  it('reads damaged records as none', () => {
    for (const s of ['', 'joining', 'joining|1', 'gone|1|', 'normal|xyz|', 'normal|1,,2|']) expect(decodeOwnRing(new TextEncoder().encode(s))).toBeNull();
    expect(decodeOwnRing(undefined)).toBeNull();
  });
});
