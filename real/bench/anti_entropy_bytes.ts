// Bytes Merkle anti-entropy exchanges to reconcile replicas that differ in
// 10 keys, printed by `ringkv bench sim`:
//
// - protocol, 1,000,000 keys: two replicas' trees over the whole ring (the
//   2^16-leaf shape a range of that size calls for), built from precomputed
//   hashes, and one MerkleExchange between them; bytes are frame bytes of
//   every message (what PeerRpc carries), against the naive exchange that
//   lists every key with its hash;
// - service, end to end: three simulated store nodes (N=3) hold `serviceKeys`
//   keys; n3 is down while 10 keys are written, rewritten or deleted, then an
//   operator repair on n3 compares every range it replicates with both other
//   replicas and streams the differing keys. Bytes are the service's own
//   count: merkle frames both ways plus the streamed keys and values.

import { encodeMessage, FRAME_HEADER_BYTES } from '../../io/frame_codec.ts';
import type { RepairProgress } from '../../core/antientropy/anti_entropy_service.ts';
import { MerkleExchange, type SegmentEntry, type SegmentEntrySource } from '../../core/antientropy/merkle_exchange.ts';
import { contentHash64, entryHashInto } from '../../core/antientropy/merkle_hash.ts';
import type { MerkleMessage } from '../../core/antientropy/merkle_messages.ts';
import { MerkleTree } from '../../core/antientropy/merkle_tree.ts';
import { DEFAULT_KEYSPACE, StoreNode, defaultNodeConfig } from '../../core/node.ts';
import type { WriteResponse } from '../../core/replication/requests.ts';
import { keyToken } from '../../core/ring/key_hash.ts';
import { Ring } from '../../core/ring/ring.ts';
import { randomTokens } from '../../core/ring/token_allocator.ts';
import { SimNetwork } from '../../sim/sim_network.ts';
import { Simulator } from '../../sim/simulator.ts';

export interface AntiEntropyBytesReport {
  protocol: { keys: number; differing: number; bytes: number; messages: number; naiveBytes: number; keysFound: number; ms: number };
  service: { keys: number; differing: number; pairs: number; bytes: number; keysRepaired: number; simulatedMs: number; ms: number };
}

const WHOLE_RING = { start: 0n, end: 0n };

function keyOf(i: number): Uint8Array {
  const out = new Uint8Array(12);
  out.set([0x75, 0x73, 0x65, 0x72], 0);
  for (let d = 11, n = i; d >= 4; d--, n = Math.floor(n / 10)) out[d] = 0x30 + (n % 10);
  return out;
}

function versionHash(i: number, version: number): bigint {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, i);
  new DataView(b.buffer).setUint32(4, version);
  return contentHash64(b);
}

/** A replica of `keys` keys at version 0 except for `changes` (null: absent). */
class HashedReplica implements SegmentEntrySource {
  readonly tree = new MerkleTree(WHOLE_RING);

  constructor(
    private readonly bySegment: Map<number, number[]>,
    private readonly changes: Map<number, bigint | null>,
    segmentOf: Uint32Array,
    hashes: Uint32Array,
  ) {
    for (let i = 0; i < segmentOf.length; i++) if (!changes.has(i)) this.tree.insertHash(segmentOf[i]!, hashes[2 * i]!, hashes[2 * i + 1]!);
    for (const [i, h] of changes) if (h !== null) this.tree.insert(keyToken(keyOf(i)), keyOf(i), h);
  }

  entriesInSegment(segment: number): readonly SegmentEntry[] {
    const out: SegmentEntry[] = [];
    for (const i of this.bySegment.get(segment) ?? []) {
      const change = this.changes.get(i);
      if (change === null) continue;
      out.push({ key: keyOf(i), contentHash: change ?? versionHash(i, 0) });
    }
    return out;
  }
}

