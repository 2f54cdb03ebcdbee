// How many acknowledgements a write needs while ranges move (topology.ts).
// The write goes to the key's current replicas and to its p pending ones,
// and when the move finishes d current replicas leave the key's set. With
// H acknowledgements over current + pending replicas, at least H - p are on
// current replicas and at least H - d on the replicas after the move, so
// H = max(before + p, after + d) keeps a version on `before` replicas now
// and on `after` replicas once the move has finished. For a join or a
// decommission p = d = 1: Cassandra's "W + pending". Fallbacks of a sloppy
// write count for the replica they stand in for, as at any sloppy level.

import { assert } from '../../io/assert.ts';
import type { WriteReplicas } from '../ring/topology.ts';
import { quorumOf } from './consistency.ts';

/** Acknowledgements needed for `before` of the current replicas and `after` of the final ones (each at most all of them). */
export function movingQuorum(replicas: WriteReplicas, before: number, after: number): number {
  if (!(Number.isInteger(before) && before >= 1 && Number.isInteger(after) && after >= 1)) assert(false, `quorums ${before}, ${after}`);
  const { natural, pending, target } = replicas;
  if (pending.length === 0 && target === natural) return before;
  const displaced = natural.filter((node) => !target.includes(node)).length;
  return Math.max(Math.min(before, natural.length) + pending.length, Math.min(after, target.length) + displaced);
}

/** Ordinary levels: W before and after. */
export function movingWriteQuorum(replicas: WriteReplicas, w: number): number {
  return movingQuorum(replicas, w, w);
}

/** STRONG: a strict majority of the current replicas and of the final ones. */
export function movingStrongQuorum(replicas: WriteReplicas): number {
  return movingQuorum(replicas, quorumOf(replicas.natural.length), quorumOf(Math.max(1, replicas.target.length)));
}
