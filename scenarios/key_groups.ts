// The keyspaces and key groups scenarios build their workloads from.

import { DEFAULT_KEYSPACE, type KeyspaceConfig } from '../core/node.ts';
import type { ConsistencyLevel } from '../core/replication/consistency.ts';
import type { KeyGroup } from '../sim/workload.ts';

/** `default`: N=3, QUORUM/QUORUM, lww. */
export const LWW_KEYSPACE: KeyspaceConfig = DEFAULT_KEYSPACE;

/** `carts`: N=3, QUORUM/QUORUM, siblings (Riak-style shopping carts). */
export const SIBLINGS_KEYSPACE: KeyspaceConfig = { ...DEFAULT_KEYSPACE, name: 'carts', conflictMode: 'siblings' };

const MIX = { read: 2, write: 2, delete: 1 };

/** Keys `s*` of `default`, used only with STRONG: the linearizability check covers them. */
export function strongKeys(keys: number, weight = 1): KeyGroup {
  return { keyspace: LWW_KEYSPACE.name, prefix: 's', keys, consistency: ['STRONG'], weight, mix: MIX, linearizable: true };
}

/** Keys of `default` with ordinary levels; not checked for linearizability (they need not be). */
export function eventualKeys(prefix: string, keys: number, consistency: ConsistencyLevel[], weight = 1): KeyGroup {
  return { keyspace: LWW_KEYSPACE.name, prefix, keys, consistency, weight, mix: MIX, linearizable: false };
}

/** Keys of `carts`: concurrent writers make siblings; a write carries the context of the client's last read with `contextProbability`. */
export function siblingKeys(keys: number, consistency: ConsistencyLevel[], contextProbability: number, weight = 1): KeyGroup {
  return { keyspace: SIBLINGS_KEYSPACE.name, prefix: 'c', keys, consistency, weight, mix: { read: 3, write: 3, delete: 1 }, contextProbability, linearizable: false };
}
