// One token range of one keyspace as anti-entropy sees it: the Merkle tree
// (merkle_tree.ts) and an index of what the tree holds, per key, so that an
// update can take out the key's previous entry without reading it back from
// disk, and an exchange can list a differing leaf segment's keys
// (SegmentEntrySource) without scanning the replica.
//
// A record leaves the tree when the store would purge it: at the end of its
// tombstone grace period (replica_store.ts engineTtlMs: the last deletion or
// expiry in it plus the grace). That instant is a function of the record
// alone, so every replica drops the same records at the same wall time
// (within clock skew), whatever their compactions did meanwhile; a purged
// tombstone or an expired value therefore never looks like a difference.

import type { SegmentEntry, SegmentEntrySource } from './merkle_exchange.ts';
import { entryHashWordsInto, toBigint } from './merkle_hash.ts';
import { type MerkleRange, type MerkleShape, MerkleTree } from './merkle_tree.ts';
import { PurgeSchedule } from './purge_schedule.ts';
import { keyToken } from '../ring/key_hash.ts';

/**
 * What the tree holds for one key: its content hash as words (hi, lo; no
 * bigint per entry), and when it is purged (null: never). Rewriting a key
 * changes its entry in place: on a busy node every write lands here, and a
 * new entry (and Map slot, key string and, for a key alone in its segment, a
 * new Map) per write would all outlive the young generation, to be promoted
 * and collected by full GCs.
 */
interface IndexedEntry {
  hi: number;
  lo: number;
  purgeAtMs: number | null;
}

const entryWords = new Uint32Array(2);

/** A key as a Map key: one UTF-16 unit per byte. */
export function keyIdOf(key: Uint8Array): string {
  // One call for the usual short key (no spread, no substring copies).
  if (key.length <= 4096) return String.fromCharCode.apply(null, key as unknown as number[]);
  let s = '';
  for (let i = 0; i < key.length; i += 4096) s += String.fromCharCode(...key.subarray(i, i + 4096));
  return s;
}

function keyOfId(id: string): Uint8Array {
  const out = new Uint8Array(id.length);
  for (let i = 0; i < id.length; i++) out[i] = id.charCodeAt(i);
  return out;
}

// The index is only per segment (a key's segment follows from its token),
// and keys are held as strings, not byte arrays: an entry costs one Map slot,
// a short string and a bigint, which matters at millions of keys.
export class RangeTree implements SegmentEntrySource {
  /** Made on first use: a node opens with a tree per owned range and keyspace, most never touched before it restarts. */
  private merkle: MerkleTree | null = null;
  readonly range: MerkleRange;
  private readonly bySegment = new Map<number, Map<string, IndexedEntry>>();
  private readonly purges = new PurgeSchedule();
  private keys = 0;
  /** False while the initial scan of the replica has not passed every key of the range. */
  built = false;

  constructor(
    readonly keyspace: string,
    range: MerkleRange,
    private readonly shape: MerkleShape,
  ) {
    this.range = { start: range.start, end: range.end };
  }

  get tree(): MerkleTree {
    return (this.merkle ??= new MerkleTree(this.range, this.shape));
  }

  get keyCount(): number {
    return this.keys;
  }

  /**
   * The key now holds content `contentHash` (null: nothing, the record is
   * gone), purged at `purgeAtMs`. A record already past its purge time counts
   * as gone. `token` is the key's token (key_hash.ts keyToken).
   */
  set(token: bigint, key: Uint8Array, contentHash: bigint | null, purgeAtMs: number | null, nowMs: number): void {
    const segment = this.tree.segmentOf(token);
    if (contentHash === null) this.setInSegment(segment, key, keyIdOf(key), false, 0, 0, purgeAtMs, nowMs);
    else this.setInSegment(segment, key, keyIdOf(key), true, Number(contentHash >> 32n), Number(contentHash & 0xffff_ffffn), purgeAtMs, nowMs);
  }

  /**
   * set() for a record with content, its token and content hash given as
   * unsigned 32-bit words (token = tokenHi << 32 | tokenLo): the write path,
   * which makes no bigint.
   */
  setWords(tokenHi: number, tokenLo: number, key: Uint8Array, contentHi: number, contentLo: number, purgeAtMs: number | null, nowMs: number): void {
    this.setInSegment(this.tree.segmentOfWords(tokenHi, tokenLo), key, keyIdOf(key), true, contentHi, contentLo, purgeAtMs, nowMs);
  }

  private setInSegment(segment: number, key: Uint8Array, id: string, present: boolean, hi: number, lo: number, purgeAtMs: number | null, nowMs: number): void {
    const seg = this.bySegment.get(segment);
    const old = seg?.get(id);
    const live = present && (purgeAtMs === null || purgeAtMs > nowMs);
    if (old !== undefined) {
      if (live && old.hi === hi && old.lo === lo) {
        // Same content: the tree's hashes stand, but a changed purge time must replace the old one
        // (else a sweep at the old time would drop a key that no longer expires).
        if (old.purgeAtMs !== purgeAtMs) {
          old.purgeAtMs = purgeAtMs;
          if (purgeAtMs !== null) this.purges.add(purgeAtMs, id);
        }
        return;
      }
      entryHashWordsInto(key, old.hi, old.lo, entryWords);
      this.tree.removeHash(segment, entryWords[0]!, entryWords[1]!);
      if (!live) {
        seg!.delete(id);
        this.keys--;
        if (seg!.size === 0) this.bySegment.delete(segment);
        return;
      }
    } else if (!live) {
      return;
    }
    entryHashWordsInto(key, hi, lo, entryWords);
    this.tree.insertHash(segment, entryWords[0]!, entryWords[1]!);
    // A key's pending purge slot for an unchanged time still stands (sweep purges by the entry's own time).
    if (purgeAtMs !== null && old?.purgeAtMs !== purgeAtMs) this.purges.add(purgeAtMs, id);
    if (old !== undefined) {
      // New content for a key the tree holds: its entry changes in place.
      old.hi = hi;
      old.lo = lo;
      old.purgeAtMs = purgeAtMs;
      return;
    }
    if (seg === undefined) this.bySegment.set(segment, new Map([[id, { hi, lo, purgeAtMs }]]));
    else seg.set(id, { hi, lo, purgeAtMs });
    this.keys++;
  }

  /** The content hash the tree holds for a key, or null. */
  contentOf(token: bigint, key: Uint8Array): bigint | null {
    const e = this.bySegment.get(this.tree.segmentOf(token))?.get(keyIdOf(key));
    return e === undefined ? null : toBigint(e.hi, e.lo);
  }

  /** Takes out every entry whose purge time has come; returns how many left. */
  sweep(nowMs: number): number {
    let removed = 0;
    for (const due of this.purges.popDue(nowMs)) {
      const key = keyOfId(due.id);
      const segment = this.tree.segmentOf(keyToken(key));
      const entry = this.bySegment.get(segment)?.get(due.id);
      // Gone already, or a later write moved its purge time (that time has its own slot).
      if (entry === undefined || entry.purgeAtMs === null || entry.purgeAtMs > nowMs) continue;
      this.setInSegment(segment, key, due.id, false, 0, 0, null, nowMs);
      removed++;
    }
    return removed;
  }

  entriesInSegment(segment: number): readonly SegmentEntry[] {
    const seg = this.bySegment.get(segment);
    if (seg === undefined) return [];
    const out: SegmentEntry[] = [];
    for (const [id, e] of seg) out.push({ key: keyOfId(id), contentHash: toBigint(e.hi, e.lo) });
    return out;
  }
}
