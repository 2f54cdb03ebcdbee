// An in-memory File for storage tests whose syncs complete only when the test
// says so (or at once, in auto mode), so tests can hold a sync in flight, fail
// it, fill the disk, and look at exactly which bytes a sync made durable.
// The bytes themselves live in a MemoryFile; this adds durability and capacity.

import { assert } from '../../io/assert.ts';
import { DiskFullError, type DiskError, type SyncCallback } from '../../io/disk.ts';
import { MemoryFile } from './memory_file.ts';

export class ManualSyncFile extends MemoryFile {
  private pending: { length: number; callback: SyncCallback }[] = [];
  /** Bytes made durable by completed syncs. */
  durableLength = 0;
  /** Total bytes the "disk" holds; an append past it throws DiskFullError. */
  capacity = Number.POSITIVE_INFINITY;
  /** When true, sync completes synchronously inside sync(). */
  autoSync = false;
  syncCalls = 0;

  constructor(name = 'test.log', initial?: Uint8Array) {
    super(name, initial);
    if (initial !== undefined) this.durableLength = initial.length;
  }

  override append(data: Uint8Array): void {
    assert(!this.closed, `${this.name}: append after close`);
    if (this.size() + data.length > this.capacity) throw new DiskFullError(`${this.name}: disk full`);
    super.append(data);
  }

  override sync(callback: SyncCallback): void {
    assert(!this.closed, `${this.name}: sync after close`);
    this.syncCalls++;
    this.pending.push({ length: this.size(), callback });
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
}
