// The bound: two replicas of 1,000,000 keys that differ in 10 keys
// reconcile with at most 64 KiB exchanged. The trees are built from
// precomputed hashes (no storage engine); the bound is a property of the
// protocol's message sizes, so it is asserted, while times are only reported.

import { describe, expect, it } from 'vitest';
import { encodeMessage, FRAME_HEADER_BYTES } from '../../io/frame_codec.ts';
import { keyToken } from '../ring/key_hash.ts';
import { MerkleExchange, type SegmentEntry, type SegmentEntrySource } from './merkle_exchange.ts';
import { contentHash64, entryHashInto } from './merkle_hash.ts';
import type { MerkleMessage } from './merkle_messages.ts';
import { MerkleTree } from './merkle_tree.ts';

const KEYS = 1_000_000;
const WHOLE_RING = { start: 0n, end: 0n };

function keyOf(i: number): Uint8Array {
  // "user" and eight digits: 12 bytes, like a typical short key.
  const out = new Uint8Array(12);
  out.set([0x75, 0x73, 0x65, 0x72], 0);
  for (let d = 11, n = i; d >= 4; d--, n = Math.floor(n / 10)) out[d] = 0x30 + (n % 10);
  return out;
}

const valueBytes = new Uint8Array(8);
const valueView = new DataView(valueBytes.buffer);

/** Content hash of version `version` of key i's value. */
function valueHashOf(i: number, version: number): bigint {
  valueView.setUint32(0, i);
  valueView.setUint32(4, version);
  return contentHash64(valueBytes);
}

/** The shared 1,000,000 keys, hashed once: segment and entry hash of each, and keys grouped by segment. */
function precompute(tree: MerkleTree) {
  const segment = new Uint32Array(KEYS);
  const hi = new Uint32Array(KEYS);
  const lo = new Uint32Array(KEYS);
  const scratch = new Uint32Array(2);
  const counts = new Uint32Array(tree.segmentCount + 1);
  for (let i = 0; i < KEYS; i++) {
    const key = keyOf(i);
    const s = tree.segmentOf(keyToken(key));
    segment[i] = s;
    counts[s + 1]!++;
    entryHashInto(key, valueHashOf(i, 0), scratch);
    hi[i] = scratch[0]!;
    lo[i] = scratch[1]!;
  }
  // Counting sort: keys of segment s are order[starts[s] .. starts[s+1]).
  const starts = counts;
  for (let s = 1; s <= tree.segmentCount; s++) starts[s]! += starts[s - 1]!;
  const order = new Uint32Array(KEYS);
  const fill = starts.slice(0, tree.segmentCount);
  for (let i = 0; i < KEYS; i++) order[fill[segment[i]!]!++] = i;
  return { segment, hi, lo, starts, order };
}

type Base = ReturnType<typeof precompute>;

/** A replica: the shared keys at version 0, plus its own changes. */
class Replica implements SegmentEntrySource {
  readonly tree = new MerkleTree(WHOLE_RING);
  /** Key index → content hash (null: deleted) where this replica departs from the shared keys. */
  private readonly changes = new Map<number, bigint | null>();

  constructor(private readonly base: Base) {
    for (let i = 0; i < KEYS; i++) this.tree.insertHash(base.segment[i]!, base.hi[i]!, base.lo[i]!);
  }

  rewrite(i: number, version: number): void {
    const token = keyToken(keyOf(i));
    this.tree.update(token, keyOf(i), valueHashOf(i, 0), valueHashOf(i, version));
    this.changes.set(i, valueHashOf(i, version));
  }

  delete(i: number): void {
    this.tree.remove(keyToken(keyOf(i)), keyOf(i), valueHashOf(i, 0));
    this.changes.set(i, null);
  }

  /** A key beyond the shared ones. */
  add(i: number): void {
    this.tree.insert(keyToken(keyOf(i)), keyOf(i), valueHashOf(i, 0));
    this.changes.set(i, valueHashOf(i, 0));
  }

