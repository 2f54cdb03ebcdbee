// How a node lays its data out in the one storage engine it owns. The first
// byte of every engine key says what the record is:
//
//   meta    := 0x00 name:utf8                         node metadata (the HLC lease)
//   replica := 0x01 ksLen:u8 ks:utf8 key[rest]        a key this node holds as a home replica
//   hint    := 0x02 ksLen:u8 ks:utf8 keyLen:u16be key target:utf8[rest]
//                                                     a write held for a down home replica
//
// Replica records of one keyspace share a prefix and sort by user key, so a
// range scan is one engine range. Hints of one key share a prefix (a
// coordinator looks at all of them at once); the replay queue per target is
// an index in memory (hint_queue.ts).

import { assert } from '../../io/assert.ts';
import { MAX_KEYSPACE_NAME_BYTES } from './keyspace.ts';

export const META_TAG = 0x00;
export const REPLICA_TAG = 0x01;
export const HINT_TAG = 0x02;
/** Longest user key the layout can hold (its length is a u16 in hint keys). */
export const MAX_LAYOUT_KEY_BYTES = 0xffff;
/** Longest node id, in UTF-8 bytes (as in hlc.ts). */
const MAX_TARGET_BYTES = 255;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Engine key bytes the layout adds around a user key at most. */
export const LAYOUT_OVERHEAD_BYTES = 1 + 1 + MAX_KEYSPACE_NAME_BYTES + 2 + MAX_TARGET_BYTES;

export function metaKey(name: string): Uint8Array {
  const n = utf8.encode(name);
  const out = new Uint8Array(1 + n.length);
  out[0] = META_TAG;
  out.set(n, 1);
  return out;
}

function keyspaceBytes(ks: string): Uint8Array {
  const b = utf8.encode(ks);
  assert(b.length >= 1 && b.length <= MAX_KEYSPACE_NAME_BYTES, `keyspace name of ${b.length} bytes`);
  return b;
}

/** The prefix of every replica record of keyspace `ks`. */
export function replicaPrefix(ks: string): Uint8Array {
  return sharedReplicaPrefix(ks).slice();
}

// Every replica read and write builds its engine key: the keyspace's prefix
// is encoded once, not per request. Keyspaces are few; the bound only keeps
// a stream of made-up names from growing the cache.
const prefixCache = new Map<string, Uint8Array>();
const PREFIX_CACHE_LIMIT = 256;

function sharedReplicaPrefix(ks: string): Uint8Array {
  let prefix = prefixCache.get(ks);
  if (prefix === undefined) {
    const name = keyspaceBytes(ks);
    prefix = new Uint8Array(2 + name.length);
    prefix[0] = REPLICA_TAG;
    prefix[1] = name.length;
    prefix.set(name, 2);
    if (prefixCache.size >= PREFIX_CACHE_LIMIT) prefixCache.clear();
    prefixCache.set(ks, prefix);
  }
  return prefix;
}

export function replicaKey(ks: string, key: Uint8Array): Uint8Array {
  const prefix = sharedReplicaPrefix(ks);
  const out = new Uint8Array(prefix.length + key.length);
  out.set(prefix, 0);
  out.set(key, prefix.length);
  return out;
}

/** Keyspace and user key of a replica record's engine key, or null when it is not one. */
export function parseReplicaKey(storageKey: Uint8Array): { ks: string; key: Uint8Array } | null {
  if (storageKey.length < 3 || storageKey[0] !== REPLICA_TAG) return null;
  const nameLength = storageKey[1]!;
  if (nameLength === 0 || 2 + nameLength >= storageKey.length) return null;
  const ks = decodeUtf8(storageKey.subarray(2, 2 + nameLength));
  if (ks === null) return null;
  return { ks, key: storageKey.slice(2 + nameLength) };
}

/** Prefix of every hint for one key, whatever its target. */
export function hintKeyPrefix(ks: string, key: Uint8Array): Uint8Array {
  assert(key.length >= 1 && key.length <= MAX_LAYOUT_KEY_BYTES, `key of ${key.length} bytes`);
  const name = keyspaceBytes(ks);
  const out = new Uint8Array(2 + name.length + 2 + key.length);
  out[0] = HINT_TAG;
  out[1] = name.length;
  out.set(name, 2);
  out[2 + name.length] = key.length >>> 8;
  out[3 + name.length] = key.length & 0xff;
  out.set(key, 4 + name.length);
  return out;
}

export function hintKey(ks: string, key: Uint8Array, target: string): Uint8Array {
  const prefix = hintKeyPrefix(ks, key);
  const t = utf8.encode(target);
  assert(t.length >= 1 && t.length <= MAX_TARGET_BYTES, `hint target of ${t.length} bytes`);
  const out = new Uint8Array(prefix.length + t.length);
  out.set(prefix, 0);
  out.set(t, prefix.length);
  return out;
}

export function hintRangePrefix(): Uint8Array {
  return Uint8Array.of(HINT_TAG);
}

export function parseHintKey(storageKey: Uint8Array): { ks: string; key: Uint8Array; target: string } | null {
  if (storageKey.length < 2 || storageKey[0] !== HINT_TAG) return null;
  const nameLength = storageKey[1]!;
  const at = 2 + nameLength;
  if (nameLength === 0 || at + 2 > storageKey.length) return null;
  const keyLength = (storageKey[at]! << 8) | storageKey[at + 1]!;
  const targetAt = at + 2 + keyLength;
  if (keyLength === 0 || targetAt >= storageKey.length) return null;
  const ks = decodeUtf8(storageKey.subarray(2, at));
  const target = decodeUtf8(storageKey.subarray(targetAt));
  if (ks === null || target === null) return null;
  return { ks, key: storageKey.slice(at + 2, targetAt), target };
}

/** The smallest key above every key that starts with `prefix` (exclusive scan end), or undefined if none exists. */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const out = prefix.slice(0, i + 1);
      out[i]!++;
      return out;
    }
  }
  return undefined;
}

/** The smallest key greater than `key`. */
export function keySuccessor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key, 0);
  return out;
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return null;
  }
}
