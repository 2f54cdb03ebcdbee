import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareEntries, compareKeys, EntryKind, type Entry } from './entry.ts';
import type { EntryIterator } from './entry_iterator.ts';
import { LevelIterator } from './level_iterator.ts';
import { ArrayIterator, MergingIterator } from './merging_iterator.ts';
import type { TableMeta } from './version_edit.ts';

function entry(key: number[], seq: number): Entry {
  return { key: Uint8Array.from(key), seq, kind: EntryKind.Put, value: Uint8Array.of(seq & 0xff), timeMs: 0 };
}

function drain(it: EntryIterator): Entry[] {
  const out: Entry[] = [];
  for (; it.valid(); it.next()) out.push(it.entry());
  return out;
}

/** Random entries with unique seqs, split at random into `parts` sorted sources. */
const sources = fc
  .tuple(
    fc.array(fc.uint8Array({ maxLength: 3 }), { maxLength: 60 }),
    fc.integer({ min: 1, max: 6 }),
    fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
  )
  .map(([keys, parts, picks]) => {
    const all = keys.map((k, i) => entry([...k], i + 1));
    const split: Entry[][] = Array.from({ length: parts }, () => []);
    all.forEach((e, i) => split[picks[i]! % parts]!.push(e));
    return { all: all.sort(compareEntries), split: split.map((s) => s.sort(compareEntries)) };
  });

describe('merging iterator', () => {
  it('yields the union of its children in internal order', () => {
    fc.assert(
      fc.property(sources, ({ all, split }) => {
        const it = new MergingIterator(split.map((s) => new ArrayIterator(s)));
        it.seekToFirst();
        expect(drain(it)).toEqual(all);
      }),
      { numRuns: 300 },
    );
  });

  it('seek lands on the first entry with key >= target, newest version first', () => {
    fc.assert(
      fc.property(sources, fc.uint8Array({ maxLength: 3 }), ({ all, split }, target) => {
        const it = new MergingIterator(split.map((s) => new ArrayIterator(s)));
        it.seek(target);
        expect(drain(it)).toEqual(all.filter((e) => compareKeys(e.key, target) >= 0));
      }),
      { numRuns: 300 },
    );
  });

  it('with no children is never valid', () => {
    const it = new MergingIterator([]);
    it.seekToFirst();
    expect(it.valid()).toBe(false);
  });
});

describe('level iterator', () => {
  it('reads disjoint tables as one sorted run and opens only what it reaches', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { maxLength: 50 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 50, maxLength: 50 }),
        fc.integer({ min: 0, max: 210 }),
        (rawKeys, sizes, target) => {
          const keys = rawKeys.sort((a, b) => a - b);
          const runs: Entry[][] = [];
          for (let i = 0, s = 0; i < keys.length; s++) {
            runs.push(keys.slice(i, i + sizes[s]!).map((k) => entry([k], k + 1)));
            i += sizes[s]!;
          }
          const metas: TableMeta[] = runs.map((r, i) => ({
            fileNumber: i + 1, fileBytes: 1, entryCount: r.length, tombstoneCount: 0,
            smallestKey: r[0]!.key, largestKey: r[r.length - 1]!.key, smallestSeq: 1, largestSeq: 300,
          }));
          const opened: number[] = [];
          const it = new LevelIterator(metas, (t) => {
            opened.push(t.fileNumber);
            return new ArrayIterator(runs[t.fileNumber - 1]!);
          });
          it.seekToFirst();
          expect(drain(it).map((e) => e.key[0])).toEqual(keys);
          opened.length = 0;
          it.seek(Uint8Array.of(target));
          const first = it.valid() ? it.entry().key[0] : undefined;
          expect(first).toBe(keys.find((k) => k >= target));
          expect(opened.length).toBeLessThanOrEqual(2);
        },
      ),
      { numRuns: 300 },
    );
  });
});
