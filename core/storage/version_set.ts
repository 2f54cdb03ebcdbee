// The version set: the current version plus the counters the manifest
// persists (log number, next file number, last sequence, compaction pointers),
// and the set of versions still referenced by readers or compactions.
//
// It is pure state. manifest.ts makes an edit durable first and only then
// calls apply(); recovery replays a manifest's edits through apply(). An edit
// that does not fit the current version (deleting a table that is not there,
// adding one twice, breaking a level's order) is a CorruptionError: on
// recovery that means a damaged manifest, at run time an engine bug, and
// either way nothing may be built on it.

import { assert } from '../../io/assert.ts';
import { compareKeys } from './entry.ts';
import { CorruptionError } from './errors.ts';
import { Version } from './version.ts';
import { NUM_LEVELS, type TableMeta, type VersionEdit } from './version_edit.ts';

export class VersionSet {
  private currentVersion: Version;
  /** WALs numbered below this are entirely in tables; recovery replays the rest. */
  logNumber = 0;
  /** The next file number to hand out; numbers are never reused. */
  nextFileNumber = 1;
  /** Every seq <= lastSeq is in a table or was never acknowledged. */
  lastSeq = 0;
  /** Per level, the largest key of the last compaction out of it (round robin). */
  readonly compactPointers: Array<Uint8Array | undefined> = new Array(NUM_LEVELS).fill(undefined);
  private readonly live = new Set<Version>();

  constructor() {
    this.currentVersion = Version.empty();
    this.ref(this.currentVersion);
  }

  get current(): Version {
    return this.currentVersion;
  }

  newFileNumber(): number {
    return this.nextFileNumber++;
  }

  /** Makes sure no file number up to `n` is handed out again. */
  markFileNumberUsed(n: number): void {
    if (this.nextFileNumber <= n) this.nextFileNumber = n + 1;
  }

  ref(v: Version): Version {
    if (v.refs === 0) this.live.add(v);
    v.refs++;
    return v;
  }

  unref(v: Version): void {
    assert(v.refs > 0, 'version unreferenced more often than referenced');
    v.refs--;
    if (v.refs === 0) this.live.delete(v);
  }

  /** File numbers of every table some live version still uses. */
  liveTableNumbers(): Set<number> {
    const out = new Set<number>();
    for (const v of this.live) for (const { table } of v.allTables()) out.add(table.fileNumber);
    return out;
  }

  /** Applies an edit (already durable in the manifest), making a new current version. */
  apply(edit: VersionEdit): void {
    const next = applyEdit(this.currentVersion, edit);
    if (edit.logNumber !== undefined) {
      if (edit.logNumber < this.logNumber) throw new CorruptionError(`manifest: log number went back to ${edit.logNumber}`);
      this.logNumber = edit.logNumber;
    }
    if (edit.nextFileNumber !== undefined) this.markFileNumberUsed(edit.nextFileNumber - 1);
    if (edit.lastSeq !== undefined && edit.lastSeq > this.lastSeq) this.lastSeq = edit.lastSeq;
    for (const p of edit.compactPointers ?? []) this.compactPointers[p.level] = p.key;
    for (const { table } of edit.addedTables ?? []) {
      this.markFileNumberUsed(table.fileNumber);
      if (table.largestSeq > this.lastSeq) this.lastSeq = table.largestSeq;
    }
    const previous = this.currentVersion;
    this.currentVersion = this.ref(next);
    this.unref(previous);
  }

  /** One edit that rebuilds the whole current state: the first record of a new manifest. */
  snapshotEdit(): VersionEdit {
    const edit: VersionEdit = {
      logNumber: this.logNumber,
      nextFileNumber: this.nextFileNumber,
      lastSeq: this.lastSeq,
      compactPointers: [],
      addedTables: [],
    };
    this.compactPointers.forEach((key, level) => {
      if (key !== undefined) edit.compactPointers!.push({ level, key });
    });
    for (const { level, table } of this.currentVersion.allTables()) edit.addedTables!.push({ level, table });
    return edit;
  }
}

/** The version `base` becomes after `edit`; throws CorruptionError when the edit does not fit. */
export function applyEdit(base: Version, edit: VersionEdit): Version {
  const levels = base.levels.map((tables) => tables.slice());
  for (const d of edit.deletedTables ?? []) {
    const tables = levels[d.level]!;
    const i = tables.findIndex((t) => t.fileNumber === d.fileNumber);
    if (i < 0) throw new CorruptionError(`manifest: deletes table ${d.fileNumber} not in level ${d.level}`);
    tables.splice(i, 1);
  }
  const present = new Set<number>();
  for (const tables of levels) for (const t of tables) present.add(t.fileNumber);
  for (const { level, table } of edit.addedTables ?? []) {
    if (present.has(table.fileNumber)) throw new CorruptionError(`manifest: adds table ${table.fileNumber} twice`);
    present.add(table.fileNumber);
    levels[level]!.push(table);
  }
  levels[0]!.sort(newestFirst);
  for (let level = 1; level < NUM_LEVELS; level++) levels[level]!.sort(byKey);
  try {
    return new Version(levels);
  } catch (err) {
    throw new CorruptionError(`manifest: edit breaks the level invariants: ${(err as Error).message}`);
  }
}

function newestFirst(a: TableMeta, b: TableMeta): number {
  return b.largestSeq - a.largestSeq;
}

function byKey(a: TableMeta, b: TableMeta): number {
  return compareKeys(a.smallestKey, b.smallestKey);
}
