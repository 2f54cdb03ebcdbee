import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Url, encodeBase64Url } from './base64url.ts';

describe('base64url', () => {
  it('matches Node’s base64url and round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = encodeBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(decodeBase64Url(text)).toEqual(bytes);
      }),
    );
  });

  it('accepts only canonical unpadded base64url', () => {
    expect(decodeBase64Url('')).toEqual(new Uint8Array(0));
    expect(decodeBase64Url('AQ')).toEqual(Uint8Array.of(1));
    expect(decodeBase64Url('AR')).toBeNull(); // nonzero unused bits
    expect(decodeBase64Url('AQ==')).toBeNull(); // padding
    expect(decodeBase64Url('A')).toBeNull(); // impossible length
    expect(decodeBase64Url('ab+/')).toBeNull(); // standard alphabet
    expect(decodeBase64Url('ab c')).toBeNull();
    expect(decodeBase64Url('é')).toBeNull();
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        const bytes = decodeBase64Url(text);
        if (bytes !== null) expect(encodeBase64Url(bytes)).toBe(text);
      }),
    );
  });
});
