import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeRng } from '../../real/node_rng.ts';
import { AllocationRing } from './allocation_ring.ts';
import { BalancedAllocation } from './balanced_allocation.ts';
import { Ring } from './ring.ts';
import { transferredShare, transfersFor } from './ring_transfers.ts';
import {
  balancedTokens,
  evenlySpacedTokens,
  joinRing,
  randomTokens,
  vnodesForWeight,
  type AllocationStrategy,
} from './token_allocator.ts';
import { MAX_TOKEN, RING_SIZE } from './token_range.ts';

const seeded = (seed: number) => new NodeRng([seed >>> 0 || 1, 0x9e3779b9, 7, 11]);
const name = (i: number) => `n${String(i).padStart(3, '0')}`;

interface JoinStats {
  nodes: number;
  primarySpread: number;
  replicaSpread: number;
  /** Data moved by the join over the ideal 1/(nodes): N = 3 replica copies, and primary ownership. */
  replicaMoveRatio: number;
  primaryMoveRatio: number;
}

/** Joins nodes one by one (weights cycling through `weights`), measuring after each join. */
function grow(count: number, strategy: AllocationStrategy, vnodesPerWeight: number, weights = [1], seed = 1): JoinStats[] {
  return growRing(count, strategy, vnodesPerWeight, weights, seed).stats;
}

function growRing(count: number, strategy: AllocationStrategy, vnodesPerWeight: number, weights: number[], seed: number) {
  const rng = seeded(seed);
  let ring = Ring.EMPTY;
  const stats: JoinStats[] = [];
  for (let n = 1; n <= count; n++) {
    const weight = weights[(n - 1) % weights.length]!;
    const vnodes = vnodesForWeight(weight, vnodesPerWeight);
    ring = joinRing(ring, name(n), { strategy, vnodes, weight, replicas: 3 }, rng);
    const spread = ring.spread(3);
    const own = ring.ownership(3).get(name(n))!;
    const ideal = weight / weights.slice(0, n).reduce((a, _, i) => a + weights[i % weights.length]!, 0);
    stats.push({
      nodes: n,
      primarySpread: spread.primary,
      replicaSpread: spread.replica,
      replicaMoveRatio: own.replica / Math.min(3, n) / ideal,
      primaryMoveRatio: own.primary / ideal,
    });
  }
  return { stats, ring };
}

const worst = (stats: JoinStats[], key: keyof JoinStats) => Math.max(...stats.map((s) => s[key]));

describe('random and evenly spaced tokens', () => {
  it('random tokens are distinct, off the ring and reproducible from the seed', () => {
    const ring = Ring.fromEntries(randomTokens(Ring.EMPTY, 50, seeded(3)).map((token) => ({ token, node: 'a' })));
    const tokens = randomTokens(ring, 200, seeded(4));
    expect(new Set(tokens).size).toBe(200);
    expect(tokens.some((t) => ring.tokens().includes(t))).toBe(false);
    expect(tokens.every((t) => t >= 0n && t <= MAX_TOKEN)).toBe(true);
    expect(randomTokens(ring, 200, seeded(4))).toEqual(tokens);
    expect(randomTokens(ring, 200, seeded(5))).not.toEqual(tokens);
  });

  it('evenly spaced tokens cut the ring into equal ranges', () => {
    const ring = Ring.fromEntries(evenlySpacedTokens(7, seeded(9)).map((token) => ({ token, node: 'a' })));
    const widths = ring.ranges().map(({ range }) => (range.end - range.start + RING_SIZE) % RING_SIZE);
    expect(Math.max(...widths.map(Number)) - Math.min(...widths.map(Number))).toBeLessThanOrEqual(7 * 2 ** 12);
  });

  it('vnodes scale with weight', () => {
    expect(vnodesForWeight(1, 16)).toBe(16);
    expect(vnodesForWeight(2, 16)).toBe(32);
    expect(vnodesForWeight(0.01, 16)).toBe(1);
  });
});

