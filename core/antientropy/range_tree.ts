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

import { assert } from '../../io/assert.ts';
import type { SegmentEntry, SegmentEntrySource } from './merkle_exchange.ts';
import { type MerkleRange, type MerkleShape, MerkleTree } from './merkle_tree.ts';
import { PurgeSchedule } from './purge_schedule.ts';

interface IndexedEntry extends SegmentEntry {
  readonly segment: number;
  readonly token: bigint;
  /** Wall time (ms) at which the record is purged; null when it never is. */
  readonly purgeAtMs: number | null;
}

/** A key as a Map key: one UTF-16 unit per byte. */
export function keyIdOf(key: Uint8Array): string {
  let s = '';
  for (let i = 0; i < key.length; i += 4096) s += String.fromCharCode(...key.subarray(i, i + 4096));
  return s;
}

export class RangeTree implements SegmentEntrySource {
  readonly tree: MerkleTree;
  private readonly byKey = new Map<string, IndexedEntry>();
  private readonly bySegment = new Map<number, Map<string, IndexedEntry>>();
  private readonly purges = new PurgeSchedule();
  /** False while the initial scan of the replica has not passed every key of the range. */
  built = false;

  constructor(
    readonly keyspace: string,
    range: MerkleRange,
    shape: MerkleShape,
  ) {
    this.tree = new MerkleTree(range, shape);
  }

  get range(): MerkleRange {
    return this.tree.range;
  }

  get keyCount(): number {
    return this.byKey.size;
  }

  /**
   * The key now holds content `contentHash` (null: nothing, the record is
   * gone), purged at `purgeAtMs`. A record already past its purge time counts
   * as gone.
   */
  set(token: bigint, key: Uint8Array, contentHash: bigint | null, purgeAtMs: number | null, nowMs: number): void {
    const id = keyIdOf(key);
    const old = this.byKey.get(id);
    const live = contentHash !== null && (purgeAtMs === null || purgeAtMs > nowMs);
    if (old !== undefined) {
      if (live && old.contentHash === contentHash) return;
      this.tree.remove(old.token, old.key, old.contentHash);
      this.byKey.delete(id);
      const seg = this.bySegment.get(old.segment)!;
      seg.delete(id);
      if (seg.size === 0) this.bySegment.delete(old.segment);
    }
    if (!live) return;
    const segment = this.tree.segmentOf(token);
    const entry: IndexedEntry = { key: key.slice(), contentHash: contentHash!, segment, token, purgeAtMs };
    this.tree.insert(token, entry.key, entry.contentHash);
    this.byKey.set(id, entry);
    let seg = this.bySegment.get(segment);
    if (seg === undefined) {
      seg = new Map();
      this.bySegment.set(segment, seg);
    }
    seg.set(id, entry);
    if (purgeAtMs !== null) this.purges.add(purgeAtMs, id, entry.contentHash);
  }

  /** The content hash the tree holds for a key, or null. */
  contentOf(key: Uint8Array): bigint | null {
    return this.byKey.get(keyIdOf(key))?.contentHash ?? null;
  }

  /** Takes out every entry whose purge time has come; returns how many left. */
  sweep(nowMs: number): number {
    let removed = 0;
    for (const due of this.purges.popDue(nowMs)) {
      const entry = this.byKey.get(due.id);
      // A later write replaced the entry the schedule was made for: that write has its own slot.
      if (entry === undefined || entry.contentHash !== due.contentHash || entry.purgeAtMs === null || entry.purgeAtMs > nowMs) continue;
      this.set(entry.token, entry.key, null, null, nowMs);
      removed++;
    }
    return removed;
  }

  entriesInSegment(segment: number): readonly SegmentEntry[] {
    const seg = this.bySegment.get(segment);
    if (seg === undefined) return [];
    const out = [...seg.values()];
    assert(out.every((e) => e.segment === segment), 'segment index holds an entry of another segment');
    return out;
  }
}
