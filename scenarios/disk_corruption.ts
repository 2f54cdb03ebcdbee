/**
 * disk-corruption: one node's disk rots (bits flip at rest) and the node
 * crashes now and then, so it recovers from the damaged files.
 *
 * Shows: checksums turn rot into detected corruption, never into bytes a
 * client reads; the healthy replicas keep every acknowledged write, and
 * repair rewrites what the bad disk lost.
 * Cluster: 3 nodes, the `default` keyspace (N=3, lww). A node that cannot
 * open its disk at all (rot in CURRENT or the manifest) is lost for the rest
 * of the run, the fault model's permanent loss of a node; the run's fault
 * log says when that happened.
 * Workload: 4 clients; STRONG keys (linearizability checked), QUORUM keys.
 * Faults: on n1 only, 2 bits flip every ~150 ms (mean); n1 crashes at 500,
 * 1100 and 1700 ms and restarts 100 ms later each time.
 * Expectations: every check passes on every seed (one bad disk of three is
 * within what N=3 with quorum writes tolerates). A replica whose log or
 * tables rotted must not count towards a STRONG quorum until repaired; a
 * lost n1 is no replica any more, so convergence is judged over n2 and n3.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, eventualKeys, strongKeys } from './key_groups.ts';

export const diskCorruption: Scenario = {
  name: 'disk-corruption',
  summary: 'bit rot on one disk plus crashes of that node: no corrupt read, nothing lost, replicas converge',
  cluster: { nodes: 3, keyspaces: [LWW_KEYSPACE], onOpenFailure: 'lose' },
  workload: {
    clients: 4,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [strongKeys(3, 1), eventualKeys('q', 6, ['QUORUM'])],
  },
  faults: {
    bitFlips: { meanIntervalMs: 150, bits: 2, nodes: [0] },
    script: [
      { atMs: 500, action: 'crash', node: 0 },
      { atMs: 600, action: 'restart', node: 0 },
      { atMs: 1100, action: 'crash', node: 0 },
      { atMs: 1200, action: 'restart', node: 0 },
      { atMs: 1700, action: 'crash', node: 0 },
      { atMs: 1800, action: 'restart', node: 0 },
    ],
  },
  durationMs: 2000,
  liveness: { settleMs: 1200, maxReadPasses: 3, afterPassMs: 300 },
  lwwUncertaintyMs: 205,
  expect: { linearizable: 'pass', converged: 'pass', durability: 'pass', validity: 'pass' },
};
