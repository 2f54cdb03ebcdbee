import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ring } from './ring.ts';
import { Topology, type MemberPhase, type TopologyMember } from './topology.ts';
import { MAX_TOKEN, rangeContains } from './token_range.ts';

const token = fc.oneof(fc.bigInt({ min: 0n, max: MAX_TOKEN }), fc.bigInt({ min: 0n, max: 64n }));
const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

/** 1..7 members with disjoint, non-empty token sets. */
const memberTokens = fc
  .uniqueArray(token, { minLength: 2, maxLength: 40 })
  .chain((tokens) =>
    fc.array(fc.integer({ min: 0, max: ids.length - 1 }), { minLength: tokens.length, maxLength: tokens.length }).map((owners) => {
      const byNode = new Map<string, bigint[]>();
      tokens.forEach((t, i) => {
        const id = ids[owners[i]!]!;
        byNode.set(id, [...(byNode.get(id) ?? []), t]);
      });
      return [...byNode].map(([id, ts]) => ({ id, tokens: ts }));
    }),
  );

/** The version hash written out plainly (members by id, tokens ascending, each printed in hex): a model for the cached one. */
function modelVersion(members: readonly TopologyMember[]): number {
  const rank: Record<MemberPhase, number> = { joining: 0, normal: 1, leaving: 2, left: 3, removed: 4 };
  let text = '';
  for (const m of [...members].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))) {
    text += `${m.id}|${rank[m.phase]}|`;
    for (const t of [...m.tokens].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))) text += `${t.toString(16)},`;
    text += ';';
  }
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 ^ 0x100) >>> 0;
  }
  return (a & 0x1fffff) * 0x100000000 + b;
}

function ringOf(members: readonly { id: string; tokens: readonly bigint[] }[]): Ring {
  return Ring.fromEntries(members.flatMap((m) => m.tokens.map((t) => ({ token: t, node: m.id }))));
}

