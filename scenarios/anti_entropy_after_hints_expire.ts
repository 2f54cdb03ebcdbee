/**
 * anti-entropy-after-hints-expire: a home replica is down longer than the
 * hint window while keys are written and deleted, nothing reads them, and
 * Merkle anti-entropy alone brings it level.
 *
 * Shows: the third repair horizon. Hinted handoff covers a replica's absence
 * only up to the hint window (hints older than it are dropped at replay);
 * read repair covers only keys that are read. Keys written while n2 was down
 * earlier than the window before it returned, and never read, reach it only
 * through scheduled Merkle exchanges: each node compares every range it
 * replicates with each other replica in turn and streams the differing keys
 * (values and tombstones) both ways.
 * Cluster: 5 nodes, the `default` keyspace (N=3, lww); a 1 s hint window;
 * one exchange every 100 ms per node (a full round over a node's 24 ranges
 * and 2 peers each takes ~5 s).
 * Workload: 4 clients writing and deleting 500 keys at ONE and QUORUM (so
 * most keys are written once or twice, and a key written while n2 was down
 * is rarely written again); no reads, and no read-all passes after healing,
 * so no read repair ever runs.
 * Faults: n2 crashes at 300 ms and restarts when the faults stop (after
 * 3000 ms): only the hints of its last second of absence are replayed.
 * Expectations: every check passes on every seed within 7 s of simulated
 * time after the faults stop; over a batch of seeds the marks 'hint stored'
 * and 'anti-entropy key received' are hit.
 *
 * no-anti-entropy-after-hints-expire: the same run with scheduled exchanges
 * disabled; the convergence check must catch the replica left behind.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE } from './key_groups.ts';

export const antiEntropyAfterHintsExpire: Scenario = {
  name: 'anti-entropy-after-hints-expire',
  summary: 'a replica down past the hint window, keys never read: Merkle anti-entropy alone converges it',
  cluster: {
    nodes: 5,
    keyspaces: [LWW_KEYSPACE],
    settings: { hintWindowMs: 1000, antiEntropy: { intervalMs: 100 } },
  },
  workload: {
    clients: 4,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [
      {
        keyspace: LWW_KEYSPACE.name,
        prefix: 'a',
        keys: 500,
        consistency: ['ONE', 'QUORUM'],
        weight: 1,
        mix: { read: 0, write: 3, delete: 1 },
        linearizable: false,
      },
    ],
  },
  faults: {
    script: [
      { atMs: 300, action: 'crash', node: 1 },
    ],
  },
  durationMs: 3000,
  liveness: { settleMs: 7000, maxReadPasses: 0, afterPassMs: 0 },
  lwwUncertaintyMs: 205,
  expect: { linearizable: 'either', converged: 'pass', durability: 'pass', validity: 'pass' },
  requiredMarks: ['hint stored', 'anti-entropy key received'],
  // ~3x the CPU of smoke per seed; `ringkv sim --seeds 1..1000` runs the long form.
};

export const noAntiEntropyAfterHintsExpire: Scenario = {
  ...antiEntropyAfterHintsExpire,
  name: 'no-anti-entropy-after-hints-expire',
  summary: 'the same with scheduled anti-entropy disabled: the convergence check catches the stale replica',
  cluster: {
    ...antiEntropyAfterHintsExpire.cluster,
    settings: { hintWindowMs: 1000, antiEntropy: { enabled: false } },
  },
  expect: { linearizable: 'either', converged: 'fail', durability: 'pass', validity: 'pass' },
  minCatchRate: 0.9,
  requiredMarks: ['hint stored'],
};
