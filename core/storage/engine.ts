// The per-node LSM storage engine: WAL + memtable in front, SSTables in levels
// behind, a manifest recording which tables are live.
//
// Files and recovery: manifest.ts (naming, durability order) and
// engine_recovery.ts (what open does after a crash at any step).
//
// Writes. A write validates, waits in a FIFO queue while back-pressure holds
// it (memtable full with the previous one still flushing; level 0 at the stop
// trigger; 1 ms per write at the slowdown trigger), then takes the next seqs,
// is appended to the WAL as one record and inserted in the memtable. It
// becomes visible to reads, and its callback runs, when the WAL sync covering
// it completes (group commit: one sync acknowledges every write queued behind
// it) and every earlier write has been acknowledged. Reads use the newest
// acknowledged seq as their snapshot, so nothing a reader sees can vanish in
// a crash, and recovery's prefix rule (engine_recovery.ts) holds.
//
// Memtable rotation. A full memtable freezes and a new WAL starts; acks of
// writes in the new WAL wait for the directory sync that makes that WAL's
// name durable. When the old WAL is synced, a flush job writes the frozen
// memtable to a level-0 table in bounded steps (incremental_merge.ts); the
// frozen memtable serves reads until the manifest edit adding the table is
// durable, and then the old WAL is deleted.
//
// Compaction. One at a time, chosen by the picker (leveled or tiered), run in
// bounded steps with a token-bucket rate limit, installed by a manifest edit.
// Inputs stay readable until then, and scans hold their version's tables. A
// corrupt input stops its compaction; the table is excluded from later picks
// and reads that need its bad blocks fail with CorruptionError.
//
// Errors. A failed WAL or manifest sync stops the engine (EngineClosedError
// from then on): after a failed fsync nothing unsynced can be trusted. A full
// disk fails the writes it refuses, and background jobs retry after a pause.

import { assert } from '../../io/assert.ts';
import { DiskFullError, DiskReadError } from '../../io/disk.ts';
import type { StorageEnv } from '../../io/env.ts';
import type { TimerId } from '../../io/timers.ts';
import { BlockCache } from './block_cache.ts';
import { CompactionJob } from './compaction_job.ts';
import type { CompactionPicker, CompactionPlan } from './compaction_plan.ts';
import { EntryKind, isDeletion, type Entry } from './entry.ts';
import type { EntryIterator } from './entry_iterator.ts';
import { CorruptionError, EngineClosedError, InvalidRequestError } from './errors.ts';
import { LiveCursor, type KeyValue } from './engine_iterator.ts';
import {
  pickerFor,
  resolveEngineOptions,
  type EngineOptions,
  type EngineStats,
  type RecoveryStats,
  type ScanOptions,
} from './engine_options.ts';
import { recoverStorage } from './engine_recovery.ts';
import { Fifo } from './fifo.ts';
import { FlushJob } from './flush_job.ts';
import type { JobEnv } from './incremental_merge.ts';
import { LevelIterator } from './level_iterator.ts';
import { ManifestLog, parseFileName, walFileName } from './manifest.ts';
import { Memtable } from './memtable.ts';
import { MergingIterator } from './merging_iterator.ts';
import { RateLimiter } from './rate_limiter.ts';
import { TableCache } from './table_cache.ts';
import { tableContainsKey, type Version } from './version.ts';
import { NUM_LEVELS, type TableMeta, type VersionEdit } from './version_edit.ts';
import type { VersionSet } from './version_set.ts';
import { WalWriter } from './wal_writer.ts';
import { encodeWriteBatch } from './write_batch.ts';
import { estimateLiveBytes } from './live_bytes.ts';

export type { EngineOptions, EngineStats, ScanOptions } from './engine_options.ts';

export type WriteOp =
  | { kind: 'put'; key: Uint8Array; value: Uint8Array; ttlMs?: number }
  | { kind: 'delete'; key: Uint8Array };

type Callback = (err: Error | null) => void;

interface PendingWrite {
  ops: WriteOp[];
  userBytes: number;
  cb: Callback;
  delayed: boolean;
}

/** An entry of the acknowledgement queue, in seq order. */
interface Ack {
  /** Undefined for a barrier (the directory sync of a new WAL). */
  write?: { lastSeq: number; cb: Callback };
  done: boolean;
  err: Error | null;
}

const RETRY_MS = 1000;

