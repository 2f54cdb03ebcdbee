// The engine's counters and how EngineStats (engine_options.ts) is derived
// from them and from the current version.

import type { BlockCacheStats } from './block_cache.ts';
import type { CompactionPicker } from './compaction_plan.ts';
import type { CompactionStats, QuarantinedTable } from './compaction_scheduler.ts';
import type { EngineStats, RecoveryStats } from './engine_options.ts';
import { estimateLiveBytes } from './live_bytes.ts';
import type { SstableReadStats } from './sstable_reader.ts';
import type { Version } from './version.ts';

export interface EngineCounters {
  userBytesWritten: number;
  /** WAL bytes and syncs of logs already rotated out. */
  walBytesRetired: number;
  walSyncsRetired: number;
  flushBytesWritten: number;
  flushesRun: number;
  flushErrors: number;
  /** Corruption met by reads (compaction counts its own). */
  corruptBlocksSeen: number;
  writeSlowdowns: number;
  writeStops: number;
}

export function newEngineCounters(): EngineCounters {
  return {
    userBytesWritten: 0, walBytesRetired: 0, walSyncsRetired: 0, flushBytesWritten: 0, flushesRun: 0, flushErrors: 0,
    corruptBlocksSeen: 0, writeSlowdowns: 0, writeStops: 0,
  };
}

export interface StatsInputs {
  counters: EngineCounters;
  compaction: CompactionStats;
  version: Version;
  picker: CompactionPicker;
  /** The active WAL: bytes written and syncs so far. */
  activeWal: { bytes: number; syncs: number };
  /** Bytes of WALs on disk (active, and the one being flushed). */
  walBytesOnDisk: number;
  manifestBytes: number;
  tables: SstableReadStats;
  blockCache: BlockCacheStats;
  corruptTables: number[];
  quarantined: readonly QuarantinedTable[];
  lastSeq: number;
  recovery: RecoveryStats;
}

export function engineStats(i: StatsInputs): EngineStats {
  const c = i.counters;
  const k = i.compaction;
  const walBytesWritten = c.walBytesRetired + i.activeWal.bytes;
  const diskBytes = i.version.totalBytes() + i.walBytesOnDisk + i.manifestBytes;
  const live = estimateLiveBytes(i.version);
  const written = walBytesWritten + c.flushBytesWritten + k.bytesWritten;
  return {
    userBytesWritten: c.userBytesWritten,
    walBytesWritten,
    flushBytesWritten: c.flushBytesWritten,
    compactionBytesWritten: k.bytesWritten,
    writeAmplification: c.userBytesWritten === 0 ? 0 : written / c.userBytesWritten,
    liveBytesEstimate: live,
    diskBytes,
    spaceAmplification: live === 0 ? 0 : diskBytes / live,
    tablesPerLevel: i.version.levels.map((l) => l.length),
    compactionDebtBytes: i.picker.debtBytes(i.version),
    compactionsRun: k.compactionsRun,
    trivialMoves: k.trivialMoves,
    shadowedDropped: k.shadowedDropped,
    tombstonesPurged: k.tombstonesPurged,
    expiredPurged: k.expiredPurged,
    flushesRun: c.flushesRun,
    bloom: { checks: i.tables.bloomChecks, negatives: i.tables.bloomNegatives, falsePositives: i.tables.bloomFalsePositives },
    blockCache: { hits: i.blockCache.hits, misses: i.blockCache.misses },
    corruptBlocksSeen: c.corruptBlocksSeen + k.corruptTablesFound,
    corruptTables: i.corruptTables,
    quarantinedTables: i.quarantined.length,
    quarantinedBytes: i.quarantined.reduce((n, q) => n + q.fileBytes, 0),
    quarantinedEntries: i.quarantined.reduce((n, q) => n + q.entryCount, 0),
    quarantined: i.quarantined.map((q) => ({ ...q, smallestKey: q.smallestKey.slice(), largestKey: q.largestKey.slice() })),
    backgroundErrors: c.flushErrors + k.errors,
    writeSlowdowns: c.writeSlowdowns,
    writeStops: c.writeStops,
    walSyncs: c.walSyncsRetired + i.activeWal.syncs,
    lastSeq: i.lastSeq,
    recovery: { ...i.recovery },
  };
}
