import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Rng } from '../../io/rng.ts';
import { compareEntries, compareKeys, EntryKind, type Entry } from './entry.ts';
import { bloomHash } from './bloom_filter.ts';
import { Memtable } from './memtable.ts';

/** mulberry32: a small seeded generator, enough to drive skip-list heights. */
function seededRng(seed: number): Rng & { draws: number } {
  let a = seed >>> 0;
  const rng = {
    draws: 0,
    next(): number {
      rng.draws++;
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
    int: (n: number) => Math.floor(rng.next() * n),
    chance: (p: number) => rng.next() < p,
  };
  return rng;
}

const constantRng = (value: number): Rng => ({ next: () => value, int: (n) => Math.floor(value * n), chance: (p) => value < p });

const key = (s: string) => new TextEncoder().encode(s);
const show = (e: Entry | undefined) => (e === undefined ? undefined : `${Buffer.from(e.key).toString('hex')}@${e.seq}`);

/**
 * Keys from small alphabets so that many versions of a key and shared prefixes
 * occur: short ones (zero bytes against the zero padding of the 16-byte
 * prefix), ones around each 4-byte word boundary of the prefix, and long ones
 * that agree on their first 16 bytes and differ after.
 */
const arbKey = fc.oneof(
  fc.uint8Array({ maxLength: 3 }).map((b) => b.map((x) => x % 4)),
  fc.uint8Array({ minLength: 6, maxLength: 11 }).map((b) => b.map((x) => (x % 7 === 0 ? 1 : 0))),
  fc.uint8Array({ minLength: 12, maxLength: 20 }).map((b) => b.map((x) => (x % 5 === 0 ? 1 : 0))),
  fc.uint8Array({ minLength: 0, maxLength: 4 }).map((b) => Uint8Array.from([...new Uint8Array(14).fill(7), ...b.map((x) => x % 3)])),
);

type Op =
  | { op: 'add'; key: Uint8Array; kind: EntryKind; value: Uint8Array }
  | { op: 'get'; key: Uint8Array; maxSeq: number | undefined }
  | { op: 'seek'; key: Uint8Array; steps: number };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      key: arbKey,
      kind: fc.constantFrom(EntryKind.Put, EntryKind.Delete),
      value: fc.uint8Array({ maxLength: 8 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('get' as const), key: arbKey, maxSeq: fc.option(fc.nat(60), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('seek' as const), key: arbKey, steps: fc.nat(10) }) },
);

/** The model: a sorted array searched linearly. */
function modelGet(model: Entry[], k: Uint8Array, maxSeq = Number.MAX_SAFE_INTEGER): Entry | undefined {
  return model.find((e) => compareKeys(e.key, k) === 0 && e.seq <= maxSeq);
}

