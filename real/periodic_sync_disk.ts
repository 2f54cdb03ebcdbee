// The "periodic" durability mode: the engine acknowledges writes once they
// are in the page cache (syncWrites off), and this Disk wrapper fsyncs every
// file written since the last round on a fixed interval, like Cassandra's
// commitlog_sync: periodic. A crash of the machine loses at most the last
// interval of acknowledged writes, a crash of the process none (FsDisk hands
// a tick's appends to the kernel before they are acknowledged); in exchange
// no write waits for an fsync. A file
// closed between rounds is synced as it closes, and flushAll() syncs
// everything still dirty (used on shutdown).

import type { Disk, DiskError, File, SyncCallback } from '../io/disk.ts';

class TrackedFile implements File {
  dirty = false;
  constructor(
    private readonly inner: File,
    private readonly owner: PeriodicSyncDisk,
  ) {}

  get name(): string {
    return this.inner.name;
  }
  size(): number {
    return this.inner.size();
  }
  append(data: Uint8Array): void {
    this.inner.append(data);
    this.dirty = true;
  }
  pread(offset: number, length: number): Uint8Array {
    return this.inner.pread(offset, length);
  }
  sync(callback: SyncCallback): void {
    this.dirty = false;
    this.inner.sync(callback);
  }
  close(): void {
    if (this.dirty) this.sync((err) => this.owner.reportError(err));
    this.owner.forget(this);
    this.inner.close();
  }
}

export class PeriodicSyncDisk implements Disk {
  private readonly tracked = new Set<TrackedFile>();
  private timer: NodeJS.Timeout | null = null;
  /** Failed background syncs (the files stay open; the next round tries again). */
  syncErrors = 0;
  lastSyncError: DiskError | null = null;

  constructor(
    private readonly inner: Disk,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => this.flushAll(() => {}), intervalMs);
  }

  create(name: string): File {
    return this.track(this.inner.create(name));
  }
  open(name: string): File {
    return this.track(this.inner.open(name));
  }
  exists(name: string): boolean {
    return this.inner.exists(name);
  }
  list(): string[] {
    return this.inner.list();
  }
  remove(name: string): void {
    this.inner.remove(name);
  }
  rename(from: string, to: string): void {
    this.inner.rename(from, to);
  }
  syncDir(callback: SyncCallback): void {
    this.inner.syncDir(callback);
  }

  /** Syncs every dirty open file, then calls back with the first error. */
  flushAll(cb: (err: DiskError | null) => void): void {
    const dirty = [...this.tracked].filter((f) => f.dirty);
    let waiting = dirty.length;
    let first: DiskError | null = null;
    if (waiting === 0) return cb(null);
    for (const f of dirty) {
      f.sync((err) => {
        this.reportError(err);
        first ??= err;
        if (--waiting === 0) cb(first);
      });
    }
  }

  /** Stops the periodic rounds (after a last flushAll on shutdown). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  forget(f: TrackedFile): void {
    this.tracked.delete(f);
  }

  reportError(err: DiskError | null): void {
    if (err === null) return;
    this.syncErrors++;
    this.lastSyncError = err;
  }

  private track(inner: File): File {
    const f = new TrackedFile(inner, this);
    this.tracked.add(f);
    return f;
  }
}
