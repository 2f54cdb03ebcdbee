// The manifest: the durable record of which tables are live, as a log of
// version edits (version_edit.ts), and the CURRENT file naming the live one.
//
// Files of one engine, flat in its directory (numbers come from one counter,
// zero-padded to six digits, and are never reused):
//
//   CURRENT          "MANIFEST-000005\n": the manifest recovery reads
//   CURRENT.tmp      the next CURRENT while it is being switched
//   MANIFEST-000005  version edits, one per record, in the WAL's record format
//                    (log_format.ts: CRC-framed, torn tails detected); its
//                    first record is a snapshot of the whole state
//   000007.log       a write-ahead log (wal_writer.ts): the batches of one memtable
//   000009.sst       a table (sstable_writer.ts)
//
// Durability order, which recovery relies on:
// - A table (flush or compaction output) is synced and the directory synced
//   before the edit adding it is appended to the manifest, so an edit never
//   names a file a crash can take away.
// - An edit is durable (manifest synced) before the engine acts on it: it
//   serves the new version and deletes files the edit made obsolete only
//   afterwards. A crash in between leaves extra files, which the next open
//   deletes as unreferenced.
// - A new manifest is written whole and synced, and the directory synced (a
//   crash may keep a later directory operation and lose an earlier one); then
//   CURRENT.tmp is written and synced, renamed over CURRENT, and the directory
//   synced again. Until that
//   rename is durable a crash finds the old CURRENT and the old manifest,
//   which is still complete; the old manifest is deleted only after.
// - Edits are appended one at a time, each synced before the next, so a torn
//   manifest tail holds at most the one edit that was never acted on; damage
//   anywhere before the tail is corruption and stops recovery.

import { assert } from '../../io/assert.ts';
import type { Disk, File } from '../../io/disk.ts';
import { CorruptionError } from './errors.ts';
import { readWal } from './wal_reader.ts';
import { WalWriter } from './wal_writer.ts';
import { decodeVersionEdit, encodeVersionEdit, type VersionEdit } from './version_edit.ts';
import { VersionSet } from './version_set.ts';

export const CURRENT_FILE = 'CURRENT';
export const CURRENT_TEMP_FILE = 'CURRENT.tmp';

const pad = (n: number): string => {
  assert(Number.isSafeInteger(n) && n >= 1, `file number invalid: ${n}`);
  return String(n).padStart(6, '0');
};
export const tableFileName = (n: number): string => `${pad(n)}.sst`;
export const walFileName = (n: number): string => `${pad(n)}.log`;
export const manifestFileName = (n: number): string => `MANIFEST-${pad(n)}`;

export type FileKind = 'table' | 'wal' | 'manifest' | 'current' | 'temp';

/** What an engine file name denotes; undefined for names the engine does not own. */
export function parseFileName(name: string): { kind: FileKind; number: number } | undefined {
  if (name === CURRENT_FILE) return { kind: 'current', number: 0 };
  if (name === CURRENT_TEMP_FILE) return { kind: 'temp', number: 0 };
  let m = /^(\d{6,})\.(sst|log)$/.exec(name);
  if (m) return { kind: m[2] === 'sst' ? 'table' : 'wal', number: Number(m[1]) };
  m = /^MANIFEST-(\d{6,})$/.exec(name);
  if (m) return { kind: 'manifest', number: Number(m[1]) };
  return undefined;
}

export interface RecoveredManifest {
  versions: VersionSet;
  manifestNumber: number;
  /** Edits replayed, and what the manifest reader said about its tail. */
  edits: number;
  tail: 'eof' | 'torn-tail';
}

/**
 * Reads CURRENT and the manifest it names into a VersionSet. Returns
 * undefined when there is no CURRENT (a new engine, or one whose creation
 * never completed). Throws CorruptionError for a damaged CURRENT or manifest.
 */
