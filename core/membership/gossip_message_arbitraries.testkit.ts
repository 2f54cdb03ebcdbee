// Random gossip messages for the codec tests: ids and values from the whole
// of Unicode (lone surrogates included) and plain ASCII, numbers of every
// msgpack width, lists long enough for the 16-bit headers.

import fc from 'fast-check';
import type { GossipMessage } from './gossip_messages.ts';
import { MEMBER_STATUSES, type MemberDelta } from './member_state.ts';

const text = (maxLength: number, minLength = 0): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength, maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength, maxLength }) },
    { weight: 1, arbitrary: fc.string({ minLength: Math.max(minLength, 30), maxLength: Math.max(maxLength, 80) }) },
  );

export const idArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('n1', 'n2', 'n0003', 'node-a') }, { weight: 1, arbitrary: text(12, 1) });
/** Versions: fixints, 8/16/32-bit and past 32 bits (msgpackr writes those as float64). */
export const versionArb = fc.oneof(fc.nat(127), fc.nat(70_000), fc.nat(2 ** 32 + 5), fc.maxSafeNat());

const deltaArb: fc.Arbitrary<MemberDelta> = fc
  .record({
    nodeId: idArb,
    generation: versionArb,
    from: fc.nat(1000),
    heartbeat: versionArb,
    status: fc.option(fc.record({ value: fc.constantFrom(...MEMBER_STATUSES), version: fc.nat(1000) }), { nil: undefined }),
    tokens: fc.option(fc.record({ value: fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { maxLength: 20 }), version: fc.nat(1000) }), { nil: undefined }),
    load: fc.option(fc.record({ value: fc.oneof(fc.double({ min: 0, max: 1e12, noNaN: true }), fc.nat(), fc.maxSafeNat()), version: fc.nat(1000) }), { nil: undefined }),
    app: fc.uniqueArray(fc.record({ key: text(8, 1), value: text(40), version: fc.nat(1000) }), { selector: (f) => f.key, maxLength: 4 }),
  })
  .filter((d) => d.nodeId.length <= 255 && d.app.every((f) => f.key.length <= 64))
  .map((d) => {
    const above = (v: number): number => d.from + 1 + v;
    const out: MemberDelta = {
      nodeId: d.nodeId,
      generation: d.generation,
      from: d.from,
      heartbeat: d.heartbeat,
      ...(d.status ? { status: { value: d.status.value, version: above(d.status.version) } } : {}),
      ...(d.tokens ? { tokens: { value: d.tokens.value, version: above(d.tokens.version) } } : {}),
      ...(d.load ? { load: { value: d.load.value, version: above(d.load.version) } } : {}),
      app: d.app.map((f) => ({ ...f, version: above(f.version) })),
    };
    return out;
  });

const deltasArb = fc.uniqueArray(deltaArb, { selector: (d) => d.nodeId, maxLength: 20 });
const triple = fc.record({ nodeId: idArb, generation: versionArb, n: versionArb });
const clusterArb = fc.oneof(fc.constant('ringkv'), text(40));

export const messageArb: fc.Arbitrary<GossipMessage> = fc.oneof(
  fc.record({ cluster: clusterArb, digests: fc.array(triple, { maxLength: 20 }) }).map(
    (m): GossipMessage => ({ t: 'syn', cluster: m.cluster, digests: m.digests.map((d) => ({ nodeId: d.nodeId, generation: d.generation, maxVersion: d.n })) }),
  ),
  fc.record({ cluster: clusterArb, deltas: deltasArb, requests: fc.array(triple, { maxLength: 8 }) }).map(
    (m): GossipMessage => ({ t: 'ack', cluster: m.cluster, deltas: m.deltas, requests: m.requests.map((r) => ({ nodeId: r.nodeId, generation: r.generation, above: r.n })) }),
  ),
  fc.record({ cluster: clusterArb, deltas: deltasArb }).map((m): GossipMessage => ({ t: 'ack2', ...m })),
);
