// The disk, modelled as an operating system presents it to a database:
//
// - `append` puts bytes in the page cache. They are readable at once but not
//   durable: a crash may keep them, drop them or tear them (at sector
//   granularity). `sync(cb)` is the only durability barrier for a file's data.
// - Creating, renaming and removing files changes the directory, which is only
//   durable after `syncDir(cb)` (fsync of the directory on a real disk).
// - Reads are synchronous (pread). They may fail with DiskReadError; bytes may
//   have rotted at rest, so every format read back carries its own checksums.
// - A full disk makes `append` throw DiskFullError with nothing written.
//
// Names are flat (no subdirectories): one Disk is one node's data directory.

export class DiskError extends Error {
  override name = 'DiskError';
}
/** The device has no room: nothing of the failed append was written. */
export class DiskFullError extends DiskError {
  override name = 'DiskFullError';
}
/** An I/O error on read (EIO); the data may be readable again later. */
export class DiskReadError extends DiskError {
  override name = 'DiskReadError';
}
/** The file does not exist. */
export class FileNotFoundError extends DiskError {
  override name = 'FileNotFoundError';
}

export type SyncCallback = (err: DiskError | null) => void;

export interface File {
  readonly name: string;
  /** Bytes readable now, durable or not. */
  size(): number;
  /** Appends to the page cache. Throws DiskFullError when the disk is full. */
  append(data: Uint8Array): void;
  /** Reads exactly `length` bytes at `offset`, or fewer at end of file. Throws DiskReadError. */
  pread(offset: number, length: number): Uint8Array;
  /** Makes every byte appended before this call durable, then calls back. */
  sync(callback: SyncCallback): void;
  /** Releases the handle; unsynced data stays in the page cache. */
  close(): void;
}

export interface Disk {
  /** Creates (or truncates) a file and opens it for appending. */
  create(name: string): File;
  /** Opens an existing file. Throws FileNotFoundError. */
  open(name: string): File;
  exists(name: string): boolean;
  /** Every file name, sorted. */
  list(): string[];
  remove(name: string): void;
  /** Atomically replaces `to` with `from` (durable after syncDir). */
  rename(from: string, to: string): void;
  /** Makes creates, renames and removes so far durable. */
  syncDir(callback: SyncCallback): void;
}
