// Appends records to a write-ahead log (format: log_format.ts) with group
// commit: a durable append joins the next fsync, one fsync is in flight at a
// time, and every durable append queued while it runs is acknowledged by the
// single fsync that follows.
//
// Callback timing. A non-durable append calls back synchronously, before
// append() returns (the writer has no Timers; the bytes are in the page cache
// when it does). A durable append calls back only from the completion of a
// sync that began after its bytes were appended. An append the disk refuses
// (DiskFullError) calls back synchronously with that error.
//
// Gathering. With `timers`, a sync starts one event-loop turn (a 0 ms timer)
// after the append or acknowledgement that calls for it, not at once: clients
// acknowledged by the previous sync resume on that turn (promise
// continuations, their next request) and their appends join the sync instead
// of waiting for the one after. Without timers a sync starts at once.
//
// Failure model:
// - A full disk writes nothing of the failed append (io/disk.ts), and each
//   record goes to the file in one append() call, so the log stays a valid
//   sequence of whole records and the writer stays usable: later appends may
//   succeed once space is freed.
// - A failed fsync leaves the writer failed for good. After a failed fsync
//   the kernel may have dropped the dirty pages and cleared the error, so a
//   later fsync can "succeed" without the earlier bytes on disk (the
//   PostgreSQL "fsyncgate" lesson). Nothing appended before the failure can
//   be acknowledged any more: the callbacks covered by the failed sync, and
//   those waiting for the next one, all get the sync's error, and so does
//   every later append or flush. The engine must stop, reopen and recover
//   from what the disk actually holds.

import { AssertionError, assert } from '../../io/assert.ts';
import { DiskFullError, type DiskError, type File } from '../../io/disk.ts';
import type { TimerId, Timers } from '../../io/timers.ts';
import { EngineClosedError } from './errors.ts';
import { BLOCK_BYTES, checkBlockBytes, encodeRecord, HEADER_BYTES, writeFullHeader } from './log_format.ts';

export type WalCallback = (err: Error | null) => void;

export interface WalWriterOptions {
  /** Block size of the log; readers must use the same. */
  blockBytes: number;
  /** When given, syncs start one turn after they are called for (see Gathering above). */
  timers: Timers;
}

export interface WalWriterStats {
  records: number;
  syncs: number;
  /** Callbacks (durable appends and flushes) acknowledged by syncs: durableAcks / syncs is the mean group size. */
  durableAcks: number;
}

export class WalWriter {
  private readonly blockBytes: number;
  /** Log length: the file's size when opened plus bytes appended since. */
  private length: number;
  private blockOffset: number;
  /** Bytes known durable: covered by a completed sync. */
  private syncedLength: number;
  /** Durable callbacks whose bytes are appended and that wait for a sync to start. */
  private waiting: WalCallback[] = [];
  /** The sync in flight, if any: the log length when it began and whom it acknowledges. */
  private inFlight: { coversLength: number; callbacks: WalCallback[] } | null = null;
  private failure: Error | null = null;
  /**
   * True while a sync's callbacks run. Appends they make wait until all have
   * run and then share one sync: clients that write again as soon as they are
   * acknowledged form one group instead of the first of them syncing alone.
   */
  private acknowledging = false;
  private closed = false;
  private fileClosed = false;
  private readonly timers: Timers | undefined;
  /** The timer that will start the next sync, when gathering. */
  private syncTimer: TimerId | undefined;
  readonly stats: WalWriterStats = { records: 0, syncs: 0, durableAcks: 0 };

  constructor(
    private readonly file: File,
    options?: Partial<WalWriterOptions>,
  ) {
    this.blockBytes = options?.blockBytes ?? BLOCK_BYTES;
    this.timers = options?.timers;
    checkBlockBytes(this.blockBytes);
    // Appending to an existing log continues its block structure. Only do this
    // to a log whose tail readWal() found clean ('eof'): records after a torn
    // tail would be unreachable.
    this.length = file.size();
    this.blockOffset = this.length % this.blockBytes;
    // Bytes found in the file may still sit unsynced in the page cache (a
    // process crash keeps them there): none count as durable until a sync.
    this.syncedLength = 0;
  }

  /**
   * Appends one record (fragmenting across blocks). With durable=true, cb runs
   * once a sync that began after this append completes; with durable=false,
   * cb runs synchronously before append returns.
   */
  append(record: Uint8Array, durable: boolean, cb: WalCallback): void {
    const refusal = this.refusal();
    if (refusal !== null) {
      cb(refusal);
      return;
    }
    const encoded = encodeRecord(record, this.blockOffset, this.blockBytes);
    const err = this.appendEncoded(encoded.bytes, encoded.blockOffset);
    if (err !== null) {
      cb(err);
      return;
    }
    this.afterAppend(durable, cb);
  }

  /**
   * append() of the record framed[HEADER_BYTES..], without copying it when
   * it fits the current block as one fragment: the caller leaves the first
   * HEADER_BYTES free and the header is written there. Returns the refusal or
   * append error instead of calling back (nothing usable was appended); on
   * success a durable append passes cb to the next sync, and a non-durable
   * one is done (cb unused).
   */
  appendFramed(framed: Uint8Array, durable: boolean, cb: WalCallback | undefined): Error | null {
    assert(framed.length >= HEADER_BYTES, 'a framed record has room for its header');
    assert(!durable || cb !== undefined, 'a durable append has a callback');
    const refusal = this.refusal();
    if (refusal !== null) return refusal;
    const n = framed.length - HEADER_BYTES;
    let err: Error | null;
    if (this.blockBytes - this.blockOffset >= framed.length) {
      writeFullHeader(framed, n);
      const after = this.blockOffset + framed.length;
      err = this.appendEncoded(framed, after === this.blockBytes ? 0 : after);
    } else {
      const encoded = encodeRecord(framed.subarray(HEADER_BYTES), this.blockOffset, this.blockBytes);
      err = this.appendEncoded(encoded.bytes, encoded.blockOffset);
    }
    if (err !== null) return err;
    this.afterAppend(durable, cb);
    return null;
  }

