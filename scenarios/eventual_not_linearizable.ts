/**
 * eventual-not-linearizable: reads and writes at ONE while the network
 * partitions, judged by the linearizability checker anyway.
 *
 * Shows: the linearizability checker can fail. ONE is eventual consistency:
 * a write acknowledged by one replica on one side of a partition is not seen
 * by a read at ONE on the other side, so a read returns an older value after
 * a newer write completed, which no linearization explains. The same run
 * still converges, loses nothing and reads nothing invalid: eventual
 * consistency is not broken consistency.
 * Cluster: 3 nodes, the `default` keyspace (N=3, lww).
 * Workload: 4 clients on 2 keys, everything at ONE, the keys checked for
 * linearizability.
 * Faults: a random node isolated every ~250 ms (mean), for ~400 ms.
 * Expectations: linearizability must fail on most seeds; convergence,
 * durability and validity pass on every seed.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE } from './key_groups.ts';

export const eventualNotLinearizable: Scenario = {
  name: 'eventual-not-linearizable',
  summary: 'ONE under partitions: the linearizability check must report a violation',
  cluster: { nodes: 3, keyspaces: [LWW_KEYSPACE] },
  workload: {
    clients: 4,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [{ keyspace: LWW_KEYSPACE.name, prefix: 'o', keys: 2, consistency: ['ONE'], weight: 1, mix: { read: 3, write: 2, delete: 1 }, linearizable: true }],
  },
  faults: { partitions: { meanIntervalMs: 250, meanDurationMs: 400, kinds: ['isolate'] } },
  durationMs: 1500,
  liveness: { settleMs: 1200, maxReadPasses: 3, afterPassMs: 300 },
  lwwUncertaintyMs: 2,
  expect: { linearizable: 'fail', converged: 'pass', durability: 'pass', validity: 'pass' },
  minCatchRate: 0.8,
};
