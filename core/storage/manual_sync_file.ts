// An in-memory File for storage tests whose syncs complete only when the test
// says so (or at once, in auto mode), so tests can hold a sync in flight, fail
// it, fill the disk, and look at exactly which bytes a sync made durable.

import { assert } from '../../io/assert.ts';
import { DiskFullError, type DiskError, type File, type SyncCallback } from '../../io/disk.ts';

export class ManualSyncFile implements File {
  private buf = new Uint8Array(1024);
  private length = 0;
  private pending: { length: number; callback: SyncCallback }[] = [];
  /** Bytes made durable by completed syncs. */
  durableLength = 0;
  /** Total bytes the "disk" holds; an append past it throws DiskFullError. */
  capacity = Number.POSITIVE_INFINITY;
  /** When true, sync completes synchronously inside sync(). */
  autoSync = false;
  syncCalls = 0;
  closed = false;

  constructor(
    readonly name = 'test.log',
    initial?: Uint8Array,
  ) {
    if (initial !== undefined) {
      this.append(initial);
      this.durableLength = initial.length;
    }
  }

  size(): number {
    return this.length;
  }

  append(data: Uint8Array): void {
    assert(!this.closed, `${this.name}: append after close`);
    if (this.length + data.length > this.capacity) throw new DiskFullError(`${this.name}: disk full`);
    if (this.length + data.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + data.length));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  pread(offset: number, length: number): Uint8Array {
    const end = Math.min(this.length, offset + length);
    return this.buf.slice(Math.min(offset, end), end);
  }

  sync(callback: SyncCallback): void {
    assert(!this.closed, `${this.name}: sync after close`);
    this.syncCalls++;
    this.pending.push({ length: this.length, callback });
    if (this.autoSync) this.completeSync();
  }

  /** Syncs in flight (issued, not yet completed). */
  syncsPending(): number {
    return this.pending.length;
  }

  /** Completes the oldest sync in flight, successfully or with `err`. */
  completeSync(err: DiskError | null = null): void {
    const next = this.pending.shift();
    assert(next !== undefined, `${this.name}: no sync in flight`);
    if (err === null) this.durableLength = Math.max(this.durableLength, next.length);
    next.callback(err);
  }

  close(): void {
    this.closed = true;
  }

  /** Every byte readable now, durable or not. */
  contents(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
