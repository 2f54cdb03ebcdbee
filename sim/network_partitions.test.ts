import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetworkPartitions, applyRandomPartition, drawPartitionSides } from './network_partitions.ts';
import type { PartitionMode } from './packet_fault_options.ts';
import { SimRng } from './sim_rng.ts';

const NODES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];

type Op =
  | { kind: 'partition'; groups: string[][] }
  | { kind: 'oneWay'; from: string[]; to: string[] }
  | { kind: 'isolate'; node: string }
  | { kind: 'heal' };

/** Disjoint non-empty groups: each node gets a group index or -1 (left out). */
const groupsArb = fc.array(fc.integer({ min: -1, max: 2 }), { minLength: NODES.length, maxLength: NODES.length }).map((sides) => {
  const groups: string[][] = [[], [], []];
  sides.forEach((g, i) => g >= 0 && groups[g]!.push(NODES[i]!));
  return groups.filter((g) => g.length > 0);
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  groupsArb.filter((g) => g.length >= 2).map((groups) => ({ kind: 'partition' as const, groups })),
  groupsArb.filter((g) => g.length >= 2).map((g) => ({ kind: 'oneWay' as const, from: g[0]!, to: g[1]! })),
  fc.constantFrom(...NODES).map((node) => ({ kind: 'isolate' as const, node })),
  fc.constant({ kind: 'heal' as const }),
);

describe('NetworkPartitions', () => {
  it('blocks exactly the directed pairs a model of blocked pairs says', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 8 }), (ops) => {
        const partitions = new NetworkPartitions();
        const model = new Set<string>();
        for (const op of ops) {
          switch (op.kind) {
            case 'partition':
              partitions.partition(op.groups);
              for (const g of op.groups) for (const h of op.groups) if (g !== h) for (const a of g) for (const b of h) model.add(`${a}>${b}`);
              break;
            case 'oneWay':
              partitions.partitionOneWay(op.from, op.to);
              for (const a of op.from) for (const b of op.to) model.add(`${a}>${b}`);
              break;
            case 'isolate':
              partitions.isolate(op.node);
              for (const other of NODES) {
                if (other === op.node) continue;
                model.add(`${op.node}>${other}`);
                model.add(`${other}>${op.node}`);
              }
              break;
            case 'heal':
              partitions.heal();
              model.clear();
              break;
          }
          for (const a of NODES) for (const b of NODES) expect(partitions.blocks(a, b)).toBe(model.has(`${a}>${b}`));
        }
      }),
    );
  });

  it('heals automatic cuts without touching manual ones, and bumps its version on change', () => {
    const partitions = new NetworkPartitions();
    partitions.partitionOneWay(['n0'], ['n1']);
    partitions.partition([['n2'], ['n3']], true);
    const v = partitions.version;
    expect(partitions.hasAutomatic()).toBe(true);
    expect(partitions.describe()).toEqual(['n0 -> n1', 'auto n2 | n3']);
    expect(partitions.healAutomatic()).toBe(true);
    expect(partitions.version).toBeGreaterThan(v);
    expect(partitions.blocks('n2', 'n3')).toBe(false);
    expect(partitions.blocks('n0', 'n1')).toBe(true);
    expect(partitions.healAutomatic()).toBe(false);
  });
});

describe('random partitions', () => {
  const modes: PartitionMode[] = ['uniformSize', 'uniformPartition', 'isolateSingle'];

  it('split the nodes into two non-empty disjoint sides covering all of them', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 2, max: NODES.length }), fc.constantFrom(...modes), (seed, n, mode) => {
        const nodes = NODES.slice(0, n);
        const [a, b] = drawPartitionSides(new SimRng(seed), nodes, mode)!;
        expect(a.length).toBeGreaterThan(0);
        expect(b.length).toBeGreaterThan(0);
        expect([...a, ...b].sort()).toEqual([...nodes].sort());
        if (mode === 'isolateSingle') expect(a.length).toBe(1);
      }),
    );
  });

  it('make nothing with fewer than two nodes or mode none', () => {
    const rng = new SimRng(1);
    expect(drawPartitionSides(rng, ['n0'], 'uniformSize')).toBeNull();
    expect(drawPartitionSides(rng, NODES, 'none')).toBeNull();
  });

  it('uniformSize spreads the size of the smaller side', () => {
    const rng = new SimRng('sizes');
    const sizes = new Set<number>();
    for (let i = 0; i < 200; i++) sizes.add(drawPartitionSides(rng, NODES, 'uniformSize')![0].length);
    expect([...sizes].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('an asymmetric one blocks one direction only', () => {
    const partitions = new NetworkPartitions();
    const made = applyRandomPartition(partitions, new SimRng(3), NODES, 'uniformSize', 'asymmetric')!;
    const [from, to] = made.split(' -> ').map((s) => s.split(','));
    for (const a of from!) for (const b of to!) {
      expect(partitions.blocks(a, b)).toBe(true);
      expect(partitions.blocks(b, a)).toBe(false);
    }
    expect(partitions.hasAutomatic()).toBe(true);
  });
});
