// Choosing a joining node's tokens.
//
// Random tokens (Dynamo, Cassandra before 3.0) balance only on average: with
// v vnodes a node's share deviates by about 1/sqrt(v) of the mean, so the
// least and most loaded of 100 nodes differ by tens of percent at v = 16.
//
// The balanced allocator follows Cassandra 4's replication-aware allocator,
// simplified. When a node of weight w joins, every node's target becomes its
// weight's share of the total weight W: w_u / W of the ring as primary owner
// and m * w_u / W as a replica, for m replicas per key. The objective is the
// sum over nodes of the squared relative deviations of both shares from
// target, plus, per token, the squared relative deviation of the token's own
// shares from its node's per-token target, divided by the node's token count
// squared (even tokens keep later splits even; the divisor keeps it second).
//
// Tokens are placed one at a time, greedily. Every existing range is a
// candidate; placing a token inside it moves part of the range, width x, to
// the joining node. That changes only the primary share of the range's owner
// and the replicated shares of the few tokens whose replica walk crosses the
// range (a walk stops after m distinct nodes), so a candidate's effect is
// computed locally, in O(m^2). Those shares are affine in x, the objective is
// quadratic in x, and the best x has a closed form: unlike Cassandra, which
// always splits at the midpoint, a token takes just what the balance wants.
// The joining node counts as if its unplaced tokens already held ideal
// shares, so its own term judges the placed ones rather than pulling every
// early placement toward it (Cassandra's device too). Candidates are scored
// lazily (see BalancedAllocation.run).
//
// While the ring has n or fewer nodes everyone replicates everything; the
// allocator then balances for m = nodes (one replica fewer than there will
// be nodes), which spreads each node's tokens between all the others so the
// ring is ready for the joins to come. Differences from Cassandra besides the
// split point: weights are explicit instead of implied by token counts,
// primary and replicated shares are balanced together, a range may be split
// more than once (a node may bring more vnodes than the ring has tokens), and
// there is no rack awareness.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import type { Rng } from '../../io/rng.ts';
import { BalancedAllocation } from './balanced_allocation.ts';
import type { Ring } from './ring.ts';
import { RING_SIZE } from './token_range.ts';

export type AllocationStrategy = 'random' | 'balanced';

export interface JoinPlan {
  readonly strategy: AllocationStrategy;
  readonly vnodes: number;
  /** Relative capacity; a node of weight 2 should own twice the share. Default 1. */
  readonly weight?: number;
  /** Replication factor the balance is measured for. Default 3. */
  readonly replicas?: number;
}

/** Vnodes for a node of this weight when a weight-1 node gets `vnodesPerWeight`. */
export function vnodesForWeight(weight: number, vnodesPerWeight: number): number {
  assert(Number.isFinite(weight) && weight > 0, `weight ${weight}`);
  assert(Number.isInteger(vnodesPerWeight) && vnodesPerWeight > 0, `vnodes ${vnodesPerWeight}`);
  return Math.max(1, Math.round(weight * vnodesPerWeight));
}

/** A uniformly random token in [0, 2^64). */
export function randomToken(rng: Rng): bigint {
  let t = 0n;
  for (let i = 0; i < 4; i++) t = (t << 16n) | BigInt(rng.int(0x10000));
  return t;
}

/** `count` distinct random tokens, none already on the ring. */
export function randomTokens(ring: Ring, count: number, rng: Rng): bigint[] {
  assert(Number.isInteger(count) && count > 0, `token count ${count}`);
  const taken = new Set(ring.tokens());
  const out: bigint[] = [];
  while (out.length < count) {
    const t = randomToken(rng);
    if (taken.has(t)) continue;
    taken.add(t);
    out.push(t);
  }
  return out;
}

/** `count` tokens evenly spaced from a random offset: the first node's tokens. */
export function evenlySpacedTokens(count: number, rng: Rng): bigint[] {
  assert(Number.isInteger(count) && count > 0, `token count ${count}`);
  const offset = randomToken(rng);
  const step = RING_SIZE / BigInt(count);
  return Array.from({ length: count }, (_, i) => (offset + BigInt(i) * step) % RING_SIZE);
}

/**
 * Tokens for a node of weight `weight` joining `ring` with `vnodes` tokens,
 * chosen to balance primary and n-replica ownership (see the file comment).
 * Deterministic for a given ring; `rng` only places the first node's tokens.
 */
export function balancedTokens(ring: Ring, vnodes: number, weight: number, replicas: number, rng: Rng): bigint[] {
  assert(Number.isInteger(replicas) && replicas >= 1, `replicas ${replicas}`);
  assert(Number.isFinite(weight) && weight > 0, `weight ${weight}`);
  if (ring.tokenCount === 0) return evenlySpacedTokens(vnodes, rng);
  // While every node holds every key (n or fewer nodes), replicated shares
  // are all 1; balancing as if one replica fewer than the nodes spreads each
  // node's tokens among all the others, ready for the nodes still to come.
  const m = Math.min(replicas, ring.nodeCount);
  return new BalancedAllocation(ring, weight, vnodes, m).run();
}

/** `ring` with `node` joined under `plan`. */
export function joinRing(ring: Ring, node: NodeId, plan: JoinPlan, rng: Rng): Ring {
  const weight = plan.weight ?? 1;
  const tokens =
    plan.strategy === 'random'
      ? randomTokens(ring, plan.vnodes, rng)
      : balancedTokens(ring, plan.vnodes, weight, plan.replicas ?? 3, rng);
  return ring.withNode(node, tokens, weight);
}
