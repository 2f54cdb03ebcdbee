import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Topology, type TopologyMember } from '../ring/topology.ts';
import { MAX_TOKEN, rangeContains } from '../ring/token_range.ts';
import { planStreams } from './stream_plan.ts';

const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
const scenario = fc.record({
  tokens: fc.uniqueArray(fc.bigInt({ min: 0n, max: MAX_TOKEN }), { minLength: 24, maxLength: 24 }),
  nodes: fc.integer({ min: 2, max: 6 }),
  n: fc.integer({ min: 1, max: 3 }),
  kind: fc.constantFrom('join', 'leave', 'remove', 'replace'),
  probes: fc.array(fc.bigInt({ min: 0n, max: MAX_TOKEN }), { minLength: 20, maxLength: 20 }),
});

describe('planStreams', () => {
  it('every key a node gains comes from the replicas it displaces, or from every live current replica when those are dead or none', () => {
    fc.assert(
      fc.property(scenario, ({ tokens, nodes, n, kind, probes }) => {
        const normal: TopologyMember[] = ids.slice(0, nodes).map((id, i) => ({ id, phase: 'normal', tokens: tokens.slice(i * 4, i * 4 + 4) }));
        const mover = normal[nodes - 1]!;
        const rest = normal.slice(0, -1);
        const dead = new Set<string>(kind === 'remove' || kind === 'replace' ? [mover.id] : []);
        const members: TopologyMember[] =
          kind === 'join'
            ? [...rest, { ...mover, phase: 'joining' }]
            : kind === 'replace'
              ? [...rest, { ...mover, phase: 'leaving' }, { id: 'z', phase: 'joining', tokens: mover.tokens }]
              : [...rest, { ...mover, phase: 'leaving' }];
        const topology = Topology.of(members);
        const receivers = [...new Set(members.map((m) => m.id))];
        for (const self of receivers) {
          const tasks = planStreams(topology, self, [{ name: 'ks', n }], dead);
          for (const probe of [...probes, ...topology.targetRing.tokens()]) {
            const before = topology.readReplicas(probe, n);
            const after = topology.targetRing.preferenceList(probe, n);
            const sources = tasks.filter((t) => t.ranges.some((r) => rangeContains(r, probe))).map((t) => t.source).sort();
            if (!after.includes(self) || before.includes(self)) {
              expect(sources).toEqual([]);
              continue;
            }
            const displaced = before.filter((x) => !after.includes(x) && !dead.has(x));
            const want = displaced.length > 0 ? displaced : before.filter((x) => !dead.has(x));
            expect(sources).toEqual([...want].sort());
          }
        }
      }),
      { numRuns: 120 },
    );
  });

  it('a cluster that is not moving streams nothing', () => {
    const topology = Topology.allNormal([
      { id: 'a', tokens: [1n] },
      { id: 'b', tokens: [2n] },
    ]);
    expect(planStreams(topology, 'a', [{ name: 'ks', n: 3 }])).toEqual([]);
  });
});
