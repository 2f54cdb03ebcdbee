// The rules by which a flush or a compaction decides, entry by entry, what of
// its merged input survives into its output (LevelDB's DoCompactionWork loop).
//
// Input comes in internal order: per key, newest version first. With S the
// snapshot sequence (the newest acknowledged write; entries above it may still
// be waiting for their WAL sync and are invisible to readers):
//
// - Every version above S is kept: it may not be acknowledged yet, and the
//   version a reader sees today is the newest one at or below S.
// - The newest version at or below S is kept, unless it is purgeable (below).
// - Any older version is shadowed by that one and dropped.
// - A purgeable entry — a tombstone, or a TTL value past its expiry, whose
//   time is older than the grace period — is dropped only when no table
//   outside this merge may hold an older version of its key. Otherwise the
//   older version would resurface once the tombstone is gone.
//
// Dropping a purgeable entry also drops the older versions behind it (they are
// shadowed), so a key disappears from the merge's output entirely.

import { assert } from '../../io/assert.ts';
import { EntryKind, type Entry } from './entry.ts';
import type { EntryIterator } from './entry_iterator.ts';

export interface PurgeRules {
  /** Newest acknowledged sequence number. */
  snapshotSeq: number;
  /** Wall-clock now, for the grace period. */
  nowMs: number;
  graceMs: number;
  /** Whether a table not in this merge may hold an older version of `key`. */
  olderVersionMayExist(key: Uint8Array): boolean;
}

/** Rules for a flush: nothing older can be proven absent, so no tombstone goes. */
export function keepTombstones(snapshotSeq: number): PurgeRules {
  return { snapshotSeq, nowMs: 0, graceMs: 0, olderVersionMayExist: () => true };
}

export interface MergeCounts {
  input: number;
  /** Key and value bytes of the input, plus ENTRY_OVERHEAD_BYTES each: the work done. */
  inputBytes: number;
  kept: number;
  shadowed: number;
  purgedTombstones: number;
  purgedExpired: number;
}

/** Per-entry cost beyond key and value (seq, kind, time, framing), for bounding work. */
export const ENTRY_OVERHEAD_BYTES = 16;

/** Whether an entry's deletion or expiry is older than the grace period. */
export function isPurgeable(entry: Entry, nowMs: number, graceMs: number): boolean {
  if (entry.kind === EntryKind.Delete) return entry.timeMs + graceMs <= nowMs;
  return entry.timeMs !== 0 && entry.timeMs + graceMs <= nowMs;
}

export class CompactionMerge {
  readonly counts: MergeCounts = { input: 0, inputBytes: 0, kept: 0, shadowed: 0, purgedTombstones: 0, purgedExpired: 0 };
  /** The current key: a copy in a reused buffer (the source may reuse its entry's memory); length -1 before the first. */
  private currentKey = new Uint8Array(64);
  private currentKeyLength = -1;
  /** Seq of the previous version of the current key; Infinity before its first. */
  private lastSeqForKey = Infinity;
  /** Whether the entry last returned is still the source's current one. */
  private advancePending = false;

  /** `source` must already be positioned (seekToFirst or seek). */
  constructor(
    private readonly source: EntryIterator,
    private readonly rules: PurgeRules,
  ) {}

  /**
   * The next entry to keep, or undefined once the input is exhausted. The
   * entry stays valid until the following call (the source is advanced then,
   * since a source may reuse its entry's memory).
   */
  next(): Entry | undefined {
    const { source, rules } = this;
    if (this.advancePending) {
      this.advancePending = false;
      source.next();
    }
    while (source.valid()) {
      const entry = source.entry();
      this.counts.input++;
      this.counts.inputBytes += entry.key.length + entry.value.length + ENTRY_OVERHEAD_BYTES;
      const order = this.currentKeyLength < 0 ? -1 : this.compareCurrent(entry.key);
      if (order === 0) {
        assert(entry.seq < this.lastSeqForKey, 'compaction input: versions of a key out of order');
      } else {
        assert(order < 0, 'compaction input: keys out of order');
        this.rememberKey(entry.key);
        this.lastSeqForKey = Infinity;
      }
      let drop = false;
      if (this.lastSeqForKey <= rules.snapshotSeq) {
        drop = true;
        this.counts.shadowed++;
      } else if (
        entry.seq <= rules.snapshotSeq &&
        isPurgeable(entry, rules.nowMs, rules.graceMs) &&
        !rules.olderVersionMayExist(entry.key)
      ) {
        drop = true;
        if (entry.kind === EntryKind.Delete) this.counts.purgedTombstones++;
        else this.counts.purgedExpired++;
      }
      this.lastSeqForKey = entry.seq;
      if (!drop) {
        this.counts.kept++;
        this.advancePending = true;
        return entry;
      }
      source.next();
    }
    return undefined;
  }

  /** The current key compared with `key` (bytewise, as compareKeys), without allocating. */
  private compareCurrent(key: Uint8Array): number {
    const cur = this.currentKey;
    const len = this.currentKeyLength;
    const n = len < key.length ? len : key.length;
    for (let i = 0; i < n; i++) {
      const d = cur[i]! - key[i]!;
      if (d !== 0) return d;
    }
    return len - key.length;
  }

  private rememberKey(key: Uint8Array): void {
    if (key.length > this.currentKey.length) this.currentKey = new Uint8Array(Math.max(key.length, this.currentKey.length * 2));
    const cur = this.currentKey;
    for (let i = 0; i < key.length; i++) cur[i] = key[i]!;
    this.currentKeyLength = key.length;
  }
}
