// One anti-entropy exchange between two replicas of a token range, as a pure
// state machine: messages in (receive), messages out (the return values);
// the caller carries them over the network and, at the end, streams the keys
// the outcome names (with their versions and tombstones) each way.
//
// Flow (messages in merkle_messages.ts):
//   1. The initiator sends its root. Equal roots: in sync, done.
//   2. Each side in turn compares the hashes it received with its own tree
//      and answers with its hashes of the children of the nodes that differ,
//      one level per message, every differing node of a level in one batch.
//      Who receives the leaf level knows the differing segments; call it the
//      lister (the other side is the comparer).
//   3. The lister sends its keys and content hashes for those segments only,
//      in batches of whole segments (at most maxKeysPerMessage keys, except a
//      single larger segment); the comparer matches them against its own
//      entries of the same segments and answers each batch with the keys it
//      will send and the keys it wants. Keys held with different contents
//      are in both lists: each side streams its versions and the receiving
//      store merges them.
// Every message sent or received is counted in frame bytes (payload encoded
// by io/frame_codec.ts plus the frame header), so an exchange's cost is
// measured, not estimated.
//
// The trees may change while an exchange runs (writes keep landing); a
// difference that appears or disappears midway is found or dropped by the
// next exchange. Malformed or unexpected messages end the exchange with an
// abort, never an assertion: the other replica is not trusted.

import { assert } from '../../io/assert.ts';
import { encodeMessage, FRAME_HEADER_BYTES } from '../../io/frame_codec.ts';
import { HASH_BYTES, hashFromBytes, hashToBytes } from './merkle_hash.ts';
import type { MerkleKeyDiffMessage, MerkleKeysMessage, MerkleMessage, MerkleNodesMessage, MerkleRootMessage } from './merkle_messages.ts';
import type { MerkleTree } from './merkle_tree.ts';

export interface SegmentEntry {
  readonly key: Uint8Array;
  readonly contentHash: bigint;
}

/** The store's view of the tree's entries: what a leaf segment holds, each key once. */
export interface SegmentEntrySource {
  entriesInSegment(segment: number): readonly SegmentEntry[];
}

export type ExchangeRole = 'initiator' | 'responder';
export type ExchangeState = 'idle' | 'descending' | 'listing' | 'comparing' | 'done' | 'failed';

export interface MerkleExchangeOptions {
  /** Chosen by the initiator; messages of other exchanges are ignored. */
  exchange: number;
  tree: MerkleTree;
  entries: SegmentEntrySource;
  /** Most keys in one merkle_keys message. Default 4096. */
  maxKeysPerMessage?: number;
}

export interface ExchangeOutcome {
  /** Leaf segments whose hashes differed, ascending. */
  differingSegments: number[];
  /** Keys this side must stream to the other, in byte order. */
  keysToSend: Uint8Array[];
  /** Keys the other side will stream to this one, in byte order. */
  keysToReceive: Uint8Array[];
}

export interface ExchangeStats {
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
}

