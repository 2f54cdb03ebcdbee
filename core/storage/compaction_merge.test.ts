import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareEntries, EntryKind, isDeletion, type Entry } from './entry.ts';
import { CompactionMerge, isPurgeable, keepTombstones, type PurgeRules } from './compaction_merge.ts';
import { ArrayIterator } from './merging_iterator.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function put(key: string, seq: number, value: string, expiresMs = 0): Entry {
  return { key: enc(key), seq, kind: EntryKind.Put, value: enc(value), timeMs: expiresMs };
}
function del(key: string, seq: number, atMs: number): Entry {
  return { key: enc(key), seq, kind: EntryKind.Delete, value: new Uint8Array(0), timeMs: atMs };
}

function runMerge(input: Entry[], rules: PurgeRules): { out: Entry[]; merge: CompactionMerge } {
  const sorted = input.slice().sort(compareEntries);
  const it = new ArrayIterator(sorted);
  it.seekToFirst();
  const merge = new CompactionMerge(it, rules);
  const out: Entry[] = [];
  for (let e = merge.next(); e !== undefined; e = merge.next()) out.push(e);
  return { out, merge };
}

/** What a reader sees: the newest version at or below `snapshot`, if live at `nowMs`. */
function read(entries: Entry[], key: string, snapshot: number, nowMs: number): string | undefined {
  let best: Entry | undefined;
  for (const e of entries) {
    if (dec(e.key) !== key || e.seq > snapshot) continue;
    if (best === undefined || e.seq > best.seq) best = e;
  }
  if (best === undefined || isDeletion(best, nowMs)) return undefined;
  return dec(best.value);
}

describe('compaction merge rules', () => {
  const rules = (over: Partial<PurgeRules>): PurgeRules => ({
    snapshotSeq: 100,
    nowMs: 1000,
    graceMs: 100,
    olderVersionMayExist: () => false,
    ...over,
  });

  it('keeps only the newest version of a key at or below the snapshot', () => {
    const { out, merge } = runMerge([put('a', 1, 'x'), put('a', 2, 'y'), put('a', 3, 'z')], rules({}));
    expect(out.map((e) => e.seq)).toEqual([3]);
    expect(merge.counts.shadowed).toBe(2);
  });

  it('keeps every version above the snapshot and the newest one below it', () => {
    const { out } = runMerge([put('a', 1, 'x'), put('a', 2, 'y'), put('a', 3, 'z'), put('a', 4, 'w')], rules({ snapshotSeq: 2 }));
    expect(out.map((e) => e.seq)).toEqual([4, 3, 2]);
  });

  it('purges an old tombstone and what it shadows when nothing older exists elsewhere', () => {
    const { out, merge } = runMerge([put('a', 1, 'x'), del('a', 2, 500), put('b', 3, 'y')], rules({}));
    expect(out.map((e) => dec(e.key))).toEqual(['b']);
    expect(merge.counts.purgedTombstones).toBe(1);
  });

  it('keeps a tombstone inside its grace period', () => {
    const { out } = runMerge([put('a', 1, 'x'), del('a', 2, 950)], rules({}));
    expect(out.map((e) => e.seq)).toEqual([2]);
  });

  it('keeps an old tombstone when an older version may live in another table', () => {
    const { out } = runMerge([del('a', 2, 10)], rules({ olderVersionMayExist: (k) => dec(k) === 'a' }));
    expect(out.map((e) => e.seq)).toEqual([2]);
  });

  it('purges expired values only after the grace period', () => {
    expect(runMerge([put('a', 1, 'x', 950)], rules({})).out).toHaveLength(1);
    const { out, merge } = runMerge([put('a', 1, 'old'), put('a', 2, 'x', 800)], rules({}));
    expect(out).toHaveLength(0);
    expect(merge.counts.purgedExpired).toBe(1);
  });

  it('flush rules never purge a tombstone', () => {
    const { out } = runMerge([put('a', 1, 'x'), del('a', 2, 1)], { ...keepTombstones(10), nowMs: 1e9 });
    expect(out.map((e) => e.seq)).toEqual([2]);
  });

  it('a tombstone above the snapshot is never purged', () => {
    const { out } = runMerge([put('a', 1, 'x'), del('a', 5, 1)], rules({ snapshotSeq: 3 }));
    expect(out.map((e) => e.seq)).toEqual([5, 1]);
  });

  it('isPurgeable distinguishes kinds', () => {
    expect(isPurgeable(put('a', 1, 'x', 0), 1e12, 0)).toBe(false);
    expect(isPurgeable(put('a', 1, 'x', 10), 110, 100)).toBe(true);
    expect(isPurgeable(put('a', 1, 'x', 10), 109, 100)).toBe(false);
    expect(isPurgeable(del('a', 1, 10), 110, 100)).toBe(true);
  });

  // The property behind every rule: for any reader at or above the snapshot,
  // at any time from now on, the merge changes nothing it can see. Entries are
  // split per key into older ones outside the merge (deeper levels), the merge
  // input, and newer ones outside (newer tables, memtables), as in the engine.
  it('never resurrects a deleted or expired value and never loses a visible one', () => {
    const keys = ['a', 'b', 'c', 'd'];
    const write = fc.record({
      key: fc.constantFrom(...keys),
      del: fc.boolean(),
      time: fc.integer({ min: 0, max: 300 }),
      ttl: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(write, { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(40), { minLength: keys.length * 2, maxLength: keys.length * 2 }),
        fc.nat(40),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 100 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (writes, cuts, snapRaw, nowMs, graceMs, falsePositiveRate) => {
          const all: Entry[] = writes.map((w, i) =>
            w.del ? del(w.key, i + 1, w.time) : put(w.key, i + 1, `v${i + 1}`, w.ttl ? w.time : 0),
          );
          const snapshotSeq = Math.min(snapRaw, all.length);
          const older: Entry[] = [];
          const input: Entry[] = [];
          const newer: Entry[] = [];
          keys.forEach((k, ki) => {
            const lo = Math.min(cuts[2 * ki]!, cuts[2 * ki + 1]!);
            const hi = Math.max(cuts[2 * ki]!, cuts[2 * ki + 1]!);
            for (const e of all) {
              if (dec(e.key) !== k) continue;
              (e.seq <= lo ? older : e.seq <= hi ? input : newer).push(e);
            }
          });
          // A "may exist" answer is allowed to be wrong only towards true.
          let fp = 0;
          const mayExist = (key: Uint8Array) =>
            older.some((e) => dec(e.key) === dec(key)) || (fp++ % 100) / 100 < falsePositiveRate;
          const { out } = runMerge(input, { snapshotSeq, nowMs, graceMs, olderVersionMayExist: mayExist });
          // Output is a sorted subset of the input.
          for (let i = 1; i < out.length; i++) expect(compareEntries(out[i - 1]!, out[i]!)).toBeLessThan(0);
          for (const e of out) expect(input).toContain(e);
          const before = [...older, ...input, ...newer];
          const after = [...older, ...out, ...newer];
          for (const k of keys) {
            for (let s = snapshotSeq; s <= all.length; s++) {
              for (const t of [nowMs, nowMs + 1, nowMs + 150, nowMs + 10_000]) {
                expect(read(after, k, s, t)).toBe(read(before, k, s, t));
              }
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
