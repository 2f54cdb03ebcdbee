// Options and statistics of the storage engine (engine.ts).

import { assert } from '../../io/assert.ts';
import { DEFAULT_LEVELED_OPTIONS, LeveledPicker, type LeveledOptions } from './compaction_picker_leveled.ts';
import { TieredPicker, type TieredOptions } from './compaction_picker_tiered.ts';
import type { CompactionPicker } from './compaction_plan.ts';
import type { QuarantinedTable } from './compaction_scheduler.ts';

export interface EngineOptions {
  compaction: 'leveled' | 'tiered';
  /** When the memtable reaches this it freezes and flushes in the background. */
  memtableBytes: number;
  /**
   * Each memtable flushes up to this fraction (0 to 0.5) before memtableBytes,
   * by an amount drawn from `jitterSalt` and its log number. Replicas take the
   * same writes, so without it the nodes of a cluster fill their memtables
   * together and flush and compact at the same moment, and a request meets
   * all of them busy at once. 0 flushes exactly at memtableBytes.
   */
  memtableJitter: number;
  /** Different on every node (node_config.ts hashes the node id), so the nodes' flush points differ. */
  jitterSalt: number;
  blockBytes: number;
  bloomBitsPerKey: number;
  /**
   * Parsed data blocks kept in memory (LRU, outside the JS heap). Under
   * overwrites the hot blocks are those of the newest level-0 tables and the
   * levels below together, more than the data they hold: a node with 20 MiB
   * of data (cluster bench, 20,000 keys) missed on 11% of its table reads with
   * 32 MiB, and on none with 128 MiB.
   */
  blockCacheBytes: number;
  /** LZ4 for table blocks. */
  compression: boolean;
  /**
   * LZ4 also for the level-0 tables a flush writes. Off by default (RocksDB's
   * usual per-level setting): a flush competes with writes for the one
   * thread, and compaction soon rewrites its tables, compressed.
   */
  compressFlushes: boolean;
  /** Tombstones (and expired TTL values) are purged by compaction only this long after their time. */
  tombstoneGraceMs: number;
  /** true: a write's callback runs after its WAL sync (group commit); false: once it is in the page cache. */
  syncWrites: boolean;
  /** Input bytes a flush or compaction step processes before yielding to the event loop. */
  compactionStepBytes: number;
  /** A step also yields once this long has passed (monotonic clock), whichever comes first. */
  compactionStepMs: number;
  /** Rate limit for flush and compaction output; 0 = unlimited. */
  compactionBytesPerSec: number;
  maxKeyBytes: number;
  maxValueBytes: number;
  /** Leveled: level-0 table counts that start compaction, delay each write by 1 ms, and stop writes. */
  l0CompactionTrigger: number;
  l0SlowdownTrigger: number;
  l0StopTrigger: number;
  /** Leveled: size target of level 1 (x levelMultiplier per level below) and of output tables. */
  l1TargetBytes: number;
  levelMultiplier: number;
  targetFileBytes: number;
  /** Tiered: see compaction_picker_tiered.ts. */
  tiered: Partial<TieredOptions>;
  /** A manifest larger than this is replaced by a fresh one holding a snapshot. */
  maxManifestBytes: number;
}

export const DEFAULT_ENGINE_OPTIONS: Readonly<EngineOptions> = Object.freeze({
  compaction: 'leveled',
  memtableBytes: 8 * 1024 * 1024,
  memtableJitter: 0,
  jitterSalt: 0,
  blockBytes: 4096,
  bloomBitsPerKey: 10,
  blockCacheBytes: 128 * 1024 * 1024,
  compression: true,
  compressFlushes: false,
  tombstoneGraceMs: 10 * 24 * 3600 * 1000,
  syncWrites: true,
  compactionStepBytes: 64 * 1024,
  compactionStepMs: 1,
  compactionBytesPerSec: 64 * 1024 * 1024,
  maxKeyBytes: 256,
  maxValueBytes: 10 * 1024 * 1024,
  l0CompactionTrigger: DEFAULT_LEVELED_OPTIONS.l0CompactionTrigger,
  l0SlowdownTrigger: DEFAULT_LEVELED_OPTIONS.l0SlowdownTrigger,
  l0StopTrigger: DEFAULT_LEVELED_OPTIONS.l0StopTrigger,
  l1TargetBytes: DEFAULT_LEVELED_OPTIONS.l1TargetBytes,
  levelMultiplier: DEFAULT_LEVELED_OPTIONS.levelMultiplier,
  targetFileBytes: DEFAULT_LEVELED_OPTIONS.targetFileBytes,
  tiered: {},
  maxManifestBytes: 4 * 1024 * 1024,
});