/** Bytes a message takes on the wire: its msgpack payload and the frame header. */
export function messageFrameBytes(message: MerkleMessage): number {
  return encodeMessage(message).length + FRAME_HEADER_BYTES;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A string that identifies a key's bytes, for maps. */
function keyId(key: Uint8Array): string {
  let s = '';
  for (let i = 0; i < key.length; i++) s += HEX[key[i]!];
  return s;
}

function rangeBytes(tree: MerkleTree): Uint8Array {
  const out = new Uint8Array(2 * HASH_BYTES);
  out.set(hashToBytes(tree.range.start), 0);
  out.set(hashToBytes(tree.range.end), HASH_BYTES);
  return out;
}

function equalBytes(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}

export class MerkleExchange {
  readonly role: ExchangeRole;
  readonly id: number;
  readonly stats: ExchangeStats = { messagesSent: 0, messagesReceived: 0, bytesSent: 0, bytesReceived: 0 };
  private readonly tree: MerkleTree;
  private readonly entries: SegmentEntrySource;
  private readonly maxKeys: number;
  private current: ExchangeState = 'idle';
  private failureReason: string | null = null;
  /** Level of the last merkle_nodes (or root, 0) this side sent. */
  private sentLevel = -1;
  /** The nodes whose hashes this side last sent (at sentLevel), ascending. */
  private sentNodes: number[] = [];
  private readonly differing: number[] = [];
  private readonly toSend: Uint8Array[] = [];
  private readonly toReceive: Uint8Array[] = [];
  /** Lister: segments not yet listed; index of the next. */
  private nextSegment = 0;
  /** Lister: keys of the batch awaiting its diff. */
  private pendingBatch = new Set<string>();
  private pendingLast = false;

  constructor(role: ExchangeRole, options: MerkleExchangeOptions) {
    assert(Number.isSafeInteger(options.exchange) && options.exchange >= 0, `exchange id ${options.exchange}`);
    this.role = role;
    this.id = options.exchange;
    this.tree = options.tree;
    this.entries = options.entries;
    this.maxKeys = options.maxKeysPerMessage ?? 4096;
    assert(Number.isInteger(this.maxKeys) && this.maxKeys >= 1, `maxKeysPerMessage ${this.maxKeys}`);
  }

  get state(): ExchangeState {
    return this.current;
  }

  get failure(): string | null {
    return this.failureReason;
  }

  get finished(): boolean {
    return this.current === 'done' || this.current === 'failed';
  }

  /** The initiator's opening message. */
  start(): MerkleMessage[] {
    assert(this.role === 'initiator' && this.current === 'idle', `start of a ${this.role} exchange in state ${this.current}`);
    const root: MerkleRootMessage = {
      type: 'merkle_root',
      exchange: this.id,
      range: rangeBytes(this.tree),
      leafBits: this.tree.leafBits,
      fanoutBits: this.tree.fanoutBits,
      hash: this.tree.root(),
    };
    this.current = 'descending';
    this.sentLevel = 0;
    this.sentNodes = [0];
    return this.send([root]);
  }

  /** Handles one message of this exchange; returns the messages to send back (possibly none). */
  receive(message: MerkleMessage): MerkleMessage[] {
    if (message.exchange !== this.id || this.finished) return [];
    this.stats.messagesReceived++;
    this.stats.bytesReceived += messageFrameBytes(message);
    switch (message.type) {
      case 'merkle_root':
        return this.onRoot(message);
      case 'merkle_nodes':
        return this.onNodes(message);
      case 'merkle_keys':
        return this.onKeys(message);
      case 'merkle_key_diff':
        return this.onKeyDiff(message);
      case 'merkle_in_sync':
        if (this.current !== 'descending') return this.abort(`in_sync while ${this.current}`);
        this.current = 'done';
        return [];
      case 'merkle_abort':
        this.current = 'failed';
        this.failureReason = `peer aborted: ${message.reason}`;
        return [];
    }
  }

  outcome(): ExchangeOutcome {
    assert(this.current === 'done', `outcome of an exchange in state ${this.current}`);
    return {
      differingSegments: [...this.differing],
      keysToSend: [...this.toSend].sort(compareBytes),
      keysToReceive: [...this.toReceive].sort(compareBytes),
    };
  }

  private send(messages: MerkleMessage[]): MerkleMessage[] {
    for (const m of messages) {
      this.stats.messagesSent++;
      this.stats.bytesSent += messageFrameBytes(m);
    }
    return messages;
  }

  private abort(reason: string): MerkleMessage[] {
    this.current = 'failed';
    this.failureReason = reason;
    return this.send([{ type: 'merkle_abort', exchange: this.id, reason }]);
  }

  private inSync(): MerkleMessage[] {
    this.current = 'done';
    return this.send([{ type: 'merkle_in_sync', exchange: this.id }]);
  }

  private onRoot(m: MerkleRootMessage): MerkleMessage[] {
    if (this.role !== 'responder' || this.current !== 'idle') return this.abort(`root while ${this.role} ${this.current}`);
    if (m.leafBits !== this.tree.leafBits || m.fanoutBits !== this.tree.fanoutBits) {
      return this.abort(`shape ${m.leafBits}/${m.fanoutBits} differs from ${this.tree.leafBits}/${this.tree.fanoutBits}`);
    }
    if (!equalBytes(m.range, 0, rangeBytes(this.tree), 0, 2 * HASH_BYTES)) return this.abort('range differs');
    if (equalBytes(m.hash, 0, this.tree.root(), 0, HASH_BYTES)) return this.inSync();
    this.current = 'descending';
    return this.sendChildren(0, [0]);
  }

  /** Sends this side's hashes of the children of `parents` (nodes of `level`). */
  private sendChildren(level: number, parents: number[]): MerkleMessage[] {
    const message: MerkleNodesMessage = { type: 'merkle_nodes', exchange: this.id, level: level + 1, parents, hashes: this.tree.childHashes(level, parents) };
    this.sentLevel = level + 1;
    const fanout = this.tree.fanout;
    this.sentNodes = [];
    for (const p of parents) for (let c = 0; c < fanout; c++) this.sentNodes.push(p * fanout + c);
    return this.send([message]);
  }

  /** True when every index is among the nodes this side sent (both ascending). */
  private withinSent(indices: readonly number[]): boolean {
    let j = 0;
    for (const i of indices) {
      while (j < this.sentNodes.length && this.sentNodes[j]! < i) j++;
      if (j === this.sentNodes.length || this.sentNodes[j] !== i) return false;
    }
    return true;
  }

  private onNodes(m: MerkleNodesMessage): MerkleMessage[] {
    if (this.current !== 'descending') return this.abort(`nodes while ${this.current}`);
    const level = m.level;
    if (level !== this.sentLevel + 1 || level > this.tree.depth) return this.abort(`nodes of level ${level} after level ${this.sentLevel}`);
    if (m.parents.length === 0 || !this.withinSent(m.parents)) return this.abort(`nodes under parents this side did not send`);
    const fanout = this.tree.fanout;
    if (m.hashes.length !== m.parents.length * fanout * HASH_BYTES) return this.abort(`nodes message with ${m.hashes.length} hash bytes`);
    const ours = this.tree.childHashes(level - 1, m.parents);
    const differing: number[] = [];
    for (let i = 0; i < m.parents.length; i++) {
      for (let c = 0; c < fanout; c++) {
        const at = (i * fanout + c) * HASH_BYTES;
        if (!equalBytes(ours, at, m.hashes, at, HASH_BYTES)) differing.push(m.parents[i]! * fanout + c);
      }
    }
    if (differing.length === 0) return this.inSync();
    if (level < this.tree.depth) return this.sendChildren(level, differing);
    this.differing.push(...differing);
    this.current = 'listing';
    return this.sendNextBatch();
  }

  /** Lister: the next batch of whole segments' keys. */
  private sendNextBatch(): MerkleMessage[] {
    assert(this.nextSegment < this.differing.length, 'no segments left to list');
    const segments: number[] = [];
    const counts: number[] = [];
    const batch: SegmentEntry[] = [];
    while (this.nextSegment < this.differing.length) {
      const segment = this.differing[this.nextSegment]!;
      const entries = this.entries.entriesInSegment(segment);
      if (segments.length > 0 && batch.length + entries.length > this.maxKeys) break;
      segments.push(segment);
      counts.push(entries.length);
      for (const e of entries) batch.push(e);
      this.nextSegment++;
    }
    const hashes = new Uint8Array(batch.length * HASH_BYTES);
    this.pendingBatch = new Set();
    for (let i = 0; i < batch.length; i++) {
      hashes.set(hashToBytes(batch[i]!.contentHash), i * HASH_BYTES);
      const id = keyId(batch[i]!.key);
      assert(!this.pendingBatch.has(id), 'a key listed twice by the local entry source');
      this.pendingBatch.add(id);
    }
    this.pendingLast = this.nextSegment === this.differing.length;
    const message: MerkleKeysMessage = {
      type: 'merkle_keys',
      exchange: this.id,
      segments,
      counts,
      keys: batch.map((e) => e.key),
      hashes,
      last: this.pendingLast,
    };
    return this.send([message]);
  }

  /** Comparer: matches a batch of the lister's keys against this side's entries. */
  private onKeys(m: MerkleKeysMessage): MerkleMessage[] {
    const firstBatch = this.current === 'descending' && this.sentLevel === this.tree.depth;
    if (!firstBatch && this.current !== 'comparing') return this.abort(`keys while ${this.current}`);
    if (m.segments.length === 0 || !this.withinSent(m.segments)) return this.abort('keys of segments this side did not send');
    const previous = this.differing.at(-1);
    if (previous !== undefined && m.segments[0]! <= previous) return this.abort('key batches out of order');
    this.current = 'comparing';
    this.differing.push(...m.segments);

    const send: Uint8Array[] = [];
    const want: Uint8Array[] = [];
    let at = 0;
    for (let s = 0; s < m.segments.length; s++) {
      const theirs = new Map<string, bigint>();
      const count = m.counts[s]!;
      for (let i = at; i < at + count; i++) {
        const id = keyId(m.keys[i]!);
        if (theirs.has(id)) return this.abort('a key listed twice');
        theirs.set(id, hashFromBytes(m.hashes, i * HASH_BYTES));
      }
      const mine = new Map<string, bigint>();
      for (const e of this.entries.entriesInSegment(m.segments[s]!)) {
        const id = keyId(e.key);
        assert(!mine.has(id), 'a key listed twice by the local entry source');
        mine.set(id, e.contentHash);
        if (theirs.get(id) !== e.contentHash) send.push(e.key);
      }
      for (let i = at; i < at + count; i++) {
        const key = m.keys[i]!;
        const id = keyId(key);
        if (mine.get(id) !== theirs.get(id)) want.push(key);
      }
      at += count;
    }
    send.sort(compareBytes);
    want.sort(compareBytes);
    this.toSend.push(...send);
    this.toReceive.push(...want);
    if (m.last) this.current = 'done';
    const reply: MerkleKeyDiffMessage = { type: 'merkle_key_diff', exchange: this.id, send, want, last: m.last };
    return this.send([reply]);
  }

  /** Lister: the comparer's answer to the batch in flight. */
  private onKeyDiff(m: MerkleKeyDiffMessage): MerkleMessage[] {
    if (this.current !== 'listing') return this.abort(`key diff while ${this.current}`);
    if (m.last !== this.pendingLast) return this.abort('key diff out of step with the batches');
    for (const key of m.want) if (!this.pendingBatch.has(keyId(key))) return this.abort('peer wants a key this side did not list');
    this.toSend.push(...m.want);
    this.toReceive.push(...m.send);
    if (m.last) {
      this.current = 'done';
      return [];
    }
    return this.sendNextBatch();
  }
}
