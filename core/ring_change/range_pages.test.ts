import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyToken } from '../ring/key_hash.ts';
import { MAX_TOKEN, rangeContains, type TokenRange } from '../ring/token_range.ts';
import { MAX_EXAMINED_PER_PAGE, decodeRanges, encodeRanges, readRangePage } from './range_pages.ts';
import { MapStore, keyOf, lww } from './ring_change.testkit.ts';

const token = fc.bigInt({ min: 0n, max: MAX_TOKEN });
const ranges = fc.array(fc.record({ start: token, end: token }), { minLength: 1, maxLength: 5 });

describe('readRangePage', () => {
  it('paging until done returns exactly the records in the ranges, in key order, each once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), ranges, fc.integer({ min: 1, max: 4000 }), (count, rs, pageBytes) => {
        const store = new MapStore();
        for (let i = 0; i < count; i++) store.put('ks', keyOf(i), lww(i + 1, `v${i}`));
        store.put('other', keyOf(1), lww(1, 'elsewhere'));
        const got: string[] = [];
        let after: Uint8Array | null = null;
        for (let pages = 0; ; pages++) {
          expect(pages).toBeLessThan(count + 2);
          const page = readRangePage(store.scan, 'ks', rs, after, pageBytes);
          expect(page.examined).toBeLessThanOrEqual(MAX_EXAMINED_PER_PAGE);
          for (const item of page.items) got.push(Buffer.from(item.key).toString());
          if (page.next === null) break;
          after = page.next;
        }
        const want = store
          .all('ks')
          .filter((r) => rs.some((range) => rangeContains(range, keyToken(r.key))))
          .map((r) => Buffer.from(r.key).toString());
        expect(got).toEqual(want);
      }),
      { numRuns: 25 },
    );
  });

  it('stops at the byte budget', () => {
    const store = new MapStore();
    for (let i = 0; i < 100; i++) store.put('ks', keyOf(i), lww(i + 1, 'x'.repeat(100)));
    const whole: TokenRange = { start: 0n, end: 0n };
    const page = readRangePage(store.scan, 'ks', [whole], null, 1000);
    expect(page.items.length).toBeGreaterThan(5);
    expect(page.items.length).toBeLessThan(12);
    expect(page.next).not.toBeNull();
  });
});

describe('range codec', () => {
  it('round-trips and refuses malformed bytes', () => {
    fc.assert(
      fc.property(ranges, (rs) => {
        expect(decodeRanges(encodeRanges(rs))).toEqual(rs);
      }),
    );
    expect(decodeRanges(new Uint8Array(0))).toBeNull();
    expect(decodeRanges(new Uint8Array(15))).toBeNull();
    expect(decodeRanges(new Uint8Array(16 * 4097))).toBeNull();
  });
});
