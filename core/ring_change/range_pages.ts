// The source side of range streaming: one page of a keyspace's records whose
// key tokens fall in a set of token ranges, in key order, resuming after a
// key. Keys are placed by hash, so a token range is scattered over the whole
// key space: a page walks the keyspace in key order, keeps the records in
// the ranges, and stops at a byte budget (records sent) or an examined-record
// budget (work done), whichever comes first; `next` is where the following
// page resumes. Only acknowledged records are read (ReplicaStore.scan).
//
// Ranges travel as 16 bytes each, start then end, big-endian unsigned 64-bit
// tokens (range_pages.ts is their one codec).

import { assert } from '../../io/assert.ts';
import { keyToken } from '../ring/key_hash.ts';
import { isToken, rangeContains, type TokenRange } from '../ring/token_range.ts';
import type { StoredRecord } from '../replication/replica_store.ts';
import { keySuccessor } from '../replication/storage_keys.ts';
import { type VersionedValue, encodeVersionedValue } from '../versioning/versioned_value.ts';

/** Largest number of ranges one request may name. */
export const MAX_STREAM_RANGES = 4096;
/** Records a page may examine before it answers (bounds the work of one request). */
export const MAX_EXAMINED_PER_PAGE = 2048;
/** Largest page a receiver may ask for. */
export const MAX_PAGE_BYTES = 4 << 20;

export interface RangePage {
  items: { key: Uint8Array; value: VersionedValue }[];
  /** The last key examined when more may follow; null when the keyspace is exhausted. */
  next: Uint8Array | null;
  /** Records examined (for the work bound and tests). */
  examined: number;
}

/** What range pages read: ReplicaStore.scan. */
export type RecordScan = (ks: string, start: Uint8Array | undefined, end: undefined, limit: number) => { records: StoredRecord[]; more: boolean };

export function readRangePage(scan: RecordScan, ks: string, ranges: readonly TokenRange[], after: Uint8Array | null, maxBytes: number): RangePage {
  assert(ranges.length >= 1 && ranges.length <= MAX_STREAM_RANGES, `${ranges.length} ranges`);
  assert(Number.isInteger(maxBytes) && maxBytes >= 1 && maxBytes <= MAX_PAGE_BYTES, `page bytes ${maxBytes}`);
  const items: RangePage['items'] = [];
  let bytes = 0;
  let examined = 0;
  let from: Uint8Array | undefined = after === null ? undefined : keySuccessor(after);
  for (;;) {
    const chunk = scan(ks, from, undefined, Math.min(256, MAX_EXAMINED_PER_PAGE - examined));
    for (const r of chunk.records) {
      examined++;
      if (inRanges(ranges, keyToken(r.key))) {
        items.push({ key: r.key, value: r.value });
        bytes += r.key.length + encodeVersionedValue(r.value).length;
      }
      if (bytes >= maxBytes || examined >= MAX_EXAMINED_PER_PAGE) {
        const last = chunk.records[chunk.records.length - 1]!;
        // Stopped inside the chunk, or at its end with more to come: resume after this record.
        return { items, next: r !== last || chunk.more ? r.key : null, examined };
      }
    }
    if (!chunk.more) return { items, next: null, examined };
    from = keySuccessor(chunk.records[chunk.records.length - 1]!.key);
  }
}

export function inRanges(ranges: readonly TokenRange[], token: bigint): boolean {
  for (const r of ranges) if (rangeContains(r, token)) return true;
  return false;
}

export function encodeRanges(ranges: readonly TokenRange[]): Uint8Array {
  assert(ranges.length >= 1 && ranges.length <= MAX_STREAM_RANGES, `${ranges.length} ranges`);
  const out = new Uint8Array(ranges.length * 16);
  const view = new DataView(out.buffer);
  ranges.forEach((r, i) => {
    view.setBigUint64(i * 16, r.start);
    view.setBigUint64(i * 16 + 8, r.end);
  });
  return out;
}

/** null when the bytes are not 1..MAX_STREAM_RANGES ranges. */
export function decodeRanges(bytes: Uint8Array): TokenRange[] | null {
  if (bytes.length === 0 || bytes.length % 16 !== 0 || bytes.length / 16 > MAX_STREAM_RANGES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: TokenRange[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const range = { start: view.getBigUint64(i), end: view.getBigUint64(i + 8) };
    assert(isToken(range.start) && isToken(range.end), 'u64 tokens');
    out.push(range);
  }
  return out;
}
