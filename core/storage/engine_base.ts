// The storage engine's state, and the parts of it every other part leans on:
// its files (the obsolete-file queue), failure and close, stats. The write
// path and memtable flushes build on it in engine_writes.ts, and the public
// Engine (engine.ts, where the whole design is described) on that.

import { assert } from '../../io/assert.ts';
import type { StorageEnv } from '../../io/env.ts';
import type { TimerId } from '../../io/timers.ts';
import { BlockCache } from './block_cache.ts';
import type { CompactionPicker } from './compaction_plan.ts';
import { CompactionScheduler } from './compaction_scheduler.ts';
import { CorruptionError, EngineClosedError } from './errors.ts';
import { pickerFor, type EngineOptions, type EngineStats, type RecoveryStats } from './engine_options.ts';
import { Fifo } from './fifo.ts';
import type { FlushJob } from './flush_job.ts';
import type { JobEnv } from './incremental_merge.ts';
import { type ManifestLog, parseFileName, tableFileName } from './manifest.ts';
import { obsoleteFiles } from './obsolete_files.ts';
import { Memtable } from './memtable.ts';
import { RateLimiter } from './rate_limiter.ts';
import { TableCache } from './table_cache.ts';
import type { ReadView } from './engine_reads.ts';
import type { Version } from './version.ts';
import type { VersionSet } from './version_set.ts';
import type { WalWriter } from './wal_writer.ts';
import { engineStats, newEngineCounters } from './engine_stats.ts';
import { AckQueue } from './ack_queue.ts';
import type { WriteOp } from './write_request.ts';

export type Callback = (err: Error | null) => void;

export interface PendingWrite {
  ops: WriteOp[];
  userBytes: number;
  cb: Callback;
  delayed: boolean;
}

/** What recovery hands the engine: the live version set, the manifest and the WAL it appends to. */
export interface RecoveredState {
  versions: VersionSet;
  manifest: ManifestLog;
  wal: WalWriter;
  walNumber: number;
}

export abstract class EngineBase {
  protected readonly options: EngineOptions;
  protected readonly picker: CompactionPicker;
  protected readonly versions: VersionSet;
  protected readonly manifest: ManifestLog;
  protected readonly tableCache: TableCache;
  protected readonly blockCache: BlockCache;
  protected readonly jobEnv: JobEnv;

  protected active: Memtable;
  protected wal: WalWriter;
  protected walNumber: number;
  protected frozen: { memtable: Memtable; walNumber: number; walBytes: number; nextWalNumber: number; job: FlushJob | null } | null = null;
  /** Obsolete files waiting for their turn to be removed (deleteObsoleteFiles), and their names. */
  protected readonly removals: Array<{ name: string; kind: string; number: number }> = [];
  protected readonly removalNames = new Set<string>();
  protected removalTimer: TimerId | undefined;
  protected removalWaiters: Array<() => void> = [];
  /** The last view readView() made (see there). */
  protected lastView: ReadView | null = null;
  protected readonly compactions: CompactionScheduler;

  protected lastSeq: number;
  protected readonly acks: AckQueue;
  protected drainScheduled = false;
  protected readonly writeQueue = new Fifo<PendingWrite>();
  /** Writes acknowledged within tryWriteNow in a row while background work waits (backgroundGetsATurn). */
  protected immediateAcksInRow = 0;
  protected slowdownTimer: TimerId | undefined;
  protected flushRetryTimer: TimerId | undefined;
  protected readonly flushWaiters: Array<{ seq: number; cb: Callback }> = [];
  protected failure: Error | null = null;
  protected closed = false;
  /** Set by close(): what it still waits for before releasing the files. */
  protected closing: { cb: Callback; err: Error | null; walFlushed: boolean } | null = null;
  /** Rotated-out WALs whose final sync has not completed yet. */
  protected retiringWals = 0;

  protected readonly counters = newEngineCounters();
  /**
   * Where apply() encodes each write's WAL record. Reused: every File.append
   * copies what it is given (into the page cache, or the real disk's write
   * buffer), and a typed array of more than 64 bytes is allocated outside the
   * JS heap, which cost about a microsecond per write.
   */
  protected recordScratch = new Uint8Array(4096);