  /** Hands whole fragments to the file; the error (if any) is the append's. */
  private appendEncoded(bytes: Uint8Array, blockOffsetAfter: number): Error | null {
    try {
      this.file.append(bytes);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      if (!(err instanceof DiskFullError)) {
        // Unknown state of the file: it may hold part of the record.
        this.failure = e;
        this.failWaiting(e);
      }
      return e;
    }
    this.length += bytes.length;
    this.blockOffset = blockOffsetAfter;
    this.stats.records++;
    if (!(this.file.size() === this.length)) throw new AssertionError(`log ${this.file.name}: file size ${this.file.size()} != log length ${this.length}`);
    return null;
  }

  private afterAppend(durable: boolean, cb: WalCallback | undefined): void {
    if (!durable) {
      cb?.(null);
      return;
    }
    this.waiting.push(cb!);
    if (this.inFlight === null && !this.acknowledging) this.requestSync();
  }

  /** Log length in bytes: the file's size when opened plus everything appended since. */
  bytesWritten(): number {
    return this.length;
  }

  /** Bytes covered by a completed sync. */
  durableBytes(): number {
    return this.syncedLength;
  }

  /** The error that failed the writer, if a sync or an append has. */
  failed(): Error | null {
    return this.failure;
  }

  /** Makes every byte appended so far durable, then cb (at once when it already is). */
  flush(cb: WalCallback): void {
    const refusal = this.refusal();
    if (refusal !== null) {
      cb(refusal);
      return;
    }
    if (this.inFlight === null && this.syncedLength === this.length) {
      cb(null);
      return;
    }
    if (this.inFlight !== null && this.inFlight.coversLength === this.length && this.waiting.length === 0) {
      this.inFlight.callbacks.push(cb);
      return;
    }
    this.waiting.push(cb);
    if (this.inFlight === null && !this.acknowledging) this.requestSync();
  }

  /**
   * Closes the log without syncing. Callbacks still waiting for a sync to start
   * get EngineClosedError; a sync already in flight still reports to its
   * callbacks, and the file is closed once it has.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelSyncTimer();
    this.failWaiting(new EngineClosedError(`log ${this.file.name} closed`));
    if (this.inFlight === null) this.closeFile();
  }

  private closeFile(): void {
    if (this.fileClosed) return;
    this.fileClosed = true;
    this.file.close();
  }

  private refusal(): Error | null {
    if (this.closed) return new EngineClosedError(`log ${this.file.name} is closed`);
    return this.failure;
  }

  /** Starts a sync for the waiting callbacks now, or on the next turn when gathering. */
  private requestSync(): void {
    if (this.timers === undefined) return this.startSync();
    if (this.syncTimer !== undefined) return;
    this.syncTimer = this.timers.setTimer(0, () => {
      this.syncTimer = undefined;
      if (this.inFlight === null && this.waiting.length > 0 && this.failure === null && !this.closed) this.startSync();
    });
  }

  private cancelSyncTimer(): void {
    if (this.syncTimer === undefined) return;
    this.timers!.cancelTimer(this.syncTimer);
    this.syncTimer = undefined;
  }

  private startSync(): void {
    assert(this.inFlight === null, 'one sync in flight at a time');
    assert(this.waiting.length > 0, 'a sync starts only for waiting callbacks');
    const sync = { coversLength: this.length, callbacks: this.waiting };
    this.waiting = [];
    this.inFlight = sync;
    this.stats.syncs++;
    let completed = false;
    const done = (err: DiskError | Error | null) => {
      assert(!completed, `log ${this.file.name}: sync completed twice`);
      completed = true;
      this.onSyncDone(sync, err);
    };
    try {
      this.file.sync(done);
    } catch (err) {
      done(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onSyncDone(sync: { coversLength: number; callbacks: WalCallback[] }, err: Error | null): void {
    assert(this.inFlight === sync, 'sync completion for the sync in flight');
    this.inFlight = null;
    this.acknowledging = true;
    try {
      if (err !== null) {
        this.failure ??= err;
        for (const cb of sync.callbacks) cb(err);
        this.failWaiting(err);
      } else {
        assert(sync.coversLength >= this.syncedLength, 'durable length only grows');
        this.syncedLength = sync.coversLength;
        this.stats.durableAcks += sync.callbacks.length;
        for (const cb of sync.callbacks) cb(null);
      }
    } finally {
      this.acknowledging = false;
    }
    // Callbacks may have appended, closed or failed the writer.
    assert(this.inFlight === null, 'no sync starts while callbacks run');
    if (this.closed) this.closeFile();
    else if (this.waiting.length > 0 && this.failure === null) this.requestSync();
  }

  private failWaiting(err: Error): void {
    this.cancelSyncTimer();
    const waiting = this.waiting;
    this.waiting = [];
    for (const cb of waiting) cb(err);
  }
}
