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
// it; with syncWrites off, once appended) and every earlier write has been
// acknowledged; tryWriteNow acknowledges an unsynced write with nothing
// ahead of it before returning. Reads use the newest
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
import type { CompactionPicker } from './compaction_plan.ts';
import { CompactionScheduler, RETRY_MS } from './compaction_scheduler.ts';
import { EntryKind, isExpired } from './entry.ts';
import { CorruptionError, EngineClosedError } from './errors.ts';
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
import { ManifestLog, parseFileName, tableFileName, walFileName } from './manifest.ts';
import { obsoleteFiles } from './obsolete_files.ts';
import { Memtable } from './memtable.ts';
import { RateLimiter } from './rate_limiter.ts';
import { TableCache } from './table_cache.ts';
import type { Version } from './version.ts';
import type { VersionEdit } from './version_edit.ts';
import type { VersionSet } from './version_set.ts';
import { WalWriter } from './wal_writer.ts';
import { encodeWriteOps, writeOpsBytes } from './write_batch.ts';
import { HEADER_BYTES as LOG_HEADER_BYTES } from './log_format.ts';
import { engineStats, newEngineCounters } from './engine_stats.ts';
import { type Ack, AckQueue } from './ack_queue.ts';
import { findNewest, mergedView, type ReadView } from './engine_reads.ts';
import { copyWrite, opTimeMs, userBytes, validateWrite, type WriteOp } from './write_request.ts';

const NO_VALUE = new Uint8Array(0);

/**
 * With a flush or compaction under way, writes acknowledged within
 * tryWriteNow between two event-loop turns: about a millisecond of writes
 * per step of background work, which is about as long (compactionStepMs).
 */
const IMMEDIATE_ACKS_PER_TURN = 100;

export type { EngineOptions, EngineStats, ScanOptions } from './engine_options.ts';

export type { WriteOp } from './write_request.ts';

type Callback = (err: Error | null) => void;