  entriesInSegment(segment: number): readonly SegmentEntry[] {
    const out: SegmentEntry[] = [];
    for (let j = this.base.starts[segment]!; j < this.base.starts[segment + 1]!; j++) {
      const i = this.base.order[j]!;
      const change = this.changes.get(i);
      if (change === null) continue;
      out.push({ key: keyOf(i), contentHash: change ?? valueHashOf(i, 0) });
    }
    for (const [i, change] of this.changes) {
      if (i >= KEYS && change !== null && this.tree.segmentOf(keyToken(keyOf(i))) === segment) out.push({ key: keyOf(i), contentHash: change });
    }
    return out;
  }
}

function run(a: Replica, b: Replica): { ea: MerkleExchange; eb: MerkleExchange; messages: number; largest: number } {
  const ea = new MerkleExchange('initiator', { exchange: 1, tree: a.tree, entries: a });
  const eb = new MerkleExchange('responder', { exchange: 1, tree: b.tree, entries: b });
  let inFlight: { to: MerkleExchange; m: MerkleMessage }[] = ea.start().map((m) => ({ to: eb, m }));
  let messages = 0;
  let largest = 0;
  while (inFlight.length > 0) {
    const next: typeof inFlight = [];
    for (const { to, m } of inFlight) {
      messages++;
      largest = Math.max(largest, encodeMessage(m).length + FRAME_HEADER_BYTES);
      for (const reply of to.receive(m)) next.push({ to: to === ea ? eb : ea, m: reply });
    }
    inFlight = next;
  }
  return { ea, eb, messages, largest };
}

const text = new TextDecoder();

describe('Merkle anti-entropy at scale', () => {
  it('1,000,000 keys a replica, 10 differing: at most 64 KiB exchanged, exactly the 10 keys found', () => {
    const t0 = performance.now();
    const base = precompute(new MerkleTree(WHOLE_RING));
    const t1 = performance.now();
    const a = new Replica(base);
    const b = new Replica(base);
    a.tree.root();
    b.tree.root();
    const t2 = performance.now();

    // 4 keys rewritten on b, 3 deleted on b (so only on a), 3 written only on b.
    for (const i of [17, 250_000, 250_001, 999_999]) b.rewrite(i, 1);
    for (const i of [3, 500_000, 777_777]) b.delete(i);
    for (const i of [KEYS, KEYS + 1, KEYS + 2]) b.add(i);
    const t3 = performance.now();
    const { ea, eb, messages, largest } = run(a, b);
    const t4 = performance.now();

    const names = (keys: Uint8Array[]) => keys.map((k) => text.decode(k));
    const rewritten = ['user00000017', 'user00250000', 'user00250001', 'user00999999'];
    expect(names(ea.outcome().keysToSend)).toEqual([...rewritten, 'user00000003', 'user00500000', 'user00777777'].sort());
    expect(names(ea.outcome().keysToReceive)).toEqual([...rewritten, 'user01000000', 'user01000001', 'user01000002'].sort());
    expect(names(eb.outcome().keysToSend)).toEqual(names(ea.outcome().keysToReceive));
    expect(names(eb.outcome().keysToReceive)).toEqual(names(ea.outcome().keysToSend));

    const bytes = ea.stats.bytesSent + eb.stats.bytesSent;
    expect(bytes).toBeLessThanOrEqual(64 * 1024);

    // The naive exchange for comparison: every key with its content hash. Keys
    // have one length, so a 1% sample scales exactly (up to a few header bytes).
    const sample = Array.from({ length: KEYS / 100 }, (_, i) => keyOf(i * 100));
    const naive = 100 * encodeMessage({ type: 'merkle_keys', exchange: 1, segments: [0], counts: [sample.length], keys: sample, hashes: new Uint8Array(8 * sample.length), last: true }).length;
    expect(naive).toBeGreaterThan(100 * bytes);

    console.log(
      `merkle 1M keys: precompute ${(t1 - t0).toFixed(0)} ms, two tree builds ${(t2 - t1).toFixed(0)} ms, ` +
        `10 updates ${(t3 - t2).toFixed(1)} ms; exchange ${bytes} B in ${messages} messages ` +
        `(largest ${largest} B, ${ea.outcome().differingSegments.length} segments) in ${(t4 - t3).toFixed(0)} ms; ` +
        `naive key list ~${naive} B`,
    );
  });
});