export class Engine {
  private readonly options: EngineOptions;
  private readonly picker: CompactionPicker;
  private readonly versions: VersionSet;
  private readonly manifest: ManifestLog;
  private readonly tableCache: TableCache;
  private readonly blockCache: BlockCache;
  private readonly jobEnv: JobEnv;

  private active: Memtable;
  private wal: WalWriter;
  private walNumber: number;
  private frozen: { memtable: Memtable; walNumber: number; nextWalNumber: number; job: FlushJob | null } | null = null;
  private compaction: { plan: CompactionPlan; job: CompactionJob | null } | null = null;

  private lastSeq: number;
  private visibleSeq: number;
  private readonly acks = new Fifo<Ack>();
  private draining = false;
  private drainScheduled = false;
  private readonly writeQueue = new Fifo<PendingWrite>();
  private slowdownTimer: TimerId | undefined;
  private readonly retryTimers = new Set<TimerId>();
  private readonly flushWaiters: Array<{ seq: number; cb: Callback }> = [];
  private compactAllWaiters: Array<{ cb: Callback; err: Error | null }> = [];
  private readonly excluded = new Set<number>();
  private failure: Error | null = null;
  private closed = false;
  /** Set by close(): what it still waits for before releasing the files. */
  private closing: { cb: Callback; err: Error | null; walFlushed: boolean } | null = null;
  /** Rotated-out WALs whose final sync has not completed yet. */
  private retiringWals = 0;

  private readonly counters = {
    userBytesWritten: 0, walBytesRetired: 0, flushBytesWritten: 0, compactionBytesWritten: 0, compactionsRun: 0,
    trivialMoves: 0, flushesRun: 0, corruptBlocksSeen: 0, backgroundErrors: 0, writeSlowdowns: 0, writeStops: 0, walSyncsRetired: 0,
    shadowedDropped: 0, tombstonesPurged: 0, expiredPurged: 0,
  };

