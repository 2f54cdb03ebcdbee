// The behaviour io/disk.ts promises, as a vitest suite any Disk must pass: the
// simulated disk (sim/sim_disk.test.ts) and the real one (real/). Crash
// behaviour is not here: only the simulator can crash a disk on demand.
// This module registers tests, so it is test support and imports vitest.

import { afterEach, describe, expect, it } from 'vitest';
import { type Disk, DiskError, FileNotFoundError, type File } from './disk.ts';

export interface DiskUnderTest {
  disk: Disk;
  cleanup?: () => void;
  /** Runs until every pending sync / syncDir callback has been called. */
  runUntilIdle: () => Promise<void> | void;
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

function pattern(length: number, salt: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + salt * 7 + (i >>> 8)) & 0xff;
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function readAll(file: File): Uint8Array {
  return file.pread(0, file.size());
}

export function describeDiskConformance(name: string, makeDisk: () => DiskUnderTest): void {
  describe(`Disk conformance: ${name}`, () => {
    let current: DiskUnderTest | undefined;
    const fresh = (): DiskUnderTest => {
      current = makeDisk();
      return current;
    };
    afterEach(() => {
      current?.cleanup?.();
      current = undefined;
    });

    /** Calls sync / syncDir and waits for the callback through runUntilIdle. */
    async function completes(t: DiskUnderTest, start: (cb: (err: DiskError | null) => void) => void): Promise<void> {
      const results: (DiskError | null)[] = [];
      start((err) => results.push(err));
      await t.runUntilIdle();
      expect(results).toEqual([null]);
    }

    it('create makes an empty file that exists and is listed', () => {
      const { disk } = fresh();
      expect(disk.exists('a')).toBe(false);
      const f = disk.create('a');
      expect(f.name).toBe('a');
      expect(f.size()).toBe(0);
      expect(disk.exists('a')).toBe(true);
      expect(disk.list()).toEqual(['a']);
      f.close();
    });

    it('append is visible to pread at once, at the right offsets', () => {
      const { disk } = fresh();
      const f = disk.create('log');
      f.append(bytes(1, 2, 3));
      expect(f.size()).toBe(3);
      expect(Array.from(f.pread(0, 3))).toEqual([1, 2, 3]);
      f.append(bytes(4, 5));
      expect(f.size()).toBe(5);
      expect(Array.from(f.pread(2, 3))).toEqual([3, 4, 5]);
      expect(Array.from(f.pread(1, 0))).toEqual([]);
      f.close();
    });

    it('pread past the end returns fewer bytes, or none', () => {
      const { disk } = fresh();
      const f = disk.create('short');
      f.append(bytes(9, 8, 7, 6));
      expect(Array.from(f.pread(2, 10))).toEqual([7, 6]);
      expect(f.pread(4, 3).length).toBe(0);
      expect(f.pread(100, 3).length).toBe(0);
      f.close();
    });

    it('append copies its input and pread returns a copy', () => {
      const { disk } = fresh();
      const f = disk.create('copies');
      const input = bytes(1, 2, 3);
      f.append(input);
      input[0] = 99;
      const out = f.pread(0, 3);
      out[1] = 77;
      expect(Array.from(f.pread(0, 3))).toEqual([1, 2, 3]);
      f.close();
    });

    it('large and many small appends read back exactly, across any boundary', () => {
      const { disk } = fresh();
      const f = disk.create('big');
      const big = pattern(300_000, 1);
      f.append(big);
      const small: Uint8Array[] = [];
      for (let i = 0; i < 200; i++) small.push(pattern(1 + ((i * 37) % 700), i));
      for (const s of small) f.append(s);
      const total = big.length + small.reduce((n, s) => n + s.length, 0);
      expect(f.size()).toBe(total);
      const expected = new Uint8Array(total);
      expected.set(big, 0);
      let at = big.length;
      for (const s of small) {
        expected.set(s, at);
        at += s.length;
      }
      expect(sameBytes(readAll(f), expected)).toBe(true);
      for (const [off, len] of [[65_530, 20], [131_071, 2], [299_990, 500], [total - 3, 10]] as const) {
        expect(sameBytes(f.pread(off, len), expected.subarray(off, off + len))).toBe(true);
      }
      f.close();
    });

    it('sync calls back once with null, and the data is still there', async () => {
      const t = fresh();
      const f = t.disk.create('synced');
      f.append(pattern(5000, 3));
      await completes(t, (cb) => f.sync(cb));
      expect(sameBytes(readAll(f), pattern(5000, 3))).toBe(true);
      f.close();
    });

    it('several syncs in flight each call back once', async () => {
      const t = fresh();
      const f = t.disk.create('multi');
      const results: (DiskError | null)[] = [];
      for (let i = 0; i < 5; i++) {
        f.append(pattern(100, i));
        f.sync((err) => results.push(err));
      }
      await t.runUntilIdle();
      expect(results).toEqual([null, null, null, null, null]);
      expect(f.size()).toBe(500);
      f.close();
    });

    it('open finds an existing file; appends continue at its end', () => {
      const { disk } = fresh();
      const a = disk.create('f');
      a.append(bytes(1, 2));
      a.close();
      const b = disk.open('f');
      expect(b.size()).toBe(2);
      b.append(bytes(3));
      expect(Array.from(b.pread(0, 10))).toEqual([1, 2, 3]);
      b.close();
    });

    it('open of a missing file throws FileNotFoundError', () => {
      const { disk } = fresh();
      expect(() => disk.open('nope')).toThrow(FileNotFoundError);
      expect(disk.exists('nope')).toBe(false);
    });

    it('create of an existing name truncates it', () => {
      const { disk } = fresh();
      const a = disk.create('t');
      a.append(bytes(1, 2, 3));
      a.close();
      const b = disk.create('t');
      expect(b.size()).toBe(0);
      b.append(bytes(4));
      b.close();
      const c = disk.open('t');
      expect(Array.from(c.pread(0, 10))).toEqual([4]);
      c.close();
      expect(disk.list()).toEqual(['t']);
    });

    it('list is sorted', () => {
      const { disk } = fresh();
      for (const n of ['m', 'b', 'zz', 'a1', 'a', 'B', '000010.sst', '000002.sst']) disk.create(n).close();
      const listed = disk.list();
      expect(listed).toEqual([...listed].sort());
      expect(new Set(listed)).toEqual(new Set(['m', 'b', 'zz', 'a1', 'a', 'B', '000010.sst', '000002.sst']));
    });

    it('rename moves a file, replacing the target', () => {
      const { disk } = fresh();
      const a = disk.create('new');
      a.append(bytes(7, 7));
      a.close();
      const b = disk.create('CURRENT');
      b.append(bytes(1));
      b.close();
      disk.rename('new', 'CURRENT');
      expect(disk.exists('new')).toBe(false);
      expect(disk.list()).toEqual(['CURRENT']);
      const c = disk.open('CURRENT');
      expect(Array.from(c.pread(0, 10))).toEqual([7, 7]);
      c.close();
      expect(() => disk.open('new')).toThrow(FileNotFoundError);
    });

    it('rename to a fresh name; rename of a missing file throws FileNotFoundError', () => {
      const { disk } = fresh();
      disk.create('x').close();
      disk.rename('x', 'y');
      expect(disk.list()).toEqual(['y']);
      expect(() => disk.rename('x', 'z')).toThrow(FileNotFoundError);
      expect(disk.list()).toEqual(['y']);
    });

    it('remove deletes a file; removing a missing file throws FileNotFoundError', () => {
      const { disk } = fresh();
      disk.create('gone').close();
      disk.create('stays').close();
      disk.remove('gone');
      expect(disk.exists('gone')).toBe(false);
      expect(disk.list()).toEqual(['stays']);
      expect(() => disk.open('gone')).toThrow(FileNotFoundError);
      expect(() => disk.remove('gone')).toThrow(FileNotFoundError);
    });

    it('syncDir calls back once with null; the directory is unchanged by it', async () => {
      const t = fresh();
      const f = t.disk.create('a');
      f.append(bytes(1));
      t.disk.create('b').close();
      t.disk.rename('b', 'c');
      await completes(t, (cb) => t.disk.syncDir(cb));
      expect(t.disk.list()).toEqual(['a', 'c']);
      expect(Array.from(f.pread(0, 5))).toEqual([1]);
      f.close();
    });

    it('syncDir on an untouched disk still calls back', async () => {
      const t = fresh();
      await completes(t, (cb) => t.disk.syncDir(cb));
      expect(t.disk.list()).toEqual([]);
    });
  });
}
