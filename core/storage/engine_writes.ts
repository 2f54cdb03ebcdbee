// The engine's write path and memtable flushes: admission under
// back-pressure, the WAL append and memtable insert of each write, its
// acknowledgement, and the rotation of a full memtable into a level-0 table.
// engine.ts describes the rules they follow.

import { assert } from '../../io/assert.ts';
import { DiskFullError, DiskReadError } from '../../io/disk.ts';
import { RETRY_MS } from './compaction_scheduler.ts';
import { EntryKind } from './entry.ts';
import { type Callback, EngineBase, type PendingWrite } from './engine_base.ts';
import { FlushJob } from './flush_job.ts';
import { outputBlockBudget } from './table_sink.ts';
import { fmix32 } from './hash32.ts';
import { walFileName } from './manifest.ts';
import { Memtable } from './memtable.ts';
import type { VersionEdit } from './version_edit.ts';
import { WalWriter } from './wal_writer.ts';
import { encodeWriteOps, writeOpsBytes } from './write_batch.ts';
import { HEADER_BYTES as LOG_HEADER_BYTES } from './log_format.ts';
import type { Ack } from './ack_queue.ts';
import { copyWrite, opTimeMs, userBytes, validateWrite, type WriteOp } from './write_request.ts';

const NO_VALUE = new Uint8Array(0);

/**
 * With a flush or compaction under way, writes acknowledged within
 * tryWriteNow between two event-loop turns: about a millisecond of writes
 * per step of background work, which is about as long (compactionStepMs).
 */
const IMMEDIATE_ACKS_PER_TURN = 100;

/** A flush step grows up to this many compaction steps (flushStepScale). */
const FLUSH_MAX_STEP_SCALE = 8;

export abstract class EngineWrites extends EngineBase {
  protected submit(ops: WriteOp[], cb: Callback, now: boolean): boolean {
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
  protected backgroundGetsATurn(): boolean {
    if (this.frozen === null && !this.compactions.busy) {
      this.immediateAcksInRow = 0;
      return true;
    }
    if (++this.immediateAcksInRow < IMMEDIATE_ACKS_PER_TURN) return true;
    this.immediateAcksInRow = 0;
    return false;
  }

  /** Applies queued writes while back-pressure allows. */
  protected override pump(): void {
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
  protected admit(delayed: boolean): 'apply' | 'hold' | 'delay' {
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

  /**
   * A slowdown: the queue waits 1 ms, then every write queued by then is
   * applied, as LevelDB's writer group after its sleep. Delaying each write
   * in turn by 1 ms would cap a node at a thousand writes a second for as
   * long as level 0 stays above the trigger, and requests would queue
   * without bound behind the cap.
   */
  protected delay(w: PendingWrite): void {
    w.delayed = true;
    this.counters.writeSlowdowns++;
    this.slowdownTimer = this.env.timers.setTimer(1, () => {
      this.slowdownTimer = undefined;
      for (const queued of this.writeQueue) queued.delayed = true;
      this.pump();
    });
  }

  /** Whether the active memtable may take a write; rotates it when full and nothing is flushing. */
  protected makeRoom(): boolean {
    if (this.active.approximateBytes() < this.memtableLimit()) return true;
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
  protected apply(ops: WriteOp[], bytes: number, cb: Callback | undefined): Error | null {
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
  protected scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    this.later(() => {
      this.drainScheduled = false;
      this.acks.drain();
    });
  }

  // ---- memtable rotation and flush ----

  /**
   * How many compaction steps' worth a flush step does: 1 while the active
   * memtable is under a quarter full, rising to FLUSH_MAX_STEP_SCALE as it
   * nears the point where it must rotate. A flush gets one step per turn of
   * the event loop, and under load a turn is long, so with fixed steps a
   * flush of a large memtable took longer than writes took to fill the next
   * one, and every write stopped until it finished.
   */
  protected flushStepScale(): number {
    const fill = this.active.approximateBytes() / this.memtableLimit();
    if (fill <= 0.25) return 1;
    return Math.min(FLUSH_MAX_STEP_SCALE, 1 + ((FLUSH_MAX_STEP_SCALE - 1) * (fill - 0.25)) / 0.75);
  }

  /** Where the active memtable rotates: memtableBytes less its jitter (engine_options.ts). */
  protected memtableLimit(): number {
    const o = this.options;
    if (o.memtableJitter === 0) return o.memtableBytes;
    const u = fmix32((o.jitterSalt ^ Math.imul(this.walNumber, 0x9e3779b1)) >>> 0) / 2 ** 32;
    return Math.floor(o.memtableBytes * (1 - o.memtableJitter * u));
  }

  protected rotate(): boolean {
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

  protected startFlush(): void {
    const frozen = this.frozen;
    if (frozen === null || this.refusal() !== null) return;
    const cache = this.tableCache.blockCache;
    const job = new FlushJob({ ...this.jobEnv, scale: () => this.flushStepScale() }, this.outputDeps(this.options.compression && this.options.compressFlushes), frozen.memtable, this.acks.visibleSeq, (err, tables) => {
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
        job.sink.warm(cache);
        this.deleteObsoleteFiles();
        this.onFlushInstalled();
      });
    }, outputBlockBudget(cache));
    frozen.job = job;
    job.start();
  }

  protected onFlushInstalled(): void {
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
  protected flushError(err: Error): void {
    this.counters.flushErrors++;
    if (!(err instanceof DiskFullError || err instanceof DiskReadError)) return this.fail(err);
    this.flushRetryTimer = this.env.timers.setTimer(RETRY_MS, () => {
      this.flushRetryTimer = undefined;
      this.startFlush();
    });
  }
}
