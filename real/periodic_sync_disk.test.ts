import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { File, SyncCallback } from '../io/disk.ts';
import { FsDisk } from './fs_disk.ts';
import { PeriodicSyncDisk } from './periodic_sync_disk.ts';
import { waitFor } from './test_ports.testkit.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-psync-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An FsDisk whose files count their syncs. */
function countingDisk(sub: string) {
  const inner = new FsDisk(path.join(dir, sub));
  const syncs = new Map<string, number>();
  const wrap = (f: File): File => ({
    get name() {
      return f.name;
    },
    size: () => f.size(),
    append: (d) => f.append(d),
    pread: (o, l) => f.pread(o, l),
    sync: (cb: SyncCallback) => {
      syncs.set(f.name, (syncs.get(f.name) ?? 0) + 1);
      f.sync(cb);
    },
    close: () => f.close(),
  });
  const disk = Object.assign(Object.create(inner) as FsDisk, { create: (n: string) => wrap(inner.create(n)), open: (n: string) => wrap(inner.open(n)) });
  return { disk, syncs };
}

describe('PeriodicSyncDisk', () => {
  it('syncs files written since the last round, and only those, every interval', async () => {
    const { disk, syncs } = countingDisk('a');
    const p = new PeriodicSyncDisk(disk, 20);
    try {
      const a = p.create('a');
      const b = p.create('b');
      a.append(new Uint8Array([1]));
      await waitFor('a synced', () => (syncs.get('a') ?? 0) >= 1, 2000);
      await new Promise((r) => setTimeout(r, 60));
      expect(syncs.get('a')).toBe(1);
      expect(syncs.get('b')).toBeUndefined();
      b.append(new Uint8Array([2]));
      await waitFor('b synced', () => (syncs.get('b') ?? 0) >= 1, 2000);
      a.close();
      b.close();
    } finally {
      p.stop();
    }
  });

  it('syncs a dirty file as it closes, and flushAll syncs everything dirty at once', async () => {
    const { disk, syncs } = countingDisk('b');
    const p = new PeriodicSyncDisk(disk, 60_000);
    try {
      const a = p.create('a');
      a.append(new Uint8Array([1]));
      a.close();
      expect(syncs.get('a')).toBe(1);
      const b = p.create('b');
      const c = p.create('c');
      b.append(new Uint8Array([1]));
      c.append(new Uint8Array([1]));
      await new Promise<void>((resolve, reject) => p.flushAll((err) => (err === null ? resolve() : reject(err))));
      expect([syncs.get('b'), syncs.get('c')]).toEqual([1, 1]);
      await new Promise<void>((resolve) => p.flushAll(() => resolve()));
      expect([syncs.get('b'), syncs.get('c')]).toEqual([1, 1]);
      expect(fs.readFileSync(path.join(dir, 'b', 'b'))).toEqual(Buffer.from([1]));
      b.close();
      c.close();
    } finally {
      p.stop();
    }
  });
});
