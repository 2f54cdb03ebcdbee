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
//
// Code: engine_base.ts (state, files, failure and close, stats),
// engine_writes.ts (write path, memtable rotation and flush), this file (the
// public API: open, writes, flush, reads).

import { EntryKind, isExpired } from './entry.ts';
import type { Callback, RecoveredState } from './engine_base.ts';
import { EngineClosedError } from './errors.ts';
import { LiveCursor, type KeyValue } from './engine_iterator.ts';
import { resolveEngineOptions, type EngineOptions, type RecoveryStats, type ScanOptions } from './engine_options.ts';
import { recoverStorage } from './engine_recovery.ts';
import { EngineWrites } from './engine_writes.ts';
import type { StorageEnv } from '../../io/env.ts';
import type { Version } from './version.ts';
import { findNewest, mergedView, type ReadView } from './engine_reads.ts';
import type { WriteOp } from './write_request.ts';

export type { EngineOptions, EngineStats, ScanOptions } from './engine_options.ts';

export type { WriteOp } from './write_request.ts';

export class Engine extends EngineWrites {
  private constructor(env: StorageEnv, options: EngineOptions, state: RecoveredState, recoveryStats: RecoveryStats) {
    super(env, options, state, recoveryStats);
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

  // ---- reads ----

  /** Newest acknowledged live value of `key`, or undefined (deleted, expired, missing). Throws CorruptionError if the data it needs is corrupt. */
  get(key: Uint8Array): Uint8Array | undefined {
    return this.getView(key)?.slice();
  }

  /**
   * get() without the copy: a view of the engine's own memory, a memtable's
   * value arena or a table's decoded block. Neither is ever written again
   * where a value was written (a growing arena moves to a new buffer), so the
   * view stays valid for as long as it is kept, and keeps that buffer alive.
   * The caller must not write to it. For the replica paths, which decode the
   * record at once: a copy of every record read was a third of a read's
   * allocation.
   */
  getView(key: Uint8Array): Uint8Array | undefined {
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
    return entry.value;
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
      mergedView(this.readView(version), options.fillCache ?? true),
      this.acks.visibleSeq,
      this.env.clock.wallMs(),
      options,
      () => this.releaseVersion(version),
      (err) => this.noteReadError(err),
    );
  }
}
