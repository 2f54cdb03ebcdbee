// What a node holds as a home replica: per keyspace, one versioned value per
// key (versioned_value.ts) in the storage engine (layout in storage_keys.ts).
// A replica write merges the incoming version into the stored one, so a
// write, a read repair, a hint replay or a duplicate of any of them can
// arrive in any order and any number of times and the result is the same.
//
// Expiry lives inside the versioned value; the engine's own TTL is set to
// when the whole record stops mattering (every write deleted or expired, plus
// the tombstone grace period), so that compaction can purge it then and not
// earlier: a record hidden at its expiry would let an older write arriving
// late (a hint, a repair) come back to life.

import { assert } from '../../io/assert.ts';
import type { Clock } from '../../io/clock.ts';
import { compareKeys } from '../storage/entry.ts';
import type { Engine } from '../storage/engine.ts';
import { VersionFormatError } from '../versioning/errors.ts';
import { values } from '../versioning/dotted_version_vector.ts';
import {
  type VersionedValue,
  decodeVersionedValue,
  encodeVersionedValue,
  mergeVersionedValues,
} from '../versioning/versioned_value.ts';
import { CorruptionError } from '../storage/errors.ts';
import type { RecordWriter } from './record_writer.ts';
import { VersionComparer } from './version_set.ts';
import { parseReplicaKey, prefixEnd, replicaKey, replicaPrefix } from './storage_keys.ts';

export interface StoredRecord {
  ks: string;
  key: Uint8Array;
  value: VersionedValue;
}