export function readManifest(disk: Disk): RecoveredManifest | undefined {
  if (!disk.exists(CURRENT_FILE)) return undefined;
  const currentFile = disk.open(CURRENT_FILE);
  let text: string;
  try {
    text = new TextDecoder().decode(currentFile.pread(0, Math.min(currentFile.size(), 64)));
  } finally {
    currentFile.close();
  }
  const m = /^(MANIFEST-\d{6,})\n$/.exec(text);
  const parsed = m ? parseFileName(m[1]!) : undefined;
  if (!m || parsed === undefined) throw new CorruptionError(`does not name a manifest: ${JSON.stringify(text)}`, CURRENT_FILE);
  const name = m[1]!;
  if (!disk.exists(name)) throw new CorruptionError(`names ${name}, which does not exist`, CURRENT_FILE);
  const file = disk.open(name);
  let replay;
  try {
    replay = readWal(file);
  } finally {
    file.close();
  }
  if (replay.stopReason === 'corrupt') throw new CorruptionError(`damaged before its tail: ${replay.detail}`, name);
  const versions = new VersionSet();
  replay.records.forEach((record, i) => {
    try {
      const edit = decodeVersionEdit(record);
      if (i === 0 && (edit.logNumber === undefined || edit.nextFileNumber === undefined || edit.lastSeq === undefined)) {
        throw new CorruptionError('first edit is not a snapshot');
      }
      versions.apply(edit);
    } catch (err) {
      if (err instanceof CorruptionError) throw new CorruptionError(`edit ${i}: ${err.message}`, name);
      throw err;
    }
  });
  if (replay.records.length === 0) throw new CorruptionError('holds no snapshot', name);
  versions.markFileNumberUsed(parsed.number);
  return { versions, manifestNumber: parsed.number, edits: replay.records.length, tail: replay.stopReason };
}

interface QueuedEdit {
  edit: VersionEdit;
  cb: (err: Error | null) => void;
}

/**
 * The writer side: appends edits one at a time, each durable before it is
 * applied to the VersionSet and acknowledged, and rolls over to a fresh
 * manifest (snapshot first) when the current one grows past maxBytes and
 * past twice its own snapshot (a state bigger than maxBytes would otherwise
 * roll over on every edit).
 */
export class ManifestLog {
  private queue: QueuedEdit[] = [];
  private busy = false;
  private failure: Error | null = null;
  private closed = false;
  /** Bytes written to manifests over the engine's life. */
  bytesWritten = 0;
  /** Size of the snapshot that opens the live manifest. */
  private snapshotBytes = 0;

  private constructor(
    private readonly disk: Disk,
    private readonly versions: VersionSet,
    private writer: WalWriter,
    private number: number,
    private readonly maxBytes: number,
  ) {}

  get manifestNumber(): number {
    return this.number;
  }

  /** Size of the live manifest file. */
  currentBytes(): number {
    return this.writer.bytesWritten();
  }

  /** Whether a manifest switch may be in progress (CURRENT.tmp in use). */
  get switching(): boolean {
    return this.busy;
  }

  /**
   * Writes a new manifest holding a snapshot of `versions` and makes CURRENT
   * name it, durably; then cb with the log. The previous manifest, if any, is
   * left for the caller's obsolete-file sweep.
   */
  static create(disk: Disk, versions: VersionSet, maxBytes: number, cb: (err: Error | null, log?: ManifestLog) => void): void {
    const number = versions.newFileNumber();
    writeSnapshotManifest(disk, versions, number, (err, writer) => {
      if (err !== null) return cb(err);
      const log = new ManifestLog(disk, versions, writer!, number, maxBytes);
      log.bytesWritten = writer!.bytesWritten();
      log.snapshotBytes = writer!.bytesWritten();
      cb(null, log);
    });
  }

