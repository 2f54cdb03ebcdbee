import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DvvSet, emptyDvv, join, sync } from '../../core/versioning/dotted_version_vector.ts';
import { type VersionedValue, type Write, mergeLww, valueWrite, writeSiblings } from '../../core/versioning/versioned_value.ts';
import { valueBytes } from '../workload_value.ts';
import { hlc, lwwTombstone, lwwValue, replicasOf } from './client_op_fixtures.ts';
import { checkConvergence } from './convergence.ts';
import type { FinalState, KeyReplicas } from './final_state.ts';

const keysOnly = (keys: KeyReplicas[]): FinalState => ({ keys, unreadable: [], lost: [] });

describe('convergence checker', () => {
  it('passes when every replica holds the same version', () => {
    const v = lwwValue('a', 10);
    const r = checkConvergence(keysOnly([replicasOf('k', 'lww', [v, lwwValue('a', 10), v]), replicasOf('j', 'lww', [null, null, null])]));
    expect(r).toEqual({ converged: true, divergentKeys: 0, unreadableNodes: 0, violations: [] });
  });

  it('fails when one replica holds an older write', () => {
    const r = checkConvergence(keysOnly([replicasOf('k', 'lww', [lwwValue('a', 10), lwwValue('b', 20), lwwValue('b', 20)])]));
    expect(r.converged).toBe(false);
    expect(r.divergentKeys).toBe(1);
    expect(r.violations[0]!.key).toBe('default/k');
    expect(r.violations[0]!.message).toContain('n1 holds "a" @10.0@n1');
  });

  it('fails when a replica holds nothing, or a tombstone where others hold a value', () => {
    expect(checkConvergence(keysOnly([replicasOf('k', 'lww', [lwwValue('a', 10), null, lwwValue('a', 10)])])).converged).toBe(false);
    expect(checkConvergence(keysOnly([replicasOf('k', 'lww', [lwwValue('a', 10), lwwTombstone(10)])])).converged).toBe(false);
  });

  it('fails when a node cannot list its records', () => {
    const r = checkConvergence({ keys: [replicasOf('k', 'lww', [lwwValue('a', 10), lwwValue('a', 10)])], unreadable: [{ node: 'n3', error: 'CorruptionError: 5.sst: bad footer' }], lost: [] });
    expect(r.converged).toBe(false);
    expect(r.unreadableNodes).toBe(1);
    expect(r.divergentKeys).toBe(0);
    expect(r.violations[0]!.message).toContain('node n3 cannot list its records');
  });

  it('judges the replicas left when a node was lost for good', () => {
    const same = [lwwValue('a', 10), lwwValue('a', 10)];
    expect(checkConvergence({ keys: [replicasOf('k', 'lww', same)], unreadable: [], lost: [{ node: 'n3', why: 'CorruptionError: CURRENT' }] }).converged).toBe(true);
    const differ = [lwwValue('a', 10), lwwValue('b', 11)];
    expect(checkConvergence({ keys: [replicasOf('k', 'lww', differ)], unreadable: [], lost: [{ node: 'n3', why: 'CorruptionError: CURRENT' }] }).converged).toBe(false);
  });

  it('tells apart sibling sets with the same values but different histories', () => {
    const w = valueWrite(hlc(5), valueBytes('x'));
    const a = writeSiblings(null, [], w, 'n1');
    const b: VersionedValue = { mode: 'siblings', dvv: { entries: [{ node: 'n1', counter: 2, siblings: [{ counter: 1, value: w }] }] } };
    expect(checkConvergence(keysOnly([replicasOf('k', 'siblings', [a, a])])).converged).toBe(true);
    expect(checkConvergence(keysOnly([replicasOf('k', 'siblings', [a, b])])).converged).toBe(false);
  });

  it('replicas that exchanged every version converge, in whatever order they synced; dropping one sibling is caught', () => {
    // Writes land on random replicas; anti-entropy then syncs every pair in a random order, twice over.
    const arb = fc.record({
      writes: fc.array(fc.record({ replica: fc.nat(2), sawReplica: fc.option(fc.nat(2)) }), { minLength: 1, maxLength: 12 }),
      order: fc.array(fc.tuple(fc.nat(2), fc.nat(2)), { minLength: 0, maxLength: 10 }),
    });
    fc.assert(
      fc.property(arb, ({ writes, order }) => {
        const states: DvvSet<Write>[] = [emptyDvv(), emptyDvv(), emptyDvv()];
        writes.forEach((w, i) => {
          const context = w.sawReplica === null ? [] : join(states[w.sawReplica]!);
          const v = writeSiblings({ mode: 'siblings', dvv: states[w.replica]! }, context, valueWrite(hlc(i), valueBytes(`v${i}`)), `n${w.replica + 1}`);
          states[w.replica] = (v as { dvv: DvvSet<Write> }).dvv;
        });
        for (const [a, b] of order) states[a] = sync(states[a]!, states[b]!, mergeLww);
        const all = [0, 1, 2].flatMap((a) => [0, 1, 2].map((b) => [a, b] as const));
        for (let round = 0; round < 2; round++) for (const [a, b] of all) states[a] = sync(states[a]!, states[b]!, mergeLww);
        const versions = states.map((dvv): VersionedValue => ({ mode: 'siblings', dvv }));
        expect(checkConvergence(keysOnly([replicasOf('k', 'siblings', versions)])).converged).toBe(true);
        const victim = states[0]!.entries.findIndex((e) => e.siblings.length > 0);
        if (victim >= 0) {
          const entries = states[0]!.entries.map((e, i) => (i === victim ? { ...e, siblings: e.siblings.slice(1) } : e));
          versions[0] = { mode: 'siblings', dvv: { entries } };
          expect(checkConvergence(keysOnly([replicasOf('k', 'siblings', versions)])).converged).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });
});