describe('Memtable', () => {
  it('agrees with a sorted array under any sequence of adds, gets and seeks', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 120 }), fc.nat(), fc.array(fc.nat(), { maxLength: 120 }), (ops, seed, seqGaps) => {
        const table = new Memtable(seededRng(seed));
        const model: Entry[] = [];
        let seq = 0;
        let bytes = 0;
        // An iterator made before any add still sees later entries.
        const early = table.iterator();
        for (const [i, o] of ops.entries()) {
          if (o.op === 'add') {
            // Seqs increase but with gaps, and not always in insertion order of keys.
            seq += 1 + ((seqGaps[i] ?? 0) % 3);
            const entry: Entry = {
              key: o.key,
              seq,
              kind: o.kind,
              value: o.kind === EntryKind.Put ? o.value : new Uint8Array(0),
              timeMs: 0,
            };
            table.add(entry);
            model.push(entry);
            model.sort(compareEntries);
            bytes += entry.key.length + entry.value.length;
          } else if (o.op === 'get') {
            expect(show(table.get(o.key, o.maxSeq))).toBe(show(modelGet(model, o.key, o.maxSeq)));
          } else {
            const it = table.iterator();
            it.seek(o.key);
            const start = model.findIndex((e) => compareKeys(e.key, o.key) >= 0);
            const expected = start === -1 ? [] : model.slice(start, start + o.steps);
            const got: (string | undefined)[] = [];
            for (let s = 0; s < o.steps && it.valid(); s++, it.next()) got.push(show(it.entry()));
            expect(got).toEqual(expected.map(show));
            if (start === -1 || start + o.steps >= model.length) expect(it.valid()).toBe(false);
          }
          expect(table.entryCount()).toBe(model.length);
          expect(table.approximateBytes()).toBeGreaterThanOrEqual(bytes);
        }
        const all: (string | undefined)[] = [];
        for (early.seekToFirst(); early.valid(); early.next()) all.push(show(early.entry()));
        expect(all).toEqual(model.map(show));
        if (model.length > 0) {
          expect(table.smallestSeq()).toBe(model.reduce((m, e) => Math.min(m, e.seq), Infinity));
          expect(table.largestSeq()).toBe(seq);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stays correct whatever heights the Rng yields (all 1, all maximal)', () => {
    for (const rng of [constantRng(0.999), constantRng(0)]) {
      const table = new Memtable(rng);
      const model: Entry[] = [];
      for (let i = 0; i < 300; i++) {
        const e: Entry = { key: key(`k${(i * 37) % 101}`), seq: i + 1, kind: EntryKind.Put, value: key(`v${i}`), timeMs: 0 };
        table.add(e);
        model.push(e);
      }
      model.sort(compareEntries);
      const it = table.iterator();
      const got: Entry[] = [];
      for (it.seekToFirst(); it.valid(); it.next()) got.push(it.entry());
      expect(got.map(show)).toEqual(model.map(show));
      for (let k = 0; k < 101; k++) expect(show(table.get(key(`k${k}`)))).toBe(show(modelGet(model, key(`k${k}`))));
    }
  });

  it('draws one height per entry from the injected Rng, so a seed fixes the structure', () => {
    const rng = seededRng(7);
    const table = new Memtable(rng);
    for (let i = 1; i <= 1000; i++) table.add({ key: key(`${i}`), seq: i, kind: EntryKind.Put, value: new Uint8Array(0), timeMs: 0 });
    expect(rng.draws).toBe(1000);
    // Same seed, same byte accounting (which includes each node's height).
    const again = new Memtable(seededRng(7));
    for (let i = 1; i <= 1000; i++) again.add({ key: key(`${i}`), seq: i, kind: EntryKind.Put, value: new Uint8Array(0), timeMs: 0 });
    expect(again.approximateBytes()).toBe(table.approximateBytes());
    const other = new Memtable(seededRng(8));
    for (let i = 1; i <= 1000; i++) other.add({ key: key(`${i}`), seq: i, kind: EntryKind.Put, value: new Uint8Array(0), timeMs: 0 });
    expect(other.approximateBytes()).not.toBe(table.approximateBytes());
  });

  it('returns the newest version at or below maxSeq', () => {
    const table = new Memtable(seededRng(1));
    const put = (k: string, seq: number, v: string) => table.add({ key: key(k), seq, kind: EntryKind.Put, value: key(v), timeMs: 0 });
    put('a', 5, 'a5');
    put('a', 9, 'a9');
    table.add({ key: key('a'), seq: 12, kind: EntryKind.Delete, value: new Uint8Array(0), timeMs: 100 });
    put('ab', 7, 'ab7');
    expect(table.get(key('a'))?.kind).toBe(EntryKind.Delete);
    expect(new TextDecoder().decode(table.get(key('a'), 11)?.value)).toBe('a9');
    expect(new TextDecoder().decode(table.get(key('a'), 9)?.value)).toBe('a9');
    expect(new TextDecoder().decode(table.get(key('a'), 8)?.value)).toBe('a5');
    expect(table.get(key('a'), 4)).toBeUndefined();
    expect(table.get(key(''))).toBeUndefined();
    expect(table.get(key('b'))).toBeUndefined();
    expect(table.get(key('ab'), 6)).toBeUndefined();
  });

  it('refuses adds once frozen, a duplicate (key, seq), and an invalid entry; stays readable when frozen', () => {
    const table = new Memtable(seededRng(2));
    table.add({ key: key('x'), seq: 1, kind: EntryKind.Put, value: key('1'), timeMs: 0 });
    expect(() => table.add({ key: key('x'), seq: 1, kind: EntryKind.Put, value: key('2'), timeMs: 0 })).toThrow(/already holds/);
    expect(() => table.add({ key: key('y'), seq: 0, kind: EntryKind.Put, value: key('2'), timeMs: 0 })).toThrow(/seq/);
    table.freeze();
    expect(table.frozen).toBe(true);
    expect(() => table.add({ key: key('z'), seq: 3, kind: EntryKind.Put, value: key('3'), timeMs: 0 })).toThrow(/frozen/);
    expect(table.get(key('x'))?.seq).toBe(1);
    const it = table.iterator();
    expect(it.valid()).toBe(false);
    it.seekToFirst();
    expect(show(it.entry())).toBe(show(table.get(key('x'))));
    it.next();
    expect(it.valid()).toBe(false);
    expect(() => it.entry()).toThrow();
  });
});

describe('Memtable key filter', () => {
  it('finds every key through filter rebuilds and turns away most absent keys without a search', () => {
    const m = new Memtable(seededRng(7));
    const n = 5000; // past 1024, 2048 and 4096 nodes: the filter is rebuilt at each doubling
    for (let i = 0; i < n; i++) m.insert(key(`k${String(2 * i).padStart(8, '0')}`), i + 1, EntryKind.Put, 0, key(`v${i}`));
    for (let i = 0; i < n; i++) {
      const e = m.get(key(`k${String(2 * i).padStart(8, '0')}`));
      expect(e?.seq).toBe(i + 1);
    }
    let passed = 0;
    for (let i = 0; i < n; i++) {
      const absent = key(`k${String(2 * i + 1).padStart(8, '0')}`);
      expect(m.get(absent)).toBeUndefined();
      if (m.mayContainHash(bloomHash(absent))) passed++;
    }
    // 16-32 bits per key and 3 probes: well under 1% in theory; 2% leaves room for chance.
    expect(passed / n).toBeLessThan(0.02);
  });
});
