// The user's view of a merged source at a snapshot: for each key in
// [start, end), its newest version at or below the snapshot sequence, if that
// version is a live value at the time the cursor was opened. Tombstones,
// expired values and versions newer than the snapshot are never returned.
//
// The cursor holds the engine's version (its tables stay on disk) until it is
// exhausted, fails, or is closed.

import { compareKeys, isDeletion } from './entry.ts';
import type { EntryIterator } from './entry_iterator.ts';
import type { ScanOptions } from './engine_options.ts';

export interface KeyValue {
  key: Uint8Array;
  value: Uint8Array;
}

export class LiveCursor {
  private started = false;
  private finished = false;
  private returned = 0;

  constructor(
    private readonly source: EntryIterator,
    private readonly snapshotSeq: number,
    private readonly nowMs: number,
    private readonly options: ScanOptions,
    /** Called once when the cursor stops holding its snapshot. */
    private readonly release: () => void,
    /** Told about every error the source throws (the engine counts corruption). */
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The next live pair (copies, safe to keep), or undefined at the end. */
  next(): KeyValue | undefined {
    if (this.finished) return undefined;
    try {
      const out = this.advance();
      if (out === undefined) this.close();
      return out;
    } catch (err) {
      this.onError(err);
      this.close();
      throw err;
    }
  }

  close(): void {
    if (this.finished) return;
    this.finished = true;
    this.release();
  }

  private advance(): KeyValue | undefined {
    const { source, options } = this;
    if (!this.started) {
      this.started = true;
      if (options.start !== undefined) source.seek(options.start);
      else source.seekToFirst();
    }
    if (options.limit !== undefined && this.returned >= options.limit) return undefined;
    while (source.valid()) {
      const e = source.entry();
      if (options.end !== undefined && compareKeys(e.key, options.end) >= 0) return undefined;
      if (e.seq > this.snapshotSeq) {
        source.next();
        continue;
      }
      // e is the newest version of its key the snapshot sees.
      const key = e.key.slice();
      const value = isDeletion(e, this.nowMs) ? undefined : e.value.slice();
      do source.next();
      while (source.valid() && compareKeys(source.entry().key, key) === 0);
      if (value !== undefined) {
        this.returned++;
        return { key, value };
      }
    }
    return undefined;
  }
}