describe('Topology', () => {
  it('with every member normal, read and write replicas are the ring preference list and nothing is pending', () => {
    fc.assert(
      fc.property(memberTokens, fc.integer({ min: 1, max: 4 }), fc.array(token, { maxLength: 20 }), (members, n, keys) => {
        const ring = ringOf(members);
        const topo = Topology.allNormal(members);
        expect(topo.moving).toBe(false);
        expect(topo.pendingTransfers(n)).toEqual([]);
        for (const key of [...keys, ...ring.tokens()]) {
          const expected = ring.preferenceList(key, n);
          expect(topo.readReplicas(key, n)).toEqual(expected);
          expect(topo.writeReplicas(key, n)).toEqual({ natural: expected, pending: [], target: expected });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('during a join, natural and pending together cover the old and the new preference list, and reads stay on the old', () => {
    fc.assert(
      fc.property(memberTokens, fc.integer({ min: 1, max: 4 }), fc.array(token, { maxLength: 20 }), (members, n, keys) => {
        fc.pre(members.length >= 2);
        const [joiner, ...rest] = members;
        const before = ringOf(rest);
        const after = ringOf(members);
        const topo = Topology.of([...rest.map((m) => ({ ...m, phase: 'normal' as const })), { ...joiner!, phase: 'joining' }]);
        expect(topo.readRing.nodes()).not.toContain(joiner!.id);
        for (const key of [...keys, ...after.tokens()]) {
          const { natural, pending } = topo.writeReplicas(key, n);
          expect(topo.readReplicas(key, n)).toEqual(before.preferenceList(key, n));
          expect(natural).toEqual(before.preferenceList(key, n));
          const all = new Set([...natural, ...pending]);
          for (const x of after.preferenceList(key, n)) expect(all.has(x)).toBe(true);
          expect(pending.every((p) => p === joiner!.id)).toBe(true);
          expect(new Set(pending).size + new Set(natural).size).toBe(all.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('during a decommission, writes reach the current and the final owners; the leaving node keeps serving reads', () => {
    fc.assert(
      fc.property(memberTokens, fc.integer({ min: 1, max: 4 }), fc.array(token, { maxLength: 20 }), (members, n, keys) => {
        fc.pre(members.length >= 2);
        const [leaver, ...rest] = members;
        const before = ringOf(members);
        const after = ringOf(rest);
        const topo = Topology.of([...rest.map((m) => ({ ...m, phase: 'normal' as const })), { ...leaver!, phase: 'leaving' }]);
        for (const key of [...keys, ...before.tokens()]) {
          const { natural, pending } = topo.writeReplicas(key, n);
          expect(natural).toEqual(before.preferenceList(key, n));
          expect(new Set([...natural, ...pending])).toEqual(new Set([...before.preferenceList(key, n), ...after.preferenceList(key, n)]));
          expect(pending).not.toContain(leaver!.id);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('pending transfers cover exactly the keys whose pending replicas are non-empty', () => {
    fc.assert(
      fc.property(memberTokens, fc.integer({ min: 1, max: 4 }), fc.array(token, { maxLength: 20 }), fc.boolean(), (members, n, keys, join) => {
        fc.pre(members.length >= 2);
        const [mover, ...rest] = members;
        const phase: MemberPhase = join ? 'joining' : 'leaving';
        const topo = Topology.of([...rest.map((m) => ({ ...m, phase: 'normal' as const })), { ...mover!, phase }]);
        const transfers = topo.pendingTransfers(n);
        for (const key of [...keys, ...ringOf(members).tokens()]) {
          const { pending } = topo.writeReplicas(key, n);
          const to = transfers.filter((t) => rangeContains(t.range, key)).map((t) => t.to);
          expect(to.sort()).toEqual([...pending].sort());
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the same members give the same topology and version, in any order; a phase change changes the version', () => {
    fc.assert(
      fc.property(
        memberTokens,
        fc.array(fc.constantFrom<MemberPhase>('joining', 'normal', 'leaving', 'left', 'removed'), { minLength: 7, maxLength: 7 }),
        fc.integer({ min: 1, max: 3 }),
        (members, phases, n) => {
          const withPhases: TopologyMember[] = members.map((m, i) => ({ ...m, phase: phases[i]! }));
          const a = Topology.of(withPhases);
          const b = Topology.of([...withPhases].reverse().map((m) => ({ ...m, tokens: [...m.tokens].reverse() })));
          expect(b.version).toBe(a.version);
          expect(Topology.versionOf(withPhases)).toBe(a.version);
          expect(Topology.versionOf([...withPhases].reverse())).toBe(a.version);
          expect(a.version).toBe(modelVersion(withPhases));
          expect(b.members()).toEqual(a.members());
          expect(b.readRing.entries()).toEqual(a.readRing.entries());
          expect(b.targetRing.entries()).toEqual(a.targetRing.entries());
          for (const t of a.targetRing.tokens()) expect(b.writeReplicas(t, n)).toEqual(a.writeReplicas(t, n));
          const first = withPhases[0]!;
          const other: MemberPhase = first.phase === 'normal' ? 'leaving' : 'normal';
          expect(a.withMember(first.id, other).version).not.toBe(a.version);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a replacement takes a leaving dead node\'s tokens: reads stay with the dead node, writes also reach the replacement', () => {
    const members: TopologyMember[] = [
      { id: 'a', phase: 'normal', tokens: [100n, 400n] },
      { id: 'b', phase: 'normal', tokens: [200n, 500n] },
      { id: 'c', phase: 'leaving', tokens: [300n, 600n] },
      { id: 'd', phase: 'joining', tokens: [300n, 600n] },
    ];
    const topo = Topology.of(members);
    expect(topo.readReplicas(250n, 3).sort()).toEqual(['a', 'b', 'c']);
    expect(topo.writeReplicas(250n, 3)).toEqual({ natural: ['c', 'a', 'b'], pending: ['d'], target: ['d', 'a', 'b'] });
    const done = topo.withMember('c', 'removed').withMember('d', 'normal');
    expect(done.writeReplicas(250n, 3)).toEqual({ natural: ['d', 'a', 'b'], pending: [], target: ['d', 'a', 'b'] });
    expect(done.moving).toBe(false);
  });

  it('a replacement owns the tokens it shares with a dead node still listed normal, in the target ring only', () => {
    const topo = Topology.of([
      { id: 'a', phase: 'normal', tokens: [100n, 400n] },
      { id: 'b', phase: 'normal', tokens: [200n, 500n] },
      { id: 'c', phase: 'normal', tokens: [300n, 600n] },
      { id: 'd', phase: 'joining', tokens: [300n, 600n] },
    ]);
    expect(topo.readRing.nodes()).toEqual(['a', 'b', 'c']);
    expect(topo.targetRing.nodes()).toEqual(['a', 'b', 'd']);
    expect(topo.writeReplicas(250n, 3).pending).toEqual(['d']);
  });

  it('refuses a member listed twice and an active member without tokens', () => {
    expect(() => Topology.of([{ id: 'a', phase: 'normal', tokens: [1n] }, { id: 'a', phase: 'left', tokens: [] }])).toThrow(/twice/);
    expect(() => Topology.of([{ id: 'a', phase: 'joining', tokens: [] }])).toThrow(/without tokens/);
    expect(Topology.of([{ id: 'a', phase: 'left', tokens: [] }]).readReplicas(5n, 3)).toEqual([]);
  });
});
