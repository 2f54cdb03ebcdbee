// Whom a node gossips with in one round (Cassandra's Gossiper.run):
//
// 1. `fanout` distinct members it believes up, at random;
// 2. with probability unreachable / (live + 1), one member it does not
//    believe up (suspected, never yet heard alive, left or removed), so a
//    healed partition or a recovered node is found again without waiting
//    for anyone else: two halves of a split cluster each see the other as
//    unreachable and keep probing it, which is what merges them back;
// 3. a seed, always while it knows no live member (bootstrap, or an isolated
//    node), and otherwise with probability seeds / (live + unreachable) when
//    no seed was chosen above or fewer members are live than there are
//    seeds. Every node talking to the seeds now and then is what keeps
//    disjoint groups of nodes from each forming a cluster of their own.

import { AssertionError } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import type { Rng } from '../../io/rng.ts';

export interface TargetCandidates {
  /** Members believed up, this node excluded. */
  readonly live: readonly NodeId[];
  /** Members known but not believed up, this node excluded. */
  readonly unreachable: readonly NodeId[];
  /** Seed nodes, this node excluded. */
  readonly seeds: readonly NodeId[];
}

/** Up to `count` distinct items drawn at random (a partial Fisher–Yates over a copy). */
export function sampleDistinct<T>(rng: Rng, items: readonly T[], count: number): T[] {
  if (!(Number.isInteger(count) && count >= 0)) throw new AssertionError(`sample of ${count}`);
  const n = Math.min(count, items.length);
  if (n === 0) return [];
  if (n === 1) return [items[rng.int(items.length)]!];
  const pool = items.slice();
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(pool.length - i);
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  return pool.slice(0, n);
}

/** The peers to send a SYN to this round, distinct. */
export function chooseGossipTargets(rng: Rng, candidates: TargetCandidates, fanout: number): NodeId[] {
  if (!(Number.isInteger(fanout) && fanout >= 1)) throw new AssertionError(`fanout ${fanout}`);
  const { live, unreachable, seeds } = candidates;
  const targets = sampleDistinct(rng, live, fanout);
  if (unreachable.length > 0 && rng.chance(unreachable.length / (live.length + 1))) {
    const probe = unreachable[rng.int(unreachable.length)]!;
    if (!targets.includes(probe)) targets.push(probe);
  }
  if (seeds.length > 0) {
    const seedChosen = targets.some((t) => seeds.includes(t));
    if (!seedChosen || live.length < seeds.length) {
      const known = live.length + unreachable.length;
      if (live.length === 0 || rng.chance(seeds.length / known)) {
        const seed = seeds[rng.int(seeds.length)]!;
        if (!targets.includes(seed)) targets.push(seed);
      }
    }
  }
  return targets;
}