export function resolveEngineOptions(partial: Partial<EngineOptions>): EngineOptions {
  const o: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS, ...partial };
  assert(o.compaction === 'leveled' || o.compaction === 'tiered', `compaction strategy unknown: ${o.compaction}`);
  assert(o.memtableBytes > 0 && o.compactionStepBytes > 0 && o.maxManifestBytes > 0, 'sizes must be positive');
  assert(o.compactionBytesPerSec >= 0, 'rate limit must be >= 0');
  assert(o.memtableJitter >= 0 && o.memtableJitter <= 0.5, `memtable jitter must be within [0, 0.5]: ${o.memtableJitter}`);
  assert(Number.isInteger(o.jitterSalt), `jitter salt must be an integer: ${o.jitterSalt}`);
  assert(o.compactionStepMs > 0, 'step time must be positive');
  assert(o.tombstoneGraceMs >= 0, 'grace period must be >= 0');
  assert(Number.isInteger(o.maxKeyBytes) && o.maxKeyBytes >= 1, 'maxKeyBytes must be >= 1');
  assert(Number.isInteger(o.maxValueBytes) && o.maxValueBytes >= 0, 'maxValueBytes must be >= 0');
  return o;
}

export function pickerFor(o: EngineOptions): CompactionPicker {
  if (o.compaction === 'tiered') return new TieredPicker(o.tiered);
  const leveled: LeveledOptions = {
    l0CompactionTrigger: o.l0CompactionTrigger,
    l0SlowdownTrigger: o.l0SlowdownTrigger,
    l0StopTrigger: o.l0StopTrigger,
    l1TargetBytes: o.l1TargetBytes,
    levelMultiplier: o.levelMultiplier,
    targetFileBytes: o.targetFileBytes,
  };
  return new LeveledPicker(leveled);
}

export interface ScanOptions {
  start?: Uint8Array;
  /** Exclusive. */
  end?: Uint8Array;
  limit?: number;
  /**
   * false: blocks this scan reads from tables are not added to the block
   * cache (cached ones still serve it). For walks over the whole store, which
   * would otherwise push out the blocks point reads keep hot. Default true.
   */
  fillCache?: boolean;
}

export interface EngineStats {
  /** Key and value bytes of every accepted put and delete. */
  userBytesWritten: number;
  walBytesWritten: number;
  flushBytesWritten: number;
  compactionBytesWritten: number;
  /** (wal + flush + compaction bytes) / user bytes. */
  writeAmplification: number;
  /**
   * Table bytes that hold distinct keys: tables are counted from the oldest
   * data up, each only where its key range overlaps no table already counted,
   * less its tombstone share (RocksDB's estimate; overwrites inside a range
   * make it high, overlapping fresh tables low).
   */
  liveBytesEstimate: number;
  /** Tables, logs and the manifest. */
  diskBytes: number;
  spaceAmplification: number;
  tablesPerLevel: number[];
  compactionDebtBytes: number;
  compactionsRun: number;
  trivialMoves: number;
  /** Entries compaction dropped: versions shadowed by newer ones, tombstones and expired values past the grace period. */
  shadowedDropped: number;
  tombstonesPurged: number;
  expiredPurged: number;
  flushesRun: number;
  bloom: { checks: number; negatives: number; falsePositives: number };
  blockCache: { hits: number; misses: number };
  corruptBlocksSeen: number;
  /** Tables compaction found corrupt (without naming the file) and now leaves alone. */
  corruptTables: number[];
  /** Corrupt tables removed from the live version since open (renamed <name>.corrupt), with the bytes and entries they held. */
  quarantinedTables: number;
  quarantinedBytes: number;
  quarantinedEntries: number;
  /** Each quarantined table: level, file, key range, size; `installed` once its manifest edit is durable. */
  quarantined: QuarantinedTable[];
  /** Flush or compaction failures (disk full, read errors, corruption). */
  backgroundErrors: number;
  /** 1 ms delays of the write queue for level 0 over its slowdown trigger (each delays every write queued by its end). */
  writeSlowdowns: number;
  /** Times a write found the engine stopped: memtable full while one flushes, or level 0 at its stop trigger. */
  writeStops: number;
  walSyncs: number;
  lastSeq: number;
  recovery: RecoveryStats;
}

export interface RecoveryStats {
  walFiles: number;
  walRecords: number;
  /** Bytes of WAL tails discarded as torn or damaged. */
  walBytesDropped: number;
  /** Records after a sequence gap (a lost unsynced tail in an earlier log), discarded. */
  walRecordsAfterGap: number;
  /** Logs whose replay stopped at damage followed by whole records (bit rot, or a torn multi-record tail): acknowledged writes may be lost. */
  walLogsDamaged: number;
  /** Entries of the replayed logs written to a table on open. */
  entriesRecovered: number;
}
