import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockBuilder } from './block_builder.ts';
import { Block, BlockIterator } from './block_reader.ts';
import { compareEntries, type Entry, EntryKind, MAX_SEQ } from './entry.ts';
import { CorruptionError } from './errors.ts';

// Keys from a small alphabet so prefixes are shared and keys repeat.
const keyArb = fc.array(fc.constantFrom(0, 1, 97, 98, 255), { minLength: 1, maxLength: 8 }).map((a) => Uint8Array.from(a));
const entryArb: fc.Arbitrary<Entry> = fc
  .record({
    key: keyArb,
    seq: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: MAX_SEQ })),
    del: fc.boolean(),
    value: fc.uint8Array({ maxLength: 24 }),
    timeMs: fc.oneof(fc.constant(0), fc.maxSafeNat()),
  })
  .map(({ key, seq, del, value, timeMs }) => ({
    key,
    seq,
    kind: del ? EntryKind.Delete : EntryKind.Put,
    value: del ? new Uint8Array(0) : value,
    timeMs,
  }));

/** Sorted in internal order, one entry per (key, seq). */
function sortedUnique(entries: Entry[]): Entry[] {
  const sorted = [...entries].sort(compareEntries);
  return sorted.filter((e, i) => i === 0 || compareEntries(sorted[i - 1]!, e) !== 0);
}

function buildBlock(entries: Entry[], restartInterval: number): Block {
  const b = new BlockBuilder(restartInterval);
  for (const e of entries) b.add(e.key, e.seq, e.kind, e.timeMs, e.value);
  const estimate = b.estimatedBytes();
  const bytes = b.finish().slice();
  expect(bytes.length).toBe(estimate);
  return Block.parse(bytes);
}

function collect(it: BlockIterator): Entry[] {
  const out: Entry[] = [];
  for (; it.valid(); it.next()) out.push(it.entry());
  return out;
}

/** Iterates and seeks; returns normally or throws. Used on damaged blocks. */
function exercise(data: Uint8Array, targets: Entry[]): void {
  const block = Block.parse(data);
  const it = new BlockIterator(block);
  it.seekToFirst();
  for (let n = 0; it.valid() && n < 10_000; n++) {
    it.entry();
    it.next();
  }
  for (const t of targets) {
    it.seek(t.key, t.seq);
    if (it.valid()) it.entry();
  }
}

describe('block builder and reader', () => {
  it('with reuseEntry, refills one entry object with what a fresh entry would hold, key lengths changing or not', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 5 }), (raw, restart) => {
        const entries = sortedUnique(raw);
        const block = buildBlock(entries, restart);
        const fresh = new BlockIterator(block);
        const reused = new BlockIterator(block, true);
        let first: Entry | undefined;
        const plain = (e: Entry) => ({ ...e, key: Array.from(e.key), value: Array.from(e.value) });
        for (fresh.seekToFirst(), reused.seekToFirst(); fresh.valid(); fresh.next(), reused.next()) {
          expect(reused.valid()).toBe(true);
          const e = reused.entry();
          first ??= e;
          expect(e).toBe(first);
          expect(plain(e)).toEqual(plain(fresh.entry()));
        }
        expect(reused.valid()).toBe(false);
      }),
    );
  });

  it('iterate and seek agree with a sorted array', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 1, maxLength: 120 }), fc.integer({ min: 1, max: 20 }), fc.array(entryArb, { maxLength: 30 }), (raw, restart, targets) => {
        const model = sortedUnique(raw);
        const block = buildBlock(model, restart);
        expect(block.restartCount).toBe(Math.ceil(model.length / restart));
        const it = new BlockIterator(block);
        it.seekToFirst();
        expect(collect(it)).toEqual(model);
        // Targets: random ones plus every stored (key, seq) and its neighbours.
        const all = [...targets, ...model, ...model.map((e) => ({ ...e, seq: e.seq === 1 ? 1 : e.seq - 1 })), ...model.map((e) => ({ ...e, seq: MAX_SEQ }))];
        for (const t of all) {
          it.seek(t.key, t.seq);
          const idx = model.findIndex((e) => compareEntries(e, t) >= 0);
          if (idx === -1) {
            expect(it.valid()).toBe(false);
          } else {
            expect(it.valid()).toBe(true);
            expect(it.entry()).toEqual(model[idx]);
            expect(it.keyEquals(model[idx]!.key)).toBe(true);
            expect(it.seq()).toBe(model[idx]!.seq);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('hands out keys that survive the next move and values that view the block', () => {
    const entries = sortedUnique([
      { key: Uint8Array.of(1, 2, 3), seq: 5, kind: EntryKind.Put, value: Uint8Array.of(9), timeMs: 0 },
      { key: Uint8Array.of(1, 2, 4), seq: 4, kind: EntryKind.Put, value: Uint8Array.of(8), timeMs: 0 },
    ]);
    const block = buildBlock(entries, 16);
    const it = new BlockIterator(block);
    it.seekToFirst();
    const first = it.entry();
    it.next();
    expect([...first.key]).toEqual([1, 2, 3]);
    expect(first.value.buffer).toBe(block.data.buffer);
  });

  it('reads an empty block as having no entries', () => {
    const b = new BlockBuilder(16);
    const block = Block.parse(b.finish().slice());
    const it = new BlockIterator(block);
    it.seekToFirst();
    expect(it.valid()).toBe(false);
    it.seek(Uint8Array.of(1));
    expect(it.valid()).toBe(false);
  });

  it('throws only CorruptionError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(entryArb, { maxLength: 5 }), (data, targets) => {
        try {
          exercise(data, targets);
        } catch (e) {
          expect(e).toBeInstanceOf(CorruptionError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('throws only CorruptionError on damaged real blocks', () => {
    fc.assert(
      fc.property(
        fc.array(entryArb, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (raw, restart, damage) => {
          const model = sortedUnique(raw);
          const data = buildBlock(model, restart).data.slice();
          for (const [pos, byte] of damage) data[pos % data.length] = byte;
          try {
            exercise(data, model);
          } catch (e) {
            expect(e).toBeInstanceOf(CorruptionError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('rejects restart arrays that do not fit the block', () => {
    const block = buildBlock([{ key: Uint8Array.of(1), seq: 1, kind: EntryKind.Put, value: new Uint8Array(0), timeMs: 0 }], 16);
    const data = block.data.slice();
    data[data.length - 4] = 200; // restart count
    expect(() => Block.parse(data)).toThrow(CorruptionError);
    expect(() => Block.parse(new Uint8Array(3))).toThrow(CorruptionError);
  });
});
