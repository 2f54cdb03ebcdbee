// io/disk.ts's Disk over a real directory.
//
// One open file is one `Inode`: a cached file descriptor (opened read-write
// and O_APPEND, so `pread` is one syscall and appends always land at the end)
// plus a small user-space write buffer, as LevelDB's PosixWritableFile has.
// Appends of a few bytes (a WAL record, a table block) would otherwise cost a
// write(2) each; buffered bytes are still "in the page cache" in the sense of
// the Disk model: readable at once by every handle of the file, durable only
// after `sync`. Every handle opened on the same name shares the inode, so a
// reader opened while a writer still holds buffered bytes sees them.
//
// The buffer is handed to the kernel at the end of the current tick
// (process.nextTick), not only when it fills or at a sync. With periodic
// durability the engine acknowledges a write once appended, through a timer
// (never inside the write), so the acknowledgement runs after this tick and
// an acknowledged write is in the kernel first: a killed process (kill -9,
// the OOM killer, a crash) loses none of them, only a crash of the machine
// loses the last sync interval, as with Redis's appendfsync everysec.
// (Engine.tryWriteNow, which only the engine bench uses, acknowledges within
// the tick.) All the appends of one tick still make one write(2).
//
// Errors map to the model: ENOSPC -> DiskFullError (the failed append leaves
// nothing behind: a partial write(2) is truncated away), EIO on read ->
// DiskReadError, ENOENT -> FileNotFoundError.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssertionError, assert } from '../io/assert.ts';
import {
  type Disk,
  DiskError,
  DiskFullError,
  DiskReadError,
  type File,
  FileNotFoundError,
  type SyncCallback,
} from '../io/disk.ts';

/**
 * A removed file is renamed to a name starting with this, then unlinked off
 * the event loop: ext4 frees a file's blocks inside unlink(2), about 1 ms per
 * MB here, so removing an 8 MB log after a flush held the event loop, and
 * every request waiting on it, for 7-8 ms. The rename is one directory
 * entry. list() hides these names, and opening the directory removes any a
 * crash left behind.
 */
const REMOVED_PREFIX = '.removed-';
let removedCount = 0;

/** Whether `name` is a file FsDisk removed and is unlinking (not data: size reports skip it). */
export function isRemovedFileName(name: string): boolean {
  return name.startsWith(REMOVED_PREFIX);
}

/** Appends smaller than this are gathered in memory before one write(2). */
const WRITE_BUFFER_BYTES = 64 * 1024;

const { O_RDWR, O_APPEND, O_CREAT, O_TRUNC } = fs.constants;

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Translates a Node fs error into the Disk model's errors. */
function toDiskError(err: unknown, what: string, reading = false): DiskError {
  const code = errnoCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new DiskFullError(`${what}: ${detail}`);
  if (code === 'ENOENT') return new FileNotFoundError(`${what}: ${detail}`);
  if (reading && code === 'EIO') return new DiskReadError(`${what}: ${detail}`);
  return new DiskError(`${what}: ${detail}`);
}

/** Counts sync and syncDir calls whose callbacks have not run yet. */
class SyncTracker {
  inFlight = 0;
  wrap(callback: SyncCallback): SyncCallback {
    this.inFlight++;
    return (err) => {
      this.inFlight--;
      callback(err);
    };
  }
}

/** The state one file's open handles share. */
class Inode {
  /** Bytes handed to the kernel with write(2). */
  private written: number;
  private buffer: Uint8Array | null = null;
  private buffered = 0;
  private flushQueued = false;
  /** Open handles; the fd closes when the last one closes and no sync is pending. */
  handles = 0;
  private pendingSyncs = 0;
  private fdClosed = false;

  constructor(
    public name: string,
    private readonly fd: number,
  ) {
    this.written = fs.fstatSync(fd).size;
  }

  size(): number {
    return this.written + this.buffered;
  }

  append(data: Uint8Array): void {
    if (!(!this.fdClosed)) throw new AssertionError(`append to closed file ${this.name}`);
    if (data.length === 0) return;
    if (this.buffered + data.length <= WRITE_BUFFER_BYTES) {
      this.buffer ??= new Uint8Array(WRITE_BUFFER_BYTES);
      this.buffer.set(data, this.buffered);
      this.buffered += data.length;
      this.flushAtTickEnd();
      return;
    }
    // Flushing first keeps file order; if it fails the buffered bytes stay
    // readable and this append is refused whole.
    this.flush();
    if (data.length >= WRITE_BUFFER_BYTES) {
      this.writeAll(data);
    } else {
      this.buffer ??= new Uint8Array(WRITE_BUFFER_BYTES);
      this.buffer.set(data, 0);
      this.buffered = data.length;
      this.flushAtTickEnd();
    }
  }

