import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockCache } from './block_cache.ts';
import type { Block } from './block_reader.ts';

// The cache only asks a block for its size.
const fakeBlock = (bytes: number, tag: string) => ({ byteLength: () => bytes, tag }) as unknown as Block;
const OVERHEAD = 80;

type Op =
  | { op: 'insert'; file: number; offset: number; bytes: number }
  | { op: 'lookup'; file: number; offset: number }
  | { op: 'evictFile'; file: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), file: fc.integer({ min: 1, max: 3 }), offset: fc.integer({ min: 0, max: 6 }), bytes: fc.integer({ min: 0, max: 400 }) }),
  fc.record({ op: fc.constant('lookup' as const), file: fc.integer({ min: 1, max: 3 }), offset: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ op: fc.constant('evictFile' as const), file: fc.integer({ min: 1, max: 3 }) }),
);

describe('block cache', () => {
  it('behaves as an LRU list bounded by bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1500 }), fc.array(opArb, { maxLength: 200 }), (capacity, ops) => {
        const cache = new BlockCache(capacity);
        // Model: least recently used first.
        let model: { file: number; offset: number; charge: number; block: Block }[] = [];
        const find = (file: number, offset: number) => model.findIndex((m) => m.file === file && m.offset === offset);
        for (const o of ops) {
          if (o.op === 'insert') {
            const block = fakeBlock(o.bytes, `${o.file}/${o.offset}/${o.bytes}`);
            cache.insert(o.file, o.offset, block);
            const charge = o.bytes + OVERHEAD;
            if (charge <= capacity) {
              const i = find(o.file, o.offset);
              if (i !== -1) model.splice(i, 1);
              model.push({ file: o.file, offset: o.offset, charge, block });
              while (model.reduce((n, m) => n + m.charge, 0) > capacity) model.shift();
            }
          } else if (o.op === 'lookup') {
            const i = find(o.file, o.offset);
            const got = cache.lookup(o.file, o.offset);
            if (i === -1) expect(got).toBeUndefined();
            else {
              expect(got).toBe(model[i]!.block);
              model.push(...model.splice(i, 1));
            }
          } else {
            cache.evictFile(o.file);
            model = model.filter((m) => m.file !== o.file);
          }
          expect(cache.usageBytes()).toBe(model.reduce((n, m) => n + m.charge, 0));
          expect(cache.entryCount()).toBe(model.length);
          expect(cache.usageBytes()).toBeLessThanOrEqual(capacity);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('counts hits and misses and hands out distinct file ids', () => {
    const cache = new BlockCache(10_000);
    cache.insert(1, 0, fakeBlock(100, 'a'));
    expect(cache.lookup(1, 0)).toBeDefined();
    expect(cache.lookup(1, 4096)).toBeUndefined();
    expect(cache.lookup(2, 0)).toBeUndefined();
    expect(cache.stats).toMatchObject({ hits: 1, misses: 2, inserts: 1 });
    const a = cache.newFileId();
    const b = cache.newFileId();
    expect(a).not.toBe(b);
  });
});
