/**
 * hinted-handoff: a home replica is down while writes keep coming; the
 * fallback nodes that take its writes hand them over when it returns.
 *
 * Shows: sloppy quorum writes stay available with a replica down (fallbacks
 * store hints), and the hints are replayed to the replica once it is back,
 * before any read-all repair runs.
 * Cluster: 5 nodes, the `default` keyspace (N=3, lww): every key has two
 * nodes outside its home replicas to fall back to.
 * Workload: 4 clients writing and reading QUORUM and ONE keys.
 * Faults: n2 crashes at 300 ms and restarts at 1800 ms; n4 is isolated from
 * 2000 ms to 2600 ms.
 * Expectations: every check passes on every seed; over a batch of seeds the
 * marks 'hint stored' and 'hint replayed' are hit.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, eventualKeys } from './key_groups.ts';

export const hintedHandoff: Scenario = {
  name: 'hinted-handoff',
  summary: 'a replica down, then isolated, during writes: hints stored and replayed, nothing lost',
  cluster: { nodes: 5, keyspaces: [LWW_KEYSPACE] },
  workload: {
    clients: 4,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [eventualKeys('q', 8, ['QUORUM'], 2), eventualKeys('e', 6, ['ONE'])],
  },
  faults: {
    script: [
      { atMs: 300, action: 'crash', node: 1 },
      { atMs: 1800, action: 'restart', node: 1 },
      { atMs: 2000, action: 'isolate', node: 3 },
      { atMs: 2600, action: 'heal' },
    ],
  },
  durationMs: 3000,
  liveness: { settleMs: 1200, maxReadPasses: 3, afterPassMs: 300 },
  lwwUncertaintyMs: 205,
  expect: { linearizable: 'either', converged: 'pass', durability: 'pass', validity: 'pass' },
  requiredMarks: ['hint stored', 'hint replayed'],
};
