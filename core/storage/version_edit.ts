// A version edit: one change to the set of live tables, the unit the manifest
// logs (manifest.ts). Replaying every edit of a manifest in order rebuilds the
// engine's table layout, file-number counter and sequence horizon.
//
// Encoding (one edit per manifest record; varint = unsigned LEB128, varint.ts;
// bytes = varint length then the bytes). A sequence of tagged fields, each at
// most once except the repeatable ones (*):
//
//   edit  := field*
//   field := tag:varint body
//   1 logNumber       varint   WALs numbered below this are fully in tables
//   2 nextFileNumber  varint   no file number at or above it was ever handed out
//   3 lastSeq         varint   every seq <= lastSeq is in a table or was never acknowledged
//   4 compactPointer* level:varint key:bytes
//   5 deletedTable*   level:varint fileNumber:varint
//   6 addedTable*     level:varint fileNumber:varint fileBytes:varint entryCount:varint
//                     tombstoneCount:varint smallestSeq:varint largestSeq:varint
//                     smallestKey:bytes largestKey:bytes
//
// Unknown tags are corruption: this engine wrote every manifest it reads.

import { assert } from '../../io/assert.ts';
import { compareKeys } from './entry.ts';
import { CorruptionError } from './errors.ts';
import { ByteReader, ByteWriter } from './varint.ts';

/** Levels of the LSM tree. Tiered compaction uses level 0 only. */
export const NUM_LEVELS = 7;

/** What the engine remembers about a table without opening it. */
export interface TableMeta {
  fileNumber: number;
  fileBytes: number;
  entryCount: number;
  tombstoneCount: number;
  smallestKey: Uint8Array;
  largestKey: Uint8Array;
  smallestSeq: number;
  largestSeq: number;
}

export interface VersionEdit {
  logNumber?: number;
  nextFileNumber?: number;
  lastSeq?: number;
  compactPointers?: Array<{ level: number; key: Uint8Array }>;
  deletedTables?: Array<{ level: number; fileNumber: number }>;
  addedTables?: Array<{ level: number; table: TableMeta }>;
}

const Tag = Object.freeze({
  LogNumber: 1,
  NextFileNumber: 2,
  LastSeq: 3,
  CompactPointer: 4,
  DeletedTable: 5,
  AddedTable: 6,
} as const);

export function checkTableMeta(t: TableMeta): void {
  assert(Number.isSafeInteger(t.fileNumber) && t.fileNumber >= 1, `table file number invalid: ${t.fileNumber}`);
  assert(Number.isSafeInteger(t.fileBytes) && t.fileBytes > 0, `table ${t.fileNumber}: size invalid`);
  assert(Number.isSafeInteger(t.entryCount) && t.entryCount >= 1, `table ${t.fileNumber}: entry count invalid`);
  assert(t.tombstoneCount >= 0 && t.tombstoneCount <= t.entryCount, `table ${t.fileNumber}: tombstone count invalid`);
  assert(compareKeys(t.smallestKey, t.largestKey) <= 0, `table ${t.fileNumber}: key range inverted`);
  assert(t.smallestSeq >= 1 && t.smallestSeq <= t.largestSeq, `table ${t.fileNumber}: seq range invalid`);
}

function checkLevel(level: number): void {
  assert(Number.isInteger(level) && level >= 0 && level < NUM_LEVELS, `level out of range: ${level}`);
}

export function encodeVersionEdit(edit: VersionEdit): Uint8Array {
  const w = new ByteWriter(64);
  if (edit.logNumber !== undefined) {
    w.varint(Tag.LogNumber);
    w.varint(edit.logNumber);
  }
  if (edit.nextFileNumber !== undefined) {
    w.varint(Tag.NextFileNumber);
    w.varint(edit.nextFileNumber);
  }
  if (edit.lastSeq !== undefined) {
    w.varint(Tag.LastSeq);
    w.varint(edit.lastSeq);
  }
  for (const p of edit.compactPointers ?? []) {
    checkLevel(p.level);
    w.varint(Tag.CompactPointer);
    w.varint(p.level);
    w.lengthPrefixed(p.key);
  }
  for (const d of edit.deletedTables ?? []) {
    checkLevel(d.level);
    w.varint(Tag.DeletedTable);
    w.varint(d.level);
    w.varint(d.fileNumber);
  }
  for (const { level, table: t } of edit.addedTables ?? []) {
    checkLevel(level);
    checkTableMeta(t);
    w.varint(Tag.AddedTable);
    w.varint(level);
    w.varint(t.fileNumber);
    w.varint(t.fileBytes);
    w.varint(t.entryCount);
    w.varint(t.tombstoneCount);
    w.varint(t.smallestSeq);
    w.varint(t.largestSeq);
    w.lengthPrefixed(t.smallestKey);
    w.lengthPrefixed(t.largestKey);
  }
  return w.copy();
}

/** Decodes one manifest record; throws CorruptionError on anything malformed. */
export function decodeVersionEdit(bytes: Uint8Array): VersionEdit {
  const r = new ByteReader(bytes);
  const edit: VersionEdit = {};
  const level = (): number => {
    const l = r.varint();
    if (l >= NUM_LEVELS) throw new CorruptionError(`version edit: level ${l} out of range`);
    return l;
  };
  while (r.remaining() > 0) {
    const tag = r.varint();
    switch (tag) {
      case Tag.LogNumber:
        if (edit.logNumber !== undefined) throw new CorruptionError('version edit: logNumber twice');
        edit.logNumber = r.varint();
        break;
      case Tag.NextFileNumber:
        if (edit.nextFileNumber !== undefined) throw new CorruptionError('version edit: nextFileNumber twice');
        edit.nextFileNumber = r.varint();
        break;
      case Tag.LastSeq:
        if (edit.lastSeq !== undefined) throw new CorruptionError('version edit: lastSeq twice');
        edit.lastSeq = r.varint();
        break;
      case Tag.CompactPointer:
        (edit.compactPointers ??= []).push({ level: level(), key: r.lengthPrefixed().slice() });
        break;
      case Tag.DeletedTable:
        (edit.deletedTables ??= []).push({ level: level(), fileNumber: r.varint() });
        break;
      case Tag.AddedTable: {
        const l = level();
        const table: TableMeta = {
          fileNumber: r.varint(),
          fileBytes: r.varint(),
          entryCount: r.varint(),
          tombstoneCount: r.varint(),
          smallestSeq: r.varint(),
          largestSeq: r.varint(),
          smallestKey: r.lengthPrefixed().slice(),
          largestKey: r.lengthPrefixed().slice(),
        };
        const ok =
          table.fileNumber >= 1 && table.fileBytes > 0 && table.entryCount >= 1 &&
          table.tombstoneCount <= table.entryCount && table.smallestSeq >= 1 &&
          table.smallestSeq <= table.largestSeq && compareKeys(table.smallestKey, table.largestKey) <= 0;
        if (!ok) throw new CorruptionError(`version edit: table ${table.fileNumber} metadata inconsistent`);
        (edit.addedTables ??= []).push({ level: l, table });
        break;
      }
      default:
        throw new CorruptionError(`version edit: unknown tag ${tag}`);
    }
  }
  return edit;
}