export class ReplicaStore {
  /** Told of every record this store wrote, once durable (anti-entropy keeps its Merkle trees with it). */
  onRecordWritten: ((ks: string, key: Uint8Array, value: VersionedValue, encoded: Uint8Array) => void) | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly writer: RecordWriter,
    private readonly clock: Clock,
    private readonly graceMs: number,
  ) {
    assert(Number.isSafeInteger(graceMs) && graceMs >= 0, `grace ${graceMs}`);
  }

  /** The acknowledged version of a key, or null. Throws CorruptionError when unreadable. */
  read(ks: string, key: Uint8Array): VersionedValue | null {
    return decodeStored(this.writer.durable(replicaKey(ks, key)));
  }

  /** The newest version written, acknowledged or not. Throws CorruptionError when unreadable. */
  latest(ks: string, key: Uint8Array): VersionedValue | null {
    return decodeStored(this.writer.latest(replicaKey(ks, key)));
  }

  private latestAt(storageKey: Uint8Array): VersionedValue | null {
    return decodeStored(this.writer.latest(storageKey));
  }

  /**
   * Merges `incoming` into the key's record and writes the result; calls back
   * once it is durable, with the merged version. A record that cannot be read
   * is replaced by `incoming` (the other replicas and repair still hold the
   * rest); `onReplaced` is told.
   */
  apply(ks: string, key: Uint8Array, incoming: VersionedValue, cb: (err: Error | null, merged?: VersionedValue) => void, onReplaced?: () => void): void {
    const storageKey = replicaKey(ks, key);
    let current: VersionedValue | null;
    try {
      current = this.latestAt(storageKey);
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      current = null;
      onReplaced?.();
    }
    let merged: VersionedValue;
    try {
      merged = current === null ? incoming : mergeVersionedValues(current, incoming);
    } catch (err) {
      cb(err as Error);
      return;
    }
    // The record's bytes are encoded once: the engine and the anti-entropy hook share them.
    const encoded = merged === current ? null : encodeVersionedValue(merged);
    if (current !== null && (encoded === null || (merged.mode === 'siblings' && new VersionComparer(merged, encoded).same(current)))) {
      // Nothing new (a duplicate or an older version): no write, but the
      // answer waits until what it reports is durable.
      this.writer.whenDurable(storageKey, () => cb(null, current));
      return;
    }
    assert(encoded !== null, 'a new record has its bytes');
    this.writer.put(storageKey, encoded, engineTtlMs(merged, this.clock.wallMs(), this.graceMs), (err) => {
      if (err === null) this.onRecordWritten?.(ks, key, merged, encoded);
      cb(err, merged);
    });
  }

  /**
   * Up to `limit` records of `ks` with start <= key < end, acknowledged ones,
   * in key order; `more` when the limit cut the range short. `fillCache`
   * false for background walks over the whole store (engine ScanOptions).
   */
  scan(ks: string, start: Uint8Array | undefined, end: Uint8Array | undefined, limit: number, fillCache = true): { records: StoredRecord[]; more: boolean } {
    assert(Number.isInteger(limit) && limit >= 1, `scan limit ${limit}`);
    const prefix = replicaPrefix(ks);
    const from = start === undefined ? prefix : replicaKey(ks, start);
    const to = end === undefined ? prefixEnd(prefix) : replicaKey(ks, end);
    const cursor = this.engine.iterator({ start: from, ...(to !== undefined ? { end: to } : {}), limit: limit + 1, fillCache });
    const records: StoredRecord[] = [];
    let more = false;
    try {
      for (let kv = cursor.next(); kv !== undefined; kv = cursor.next()) {
        if (records.length === limit) {
          more = true;
          break;
        }
        const parsed = parseReplicaKey(kv.key);
        assert(parsed !== null && parsed.ks === ks, 'replica scan left its keyspace');
        records.push({ ks, key: parsed.key, value: decodeOrCorrupt(kv.value) });
      }
    } finally {
      cursor.close();
    }
    return { records, more };
  }

  /** Every acknowledged replica record, keyspaces in byte order (for checkers). Unreadable records are skipped. */
  dump(): StoredRecord[] {
    const prefix = Uint8Array.of(0x01);
    const cursor = this.engine.iterator({ start: prefix, end: prefixEnd(prefix)! });
    const out: StoredRecord[] = [];
    try {
      for (let kv = cursor.next(); kv !== undefined; kv = cursor.next()) {
        const parsed = parseReplicaKey(kv.key);
        if (parsed === null) continue;
        try {
          out.push({ ks: parsed.ks, key: parsed.key, value: decodeVersionedValue(kv.value) });
        } catch (err) {
          if (!(err instanceof VersionFormatError)) throw err;
        }
      }
    } finally {
      cursor.close();
    }
    assert(out.every((r, i) => i === 0 || compareKeys(replicaKey(out[i - 1]!.ks, out[i - 1]!.key), replicaKey(r.ks, r.key)) < 0), 'dump in key order');
    return out;
  }
}

export function decodeStored(bytes: Uint8Array | undefined): VersionedValue | null {
  if (bytes === undefined) return null;
  return decodeOrCorrupt(bytes);
}

function decodeOrCorrupt(bytes: Uint8Array): VersionedValue {
  try {
    return decodeVersionedValue(bytes);
  } catch (err) {
    if (err instanceof VersionFormatError) throw new CorruptionError(`stored version does not parse: ${err.message}`);
    throw err;
  }
}

/**
 * The engine TTL for a stored version: undefined while some write in it
 * neither expires nor is a tombstone, else the time from now until the last
 * deletion or expiry in it plus the grace period (at least 1 ms).
 */
export function engineTtlMs(v: VersionedValue, nowMs: number, graceMs: number): number | undefined {
  const writes = v.mode === 'lww' ? [v.write] : values(v.dvv);
  if (writes.length === 0) return undefined;
  let horizon = 0;
  for (const w of writes) {
    if (w.kind === 'value' && w.expiresAtMs === 0) return undefined;
    const at = w.kind === 'value' ? w.expiresAtMs : w.hlc.wallMs;
    if (at > horizon) horizon = at;
  }
  const ttl = Math.floor(horizon + graceMs - nowMs);
  return Number.isSafeInteger(ttl) && ttl >= 1 ? ttl : 1;
}