// Small rings with every oddity: weights, tiny ranges, runs of one node.
const tinyToken = fc.oneof(fc.bigInt({ min: 0n, max: MAX_TOKEN }), fc.bigInt({ min: 0n, max: 30n }));
const smallRing = fc
  .uniqueArray(fc.record({ token: tinyToken, node: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f') }), {
    selector: (e) => e.token,
    minLength: 1,
    maxLength: 40,
  })
  .chain((entries) =>
    fc
      .array(fc.constantFrom(0.5, 1, 2), { minLength: 6, maxLength: 6 })
      .map((w) => Ring.fromEntries(entries, new Map([...new Set(entries.map((e) => e.node))].map((n, i) => [n, w[i]!])))),
  );

describe('balanced allocation', () => {
  it("tracks every node's shares exactly as the ring computes them, before and after a join", () => {
    fc.assert(
      fc.property(smallRing, fc.integer({ min: 1, max: 12 }), fc.constantFrom(0.5, 1, 2), fc.integer({ min: 1, max: 4 }), (ring, vnodes, weight, n) => {
        const m = Math.min(n, ring.nodeCount + 1);
        const model = new AllocationRing(ring, weight, vnodes, m).shares();
        const own = ring.ownership(m);
        ring.nodes().forEach((id, u) => {
          expect(model.primary[u]).toBeCloseTo(own.get(id)!.primary, 9);
          expect(model.replicated[u]).toBeCloseTo(own.get(id)!.replica, 9);
        });

        const allocation = new BalancedAllocation(ring, weight, vnodes, m);
        const tokens = allocation.run();
        expect(new Set(tokens).size).toBe(vnodes);
        const joined = ring.withNode('z', tokens, weight);
        const after = allocation.ring.shares();
        const ownAfter = joined.ownership(m);
        joined.nodes().forEach((id, u) => {
          expect(after.primary[u]).toBeCloseTo(ownAfter.get(id)!.primary, 9);
          expect(after.replicated[u]).toBeCloseTo(ownAfter.get(id)!.replica, 9);
        });
        expect(new BalancedAllocation(ring, weight, vnodes, m).run()).toEqual(tokens);
      }),
      { numRuns: 300 },
    );
  });

  it('places more vnodes than the ring has tokens', () => {
    const ring = Ring.fromEntries([
      { token: 0n, node: 'a' },
      { token: RING_SIZE / 2n, node: 'a' },
    ]);
    const tokens = balancedTokens(ring, 40, 1, 3, seeded(1));
    expect(new Set(tokens).size).toBe(40);
    const joined = ring.withNode('b', tokens);
    expect(joined.ownership(1).get('b')!.primary).toBeCloseTo(0.5, 1);
  });

  it('gives the first node evenly spaced tokens and is otherwise deterministic', () => {
    const first = balancedTokens(Ring.EMPTY, 8, 1, 3, seeded(2));
    const ring = Ring.fromEntries(first.map((token) => ({ token, node: 'a' })));
    expect(ring.spread(1).primary).toBeCloseTo(1, 6);
    expect(balancedTokens(ring, 8, 1, 3, seeded(2))).toEqual(balancedTokens(ring, 8, 1, 3, seeded(99)));
  });

  it(
    'keeps primary and 3-replica spread within 10% for 3 to 100 nodes at 256 vnodes, moving at most 1.1x the ideal share on join',
    () => {
      const stats = grow(100, 'balanced', 256).slice(2);
      for (const s of stats) {
        expect(s.primarySpread, `primary spread at ${s.nodes} nodes`).toBeLessThanOrEqual(1.1);
        expect(s.replicaSpread, `replica spread at ${s.nodes} nodes`).toBeLessThanOrEqual(1.1);
        expect(s.primaryMoveRatio, `primary data moved joining ${s.nodes - 1} nodes`).toBeLessThanOrEqual(1.1);
        expect(s.replicaMoveRatio, `replica data moved joining ${s.nodes - 1} nodes`).toBeLessThanOrEqual(1.1);
      }
    },
    300_000,
  );

  it('at 16 vnodes stays within 12% (random tokens are far worse)', () => {
    const balanced = grow(100, 'balanced', 16).slice(2);
    const random = grow(100, 'random', 16).slice(2);
    expect(worst(balanced, 'primarySpread')).toBeLessThanOrEqual(1.12);
    expect(worst(balanced, 'replicaSpread')).toBeLessThanOrEqual(1.12);
    expect(worst(balanced, 'replicaMoveRatio')).toBeLessThanOrEqual(1.12);
    expect(random.at(-1)!.primarySpread).toBeGreaterThan(1.5);
    expect(random.at(-1)!.replicaSpread).toBeGreaterThan(1.2);
  }, 120_000);

  it('owns in proportion to weight: within 10% of target from 9 nodes up, weight 2 holds twice weight 1', () => {
    const weights = [1, 2, 1, 0.5, 1.5, 2, 1, 3];
    const { stats, ring } = growRing(40, 'balanced', 64, weights, 1);
    const settled = stats.slice(8);
    expect(worst(settled, 'primarySpread')).toBeLessThanOrEqual(1.1);
    expect(worst(settled, 'replicaSpread')).toBeLessThanOrEqual(1.1);
    expect(worst(settled, 'primaryMoveRatio')).toBeLessThanOrEqual(1.1);
    const own = ring.ownership(3);
    const mean = (w: number, key: 'primary' | 'replica') => {
      const nodes = ring.nodes().filter((id) => ring.weightOf(id) === w);
      return nodes.reduce((sum, id) => sum + own.get(id)![key], 0) / nodes.length;
    };
    for (const key of ['primary', 'replica'] as const) {
      expect(mean(2, key) / mean(1, key)).toBeGreaterThan(1.9);
      expect(mean(2, key) / mean(1, key)).toBeLessThan(2.1);
      expect(mean(3, key) / mean(1, key)).toBeGreaterThan(2.8);
    }
  }, 120_000);

  it('streams exactly the joining node its replicated share', () => {
    const rng = seeded(5);
    let ring = Ring.EMPTY;
    for (let n = 1; n <= 12; n++) {
      const before = ring;
      ring = joinRing(ring, name(n), { strategy: 'balanced', vnodes: 32 }, rng);
      const transfers = transfersFor(before, ring, 3);
      expect(transfers.every((t) => t.to === name(n))).toBe(true);
      expect(transferredShare(transfers)).toBeCloseTo(ring.ownership(3).get(name(n))!.replica, 9);
    }
  });
});