export function measureProtocolAt1M(keys = 1_000_000): AntiEntropyBytesReport['protocol'] {
  const t0 = performance.now();
  const shapeTree = new MerkleTree(WHOLE_RING);
  const segmentOf = new Uint32Array(keys + 3);
  const hashes = new Uint32Array(2 * (keys + 3));
  const scratch = new Uint32Array(2);
  const bySegment = new Map<number, number[]>();
  for (let i = 0; i < keys + 3; i++) {
    const key = keyOf(i);
    const s = shapeTree.segmentOf(keyToken(key));
    segmentOf[i] = s;
    entryHashInto(key, versionHash(i, 0), scratch);
    hashes[2 * i] = scratch[0]!;
    hashes[2 * i + 1] = scratch[1]!;
  }
  // Only the segments of changed keys are ever listed: index just those.
  const changedA = new Map<number, bigint | null>([[keys, null], [keys + 1, null], [keys + 2, null]]);
  const changedB = new Map<number, bigint | null>([[keys, versionHash(keys, 0)], [keys + 1, versionHash(keys + 1, 0)], [keys + 2, versionHash(keys + 2, 0)]]);
  for (const i of [17, 250_000, 250_001, 999_999].map((x) => x % keys)) changedB.set(i, versionHash(i, 1));
  for (const i of [3, 500_000, 777_777].map((x) => x % keys)) changedB.set(i, null);
  const wanted = new Set([...changedB.keys()].map((i) => segmentOf[i]!));
  for (let i = 0; i < keys + 3; i++) if (wanted.has(segmentOf[i]!)) (bySegment.get(segmentOf[i]!) ?? bySegment.set(segmentOf[i]!, []).get(segmentOf[i]!)!).push(i);
  const a = new HashedReplica(bySegment, changedA, segmentOf.subarray(0, keys), hashes);
  const b = new HashedReplica(bySegment, changedB, segmentOf.subarray(0, keys), hashes);
  const ea = new MerkleExchange('initiator', { exchange: 1, tree: a.tree, entries: a });
  const eb = new MerkleExchange('responder', { exchange: 1, tree: b.tree, entries: b });
  let inFlight: { to: MerkleExchange; m: MerkleMessage }[] = ea.start().map((m) => ({ to: eb, m }));
  let messages = 0;
  while (inFlight.length > 0) {
    const next: typeof inFlight = [];
    for (const { to, m } of inFlight) {
      messages++;
      for (const reply of to.receive(m)) next.push({ to: to === ea ? eb : ea, m: reply });
    }
    inFlight = next;
  }
  const outcome = ea.outcome();
  const found = new Set([...outcome.keysToSend, ...outcome.keysToReceive].map((k) => new TextDecoder().decode(k))).size;
  const sample = Array.from({ length: Math.floor(keys / 100) }, (_, i) => keyOf(i * 100));
  const naiveBytes = 100 * (encodeMessage({ type: 'merkle_keys', exchange: 1, segments: [0], counts: [sample.length], keys: sample, hashes: new Uint8Array(8 * sample.length), last: true }).length + FRAME_HEADER_BYTES);
  return { keys, differing: 10, bytes: ea.stats.bytesSent + eb.stats.bytesSent, messages, naiveBytes, keysFound: found, ms: performance.now() - t0 };
}

