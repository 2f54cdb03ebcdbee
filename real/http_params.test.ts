import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpInputError, consistencyLabel, consistencyParams, limitParam, percentDecodeBytes, rawQuery, ttlParam } from './http_params.ts';

describe('percentDecodeBytes', () => {
  it('inverts percent-encoding of any bytes, with any mix of escaped and literal safe characters', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), (bytes, escape) => {
        let text = '';
        bytes.forEach((b, i) => {
          const c = String.fromCharCode(b);
          text += /[A-Za-z0-9_.~+-]/.test(c) && !escape[i] ? c : `%${b.toString(16).padStart(2, '0')}`;
        });
        expect(percentDecodeBytes(text)).toEqual(bytes);
      }),
    );
  });

  it('reads text without escapes as its UTF-8 bytes, short or long, ASCII or not', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 300 })), (raw) => {
        const text = raw.replaceAll('%', '');
        expect(percentDecodeBytes(text)).toEqual(new TextEncoder().encode(text));
      }),
      { numRuns: 40 },
    );
    expect(percentDecodeBytes('a'.repeat(300))).toEqual(new Uint8Array(300).fill(97));
  });

  it('reads UTF-8 text as its bytes, keeps + literal, and refuses malformed escapes', () => {
    expect(Buffer.from(percentDecodeBytes('é+x')!).toString()).toBe('é+x');
    for (const bad of ['%', '%4', '%zz', 'a%g1']) expect(percentDecodeBytes(bad)).toBeNull();
  });
});

describe('query parameters', () => {
  const q = (s: string, allowed = ['consistency', 'r', 'w', 'ttl', 'limit']) => rawQuery(s, allowed);

  it('refuse unknown and repeated parameters', () => {
    expect(() => q('colour=red')).toThrow(/unknown query parameter "colour"; accepted here: consistency, r, w, ttl, limit/);
    expect(() => q('r=1&r=2')).toThrow(/given twice/);
  });

  it('read consistency levels case-insensitively and explicit counts, refusing the rest', () => {
    expect(consistencyParams(q('consistency=quorum'), ['r'])).toEqual({ level: 'QUORUM' });
    expect(consistencyParams(q('r=2'), ['r'])).toEqual({ r: 2 });
    expect(consistencyParams(q(''), ['r'])).toBeUndefined();
    expect(consistencyLabel({ level: 'ONE' })).toBe('ONE');
    expect(consistencyLabel({ w: 2 })).toBe('explicit');
    expect(consistencyLabel(undefined)).toBe('keyspace');
    for (const bad of ['consistency=MOST', 'consistency=', 'r=0', 'r=-1', 'r=1.5', 'r=abc', 'r=01']) {
      expect(() => consistencyParams(q(bad), ['r']), bad).toThrow(HttpInputError);
    }
  });

  it('read ttl as seconds into milliseconds within bounds', () => {
    expect(ttlParam(q('ttl=30'))).toBe(30_000);
    expect(ttlParam(q('ttl=1.5'))).toBe(1500);
    expect(ttlParam(q('ttl=0.001'))).toBe(1);
    expect(ttlParam(q(''))).toBeUndefined();
    for (const bad of ['ttl=0', 'ttl=-1', 'ttl=1e3', 'ttl=soon', 'ttl=1.0001', 'ttl=999999999']) expect(() => ttlParam(q(bad)), bad).toThrow(HttpInputError);
  });

  it('read scan limits in 1..10000', () => {
    expect(limitParam(q(''))).toBe(100);
    expect(limitParam(q('limit=10000'))).toBe(10_000);
    for (const bad of ['limit=0', 'limit=10001', 'limit=x']) expect(() => limitParam(q(bad)), bad).toThrow(/limit must be an integer in 1\.\.10000/);
  });
});