  protected constructor(
    protected readonly env: StorageEnv,
    options: EngineOptions,
    state: RecoveredState,
    protected readonly recoveryStats: RecoveryStats,
  ) {
    this.options = options;
    this.picker = pickerFor(options);
    this.versions = state.versions;
    this.manifest = state.manifest;
    this.wal = state.wal;
    this.walNumber = state.walNumber;
    this.blockCache = new BlockCache(options.blockCacheBytes);
    this.tableCache = new TableCache(env.disk, this.blockCache);
    this.jobEnv = {
      timers: env.timers,
      limiter: new RateLimiter(env.clock, options.compactionBytesPerSec, Math.max(options.compactionStepBytes, options.compactionBytesPerSec / 10)),
      stepBytes: options.compactionStepBytes,
      buggify: env.buggify,
      clock: env.clock,
      stepMs: options.compactionStepMs,
    };
    this.active = new Memtable(env.rng);
    this.lastSeq = this.versions.lastSeq;
    this.acks = new AckQueue(this.lastSeq, (err) => this.fail(err), () => this.tryFinishClose());
    this.compactions = new CompactionScheduler(
      {
        versions: this.versions,
        manifest: this.manifest,
        tableCache: this.tableCache,
        timers: env.timers,
        jobEnv: this.jobEnv,
        graceMs: options.tombstoneGraceMs,
        outputDeps: () => this.outputDeps(),
        snapshotSeq: () => this.acks.visibleSeq,
        wallMs: () => env.clock.wallMs(),
        running: () => this.refusal() === null,
        flushing: () => this.frozen !== null,
        onInstalled: () => {
          this.deleteObsoleteFiles();
          this.pump();
        },
        retireCorrupt: (fileNumber) => this.retireCorrupt(fileNumber),
        fail: (err) => this.fail(err),
      },
      this.picker,
    );
  }

  /** Applies queued writes while back-pressure allows (engine_writes.ts). */
  protected abstract pump(): void;

  protected outputDeps(compression = this.options.compression) {
    return {
      disk: this.env.disk,
      newFileNumber: () => this.versions.newFileNumber(),
      writerOptions: { blockBytes: this.options.blockBytes, bloomBitsPerKey: this.options.bloomBitsPerKey, compression },
    };
  }

  protected noteReadError(err: unknown): void {
    if (!(err instanceof CorruptionError)) return;
    this.counters.corruptBlocksSeen++;
    const bad = err.file !== undefined ? parseFileName(err.file) : undefined;
    if (bad?.kind === 'table' && this.refusal() === null) this.compactions.quarantine(bad.number);
  }

  /** Keeps a quarantined table's file for forensics, out of the obsolete-file sweep's way. */
  protected retireCorrupt(fileNumber: number): void {
    const name = tableFileName(fileNumber);
    this.tableCache.evict(fileNumber);
    if (this.env.disk.exists(name)) this.env.disk.rename(name, `${name}.corrupt`);
  }

  protected releaseVersion(version: Version): void {
    this.versions.unref(version);
    if (version.refs === 0 && !this.closed) this.deleteObsoleteFiles();
  }

  // ---- files ----

  /**
   * Removes files no version needs. Unlinking a large table can hold the
   * event loop for milliseconds, and a compaction retires all its inputs at
   * once, so in the background (`now` false) one file goes at once and the
   * rest one per later turn; compactAll and close wait for them.
   */
  protected deleteObsoleteFiles(now = false): void {
    const tables = this.versions.liveTableNumbers();
    for (const n of this.frozen?.job?.sink.fileNumbers ?? []) tables.add(n);
    for (const n of this.compactions.pendingOutputs()) tables.add(n);
    const openLogs = this.frozen === null ? [this.walNumber] : [this.walNumber, this.frozen.walNumber];
    const obsolete = obsoleteFiles(this.env.disk.list(), {
      tables,
      logNumber: this.versions.logNumber,
      openLogs,
      manifestNumber: this.manifest.manifestNumber,
      manifestSwitching: this.manifest.switching,
    });
    for (const f of obsolete) {
      if (this.removalNames.has(f.name)) continue;
      this.removalNames.add(f.name);
      this.removals.push(f);
    }
    if (now) {
      while (this.removals.length > 0) this.removeOneObsolete();
      return;
    }
    if (this.removals.length > 0) this.removeOneObsolete();
    this.scheduleRemoval();
  }

  protected removeOneObsolete(): void {
    const f = this.removals.shift();
    assert(f !== undefined, 'no obsolete file queued');
    this.removalNames.delete(f.name);
    if (f.kind === 'table') this.tableCache.evict(f.number);
    if (this.env.disk.exists(f.name)) this.env.disk.remove(f.name);
    if (this.removals.length === 0) {
      const waiters = this.removalWaiters;
      this.removalWaiters = [];
      for (const w of waiters) w();
    }
  }

  protected scheduleRemoval(): void {
    if (this.removalTimer !== undefined || this.removals.length === 0) return;
    this.removalTimer = this.env.timers.setTimer(0, () => {
      this.removalTimer = undefined;
      // The queue may have been emptied meanwhile: another sweep removes its first file at once.
      if (this.refusal() !== null) return this.dropRemovals();
      if (this.removals.length === 0) return;
      this.removeOneObsolete();
      this.scheduleRemoval();
    });
  }