export function measureServiceRepair(keys = 3000, seed = 'ae-bytes'): AntiEntropyBytesReport['service'] {
  const t0 = performance.now();
  const sim = new Simulator({ seed });
  const ids = ['n1', 'n2', 'n3'];
  let ring = Ring.EMPTY;
  const rng = sim.rng.fork('tokens');
  for (const id of ids) ring = ring.withNode(id, randomTokens(ring, 8, rng));
  const members = ids.map((id) => ({ id, tokens: ring.tokensOf(id) }));
  for (const id of ids) sim.addNode(id, {});
  SimNetwork.attach(sim);
  const nodes = new Map<string, StoreNode>();
  const config = (id: string) => defaultNodeConfig(id, members, { keyspaces: [DEFAULT_KEYSPACE], antiEntropy: { enabled: false } });
  const open = (id: string): void => {
    let done = false;
    StoreNode.open(sim.node(id).env, config(id), (err, node) => {
      if (err !== null) throw err;
      nodes.set(id, node!);
      done = true;
    });
    sim.runUntil(() => done, { untilMs: sim.nowMs() + 60_000 });
  };
  for (const id of ids) open(id);
  const enc = (s: string) => new TextEncoder().encode(s);
  const writeAll = (ops: ((cb: (r: WriteResponse) => void) => void)[]): void => {
    let left = ops.length;
    for (const op of ops) op((r) => {
      if (!r.ok) throw new Error(`bench write failed: ${r.error.message}`);
      left--;
    });
    sim.runUntil(() => left === 0, { untilMs: sim.nowMs() + 600_000 });
  };
  for (let from = 0; from < keys; from += 200) {
    writeAll(Array.from({ length: Math.min(200, keys - from) }, (_, j) => (cb: (r: WriteResponse) => void) =>
      nodes.get('n1')!.put({ keyspace: 'default', key: enc(`key${from + j}`), value: enc(`value-${from + j}`), consistency: { level: 'ALL' } }, cb),
    ));
  }
  sim.crash('n3');
  nodes.delete('n3');
  // 10 differing keys: 4 rewritten, 3 deleted, 3 new, while n3 is down.
  const n1 = nodes.get('n1')!;
  writeAll([
    ...[1, 2, 3, 4].map((i) => (cb: (r: WriteResponse) => void) => n1.put({ keyspace: 'default', key: enc(`key${i}`), value: enc('rewritten'), consistency: { level: 'QUORUM' } }, cb)),
    ...[5, 6, 7].map((i) => (cb: (r: WriteResponse) => void) => n1.delete({ keyspace: 'default', key: enc(`key${i}`), consistency: { level: 'QUORUM' } }, cb)),
    ...[0, 1, 2].map((i) => (cb: (r: WriteResponse) => void) => n1.put({ keyspace: 'default', key: enc(`new${i}`), value: enc('new'), consistency: { level: 'QUORUM' } }, cb)),
  ]);
  sim.restart('n3');
  open('n3');
  const started = sim.nowMs();
  let result: RepairProgress | null = null;
  nodes.get('n3')!.repair('all', () => {}, (err, p) => {
    if (err !== null) throw err;
    result = p;
  });
  sim.runUntil(() => result !== null, { untilMs: sim.nowMs() + 600_000 });
  const p = result as RepairProgress | null;
  if (p === null) throw new Error('the repair did not finish');
  return { keys, differing: 10, pairs: p.pairs, bytes: p.bytes, keysRepaired: p.keysRepaired, simulatedMs: sim.nowMs() - started, ms: performance.now() - t0 };
}

export function measureAntiEntropyBytes(): AntiEntropyBytesReport {
  return { protocol: measureProtocolAt1M(), service: measureServiceRepair() };
}

export function renderAntiEntropyBytes(r: AntiEntropyBytesReport): string {
  const p = r.protocol;
  const s = r.service;
  return [
    'Merkle anti-entropy, replicas differing in 10 keys:',
    `  protocol, ${p.keys.toLocaleString('en-US')} keys: ${p.bytes.toLocaleString('en-US')} B in ${p.messages} messages (bound 65,536 B; ${p.keysFound} differing keys found); ` +
      `naive key list ~${p.naiveBytes.toLocaleString('en-US')} B (${(p.naiveBytes / p.bytes).toFixed(0)}x); ${p.ms.toFixed(0)} ms`,
    `  service end to end, ${s.keys.toLocaleString('en-US')} keys on 3 nodes: repair of n3 over ${s.pairs} (range, replica) pairs exchanged ${s.bytes.toLocaleString('en-US')} B ` +
      `and streamed ${s.keysRepaired} keys in ${s.simulatedMs.toFixed(0)} simulated ms (${s.ms.toFixed(0)} ms)`,
  ].join('\n');
}
