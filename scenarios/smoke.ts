/**
 * smoke: a healthy three-node cluster, no faults at all.
 *
 * Shows: the whole pipeline (clients, coordinators, replication, the
 * liveness phase's read-all pass, every checker) on the easiest possible run.
 * Cluster: 3 nodes, 8 vnodes each, the `default` keyspace (N=3, lww).
 * Workload: 4 clients; keys `s*` used only with STRONG (checked for
 * linearizability), keys `q*` with QUORUM reads and writes, keys `e*` with
 * ONE and ALL.
 * Faults: none.
 * Expectations: every check passes on every seed.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, eventualKeys, strongKeys } from './key_groups.ts';

export const smoke: Scenario = {
  name: 'smoke',
  summary: 'healthy 3-node cluster, no faults: every check passes',
  cluster: { nodes: 3, keyspaces: [LWW_KEYSPACE] },
  workload: {
    clients: 4,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [
      strongKeys(3, 2),
      eventualKeys('q', 4, ['QUORUM']),
      eventualKeys('e', 4, ['ONE', 'ALL']),
    ],
  },
  faults: {},
  durationMs: 1000,
  liveness: { settleMs: 300, maxReadPasses: 3, afterPassMs: 300 },
  lwwUncertaintyMs: 2,
  expect: { linearizable: 'pass', converged: 'pass', durability: 'pass', validity: 'pass' },
};
