import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Topology } from '../ring/topology.ts';
import { MAX_TOKEN } from '../ring/token_range.ts';
import type { PreferenceEntry } from '../ring/ring.ts';
import { quorumOf } from './consistency.ts';
import { withPending } from './coordinator.ts';
import { movingStrongQuorum } from './moving_quorum.ts';

const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
const tokenSets = fc.uniqueArray(fc.bigInt({ min: 0n, max: MAX_TOKEN }), { minLength: ids.length * 3, maxLength: ids.length * 3 });

/** A cluster of `nodes` members, the last one joining or leaving, and the topology once it has. */
function moveOf(tokens: bigint[], nodes: number, join: boolean): { during: Topology; after: Topology } {
  const members = ids.slice(0, nodes).map((id, i) => ({ id, phase: 'normal' as const, tokens: tokens.slice(i * 3, i * 3 + 3) }));
  const mover = members[nodes - 1]!;
  const during = Topology.of([...members.slice(0, -1), { ...mover, phase: join ? 'joining' : 'leaving' }]);
  return { during, after: Topology.of(join ? members : members.slice(0, -1)) };
}

const moves = fc.record({
  tokens: tokenSets,
  nodes: fc.integer({ min: 2, max: 6 }),
  n: fc.integer({ min: 1, max: 3 }),
  join: fc.boolean(),
  key: fc.bigInt({ min: 0n, max: MAX_TOKEN }),
  ackMask: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
});

describe('writes during a move', () => {
  it('any acknowledgements withPending accepts put W on the current replicas and W (or all) on the final ones', () => {
    fc.assert(
      fc.property(moves, ({ tokens, nodes, n, join, key, ackMask }) => {
        const { during, after } = moveOf(tokens, nodes, join);
        const w = Math.min(2, n);
        const replicas = during.writeReplicas(key, n);
        const home: PreferenceEntry[] = replicas.natural.map((node) => ({ node, role: 'primary' }));
        const { entries, required } = withPending(replicas, home, w);
        expect(new Set(entries.map((e) => e.node)).size).toBe(entries.length);
        expect(required).toBeLessThanOrEqual(entries.length);
        const acked = entries.map((e) => e.node).filter((_, i) => ackMask[i]);
        if (acked.length < required) return;
        const final = after.readReplicas(key, n);
        expect(acked.filter((x) => final.includes(x)).length).toBeGreaterThanOrEqual(Math.min(w, final.length));
        expect(acked.filter((x) => replicas.natural.includes(x)).length).toBeGreaterThanOrEqual(Math.min(w, replicas.natural.length));
      }),
      { numRuns: 500 },
    );
  });

  it('W + p alone would not do when a decommission shrinks the cluster below N (the rule also counts departures)', () => {
    const during = Topology.of([
      { id: 'a', phase: 'normal', tokens: [10n] },
      { id: 'b', phase: 'normal', tokens: [20n] },
      { id: 'c', phase: 'leaving', tokens: [30n] },
    ]);
    const replicas = during.writeReplicas(5n, 3);
    expect(replicas.pending).toEqual([]);
    const home: PreferenceEntry[] = replicas.natural.map((node) => ({ node, role: 'primary' }));
    expect(withPending(replicas, home, 2).required).toBe(3);
  });

  it('STRONG: versions on movingStrongQuorum replicas are on a majority before and after the move', () => {
    fc.assert(
      fc.property(moves, ({ tokens, nodes, n, join, key, ackMask }) => {
        const { during, after } = moveOf(tokens, nodes, join);
        const replicas = during.writeReplicas(key, n);
        const targets = [...replicas.natural, ...replicas.pending];
        const holders = targets.filter((_, i) => ackMask[i]);
        const required = movingStrongQuorum(replicas);
        expect(required).toBeLessThanOrEqual(targets.length);
        if (holders.length < required) return;
        const final = after.readReplicas(key, n);
        expect(holders.filter((x) => replicas.natural.includes(x)).length).toBeGreaterThanOrEqual(quorumOf(replicas.natural.length));
        expect(holders.filter((x) => final.includes(x)).length).toBeGreaterThanOrEqual(quorumOf(final.length));
      }),
      { numRuns: 500 },
    );
  });

  it('a pending node the sloppy list chose as a fallback takes the write itself', () => {
    const home: PreferenceEntry[] = [
      { node: 'a', role: 'primary' },
      { node: 'd', role: 'fallback', hintFor: 'c' },
    ];
    const replicas = { natural: ['a', 'b', 'c'], pending: ['d'], target: ['a', 'b', 'd'] };
    expect(withPending(replicas, home, 2)).toEqual({
      entries: [
        { node: 'a', role: 'primary' },
        { node: 'd', role: 'primary' },
      ],
      required: 3,
    });
    const still = { natural: ['a', 'b', 'c'], pending: [], target: ['a', 'b', 'c'] };
    still.target = still.natural;
    expect(withPending(still, home, 2)).toEqual({ entries: home, required: 2 });
  });
});
