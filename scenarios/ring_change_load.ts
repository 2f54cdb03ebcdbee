// What the ring-change scenarios (node-join-under-load,
// decommission-under-load, replace-dead-node) share: the load that runs
// while a range moves, a slow stream (so crashes land mid-move), the
// liveness phase, and the coverage marks that prove a move happened.

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, eventualKeys, strongKeys } from './key_groups.ts';

type Cluster = Scenario['cluster'];

/** The cluster of a ring-change scenario: `nodes` nodes, the lww keyspace, a stream slow enough to be crashed into. */
export function ringChangeCluster(nodes: number, ringChanges: NonNullable<Cluster['ringChanges']>): Cluster {
  return {
    nodes,
    keyspaces: [LWW_KEYSPACE],
    settings: { rangeStream: { bytesPerSec: 2048, pageBytes: 512, retryMs: 100 } },
    ringChanges,
  };
}

/** Scenario fields every ring-change scenario has alike (fresh objects per scenario). */
export function ringChangeLoad() {
  return {
    workload: {
      clients: 5,
      thinkMs: 10,
      clientTimeoutMs: 1500,
      groups: [strongKeys(4, 2), eventualKeys('q', 40, ['QUORUM'], 2), eventualKeys('e', 40, ['ONE', 'ALL'])],
    },
    durationMs: 3500,
    liveness: { settleMs: 1200, maxReadPasses: 3, afterPassMs: 300 },
    lwwUncertaintyMs: 205,
    expect: { linearizable: 'pass', converged: 'pass', durability: 'pass', validity: 'pass' },
    requiredMarks: ['write to pending replicas', 'range stream task done', 'range stream page served'],
  } satisfies Partial<Scenario>;
}