  /** After a failure the disk state is unknown: queued files stay where they are, and whoever waits for them is answered. */
  protected dropRemovals(): void {
    this.removals.length = 0;
    this.removalNames.clear();
    const waiters = this.removalWaiters;
    this.removalWaiters = [];
    for (const w of waiters) w();
  }

  /** Calls `fn` once every obsolete file found so far is removed (at once if none is waiting). */
  protected afterRemovals(fn: () => void): void {
    if (this.removals.length === 0) return fn();
    this.removalWaiters.push(fn);
  }

  // ---- lifecycle ----

  protected refusal(): Error | null {
    if (this.closed) return new EngineClosedError('engine is closed');
    if (this.failure !== null) return new EngineClosedError(`engine stopped after an error: ${this.failure.message}`);
    return null;
  }

  protected later(fn: () => void): void {
    this.env.timers.setTimer(0, fn);
  }

  /** Stops the engine for good after an error that leaves the disk state unknown. */
  protected fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.stopBackgroundWork();
    const stopped = this.refusal()!;
    this.acks.failAll(stopped);
    this.failQueued(stopped);
  }

  protected failQueued(err: Error): void {
    const queued = this.writeQueue.drain();
    const flushWaiters = this.flushWaiters.splice(0);
    this.compactions.stop(err);
    this.later(() => {
      for (const w of queued) w.cb(err);
      for (const w of flushWaiters) w.cb(err);
    });
  }

  protected stopBackgroundWork(): void {
    if (this.slowdownTimer !== undefined) this.env.timers.cancelTimer(this.slowdownTimer);
    this.slowdownTimer = undefined;
    if (this.flushRetryTimer !== undefined) this.env.timers.cancelTimer(this.flushRetryTimer);
    this.flushRetryTimer = undefined;
    this.frozen?.job?.cancel();
  }

  /** Syncs the WAL (acknowledging what it holds), stops background work and releases every file. */
  close(cb: Callback): void {
    if (this.closed) return this.later(() => cb(null));
    const failure = this.failure;
    this.stopBackgroundWork();
    this.failQueued(new EngineClosedError('engine closed'));
    this.closed = true;
    this.closing = { cb, err: failure, walFlushed: failure !== null };
    if (failure !== null) return this.later(() => this.tryFinishClose());
    this.wal.flush((err) => {
      this.closing!.walFlushed = true;
      this.closing!.err ??= err;
      this.tryFinishClose();
    });
  }

  /** Completes close() once the WAL is synced, its writes acknowledged and rotated-out logs closed. */
  protected tryFinishClose(): void {
    const c = this.closing;
    if (c === null || !c.walFlushed || this.retiringWals > 0) return;
    if (this.acks.length > 0 && c.err === null) return;
    this.closing = null;
    if (this.removalTimer !== undefined) this.env.timers.cancelTimer(this.removalTimer);
    this.removalTimer = undefined;
    // Left as they were found (disk state unknown) after a failure; otherwise the directory is left tidy.
    if (this.failure === null) while (this.removals.length > 0) this.removeOneObsolete();
    this.dropRemovals();
    this.wal.close();
    this.tableCache.close();
    this.manifest.close(() => c.cb(c.err));
  }

  // ---- stats ----

  /** stats().quarantinedTables without building the whole stats object (asked on every replica read). */
  get quarantinedTableCount(): number {
    return this.compactions.quarantined.length;
  }

  stats(): EngineStats {
    return engineStats({
      counters: this.counters,
      compaction: this.compactions.stats,
      version: this.versions.current,
      picker: this.picker,
      activeWal: { bytes: this.wal.bytesWritten(), syncs: this.wal.stats.syncs },
      walBytesOnDisk: this.wal.bytesWritten() + (this.frozen?.walBytes ?? 0),
      manifestBytes: this.manifest.currentBytes(),
      tables: this.tableCache.stats(),
      blockCache: this.blockCache.stats,
      corruptTables: [...this.compactions.excluded].sort((a, b) => a - b),
      quarantined: this.compactions.quarantined,
      lastSeq: this.lastSeq,
      recovery: this.recoveryStats,
    });
  }

  /** Work in progress, for operators and tests. */
  activity(): { flushing: boolean; compacting: boolean; queuedWrites: number; unacknowledgedWrites: number } {
    const unacknowledged = this.acks.unacknowledgedWrites();
    return {
      flushing: this.frozen !== null,
      compacting: this.compactions.busy,
      queuedWrites: this.writeQueue.length,
      unacknowledgedWrites: unacknowledged,
    };
  }

  /** The newest acknowledged sequence number (reads see everything up to it). */
  get sequence(): number {
    return this.acks.visibleSeq;
  }
}