  private flushAtTickEnd(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    process.nextTick(() => {
      this.flushQueued = false;
      if (this.fdClosed) return;
      try {
        this.flush();
      } catch {
        // Still buffered and readable; the next append or sync that writes reports the error.
      }
    });
  }

  /** Hands the buffered bytes to the kernel. Throws DiskFullError, keeping them buffered. */
  flush(): void {
    if (this.buffered === 0) return;
    this.writeAll(this.buffer!.subarray(0, this.buffered));
    this.buffered = 0;
  }

  private writeAll(data: Uint8Array): void {
    const before = this.written;
    let done = 0;
    try {
      while (done < data.length) {
        const n = fs.writeSync(this.fd, data, done, data.length - done);
        assert(n > 0, `write(2) of ${this.name} made no progress`);
        done += n;
      }
    } catch (err) {
      // All or nothing: cut a partial write back off so the file ends where it did.
      if (done > 0) {
        try {
          fs.ftruncateSync(this.fd, before);
        } catch {
          // The original error is the one worth reporting.
        }
      }
      throw toDiskError(err, `append to ${this.name}`);
    }
    this.written += data.length;
  }

  pread(offset: number, length: number): Uint8Array {
    assert(!this.fdClosed, `pread of closed file ${this.name}`);
    assert(Number.isSafeInteger(offset) && offset >= 0, `pread offset ${offset}`);
    assert(Number.isSafeInteger(length) && length >= 0, `pread length ${length}`);
    const end = Math.min(offset + length, this.size());
    if (end <= offset) return new Uint8Array(0);
    const out = new Uint8Array(end - offset);
    // The part the kernel has, then the part still in the write buffer.
    const kernelEnd = Math.min(end, this.written);
    let got = 0;
    if (offset < kernelEnd) {
      try {
        while (offset + got < kernelEnd) {
          const n = fs.readSync(this.fd, out, got, kernelEnd - offset - got, offset + got);
          if (n === 0) break; // shorter than we wrote: truncated behind our back
          got += n;
        }
      } catch (err) {
        throw toDiskError(err, `read of ${this.name} at ${offset}`, true);
      }
      if (offset + got < kernelEnd) return out.subarray(0, got);
    }
    if (end > this.written) {
      const from = Math.max(offset, this.written);
      out.set(this.buffer!.subarray(from - this.written, end - this.written), from - offset);
    }
    return out;
  }

  sync(callback: SyncCallback): void {
    if (this.fdClosed) assert(false, `sync of closed file ${this.name}`);
    try {
      this.flush();
    } catch (err) {
      const diskErr = err instanceof DiskError ? err : toDiskError(err, `sync of ${this.name}`);
      queueMicrotask(() => callback(diskErr));
      return;
    }
    this.pendingSyncs++;
    // fdatasync: an append-only file's size is metadata fdatasync must write,
    // so it is as durable as fsync here, without the mtime update.
    fs.fdatasync(this.fd, (err) => {
      this.pendingSyncs--;
      this.maybeCloseFd();
      callback(err ? toDiskError(err, `sync of ${this.name}`) : null);
    });
  }

  release(): void {
    assert(this.handles > 0, `release of ${this.name} with no open handle`);
    this.handles--;
    if (this.handles > 0) return;
    try {
      this.flush();
    } finally {
      this.maybeCloseFd();
    }
  }

  private maybeCloseFd(): void {
    if (this.handles > 0 || this.pendingSyncs > 0 || this.fdClosed) return;
    this.fdClosed = true;
    this.buffer = null;
    fs.closeSync(this.fd);
  }
}

/** One handle on an inode; closing it twice is an error. */
class FsFile implements File {
  private closed = false;

  constructor(
    private readonly inode: Inode,
    private readonly syncs: SyncTracker,
  ) {
    inode.handles++;
  }

  get name(): string {
    return this.inode.name;
  }

  size(): number {
    assert(!this.closed, `size of closed file ${this.name}`);
    return this.inode.size();
  }

  append(data: Uint8Array): void {
    if (!(!this.closed)) throw new AssertionError(`append to closed file ${this.name}`);
    this.inode.append(data);
  }

  pread(offset: number, length: number): Uint8Array {
    assert(!this.closed, `pread of closed file ${this.name}`);
    return this.inode.pread(offset, length);
  }

  sync(callback: SyncCallback): void {
    if (this.closed) assert(false, `sync of closed file ${this.name}`);
    this.inode.sync(this.syncs.wrap(callback));
  }

  close(): void {
    assert(!this.closed, `file ${this.name} closed twice`);
    this.closed = true;
    this.inode.release();
  }
}

