/**
 * read-repair: a replica misses writes while cut off, and reads repair it.
 *
 * Shows: with no fallback node to hold hints (3 nodes, N=3: every node is a
 * home replica of every key), a replica that was isolated during writes is
 * brought up to date by read repair: reads at QUORUM and ALL send the newest
 * version to the replicas that answered with an older one.
 * Cluster: 3 nodes, the `default` keyspace (N=3, lww).
 * Workload: 4 clients; writes at ONE and QUORUM, reads at QUORUM and ALL.
 * Faults: n3 is isolated from 200 ms to 1600 ms, n2 from 1800 ms to 2600 ms.
 * Expectations: every check passes on every seed; over a batch of seeds the
 * marks 'read repair sent' and 'read repair applied' are hit.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE } from './key_groups.ts';

export const readRepair: Scenario = {
  name: 'read-repair',
  summary: 'a replica isolated during writes, repaired by reads: every replica converges',
  cluster: { nodes: 3, keyspaces: [LWW_KEYSPACE] },
  workload: {
    clients: 4,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [
      {
        keyspace: LWW_KEYSPACE.name,
        prefix: 'w',
        keys: 6,
        consistency: ['ONE', 'QUORUM'],
        readConsistency: ['QUORUM', 'ALL'],
        weight: 1,
        mix: { read: 2, write: 2, delete: 1 },
        linearizable: false,
      },
    ],
  },
  faults: {
    script: [
      { atMs: 200, action: 'isolate', node: 2 },
      { atMs: 1600, action: 'heal' },
      { atMs: 1800, action: 'isolate', node: 1 },
      { atMs: 2600, action: 'heal' },
    ],
  },
  durationMs: 3000,
  liveness: { settleMs: 1200, maxReadPasses: 3, afterPassMs: 300 },
  lwwUncertaintyMs: 2,
  expect: { linearizable: 'either', converged: 'pass', durability: 'pass', validity: 'pass' },
  requiredMarks: ['read repair sent', 'read repair applied'],
};
