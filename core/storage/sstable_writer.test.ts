import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../io/assert.ts';
import { DiskFullError, type File } from '../../io/disk.ts';
import { compareEntries, type Entry, EntryKind } from './entry.ts';
import { MemoryFile } from './memory_file.ts';
import { SstableReader } from './sstable_reader.ts';
import { SstableWriter } from './sstable_writer.ts';

const enc = new TextEncoder();
const put = (key: string, seq: number, value = `v${seq}`, timeMs = 0): Entry => ({ key: enc.encode(key), seq, kind: EntryKind.Put, value: enc.encode(value), timeMs });
const del = (key: string, seq: number, timeMs = 1): Entry => ({ key: enc.encode(key), seq, kind: EntryKind.Delete, value: new Uint8Array(0), timeMs });

/** A File that refuses appends past a capacity and must never be synced by the writer. */
class SmallDiskFile extends MemoryFile {
  constructor(private readonly capacity: number) {
    super('small.sst');
  }
  override append(data: Uint8Array): void {
    if (this.size() + data.length > this.capacity) throw new DiskFullError('disk full');
    super.append(data);
  }
  override sync(): void {
    throw new Error('the table writer must not sync');
  }
}

function manyEntries(n: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) out.push(put(`key-${String(i).padStart(7, '0')}`, n + 1 - i, `value-${i}-`.repeat(4)));
  return out;
}