export class FsDisk implements Disk {
  /** Inodes with at least one open handle, by current name. */
  private readonly inodes = new Map<string, Inode>();
  private dirFd: number | null = null;
  private pendingDirSyncs = 0;
  private readonly syncs = new SyncTracker();
  private closeWhenSynced = false;

  /** `dir` is created if missing. */
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    for (const name of fs.readdirSync(dir)) if (isRemovedFileName(name)) this.unlinkLater(name);
  }

  /** Unlinks in the thread pool; a failure leaves a hidden file the next open removes. */
  private unlinkLater(name: string): void {
    fs.unlink(path.join(this.dir, name), () => {});
  }

  private pathOf(name: string): string {
    assert(name.length > 0 && name !== '.' && name !== '..', `bad file name '${name}'`);
    assert(!name.includes('/') && !name.includes('\0'), `file name '${name}' is not flat`);
    return path.join(this.dir, name);
  }

  private live(name: string): Inode | undefined {
    const inode = this.inodes.get(name);
    if (inode && inode.handles === 0) {
      this.inodes.delete(name);
      return undefined;
    }
    return inode;
  }

  create(name: string): File {
    const file = this.pathOf(name);
    // A new inode replaces the old one, as the simulated disk does: handles
    // still open on the old file keep reading what it held.
    if (this.live(name)) {
      try {
        fs.unlinkSync(file);
      } catch (err) {
        throw toDiskError(err, `create ${name}`);
      }
      this.inodes.delete(name);
    }
    let fd: number;
    try {
      fd = fs.openSync(file, O_RDWR | O_APPEND | O_CREAT | O_TRUNC, 0o644);
    } catch (err) {
      throw toDiskError(err, `create ${name}`);
    }
    const inode = new Inode(name, fd);
    this.inodes.set(name, inode);
    return new FsFile(inode, this.syncs);
  }

  open(name: string): File {
    const existing = this.live(name);
    if (existing) return new FsFile(existing, this.syncs);
    let fd: number;
    try {
      fd = fs.openSync(this.pathOf(name), O_RDWR | O_APPEND);
    } catch (err) {
      throw toDiskError(err, `open ${name}`);
    }
    const inode = new Inode(name, fd);
    this.inodes.set(name, inode);
    return new FsFile(inode, this.syncs);
  }

  exists(name: string): boolean {
    if (this.live(name)) return true;
    return fs.existsSync(this.pathOf(name));
  }

  list(): string[] {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(this.dir, { withFileTypes: true });
    } catch (err) {
      throw toDiskError(err, `list ${this.dir}`);
    }
    return entries
      .filter((e) => e.isFile() && !isRemovedFileName(e.name))
      .map((e) => e.name)
      .sort();
  }

  remove(name: string): void {
    const removed = `${REMOVED_PREFIX}${removedCount++}-${name}`;
    try {
      fs.renameSync(this.pathOf(name), this.pathOf(removed));
    } catch (err) {
      throw toDiskError(err, `remove ${name}`);
    }
    this.unlinkLater(removed);
    // Open handles keep reading the unlinked file, as on POSIX.
    this.inodes.delete(name);
  }

  rename(from: string, to: string): void {
    try {
      fs.renameSync(this.pathOf(from), this.pathOf(to));
    } catch (err) {
      throw toDiskError(err, `rename ${from} -> ${to}`);
    }
    const moved = this.live(from);
    this.inodes.delete(from);
    this.inodes.delete(to);
    if (moved) {
      moved.name = to;
      this.inodes.set(to, moved);
    }
  }

  syncDir(done: SyncCallback): void {
    const callback = this.syncs.wrap(done);
    try {
      this.dirFd ??= fs.openSync(this.dir, 'r');
    } catch (err) {
      const diskErr = toDiskError(err, `open directory ${this.dir}`);
      queueMicrotask(() => callback(diskErr));
      return;
    }
    this.pendingDirSyncs++;
    fs.fsync(this.dirFd, (err) => {
      this.pendingDirSyncs--;
      if (this.closeWhenSynced) this.close();
      callback(err ? toDiskError(err, `sync of directory ${this.dir}`) : null);
    });
  }

  /** sync and syncDir calls whose callbacks have not run yet. */
  pendingSyncCount(): number {
    return this.syncs.inFlight;
  }

  /** Releases the directory handle (after pending syncDir calls). Open files keep their own descriptors. */
  close(): void {
    if (this.pendingDirSyncs > 0) {
      this.closeWhenSynced = true;
      return;
    }
    this.closeWhenSynced = false;
    if (this.dirFd !== null) {
      fs.closeSync(this.dirFd);
      this.dirFd = null;
    }
  }
}
