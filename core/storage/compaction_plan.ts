// What a compaction picker hands the engine: which tables to merge, where the
// output goes, and which other tables may hold older versions of the keys
// involved (so the merge knows when a tombstone may be purged).

import type { Version } from './version.ts';
import type { TableMeta } from './version_edit.ts';

export interface CompactionInput {
  level: number;
  table: TableMeta;
}

export interface CompactionPlan {
  /** Why this compaction, for stats and traces. */
  reason: string;
  /** Every table consumed, each with its level. */
  inputs: CompactionInput[];
  outputLevel: number;
  /** A single table moved to outputLevel by a manifest edit alone, without rewriting it. */
  trivialMove: boolean;
  /** Output tables are cut at about this size; Infinity writes one table. */
  targetFileBytes: number;
  /**
   * Tables outside the compaction that may hold versions of its keys older
   * than its inputs. A tombstone or expired value may be purged only for a
   * key none of them covers.
   */
  olderTables: TableMeta[];
  /** Round-robin position to record for the source level (leveled). */
  compactPointer?: { level: number; key: Uint8Array };
}

export type WritePressure = 'none' | 'slowdown' | 'stop';

export interface CompactionPicker {
  /** The next compaction to run, or undefined when none is due. Tables in `excluded` (found corrupt) are never picked. */
  pick(version: Version, compactPointers: ReadonlyArray<Uint8Array | undefined>, excluded: ReadonlySet<number>): CompactionPlan | undefined;
  /** Bytes that compaction still has to rewrite to bring the tree into shape (an estimate). */
  debtBytes(version: Version): number;
  /** How hard incoming writes should be held back, given the shape of the tree. */
  writePressure(version: Version): WritePressure;
}

export function planBytes(plan: CompactionPlan): number {
  let total = 0;
  for (const { table } of plan.inputs) total += table.fileBytes;
  return total;
}