describe('sstable writer', () => {
  it('asserts strictly increasing internal order', () => {
    const w = new SstableWriter(new MemoryFile());
    w.add(put('b', 5));
    expect(() => w.add(put('a', 9))).toThrow(AssertionError);
    const w2 = new SstableWriter(new MemoryFile());
    w2.add(put('b', 5));
    expect(() => w2.add(put('b', 5))).toThrow(AssertionError);
    const w3 = new SstableWriter(new MemoryFile());
    w3.add(put('b', 5));
    expect(() => w3.add(put('b', 6))).toThrow(AssertionError);
    w3.add(put('b', 4));
    w3.add(put('ba', 9));
    expect(w3.entryCount()).toBe(3);
  });

  it('rejects invalid entries and a non-empty file', () => {
    const w = new SstableWriter(new MemoryFile());
    expect(() => w.add({ ...del('a', 3), value: Uint8Array.of(1) })).toThrow(AssertionError);
    expect(() => w.add(put('a', 0))).toThrow(AssertionError);
    expect(() => new SstableWriter(new MemoryFile('x', Uint8Array.of(1)))).toThrow(AssertionError);
  });

  it('appends data blocks while entries arrive, and reports what it wrote', () => {
    const file = new SmallDiskFile(Number.MAX_SAFE_INTEGER);
    const w = new SstableWriter(file, { blockBytes: 4096 });
    const entries = manyEntries(5000);
    let sawGrowth = false;
    for (const e of entries) {
      w.add(e);
      expect(w.bytesWritten()).toBe(file.size());
      if (w.bytesWritten() > 0) sawGrowth = true;
    }
    expect(sawGrowth).toBe(true);
    expect(w.entryCount()).toBe(5000);
    const info = w.finish();
    expect(info.fileBytes).toBe(file.size());
    expect(info).toMatchObject({ entryCount: 5000, tombstoneCount: 0, smallestSeq: 2, largestSeq: 5001 });
    expect(info.smallestKey).toEqual(entries[0]!.key);
    expect(info.largestKey).toEqual(entries[4999]!.key);
    const reader = SstableReader.open(file);
    expect(reader.info).toEqual(info);
    // Blocks close once they reach 4 KiB before compression: no more blocks than
    // the uncompressed bytes allow, no fewer than the values alone need.
    const rawBytes = entries.reduce((n, e) => n + e.key.length + e.value.length + 8, 0);
    const valueBytes = entries.reduce((n, e) => n + e.value.length, 0);
    expect(reader.dataBlockCount()).toBeLessThanOrEqual(Math.ceil(rawBytes / 4096));
    expect(reader.dataBlockCount()).toBeGreaterThanOrEqual(Math.floor(valueBytes / (4096 + 100)));
    expect(() => w.add(put('zzz', 1))).toThrow(AssertionError);
    expect(() => w.finish()).toThrow(AssertionError);
  });

  it('compresses blocks when asked and stores them raw when not', () => {
    const sizes = [true, false].map((compression) => {
      const file = new MemoryFile();
      const w = new SstableWriter(file, { compression });
      for (const e of manyEntries(3000)) w.add(e);
      return w.finish().fileBytes;
    });
    expect(sizes[0]!).toBeLessThan(sizes[1]! * 0.6);
  });

  it('writes a readable empty table', () => {
    const file = new MemoryFile();
    const info = new SstableWriter(file).finish();
    expect(info).toMatchObject({ entryCount: 0, tombstoneCount: 0, smallestSeq: 0, largestSeq: 0 });
    const r = SstableReader.open(file);
    expect(r.info).toEqual(info);
    expect(r.get(enc.encode('a'))).toBeUndefined();
    const it = r.iterator();
    it.seekToFirst();
    expect(it.valid()).toBe(false);
  });

  it('does not care about key length, down to the empty key', () => {
    const file = new MemoryFile();
    const w = new SstableWriter(file);
    const entries = [put('', 3), put('', 2), del('a', 9), put('a'.repeat(5000), 1)];
    for (const e of entries) w.add(e);
    w.finish();
    const r = SstableReader.open(file);
    expect(r.get(new Uint8Array(0))?.seq).toBe(3);
    expect(r.get(new Uint8Array(0), 2)?.seq).toBe(2);
    expect(r.get(enc.encode('a'.repeat(5000)))?.value).toEqual(enc.encode('v1'));
    const it = r.iterator();
    it.seekToFirst();
    const seqs: number[] = [];
    for (; it.valid(); it.next()) seqs.push(it.entry().seq);
    expect(seqs).toEqual([3, 2, 9, 1]);
  });

  it('counts tombstones and the sequence range over any input', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ k: fc.integer({ min: 0, max: 40 }), seq: fc.integer({ min: 1, max: 10_000 }), del: fc.boolean() }), { selector: (r) => `${r.k}/${r.seq}`, minLength: 1, maxLength: 200 }),
        (rows) => {
          const entries = rows.map((r) => (r.del ? del(`k${r.k}`, r.seq) : put(`k${r.k}`, r.seq))).sort(compareEntries);
          const w = new SstableWriter(new MemoryFile(), { blockBytes: 128 });
          for (const e of entries) w.add(e);
          const info = w.finish();
          expect(info.entryCount).toBe(entries.length);
          expect(info.tombstoneCount).toBe(rows.filter((r) => r.del).length);
          expect(info.smallestSeq).toBe(Math.min(...rows.map((r) => r.seq)));
          expect(info.largestSeq).toBe(Math.max(...rows.map((r) => r.seq)));
          expect(info.smallestKey).toEqual(entries[0]!.key);
          expect(info.largestKey).toEqual(entries[entries.length - 1]!.key);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('copies what it keeps: callers may reuse their key buffers', () => {
    const file = new MemoryFile();
    const w = new SstableWriter(file, { blockBytes: 64 });
    const key = new Uint8Array(4);
    for (let i = 0; i < 200; i++) {
      key.set([0, 0, i >> 8, i & 0xff]);
      w.add({ key, seq: 1, kind: EntryKind.Put, value: Uint8Array.of(i & 0xff), timeMs: 0 });
    }
    const info = w.finish();
    expect([...info.smallestKey]).toEqual([0, 0, 0, 0]);
    const r = SstableReader.open(file);
    for (let i = 0; i < 200; i++) expect(r.get(Uint8Array.of(0, 0, i >> 8, i & 0xff))?.value).toEqual(Uint8Array.of(i & 0xff));
  });

  it('stops for good when the disk is full, without syncing', () => {
    const file: File = new SmallDiskFile(10_000);
    const w = new SstableWriter(file, { compression: false });
    const entries = manyEntries(1000);
    let failed = false;
    for (const e of entries) {
      try {
        w.add(e);
      } catch (err) {
        expect(err).toBeInstanceOf(DiskFullError);
        failed = true;
        break;
      }
    }
    expect(failed).toBe(true);
    expect(() => w.add(put('zzzz', 1))).toThrow(AssertionError);
    expect(() => w.finish()).toThrow(AssertionError);
  });
});
