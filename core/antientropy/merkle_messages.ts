// The messages of one Merkle exchange between two replicas of a range, as
// plain objects for io/frame_codec.ts (msgpack). Tokens and hashes travel as
// 8-byte big-endian byte strings; several hashes as one byte string of 8
// bytes each, in the order the message's indices give.
//
//   merkle_root      initiator → responder: range (start ‖ end, 16 bytes),
//                    shape, root hash. Opens the exchange.
//   merkle_nodes     level ℓ ≥ 1: parents (ascending node indices of level
//                    ℓ-1 that differ) and the sender's hashes of all their
//                    children, fanout per parent. The receiver compares them
//                    with its own and answers with the next level for the
//                    children that differ, so each message descends a level.
//   merkle_keys      from the side that found the differing leaf segments:
//                    ascending segments, counts (keys per segment), keys and
//                    their content hashes, segment by segment; `last` on the
//                    final batch.
//   merkle_key_diff  answer to each merkle_keys: `send`, keys the sender will
//                    stream to the receiver (it lacks them or holds another
//                    version); `want`, keys the sender asks the receiver to
//                    stream; `last` as in the batch it answers.
//   merkle_in_sync   nothing differs (equal roots, or equal children: a tree
//                    changed while the exchange ran). Ends the exchange.
//   merkle_abort     the exchange cannot go on (shapes differ, malformed or
//                    unexpected message); reason for the log.
//
// Every message carries the exchange id the initiator chose, so a node can
// run several exchanges at once and drop stale messages.

import { HASH_BYTES } from './merkle_hash.ts';

export interface MerkleRootMessage {
  type: 'merkle_root';
  exchange: number;
  range: Uint8Array;
  leafBits: number;
  fanoutBits: number;
  hash: Uint8Array;
}

export interface MerkleNodesMessage {
  type: 'merkle_nodes';
  exchange: number;
  level: number;
  parents: number[];
  hashes: Uint8Array;
}

export interface MerkleKeysMessage {
  type: 'merkle_keys';
  exchange: number;
  segments: number[];
  counts: number[];
  keys: Uint8Array[];
  hashes: Uint8Array;
  last: boolean;
}

export interface MerkleKeyDiffMessage {
  type: 'merkle_key_diff';
  exchange: number;
  send: Uint8Array[];
  want: Uint8Array[];
  last: boolean;
}

export interface MerkleInSyncMessage {
  type: 'merkle_in_sync';
  exchange: number;
}

export interface MerkleAbortMessage {
  type: 'merkle_abort';
  exchange: number;
  reason: string;
}

export type MerkleMessage =
  | MerkleRootMessage
  | MerkleNodesMessage
  | MerkleKeysMessage
  | MerkleKeyDiffMessage
  | MerkleInSyncMessage
  | MerkleAbortMessage;

const MAX_REASON_CHARS = 1000;

function isBytes(x: unknown, length?: number): x is Uint8Array {
  return x instanceof Uint8Array && (length === undefined || x.length === length);
}

function isIndex(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function isAscending(xs: unknown): xs is number[] {
  if (!Array.isArray(xs)) return false;
  for (let i = 0; i < xs.length; i++) {
    if (!isIndex(xs[i])) return false;
    if (i > 0 && (xs[i] as number) <= (xs[i - 1] as number)) return false;
  }
  return true;
}

function isByteList(xs: unknown): xs is Uint8Array[] {
  return Array.isArray(xs) && xs.every((x) => isBytes(x));
}

/**
 * A decoded message from the network checked for shape (types, lengths,
 * ordering), or null. Whether it fits the exchange's state is the exchange's
 * check; nothing here trusts the sender.
 */
export function parseMerkleMessage(raw: unknown): MerkleMessage | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const m = raw as Record<string, unknown>;
  if (!isIndex(m.exchange)) return null;
  switch (m.type) {
    case 'merkle_root':
      if (!isBytes(m.range, 2 * HASH_BYTES) || !isIndex(m.leafBits) || !isIndex(m.fanoutBits) || !isBytes(m.hash, HASH_BYTES)) return null;
      return { type: m.type, exchange: m.exchange, range: m.range, leafBits: m.leafBits, fanoutBits: m.fanoutBits, hash: m.hash };
    case 'merkle_nodes':
      if (!isIndex(m.level) || m.level < 1 || !isAscending(m.parents) || !isBytes(m.hashes) || m.hashes.length % HASH_BYTES !== 0) return null;
      return { type: m.type, exchange: m.exchange, level: m.level, parents: m.parents, hashes: m.hashes };
    case 'merkle_keys': {
      if (!isAscending(m.segments) || !Array.isArray(m.counts) || !m.counts.every(isIndex) || m.counts.length !== m.segments.length) return null;
      if (!isByteList(m.keys) || !isBytes(m.hashes) || m.hashes.length !== m.keys.length * HASH_BYTES || typeof m.last !== 'boolean') return null;
      const total = (m.counts as number[]).reduce((a, b) => a + b, 0);
      if (total !== m.keys.length) return null;
      return { type: m.type, exchange: m.exchange, segments: m.segments, counts: m.counts as number[], keys: m.keys, hashes: m.hashes, last: m.last };
    }
    case 'merkle_key_diff':
      if (!isByteList(m.send) || !isByteList(m.want) || typeof m.last !== 'boolean') return null;
      return { type: m.type, exchange: m.exchange, send: m.send, want: m.want, last: m.last };
    case 'merkle_in_sync':
      return { type: m.type, exchange: m.exchange };
    case 'merkle_abort':
      if (typeof m.reason !== 'string') return null;
      return { type: m.type, exchange: m.exchange, reason: m.reason.slice(0, MAX_REASON_CHARS) };
    default:
      return null;
  }
}
