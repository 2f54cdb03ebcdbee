import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from '../../io/frame_codec.ts';
import { MerkleExchange, type SegmentEntry, type SegmentEntrySource } from './merkle_exchange.ts';
import { type MerkleMessage, parseMerkleMessage } from './merkle_messages.ts';
import { type MerkleRange, type MerkleShape, MerkleTree } from './merkle_tree.ts';

const RING = 1n << 64n;
const u64 = fc.bigInt({ min: 0n, max: RING - 1n });

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** A replica of one range: its tree and, per segment, its entries (the store's side). */
class MapReplica implements SegmentEntrySource {
  readonly tree: MerkleTree;
  private readonly bySegment = new Map<number, Map<string, SegmentEntry & { token: bigint }>>();

  constructor(range: MerkleRange, shape?: MerkleShape) {
    this.tree = new MerkleTree(range, shape);
  }

  put(token: bigint, key: Uint8Array, contentHash: bigint): void {
    const segment = this.tree.segmentOf(token);
    let entries = this.bySegment.get(segment);
    if (entries === undefined) this.bySegment.set(segment, (entries = new Map()));
    const old = entries.get(hex(key));
    if (old === undefined) this.tree.insert(token, key, contentHash);
    else this.tree.update(token, key, old.contentHash, contentHash);
    entries.set(hex(key), { key, contentHash, token });
  }

  delete(token: bigint, key: Uint8Array): void {
    const entries = this.bySegment.get(this.tree.segmentOf(token));
    const old = entries?.get(hex(key));
    if (old === undefined) return;
    this.tree.remove(token, key, old.contentHash);
    entries!.delete(hex(key));
  }

  entriesInSegment(segment: number): readonly SegmentEntry[] {
    return [...(this.bySegment.get(segment)?.values() ?? [])].sort((a, b) => (hex(a.key) < hex(b.key) ? -1 : 1));
  }
}

/** Carries messages between two exchanges through the real frame codec until both finish. */
function runExchange(a: MapReplica, b: MapReplica, options: { maxKeysPerMessage?: number; aInitiates?: boolean } = {}) {
  const aInitiates = options.aInitiates ?? true;
  const ea = new MerkleExchange(aInitiates ? 'initiator' : 'responder', { exchange: 7, tree: a.tree, entries: a, maxKeysPerMessage: options.maxKeysPerMessage });
  const eb = new MerkleExchange(aInitiates ? 'responder' : 'initiator', { exchange: 7, tree: b.tree, entries: b, maxKeysPerMessage: options.maxKeysPerMessage });
  let inFlight: { to: MerkleExchange; message: MerkleMessage }[] = (aInitiates ? ea : eb).start().map((message) => ({ to: aInitiates ? eb : ea, message }));
  let messages = 0;
  while (inFlight.length > 0) {
    const next: typeof inFlight = [];
    for (const { to, message } of inFlight) {
      messages++;
      expect(messages).toBeLessThan(10_000);
      const decoded = decodeFrame(encodeFrame(message));
      const parsed = parseMerkleMessage(decoded!.message);
      expect(parsed).not.toBeNull();
      for (const reply of to.receive(parsed!)) next.push({ to: to === ea ? eb : ea, message: reply });
    }
    inFlight = next;
  }
  return { ea, eb, messages, bytes: ea.stats.bytesSent + eb.stats.bytesSent };
}

const SHAPES: MerkleShape[] = [
  { leafBits: 1, fanoutBits: 1 },
  { leafBits: 4, fanoutBits: 1 },
  { leafBits: 4, fanoutBits: 2 },
  { leafBits: 6, fanoutBits: 3 },
  { leafBits: 8, fanoutBits: 4 },
];

type Difference = { kind: 'onlyA' | 'onlyB'; r: bigint; content: bigint } | { kind: 'changed'; pick: number; flip: bigint };
const differenceArb: fc.Arbitrary<Difference> = fc.oneof(
  fc.record({ kind: fc.constantFrom('onlyA' as const, 'onlyB' as const), r: u64, content: u64 }),
  fc.record({ kind: fc.constant('changed' as const), pick: fc.nat(), flip: fc.bigInt({ min: 1n, max: RING - 1n }) }),
);

describe('MerkleExchange', () => {
  it('finds exactly the differing keys, each way (random key sets, k random differences)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SHAPES),
        fc.tuple(u64, u64),
        fc.array(fc.tuple(u64, u64), { maxLength: 150 }),
        fc.array(differenceArb, { maxLength: 10 }),
        fc.integer({ min: 1, max: 50 }),
        fc.boolean(),
        (shape, [start, end], base, differences, maxKeysPerMessage, aInitiates) => {
          const range = { start, end };
          const width = (end - start + RING) % RING || RING;
          const tokenOf = (r: bigint) => (start + 1n + (r % width)) % RING;
          const a = new MapReplica(range, shape);
          const b = new MapReplica(range, shape);
          base.forEach(([r, content], i) => {
            a.put(tokenOf(r), Uint8Array.of(0, i), content);
            b.put(tokenOf(r), Uint8Array.of(0, i), content);
          });
          const onlyA = new Set<string>();
          const onlyB = new Set<string>();
          const changed = new Set<string>();
          differences.forEach((d, j) => {
            if (d.kind === 'changed') {
              if (base.length === 0) return;
              const i = d.pick % base.length;
              const [r, content] = base[i]!;
              b.put(tokenOf(r), Uint8Array.of(0, i), content ^ d.flip);
              changed.add(hex(Uint8Array.of(0, i)));
            } else {
              const key = Uint8Array.of(1, j);
              (d.kind === 'onlyA' ? a : b).put(tokenOf(d.r), key, d.content);
              (d.kind === 'onlyA' ? onlyA : onlyB).add(hex(key));
            }
          });
          const { ea, eb } = runExchange(a, b, { maxKeysPerMessage, aInitiates });
          expect(ea.state).toBe('done');
          expect(eb.state).toBe('done');
          const sorted = (...sets: Set<string>[]) => [...new Set(sets.flatMap((s) => [...s]))].sort();
          const oa = ea.outcome();
          const ob = eb.outcome();
          expect(oa.keysToSend.map(hex)).toEqual(sorted(onlyA, changed));
          expect(oa.keysToReceive.map(hex)).toEqual(sorted(onlyB, changed));
          expect(ob.keysToSend.map(hex)).toEqual(sorted(onlyB, changed));
          expect(ob.keysToReceive.map(hex)).toEqual(sorted(onlyA, changed));
          expect(oa.differingSegments).toEqual(ob.differingSegments);
          expect(ea.stats.bytesSent).toBe(eb.stats.bytesReceived);
          expect(eb.stats.bytesSent).toBe(ea.stats.bytesReceived);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('equal replicas settle in one round trip', () => {
    const a = new MapReplica({ start: 0n, end: 0n });
    const b = new MapReplica({ start: 0n, end: 0n });
    for (let i = 0; i < 1000; i++) {
      a.put(BigInt(i) * 0x1234_5678_9abcn, Uint8Array.of(i & 255, i >> 8), BigInt(i));
      b.put(BigInt(i) * 0x1234_5678_9abcn, Uint8Array.of(i & 255, i >> 8), BigInt(i));
    }
    const { ea, eb, messages, bytes } = runExchange(a, b);
    expect(messages).toBe(2);
    expect(bytes).toBeLessThan(200);
    expect(ea.outcome()).toEqual({ differingSegments: [], keysToSend: [], keysToReceive: [] });
    expect(eb.outcome()).toEqual({ differingSegments: [], keysToSend: [], keysToReceive: [] });
  });

  it('lists a segment whole even when it exceeds maxKeysPerMessage', () => {
    const shape = { leafBits: 2, fanoutBits: 2 };
    const a = new MapReplica({ start: 0n, end: 0n }, shape);
    const b = new MapReplica({ start: 0n, end: 0n }, shape);
    for (let i = 1; i <= 5; i++) {
      a.put(BigInt(i), Uint8Array.of(i), 1n);
      b.put(BigInt(i), Uint8Array.of(i), 1n);
    }
    b.put(6n, Uint8Array.of(6), 1n);
    const { ea, eb } = runExchange(a, b, { maxKeysPerMessage: 1 });
    expect(ea.outcome().keysToReceive.map(hex)).toEqual(['06']);
    expect(eb.outcome().keysToSend.map(hex)).toEqual(['06']);
    expect(ea.stats.messagesSent).toBe(2); // root, then one merkle_keys of 5 keys
  });

  it('aborts on a different shape or range, on both sides', () => {
    for (const [ra, sa, rb, sb] of [
      [{ start: 0n, end: 0n }, { leafBits: 8, fanoutBits: 4 }, { start: 0n, end: 0n }, { leafBits: 8, fanoutBits: 2 }],
      [{ start: 0n, end: 0n }, { leafBits: 8, fanoutBits: 4 }, { start: 1n, end: 0n }, { leafBits: 8, fanoutBits: 4 }],
    ] as const) {
      const { ea, eb } = runExchange(new MapReplica(ra, sa), new MapReplica(rb, sb));
      expect(eb.state).toBe('failed');
      expect(ea.state).toBe('failed');
      expect(ea.failure).toMatch(/peer aborted: (shape|range)/);
      expect(() => ea.outcome()).toThrow();
    }
  });

  it('ignores other exchanges and aborts on messages out of turn', () => {
    const r = new MapReplica({ start: 0n, end: 0n });
    const responder = new MerkleExchange('responder', { exchange: 1, tree: r.tree, entries: r });
    expect(responder.receive({ type: 'merkle_in_sync', exchange: 2 })).toEqual([]);
    expect(responder.state).toBe('idle');
    const reply = responder.receive({ type: 'merkle_key_diff', exchange: 1, send: [], want: [], last: true });
    expect(reply).toEqual([{ type: 'merkle_abort', exchange: 1, reason: 'key diff while idle' }]);
    expect(responder.state).toBe('failed');
    expect(responder.receive({ type: 'merkle_in_sync', exchange: 1 })).toEqual([]);

    const initiator = new MerkleExchange('initiator', { exchange: 3, tree: r.tree, entries: r });
    initiator.start();
    // Nodes below parents it never sent, or skipping a level.
    expect(initiator.receive({ type: 'merkle_nodes', exchange: 3, level: 2, parents: [0], hashes: new Uint8Array(16 * 8) })[0]!.type).toBe('merkle_abort');
  });

  it('refuses a key diff that asks for keys the lister did not list', () => {
    const shape = { leafBits: 2, fanoutBits: 2 };
    const a = new MapReplica({ start: 0n, end: 0n }, shape);
    const b = new MapReplica({ start: 0n, end: 0n }, shape);
    a.put(1n, Uint8Array.of(1), 1n);
    const ea = new MerkleExchange('initiator', { exchange: 1, tree: a.tree, entries: a });
    const eb = new MerkleExchange('responder', { exchange: 1, tree: b.tree, entries: b });
    const nodes = eb.receive(ea.start()[0]!);
    const keys = ea.receive(nodes[0]!);
    expect(keys[0]!.type).toBe('merkle_keys');
    const forged = ea.receive({ type: 'merkle_key_diff', exchange: 1, send: [], want: [Uint8Array.of(9)], last: true });
    expect(forged[0]!.type).toBe('merkle_abort');
    expect(ea.failure).toMatch(/did not list/);
  });

  it('parseMerkleMessage accepts what the exchange sends and rejects malformed input', () => {
    const good: MerkleMessage[] = [
      { type: 'merkle_root', exchange: 1, range: new Uint8Array(16), leafBits: 16, fanoutBits: 4, hash: new Uint8Array(8) },
      { type: 'merkle_nodes', exchange: 1, level: 1, parents: [0], hashes: new Uint8Array(128) },
      { type: 'merkle_keys', exchange: 1, segments: [3, 9], counts: [1, 0], keys: [Uint8Array.of(1)], hashes: new Uint8Array(8), last: true },
      { type: 'merkle_key_diff', exchange: 1, send: [Uint8Array.of(2)], want: [], last: false },
      { type: 'merkle_in_sync', exchange: 1 },
      { type: 'merkle_abort', exchange: 1, reason: 'x' },
    ];
    for (const m of good) expect(parseMerkleMessage(decodeFrame(encodeFrame(m))!.message)).toEqual(m);
    const bad: unknown[] = [
      null,
      7,
      { type: 'merkle_in_sync' },
      { type: 'merkle_in_sync', exchange: -1 },
      { type: 'merkle_root', exchange: 1, range: new Uint8Array(15), leafBits: 16, fanoutBits: 4, hash: new Uint8Array(8) },
      { type: 'merkle_nodes', exchange: 1, level: 0, parents: [0], hashes: new Uint8Array(128) },
      { type: 'merkle_nodes', exchange: 1, level: 1, parents: [2, 1], hashes: new Uint8Array(128) },
      { type: 'merkle_nodes', exchange: 1, level: 1, parents: [0], hashes: new Uint8Array(7) },
      { type: 'merkle_keys', exchange: 1, segments: [3], counts: [2], keys: [Uint8Array.of(1)], hashes: new Uint8Array(8), last: true },
      { type: 'merkle_keys', exchange: 1, segments: [3], counts: [1], keys: ['a'], hashes: new Uint8Array(8), last: true },
      { type: 'merkle_key_diff', exchange: 1, send: [], want: [], last: 'yes' },
      { type: 'merkle_gossip', exchange: 1 },
    ];
    for (const m of bad) expect(parseMerkleMessage(m)).toBeNull();
  });
});
