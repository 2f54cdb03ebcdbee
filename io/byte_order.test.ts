import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readUint32Be, readUint32Le } from './byte_order.ts';

describe('byte order', () => {
  it('reads what a DataView writes, at any offset, in both orders', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff_ffff }), fc.nat(8), (v, at) => {
        const bytes = new Uint8Array(at + 4 + 3);
        const view = new DataView(bytes.buffer);
        view.setUint32(at, v, true);
        expect(readUint32Le(bytes, at)).toBe(v);
        view.setUint32(at, v, false);
        expect(readUint32Be(bytes, at)).toBe(v);
      }),
    );
  });
});
