/**
 * disk-corruption: one node's disk rots (bits flip at rest) and the node
 * crashes now and then, so it recovers from the damaged files.
 *
 * Shows: checksums turn rot into detected corruption, never into bytes a
 * client reads; the healthy replicas keep every acknowledged write, and
 * repair rewrites what the bad disk lost.
 * Cluster: 3 nodes, the `default` keyspace (N=3, lww). A node that cannot
 * open its disk at all is replaced by an empty one (as an operator would)
 * and refilled by repair; the run's fault log says when that happened.
 * Workload: 4 clients; STRONG keys (linearizability checked), QUORUM keys.
 * Faults: on n1 only, 1-3 bits flip every ~150 ms (mean); n1 crashes every
 * ~600 ms (mean) and restarts ~100 ms later.
 * Expectations: every check passes on every seed (one bad disk of three is
 * within what N=3 with quorum writes tolerates).
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, eventualKeys, strongKeys } from './key_groups.ts';

export const diskCorruption: Scenario = {
  name: 'disk-corruption',
  summary: 'bit rot on one disk plus crashes of that node: no corrupt read, nothing lost',
  cluster: { nodes: 3, keyspaces: [LWW_KEYSPACE], onOpenFailure: 'wipe' },
  workload: {
    clients: 4,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [strongKeys(3, 1), eventualKeys('q', 6, ['QUORUM'])],
  },
  faults: {
    bitFlips: { meanIntervalMs: 150, bits: 2, nodes: [0] },
    script: [
      { atMs: 600, action: 'crash', node: 0 },
      { atMs: 700, action: 'restart', node: 0 },
      { atMs: 1300, action: 'crash', node: 0 },
      { atMs: 1400, action: 'restart', node: 0 },
      { atMs: 2100, action: 'crash', node: 0 },
      { atMs: 2200, action: 'restart', node: 0 },
    ],
  },
  durationMs: 3000,
  liveness: { settleMs: 500, maxReadPasses: 3 },
  lwwUncertaintyMs: 205,
  expect: { linearizable: 'pass', converged: 'pass', durability: 'pass', validity: 'pass' },
};