interface PendingWrite {
  ops: WriteOp[];
  userBytes: number;
  cb: Callback;
  delayed: boolean;
}

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
  private frozen: { memtable: Memtable; walNumber: number; walBytes: number; nextWalNumber: number; job: FlushJob | null } | null = null;
  /** Obsolete files waiting for their turn to be removed (deleteObsoleteFiles), and their names. */
  private readonly removals: Array<{ name: string; kind: string; number: number }> = [];
  private readonly removalNames = new Set<string>();
  private removalTimer: TimerId | undefined;
  private removalWaiters: Array<() => void> = [];
  /** The last view readView() made (see there). */
  private lastView: ReadView | null = null;
  private readonly compactions: CompactionScheduler;

  private lastSeq: number;
  private readonly acks: AckQueue;
  private drainScheduled = false;
  private readonly writeQueue = new Fifo<PendingWrite>();
  /** Writes acknowledged within tryWriteNow in a row while background work waits (backgroundGetsATurn). */
  private immediateAcksInRow = 0;
  private slowdownTimer: TimerId | undefined;
  private flushRetryTimer: TimerId | undefined;
  private readonly flushWaiters: Array<{ seq: number; cb: Callback }> = [];
  private failure: Error | null = null;
  private closed = false;
  /** Set by close(): what it still waits for before releasing the files. */
  private closing: { cb: Callback; err: Error | null; walFlushed: boolean } | null = null;
  /** Rotated-out WALs whose final sync has not completed yet. */
  private retiringWals = 0;

  private readonly counters = newEngineCounters();
  /**
   * Where apply() encodes each write's WAL record. Reused: every File.append
   * copies what it is given (into the page cache, or the real disk's write
   * buffer), and a typed array of more than 64 bytes is allocated outside the
   * JS heap, which cost about a microsecond per write.
   */
  private recordScratch = new Uint8Array(4096);

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
      engine.deleteObsoleteFiles(true);
      engine.compactions.maybeSchedule();
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
    this.submit(ops, cb, false);
  }

  /**
   * write(), acknowledged at once where that is possible: with syncWrites off,
   * nothing queued or unacknowledged ahead of it, and no back-pressure, the
   * write is applied, visible to reads and as acknowledged as write()'s
   * callback would make it (in the page cache) when this returns true, and
   * cb is never called. Otherwise it returns false and cb reports, as with
   * write().
   */
  tryWriteNow(ops: WriteOp[], cb: Callback): boolean {
    return this.submit(ops, cb, true);
  }

  private submit(ops: WriteOp[], cb: Callback, now: boolean): boolean {
    const refusal = this.refusal() ?? validateWrite(ops, this.options);
    if (refusal !== null) {
      this.later(() => cb(refusal));
      return false;
    }
    if (ops.length === 0) {
      this.later(() => cb(null));
      return false;
    }
    if (this.writeQueue.length === 0) {
      // Nothing ahead of it: applied now, straight from the caller's buffers (no queued copy).
      const admission = this.admit(false);
      if (admission === 'apply') {
        const immediate = now && !this.options.syncWrites && this.acks.length === 0 && this.backgroundGetsATurn();
        const err = this.apply(ops, userBytes(ops), immediate ? undefined : cb);
        if (err !== null) this.later(() => cb(err));
        return err === null && immediate;
      }
      const copied = copyWrite(ops);
      this.writeQueue.push({ ops: copied, userBytes: userBytes(copied), cb, delayed: false });
      if (admission === 'delay') this.delay(this.writeQueue.peek()!);
      return false;
    }
    const copied = copyWrite(ops);
    this.writeQueue.push({ ops: copied, userBytes: userBytes(copied), cb, delayed: false });
    this.pump();
    return false;
  }

  /**
   * Whether the next write may be acknowledged within tryWriteNow. A caller
   * that writes again as soon as a write returns never gives the event loop a
   * turn, so flush and compaction steps would not run until back-pressure
   * stopped it. While one is under way, every IMMEDIATE_ACKS_PER_TURN-th
   * write takes write()'s path instead; its acknowledgement, and those of the
   * writes behind it, wait for the next turn, where a step runs.
   */
  private backgroundGetsATurn(): boolean {
    if (this.frozen === null && !this.compactions.busy) {
      this.immediateAcksInRow = 0;
      return true;
    }
    if (++this.immediateAcksInRow < IMMEDIATE_ACKS_PER_TURN) return true;
    this.immediateAcksInRow = 0;
    return false;
  }

  /** Applies queued writes while back-pressure allows. */
  private pump(): void {
    while (this.writeQueue.length > 0 && this.refusal() === null) {
      const w = this.writeQueue.peek()!;
      const admission = this.admit(w.delayed);
      if (admission === 'hold') return;
      if (admission === 'delay') return this.delay(w);
      this.writeQueue.shift();
      const err = this.apply(w.ops, w.userBytes, w.cb);
      if (err !== null) this.later(() => w.cb(err));
    }
  }

  /**
   * Whether the next write may be applied now, must wait (resumed by a flush
   * or compaction installing, or the slowdown timer), or is to be delayed
   * (slowdown, once per write).
   */
  private admit(delayed: boolean): 'apply' | 'hold' | 'delay' {
    if (this.slowdownTimer !== undefined) return 'hold';
    if (!this.makeRoom()) return 'hold';
    const pressure = this.picker.writePressure(this.versions.current);
    if (pressure === 'stop' && this.compactions.canProgress()) {
      this.counters.writeStops++;
      this.compactions.maybeSchedule();
      return 'hold'; // resumed when a compaction installs
    }
    if (pressure !== 'none' && !delayed) return 'delay';
    return 'apply';
  }

  private delay(w: PendingWrite): void {
    w.delayed = true;
    this.counters.writeSlowdowns++;
    this.slowdownTimer = this.env.timers.setTimer(1, () => {
      this.slowdownTimer = undefined;
      this.pump();
    });
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

  /**
   * Encodes the write once, into the buffer that becomes its WAL record,
   * appends it and inserts the entries (the memtable copies keys and values:
   * `ops` may be the caller's buffers, reused once write() returns). Returns
   * the error that refused it (cb is then not called; the caller reports it).
   * Without cb (syncWrites off, nothing unacknowledged ahead) the write is
   * acknowledged here: it becomes the newest visible write.
   */
  private apply(ops: WriteOp[], bytes: number, cb: Callback | undefined): Error | null {
    // Entry times are whole milliseconds; a wall clock may read fractions.
    const nowMs = Math.floor(this.env.clock.wallMs());
    const firstSeq = this.lastSeq + 1;
    const recordBytes = LOG_HEADER_BYTES + writeOpsBytes(ops, firstSeq, nowMs);
    if (recordBytes > this.recordScratch.length) this.recordScratch = new Uint8Array(Math.max(recordBytes, 2 * this.recordScratch.length));
    const framed = this.recordScratch.subarray(0, recordBytes);
    encodeWriteOps(ops, firstSeq, nowMs, framed, LOG_HEADER_BYTES);
    const last = firstSeq + ops.length - 1;
    const durable = this.options.syncWrites;
    let ack: Ack | undefined;
    const err = this.wal.appendFramed(
      framed,
      durable,
      durable
        ? (syncErr) => {
            ack!.done = true;
            ack!.err = syncErr;
            this.acks.drain();
          }
        : undefined,
    );
    if (err !== null) {
      // A refusal wrote nothing usable, so the seqs stay free.
      if (!(err instanceof DiskFullError)) this.fail(err);
      return err;
    }
    this.lastSeq = last;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.kind === 'put') this.active.insert(op.key, firstSeq + i, EntryKind.Put, opTimeMs(op, nowMs), op.value);
      else this.active.insert(op.key, firstSeq + i, EntryKind.Delete, nowMs, NO_VALUE);
    }
    this.counters.userBytesWritten += bytes;
    if (cb === undefined) {
      assert(!durable && this.acks.length === 0, 'only an unsynced write with nothing unacknowledged ahead is acknowledged at once');
      this.acks.visibleSeq = last;
      return null;
    }
    ack = this.acks.addWrite(last, cb);
    if (!durable) {
      ack.done = true;
      this.scheduleDrain();
    }
    return null;
  }

  /** Drains acknowledgements on the next turn (callbacks never run inside write()). */
  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    this.later(() => {
      this.drainScheduled = false;
      this.acks.drain();
    });
  }

  // ---- memtable rotation and flush ----

  private rotate(): boolean {
    assert(this.frozen === null, 'one frozen memtable at a time');
    assert(this.active.entryCount() > 0, 'an empty memtable is not rotated');
    const oldWal = this.wal;
    let newWal: WalWriter;
    const newNumber = this.versions.newFileNumber();
    try {
      newWal = new WalWriter(this.env.disk.create(walFileName(newNumber)), { timers: this.env.timers });
    } catch (err) {
      this.fail(err as Error);
      return false;
    }
    this.counters.walBytesRetired += oldWal.bytesWritten();
    this.counters.walSyncsRetired += oldWal.stats.syncs;
    this.frozen = { memtable: this.active, walNumber: this.walNumber, walBytes: oldWal.bytesWritten(), nextWalNumber: newNumber, job: null };
    this.active.freeze();
    this.active = new Memtable(this.env.rng);
    this.wal = newWal;
    this.walNumber = newNumber;
    const barrier = this.acks.addBarrier();
    this.env.disk.syncDir((err) => {
      barrier.done = true;
      barrier.err = err;
      this.acks.drain();
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
    frozen.job = new FlushJob(this.jobEnv, this.outputDeps(this.options.compression && this.options.compressFlushes), frozen.memtable, this.acks.visibleSeq, (err, tables) => {
      if (this.refusal() !== null) return;
      // The job (and so its output's file number) stays in place until the
      // table is installed, so the obsolete-file sweep spares it.
      if (err !== null) {
        frozen.job = null;
        return this.flushError(err);
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
    this.compactions.maybeSchedule();
    this.compactions.notifyIfIdle();
  }

  /** A full disk or a read error is retried after a pause; anything else stops the engine. */
  private flushError(err: Error): void {
    this.counters.flushErrors++;
    if (!(err instanceof DiskFullError || err instanceof DiskReadError)) return this.fail(err);
    this.flushRetryTimer = this.env.timers.setTimer(RETRY_MS, () => {
      this.flushRetryTimer = undefined;
      this.startFlush();
    });
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

  /** Runs compaction until the picker has nothing left to do (tests, benchmarks); reports the first compaction error met. */
  compactAll(cb: Callback): void {
    const refusal = this.refusal();
    if (refusal !== null) return this.later(() => cb(refusal));
    this.compactions.compactAll((err) => this.afterRemovals(() => cb(err)));
  }

  private outputDeps(compression = this.options.compression) {
    return {
      disk: this.env.disk,
      newFileNumber: () => this.versions.newFileNumber(),
      writerOptions: { blockBytes: this.options.blockBytes, bloomBitsPerKey: this.options.bloomBitsPerKey, compression },
    };
  }

  // ---- reads ----

  /** Newest acknowledged live value of `key`, or undefined (deleted, expired, missing). Throws CorruptionError if the data it needs is corrupt. */
  get(key: Uint8Array): Uint8Array | undefined {
    if (this.closed) throw new EngineClosedError('engine is closed');
    let entry;
    try {
      entry = findNewest(this.readView(this.versions.current), key, this.acks.visibleSeq);
    } catch (err) {
      this.noteReadError(err);
      throw err;
    }
    if (entry === undefined || entry.kind === EntryKind.Delete) return undefined;
    // The clock is read only for a value with an expiry time (isExpired).
    if (entry.timeMs !== 0 && isExpired(entry, this.env.clock.wallMs())) return undefined;
    return entry.value.slice();
  }

  private readView(version: Version): ReadView {
    // Reused while the memtables and version stay the same: a point read then allocates no view.
    const frozen = this.frozen === null ? null : this.frozen.memtable;
    const last = this.lastView;
    if (last !== null && last.version === version && last.memtables[0] === this.active && (last.memtables[1] ?? null) === frozen) return last;
    const memtables = frozen === null ? [this.active] : [this.active, frozen];
    this.lastView = { memtables, version, tableCache: this.tableCache };
    return this.lastView;
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
    return new LiveCursor(
      mergedView(this.readView(version)),
      this.acks.visibleSeq,
      this.env.clock.wallMs(),
      options,
      () => this.releaseVersion(version),
      (err) => this.noteReadError(err),
    );
  }

  private noteReadError(err: unknown): void {
    if (!(err instanceof CorruptionError)) return;
    this.counters.corruptBlocksSeen++;
    const bad = err.file !== undefined ? parseFileName(err.file) : undefined;
    if (bad?.kind === 'table' && this.refusal() === null) this.compactions.quarantine(bad.number);
  }

  /** Keeps a quarantined table's file for forensics, out of the obsolete-file sweep's way. */
  private retireCorrupt(fileNumber: number): void {
    const name = tableFileName(fileNumber);
    this.tableCache.evict(fileNumber);
    if (this.env.disk.exists(name)) this.env.disk.rename(name, `${name}.corrupt`);
  }

  private releaseVersion(version: Version): void {
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
  private deleteObsoleteFiles(now = false): void {
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

  private removeOneObsolete(): void {
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

  private scheduleRemoval(): void {
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
  private dropRemovals(): void {
    this.removals.length = 0;
    this.removalNames.clear();
    const waiters = this.removalWaiters;
    this.removalWaiters = [];
    for (const w of waiters) w();
  }

  /** Calls `fn` once every obsolete file found so far is removed (at once if none is waiting). */
  private afterRemovals(fn: () => void): void {
    if (this.removals.length === 0) return fn();
    this.removalWaiters.push(fn);
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
    this.acks.failAll(stopped);
    this.failQueued(stopped);
  }

  private failQueued(err: Error): void {
    const queued = this.writeQueue.drain();
    const flushWaiters = this.flushWaiters.splice(0);
    this.compactions.stop(err);
    this.later(() => {
      for (const w of queued) w.cb(err);
      for (const w of flushWaiters) w.cb(err);
    });
  }

  private stopBackgroundWork(): void {
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
  private tryFinishClose(): void {
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
