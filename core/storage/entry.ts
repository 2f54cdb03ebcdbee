// The unit every layer of the storage engine stores: one version of one key.
//
// Entries are ordered by user key ascending (bytewise), then by sequence
// number descending, so the newest version of a key is met first (LevelDB's
// internal key order). Sequence numbers are assigned by the engine, one per
// write, strictly increasing, and never reused after a crash.

import { AssertionError, assert } from '../../io/assert.ts';

/** On-disk entry kinds. Never change these numbers: they are in every file. */
export const EntryKind = Object.freeze({
  Delete: 0,
  Put: 1,
} as const);
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

export interface Entry {
  key: Uint8Array;
  /** Engine-assigned write sequence number, 1 <= seq < 2^53. */
  seq: number;
  kind: EntryKind;
  /** Empty for Delete. */
  value: Uint8Array;
  /**
   * Wall-clock milliseconds whose meaning depends on the kind:
   * Put: expiry time (TTL), 0 = never expires;
   * Delete: when the delete happened, so compaction can purge the tombstone
   * once the grace period has passed.
   */
  timeMs: number;
}

export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Bytewise comparison of two user keys. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Internal order of (aKey, aSeq) and (bKey, bSeq): key ascending, then sequence descending (newest first). */
export function compareInternal(aKey: Uint8Array, aSeq: number, bKey: Uint8Array, bSeq: number): number {
  const c = compareKeys(aKey, bKey);
  return c !== 0 ? c : bSeq - aSeq;
}

/**
 * Bytes [at, at + 4) of key as a big-endian u32, zero past the key's end.
 * For keys equal before `at`, unequal words order the keys as compareKeys
 * does; equal words only say the keys may be equal (a zero byte and the end
 * of a key look alike).
 */
export function prefixWord(key: Uint8Array, at: number): number {
  const n = key.length;
  if (n >= at + 4) return ((key[at]! << 24) | (key[at + 1]! << 16) | (key[at + 2]! << 8) | key[at + 3]!) >>> 0;
  let word = 0;
  for (let i = 0; i < 4; i++) word = word * 256 + (at + i < n ? key[at + i]! : 0);
  return word;
}

/** Internal order: key ascending, then sequence descending (newest first). */
export function compareEntries(a: Pick<Entry, 'key' | 'seq'>, b: Pick<Entry, 'key' | 'seq'>): number {
  return compareInternal(a.key, a.seq, b.key, b.seq);
}

/** True when a Put has passed its expiry time at `nowMs`. */
export function isExpired(entry: Entry, nowMs: number): boolean {
  return entry.kind === EntryKind.Put && entry.timeMs !== 0 && entry.timeMs <= nowMs;
}

/** Whether the entry hides the key from readers (a tombstone or an expired value). */
export function isDeletion(entry: Entry, nowMs: number): boolean {
  return entry.kind === EntryKind.Delete || isExpired(entry, nowMs);
}

export function checkEntry(entry: Entry): void {
  if (!(entry.seq >= 1 && entry.seq <= MAX_SEQ && Number.isInteger(entry.seq))) throw new AssertionError(`entry seq out of range: ${entry.seq}`);
  if (!(entry.kind === EntryKind.Put || entry.kind === EntryKind.Delete)) throw new AssertionError(`entry kind unknown: ${entry.kind}`);
  assert(entry.kind === EntryKind.Put || entry.value.length === 0, 'a delete carries no value');
  if (!(Number.isInteger(entry.timeMs) && entry.timeMs >= 0)) throw new AssertionError(`entry timeMs invalid: ${entry.timeMs}`);
}