  /** Appends an edit; once it is durable, applies it to the VersionSet and calls cb. */
  logAndApply(edit: VersionEdit, cb: (err: Error | null) => void): void {
    if (this.closed || this.failure !== null) return cb(this.failure ?? new Error('manifest closed'));
    this.queue.push({ edit, cb });
    this.pump();
  }

  /**
   * Stops taking edits; queued ones fail. An edit or switch already in
   * flight completes on disk (its callback is not called), then the file is
   * closed and cb runs.
   */
  close(cb: () => void = () => {}): void {
    if (this.closed) return cb();
    this.closed = true;
    const queued = this.queue;
    this.queue = [];
    for (const q of queued) q.cb(new Error('manifest closed'));
    this.onIdle = () => {
      this.writer.close();
      cb();
    };
    if (!this.busy) this.onIdle();
  }

  private onIdle: (() => void) | null = null;

  private pump(): void {
    if (this.busy || this.queue.length === 0 || this.closed) return;
    this.busy = true;
    const size = this.writer.bytesWritten();
    if (size >= this.maxBytes && size >= 2 * this.snapshotBytes) {
      this.rollOver();
      return;
    }
    const item = this.queue.shift()!;
    const record = encodeVersionEdit(item.edit);
    const before = this.writer.bytesWritten();
    this.writer.append(record, true, (err) => {
      if (this.closed) {
        this.busy = false;
        this.onIdle?.();
        return;
      }
      this.bytesWritten += Math.max(0, this.writer.bytesWritten() - before);
      if (err === null) {
        try {
          this.versions.apply(item.edit);
        } catch (applyErr) {
          err = applyErr as Error;
        }
      }
      this.busy = false;
      if (err !== null) this.fail(err);
      item.cb(err);
      this.pump();
    });
  }

  private rollOver(): void {
    const number = this.versions.newFileNumber();
    writeSnapshotManifest(this.disk, this.versions, number, (err, writer) => {
      this.busy = false;
      if (this.closed) {
        writer?.close();
        this.onIdle?.();
        return;
      }
      if (err !== null) {
        this.fail(err);
        return;
      }
      this.writer.close();
      this.writer = writer!;
      this.number = number;
      this.bytesWritten += writer!.bytesWritten();
      this.snapshotBytes = writer!.bytesWritten();
      this.pump();
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const queued = this.queue;
    this.queue = [];
    for (const q of queued) q.cb(err);
  }
}

/** Manifest `number` with one snapshot record, synced; then CURRENT switched to it, durably. */
function writeSnapshotManifest(
  disk: Disk,
  versions: VersionSet,
  number: number,
  cb: (err: Error | null, writer?: WalWriter) => void,
): void {
  const name = manifestFileName(number);
  const writer = new WalWriter(disk.create(name));
  const fail = (err: Error): void => {
    writer.close();
    cb(err);
  };
  writer.append(encodeVersionEdit(versions.snapshotEdit()), true, (err) => {
    if (err !== null) return fail(err);
    // The manifest's name must be durable before CURRENT can name it: a crash
    // may keep a later directory operation and lose an earlier one.
    disk.syncDir((dirErr) => {
      if (dirErr !== null) return fail(dirErr);
      switchCurrent(disk, name, (switchErr) => (switchErr !== null ? fail(switchErr) : cb(null, writer)));
    });
  });
}

/** Points CURRENT at manifest `name`: write CURRENT.tmp, sync, rename over CURRENT, sync the directory. */
function switchCurrent(disk: Disk, name: string, cb: (err: Error | null) => void): void {
  let temp: File | undefined;
  try {
    temp = disk.create(CURRENT_TEMP_FILE);
    temp.append(new TextEncoder().encode(`${name}\n`));
  } catch (e) {
    temp?.close();
    return cb(e as Error);
  }
  const file = temp;
  file.sync((syncErr) => {
    file.close();
    if (syncErr !== null) return cb(syncErr);
    disk.rename(CURRENT_TEMP_FILE, CURRENT_FILE);
    disk.syncDir(cb);
  });
}
