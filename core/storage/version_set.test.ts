import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../io/assert.ts';
import { CorruptionError } from './errors.ts';
import { Version } from './version.ts';
import type { TableMeta } from './version_edit.ts';
import { VersionSet } from './version_set.ts';

const enc = (s: string) => new TextEncoder().encode(s);

function table(fileNumber: number, smallest: string, largest: string, seqs: [number, number]): TableMeta {
  return {
    fileNumber, fileBytes: 100, entryCount: 10, tombstoneCount: 0,
    smallestKey: enc(smallest), largestKey: enc(largest), smallestSeq: seqs[0], largestSeq: seqs[1],
  };
}

describe('version set', () => {
  it('orders level 0 newest first and sorted levels by key', () => {
    const vs = new VersionSet();
    vs.apply({
      addedTables: [
        { level: 0, table: table(1, 'a', 'z', [1, 10]) },
        { level: 0, table: table(2, 'a', 'z', [11, 20]) },
        { level: 1, table: table(4, 'm', 'p', [1, 5]) },
        { level: 1, table: table(3, 'a', 'c', [2, 3]) },
      ],
    });
    expect(vs.current.levels[0]!.map((t) => t.fileNumber)).toEqual([2, 1]);
    expect(vs.current.levels[1]!.map((t) => t.fileNumber)).toEqual([3, 4]);
    expect(vs.nextFileNumber).toBe(5);
    expect(vs.lastSeq).toBe(20);
    expect(vs.current.tableForKey(1, enc('b'))?.fileNumber).toBe(3);
    expect(vs.current.tableForKey(1, enc('d'))).toBeUndefined();
    expect(vs.current.tableForKey(1, enc('n'))?.fileNumber).toBe(4);
    expect(vs.current.tableForKey(1, enc('q'))).toBeUndefined();
    expect(vs.current.overlapping(1, enc('b'), enc('n')).map((t) => t.fileNumber)).toEqual([3, 4]);
  });

  it('rejects edits that do not fit the current version', () => {
    const vs = new VersionSet();
    vs.apply({ addedTables: [{ level: 1, table: table(1, 'a', 'c', [1, 2]) }] });
    expect(() => vs.apply({ deletedTables: [{ level: 1, fileNumber: 9 }] })).toThrow(CorruptionError);
    expect(() => vs.apply({ addedTables: [{ level: 2, table: table(1, 'x', 'y', [3, 3]) }] })).toThrow(/twice/);
    expect(() => vs.apply({ addedTables: [{ level: 1, table: table(2, 'b', 'd', [3, 3]) }] })).toThrow(/invariants/);
    expect(() => vs.apply({ logNumber: 5 })).not.toThrow();
    expect(() => vs.apply({ logNumber: 4 })).toThrow(/went back/);
    // Nothing of a rejected edit stuck.
    expect(vs.current.levels[1]!.map((t) => t.fileNumber)).toEqual([1]);
  });

  it('keeps the tables of referenced versions live', () => {
    const vs = new VersionSet();
    vs.apply({ addedTables: [{ level: 0, table: table(1, 'a', 'c', [1, 2]) }] });
    const held = vs.ref(vs.current);
    vs.apply({ deletedTables: [{ level: 0, fileNumber: 1 }], addedTables: [{ level: 1, table: table(2, 'a', 'c', [1, 2]) }] });
    expect([...vs.liveTableNumbers()].sort()).toEqual([1, 2]);
    vs.unref(held);
    expect([...vs.liveTableNumbers()]).toEqual([2]);
    expect(() => vs.unref(held)).toThrow(AssertionError);
  });

  it('a snapshot edit rebuilds the same state', () => {
    const vs = new VersionSet();
    vs.apply({ logNumber: 7, nextFileNumber: 12, lastSeq: 40, compactPointers: [{ level: 1, key: enc('k') }] });
    vs.apply({ addedTables: [{ level: 0, table: table(8, 'a', 'c', [30, 35]) }, { level: 2, table: table(9, 'a', 'c', [1, 2]) }] });
    const copy = new VersionSet();
    copy.apply(vs.snapshotEdit());
    expect(copy.current.levels).toEqual(vs.current.levels);
    expect([copy.logNumber, copy.nextFileNumber, copy.lastSeq]).toEqual([7, 12, 40]);
    expect(copy.compactPointers[1]).toEqual(enc('k'));
  });

  it('asserts level-0 seq ranges are disjoint', () => {
    expect(() => new Version([[table(1, 'a', 'b', [5, 10]), table(2, 'a', 'b', [8, 12])], [], [], [], [], [], []])).toThrow(AssertionError);
  });
});