  private constructor(
    private readonly env: StorageEnv,
    options: EngineOptions,
    state: { versions: VersionSet; manifest: ManifestLog; wal: WalWriter; walNumber: number },
    private readonly recoveryStats: RecoveryStats,
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
    };
    this.active = new Memtable(env.rng);
    this.lastSeq = this.versions.lastSeq;
    this.visibleSeq = this.lastSeq;
  }

  /** Opens (creating or recovering) the engine in env.disk. */
  static open(env: StorageEnv, options: Partial<EngineOptions>, cb: (err: Error | null, engine?: Engine) => void): void {
    let resolved: EngineOptions;
    try {
      resolved = resolveEngineOptions(options);
    } catch (err) {
      env.timers.setTimer(0, () => cb(err as Error));
      return;
    }
    recoverStorage(env, resolved, (err, state) => {
      if (err !== null) return cb(err);
      const engine = new Engine(env, resolved, state!, state!.stats);
      engine.deleteObsoleteFiles();
      engine.maybeScheduleCompaction();
      cb(null, engine);
    });
  }

  // ---- writes ----

  put(key: Uint8Array, value: Uint8Array, options: { ttlMs?: number } | undefined, cb: Callback): void {
    const op: WriteOp = { kind: 'put', key, value };
    if (options?.ttlMs !== undefined) op.ttlMs = options.ttlMs;
    this.write([op], cb);
  }

  delete(key: Uint8Array, cb: Callback): void {
    this.write([{ kind: 'delete', key }], cb);
  }

  /** Several puts/deletes applied atomically (one WAL record, consecutive seqs). */
  write(ops: WriteOp[], cb: Callback): void {
    const refusal = this.refusal() ?? this.validate(ops);
    if (refusal !== null) {
      this.later(() => cb(refusal));
      return;
    }
    if (ops.length === 0) {
      this.later(() => cb(null));
      return;
    }
    let userBytes = 0;
    // Copies: the caller may reuse its buffers once write() returns.
    const copied = ops.map((op): WriteOp => {
      userBytes += op.key.length + (op.kind === 'put' ? op.value.length : 0);
      return op.kind === 'put'
        ? { kind: 'put', key: op.key.slice(), value: op.value.slice(), ...(op.ttlMs !== undefined ? { ttlMs: op.ttlMs } : {}) }
        : { kind: 'delete', key: op.key.slice() };
    });
    this.writeQueue.push({ ops: copied, userBytes, cb, delayed: false });
    this.pump();
  }

  private validate(ops: WriteOp[]): Error | null {
    if (!Array.isArray(ops)) return new InvalidRequestError('write takes an array of operations');
    for (const op of ops) {
      if (!(op.key instanceof Uint8Array) || op.key.length === 0) return new InvalidRequestError('key must be a non-empty Uint8Array');
      if (op.key.length > this.options.maxKeyBytes) return new InvalidRequestError(`key of ${op.key.length} B exceeds ${this.options.maxKeyBytes} B`);
      if (op.kind === 'put') {
        if (!(op.value instanceof Uint8Array)) return new InvalidRequestError('value must be a Uint8Array');
        if (op.value.length > this.options.maxValueBytes) return new InvalidRequestError(`value of ${op.value.length} B exceeds ${this.options.maxValueBytes} B`);
        if (op.ttlMs !== undefined && !(Number.isSafeInteger(op.ttlMs) && op.ttlMs > 0)) return new InvalidRequestError(`ttlMs must be a positive integer, got ${op.ttlMs}`);
      } else if (op.kind !== 'delete') {
        return new InvalidRequestError(`unknown operation ${(op as { kind: unknown }).kind}`);
      }
    }
    return null;
  }

  /** Applies queued writes while back-pressure allows. */
  private pump(): void {
    while (this.writeQueue.length > 0 && this.refusal() === null) {
      if (this.slowdownTimer !== undefined) return;
      if (!this.makeRoom()) return;
      const w = this.writeQueue.peek()!;
      const pressure = this.picker.writePressure(this.versions.current);
      if (pressure === 'stop' && (this.compaction !== null || this.pickCompaction() !== undefined)) {
        this.counters.writeStops++;
        this.maybeScheduleCompaction();
        return; // resumed when a compaction installs
      }
      if (pressure !== 'none' && !w.delayed) {
        w.delayed = true;
        this.counters.writeSlowdowns++;
        this.slowdownTimer = this.env.timers.setTimer(1, () => {
          this.slowdownTimer = undefined;
          this.pump();
        });
        return;
      }
      this.writeQueue.shift();
      this.apply(w);
    }
  }

  /** Whether the active memtable may take a write; rotates it when full and nothing is flushing. */
  private makeRoom(): boolean {
    if (this.active.approximateBytes() < this.options.memtableBytes) return true;
    if (this.frozen !== null) {
      this.counters.writeStops++;
      return false; // resumed when the flush installs
    }
    return this.rotate();
  }

  private apply(w: PendingWrite): void {
    // Entry times are whole milliseconds; a wall clock may read fractions.
    const now = Math.floor(this.env.clock.wallMs());
    const first = this.lastSeq + 1;
    const entries: Entry[] = w.ops.map((op, i) =>
      op.kind === 'put'
        ? { key: op.key, seq: first + i, kind: EntryKind.Put, value: op.value, timeMs: op.ttlMs !== undefined ? now + op.ttlMs : 0 }
        : { key: op.key, seq: first + i, kind: EntryKind.Delete, value: new Uint8Array(0), timeMs: now },
    );
    const last = first + entries.length - 1;
    const ack: Ack = { write: { lastSeq: last, cb: w.cb }, done: false, err: null };
    let refused: Error | null = null;
    let inAppend = true;
    this.wal.append(encodeWriteBatch(entries), this.options.syncWrites, (err) => {
      if (err !== null && inAppend) {
        refused = err; // nothing usable was written: the seqs stay free
        return;
      }
      ack.done = true;
      ack.err = err;
      if (!inAppend) this.drainAcks();
    });
    inAppend = false;
    if (refused !== null) {
      const err: Error = refused;
      if (!(err instanceof DiskFullError)) this.fail(err);
      this.later(() => w.cb(err));
      return;
    }
    this.lastSeq = last;
    for (const e of entries) this.active.add(e);
    this.counters.userBytesWritten += w.userBytes;
    this.acks.push(ack);
    if (ack.done && !this.drainScheduled) {
      this.drainScheduled = true;
      this.later(() => {
        this.drainScheduled = false;
        this.drainAcks();
      });
    }
  }

  /** Acknowledges, in seq order, every write whose WAL sync (and any earlier barrier) has completed. */
  private drainAcks(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.acks.peek()?.done === true) {
        const ack = this.acks.shift()!;
        if (ack.err !== null) {
          this.fail(ack.err);
          ack.write?.cb(ack.err);
          continue;
        }
        if (ack.write !== undefined) {
          assert(ack.write.lastSeq > this.visibleSeq, 'writes are acknowledged in seq order');
          this.visibleSeq = ack.write.lastSeq;
          ack.write.cb(null);
        }
      }
    } finally {
      this.draining = false;
    }
    this.tryFinishClose();
  }

  // ---- memtable rotation and flush ----

  private rotate(): boolean {
    assert(this.frozen === null, 'one frozen memtable at a time');
    assert(this.active.entryCount() > 0, 'an empty memtable is not rotated');
    const oldWal = this.wal;
    let newWal: WalWriter;
    const newNumber = this.versions.newFileNumber();
    try {
      newWal = new WalWriter(this.env.disk.create(walFileName(newNumber)));
    } catch (err) {
      this.fail(err as Error);
      return false;
    }
    this.counters.walBytesRetired += oldWal.bytesWritten();
    this.counters.walSyncsRetired += oldWal.stats.syncs;
    this.frozen = { memtable: this.active, walNumber: this.walNumber, nextWalNumber: newNumber, job: null };
    this.active.freeze();
    this.active = new Memtable(this.env.rng);
    this.wal = newWal;
    this.walNumber = newNumber;
    const barrier: Ack = { done: false, err: null };
    this.acks.push(barrier);
    this.env.disk.syncDir((err) => {
      barrier.done = true;
      barrier.err = err;
      this.drainAcks();
    });
    this.retiringWals++;
    oldWal.flush((err) => {
      oldWal.close();
      this.retiringWals--;
      if (this.closed) return this.tryFinishClose();
      if (err !== null) return this.fail(err);
      this.startFlush();
    });
    return true;
  }

  private startFlush(): void {
    const frozen = this.frozen;
    if (frozen === null || this.refusal() !== null) return;
    frozen.job = new FlushJob(this.jobEnv, this.outputDeps(), frozen.memtable, this.visibleSeq, (err, tables) => {
      if (this.refusal() !== null) return;
      // The job (and so its output's file number) stays in place until the
      // table is installed, so the obsolete-file sweep spares it.
      if (err !== null) {
        frozen.job = null;
        return this.backgroundError(err, () => this.startFlush());
      }
      assert(tables!.length === 1, 'a flush writes one table');
      const table = tables![0]!;
      const edit: VersionEdit = {
        addedTables: [{ level: 0, table }],
        logNumber: frozen.nextWalNumber,
        lastSeq: Math.max(this.versions.lastSeq, frozen.memtable.largestSeq()),
        nextFileNumber: this.versions.nextFileNumber,
      };
      this.manifest.logAndApply(edit, (editErr) => {
        if (this.refusal() !== null) return;
        if (editErr !== null) return this.fail(editErr);
        this.counters.flushesRun++;
        this.counters.flushBytesWritten += table.fileBytes;
        this.frozen = null;
        this.deleteObsoleteFiles();
        this.onFlushInstalled();
      });
    });
    frozen.job.start();
  }

  private onFlushInstalled(): void {
    for (let i = 0; i < this.flushWaiters.length; ) {
      const w = this.flushWaiters[i]!;
      if (w.seq <= this.versions.lastSeq) {
        this.flushWaiters.splice(i, 1);
        w.cb(null);
      } else {
        i++;
      }
    }
    if (this.flushWaiters.length > 0 && this.frozen === null && this.active.entryCount() > 0) this.rotate();
    this.pump();
    this.maybeScheduleCompaction();
  }

  /** Makes every write applied so far durable in a level-0 table (memtable -> table). */
  flush(cb: Callback): void {
    const refusal = this.refusal();
    if (refusal !== null) return this.later(() => cb(refusal));
    const seq = this.lastSeq;
    if (seq <= this.versions.lastSeq) return this.later(() => cb(null));
    this.flushWaiters.push({ seq, cb });
    if (this.frozen === null && this.active.entryCount() > 0) this.rotate();
  }

  // ---- compaction ----

  private pickCompaction(): CompactionPlan | undefined {
    return this.picker.pick(this.versions.current, this.versions.compactPointers, this.excluded);
  }

  private maybeScheduleCompaction(): void {
    if (this.refusal() !== null || this.compaction !== null || this.retryTimers.size > 0) return;
    const plan = this.pickCompaction();
    if (plan === undefined) {
      this.notifyCompactAllIfIdle();
      return;
    }
    const compaction: { plan: CompactionPlan; job: CompactionJob | null } = { plan, job: null };
    this.compaction = compaction;
    if (plan.trivialMove) {
      const { level, table } = plan.inputs[0]!;
      assert(level + 1 === plan.outputLevel, 'a move goes one level down');
      this.installCompaction(plan, [table], () => this.counters.trivialMoves++);
      return;
    }
    compaction.job = new CompactionJob(
      this.jobEnv,
      { ...this.outputDeps(), tableCache: this.tableCache },
      plan,
      { snapshotSeq: this.visibleSeq, nowMs: this.env.clock.wallMs(), graceMs: this.options.tombstoneGraceMs },
      (err, tables) => {
        if (this.refusal() !== null) return;
        if (err !== null) {
          this.compaction = null;
          for (const w of this.compactAllWaiters) w.err ??= err;
          if (err instanceof CorruptionError) {
            this.counters.corruptBlocksSeen++;
            this.counters.backgroundErrors++;
            const bad = err.file !== undefined ? parseFileName(err.file) : undefined;
            if (bad?.kind === 'table') this.excluded.add(bad.number);
            else for (const i of plan.inputs) this.excluded.add(i.table.fileNumber);
            this.maybeScheduleCompaction();
            this.pump();
            return;
          }
          return this.backgroundError(err, () => this.maybeScheduleCompaction());
        }
        this.installCompaction(plan, tables!, () => {
          this.counters.compactionsRun++;
          const counts = compaction.job?.counts;
          if (counts !== undefined) {
            this.counters.shadowedDropped += counts.shadowed;
            this.counters.tombstonesPurged += counts.purgedTombstones;
            this.counters.expiredPurged += counts.purgedExpired;
          }
          for (const t of tables!) this.counters.compactionBytesWritten += t.fileBytes;
        });
      },
    );
    compaction.job.start();
  }

  private installCompaction(plan: CompactionPlan, outputs: TableMeta[], count: () => void): void {
    const edit: VersionEdit = {
      deletedTables: plan.inputs.map((i) => ({ level: i.level, fileNumber: i.table.fileNumber })),
      addedTables: outputs.map((table) => ({ level: plan.outputLevel, table })),
      nextFileNumber: this.versions.nextFileNumber,
      ...(plan.compactPointer ? { compactPointers: [plan.compactPointer] } : {}),
    };
    this.manifest.logAndApply(edit, (err) => {
      if (this.refusal() !== null) return;
      if (err !== null) return this.fail(err);
      count();
      this.compaction = null;
      this.deleteObsoleteFiles();
      this.pump();
      this.maybeScheduleCompaction();
    });
  }

  /** Runs compaction until the picker has nothing left to do (tests, benchmarks). */
  compactAll(cb: Callback): void {
    const refusal = this.refusal();
    if (refusal !== null) return this.later(() => cb(refusal));
    this.compactAllWaiters.push({ cb, err: null });
    this.maybeScheduleCompaction();
    this.notifyCompactAllIfIdle();
  }

  private notifyCompactAllIfIdle(): void {
    if (this.compaction !== null || this.frozen !== null || this.retryTimers.size > 0) return;
    if (this.pickCompaction() !== undefined) return;
    const waiters = this.compactAllWaiters;
    if (waiters.length === 0) return;
    this.compactAllWaiters = [];
    this.later(() => {
      for (const w of waiters) w.cb(w.err);
    });
  }

  private backgroundError(err: Error, retry: () => void): void {
    this.counters.backgroundErrors++;
    if (!(err instanceof DiskFullError || err instanceof DiskReadError)) return this.fail(err);
    for (const w of this.compactAllWaiters) w.err ??= err;
    const waiters = this.compactAllWaiters;
    this.compactAllWaiters = [];
    this.later(() => {
      for (const w of waiters) w.cb(w.err);
    });
    const id = this.env.timers.setTimer(RETRY_MS, () => {
      this.retryTimers.delete(id);
      if (this.refusal() === null) retry();
    });
    this.retryTimers.add(id);
  }

  private outputDeps() {
    return {
      disk: this.env.disk,
      newFileNumber: () => this.versions.newFileNumber(),
      writerOptions: { blockBytes: this.options.blockBytes, bloomBitsPerKey: this.options.bloomBitsPerKey, compression: this.options.compression },
    };
  }

  // ---- reads ----

  /** Newest acknowledged live value of `key`, or undefined (deleted, expired, missing). Throws CorruptionError if the data it needs is corrupt. */
  get(key: Uint8Array): Uint8Array | undefined {
    if (this.closed) throw new EngineClosedError('engine is closed');
    const seq = this.visibleSeq;
    const entry = this.findNewest(key, seq);
    if (entry === undefined || isDeletion(entry, this.env.clock.wallMs())) return undefined;
    return entry.value.slice();
  }

  private findNewest(key: Uint8Array, seq: number): Entry | undefined {
    const fromMemory = this.active.get(key, seq) ?? this.frozen?.memtable.get(key, seq);
    if (fromMemory !== undefined) return fromMemory;
    const version = this.versions.current;
    try {
      for (const t of version.levels[0]!) {
        if (!tableContainsKey(t, key)) continue;
        const e = this.tableCache.get(t).get(key, seq);
        if (e !== undefined) return e;
      }
      for (let level = 1; level < NUM_LEVELS; level++) {
        const t = version.tableForKey(level, key);
        if (t === undefined) continue;
        const e = this.tableCache.get(t).get(key, seq);
        if (e !== undefined) return e;
      }
    } catch (err) {
      this.noteReadError(err);
      throw err;
    }
    return undefined;
  }

  /** Ordered live pairs in [start, end), at a snapshot taken now. */
  scan(options: ScanOptions = {}): KeyValue[] {
    const cursor = this.iterator(options);
    const out: KeyValue[] = [];
    try {
      for (let kv = cursor.next(); kv !== undefined; kv = cursor.next()) out.push(kv);
    } finally {
      cursor.close();
    }
    return out;
  }

  /** A lazy cursor at a snapshot taken now; close() it if not read to the end. */
  iterator(options: ScanOptions = {}): { next(): KeyValue | undefined; close(): void } {
    if (this.closed) throw new EngineClosedError('engine is closed');
    const version = this.versions.ref(this.versions.current);
    const open = (t: TableMeta): EntryIterator => this.tableCache.get(t).iterator();
    const sources: EntryIterator[] = [this.active.iterator()];
    if (this.frozen !== null) sources.push(this.frozen.memtable.iterator());
    for (const t of version.levels[0]!) sources.push(new LevelIterator([t], open));
    for (let level = 1; level < NUM_LEVELS; level++) {
      if (version.levels[level]!.length > 0) sources.push(new LevelIterator(version.levels[level]!, open));
    }
    return new LiveCursor(
      new MergingIterator(sources),
      this.visibleSeq,
      this.env.clock.wallMs(),
      options,
      () => this.releaseVersion(version),
      (err) => this.noteReadError(err),
    );
  }

  private noteReadError(err: unknown): void {
    if (err instanceof CorruptionError) this.counters.corruptBlocksSeen++;
  }

  private releaseVersion(version: Version): void {
    this.versions.unref(version);
    if (version.refs === 0 && !this.closed) this.deleteObsoleteFiles();
  }

  // ---- files ----

  private deleteObsoleteFiles(): void {
    const live = this.versions.liveTableNumbers();
    for (const n of this.frozen?.job?.sink.fileNumbers ?? []) live.add(n);
    for (const n of this.compaction?.job?.sink.fileNumbers ?? []) live.add(n);
    for (const name of this.env.disk.list()) {
      const p = parseFileName(name);
      if (p === undefined) continue;
      let obsolete = false;
      if (p.kind === 'table') obsolete = !live.has(p.number);
      else if (p.kind === 'wal') obsolete = p.number < this.versions.logNumber && p.number !== this.frozen?.walNumber && p.number !== this.walNumber;
      else if (p.kind === 'manifest') obsolete = p.number < this.manifest.manifestNumber;
      else if (p.kind === 'temp') obsolete = !this.manifest.switching;
      if (!obsolete) continue;
      if (p.kind === 'table') this.tableCache.evict(p.number);
      this.env.disk.remove(name);
    }
  }

  // ---- lifecycle ----

  private refusal(): Error | null {
    if (this.closed) return new EngineClosedError('engine is closed');
    if (this.failure !== null) return new EngineClosedError(`engine stopped after an error: ${this.failure.message}`);
    return null;
  }

  private later(fn: () => void): void {
    this.env.timers.setTimer(0, fn);
  }

  /** Stops the engine for good after an error that leaves the disk state unknown. */
  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.stopBackgroundWork();
    const stopped = this.refusal()!;
    const acks = this.acks.drain();
    for (const a of acks) a.write?.cb(stopped);
    this.failQueued(stopped);
  }

  private failQueued(err: Error): void {
    const queued = this.writeQueue.drain();
    const flushWaiters = this.flushWaiters.splice(0);
    const compactWaiters = this.compactAllWaiters;
    this.compactAllWaiters = [];
    this.later(() => {
      for (const w of queued) w.cb(err);
      for (const w of flushWaiters) w.cb(err);
      for (const w of compactWaiters) w.cb(err);
    });
  }

  private stopBackgroundWork(): void {
    if (this.slowdownTimer !== undefined) this.env.timers.cancelTimer(this.slowdownTimer);
    this.slowdownTimer = undefined;
    for (const id of this.retryTimers) this.env.timers.cancelTimer(id);
    this.retryTimers.clear();
    this.frozen?.job?.cancel();
    this.compaction?.job?.cancel();
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
  private tryFinishClose(): void {
    const c = this.closing;
    if (c === null || !c.walFlushed || this.retiringWals > 0) return;
    if (this.acks.length > 0 && c.err === null) return;
    this.closing = null;
    this.wal.close();
    this.tableCache.close();
    this.manifest.close(() => c.cb(c.err));
  }

  // ---- stats ----

  stats(): EngineStats {
    const c = this.counters;
    const version = this.versions.current;
    const walBytesWritten = c.walBytesRetired + this.wal.bytesWritten();
    const tableBytes = version.totalBytes();
    const diskBytes = tableBytes + this.wal.bytesWritten() + this.manifest.currentBytes();
    const live = estimateLiveBytes(version);
    const bloom = this.tableCache.stats();
    const written = walBytesWritten + c.flushBytesWritten + c.compactionBytesWritten;
    return {
      userBytesWritten: c.userBytesWritten,
      walBytesWritten,
      flushBytesWritten: c.flushBytesWritten,
      compactionBytesWritten: c.compactionBytesWritten,
      writeAmplification: c.userBytesWritten === 0 ? 0 : written / c.userBytesWritten,
      liveBytesEstimate: live,
      diskBytes,
      spaceAmplification: live === 0 ? 0 : diskBytes / live,
      tablesPerLevel: version.levels.map((l) => l.length),
      compactionDebtBytes: this.picker.debtBytes(version),
      compactionsRun: c.compactionsRun,
      trivialMoves: c.trivialMoves,
      shadowedDropped: c.shadowedDropped,
      tombstonesPurged: c.tombstonesPurged,
      expiredPurged: c.expiredPurged,
      flushesRun: c.flushesRun,
      bloom: { checks: bloom.bloomChecks, negatives: bloom.bloomNegatives, falsePositives: bloom.bloomFalsePositives },
      blockCache: { hits: this.blockCache.stats.hits, misses: this.blockCache.stats.misses },
      corruptBlocksSeen: c.corruptBlocksSeen,
      corruptTables: [...this.excluded].sort((a, b) => a - b),
      backgroundErrors: c.backgroundErrors,
      writeSlowdowns: c.writeSlowdowns,
      writeStops: c.writeStops,
      walSyncs: c.walSyncsRetired + this.wal.stats.syncs,
      lastSeq: this.lastSeq,
      recovery: { ...this.recoveryStats },
    };
  }

  /** Work in progress, for operators and tests. */
  activity(): { flushing: boolean; compacting: boolean; queuedWrites: number; unacknowledgedWrites: number } {
    let unacknowledged = 0;
    for (const a of this.acks) if (a.write !== undefined) unacknowledged++;
    return {
      flushing: this.frozen !== null,
      compacting: this.compaction !== null,
      queuedWrites: this.writeQueue.length,
      unacknowledgedWrites: unacknowledged,
    };
  }

  /** The newest acknowledged sequence number (reads see everything up to it). */
  get sequence(): number {
    return this.visibleSeq;
  }
}
