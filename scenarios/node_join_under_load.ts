/**
 * node-join-under-load: a fifth node joins a running 4-node cluster while
 * clients keep reading and writing, and nodes crash, the joining node and
 * the nodes streaming to it among them.
 *
 * Shows: the joining node takes tokens by balanced allocation, is announced
 * 'joining' (writes reach it as a pending replica, reads do not), pulls the
 * ranges it gains from the replicas it displaces (throttled, checkpointed:
 * a crash of either side resumes), and becomes 'normal'; no acknowledged
 * write is lost, the replicas of the final ring converge, and STRONG keys
 * stay linearizable across the move.
 * Cluster: 4 nodes (+1), the `default` keyspace (N=3, lww), 8 vnodes.
 * Workload: 5 clients; STRONG keys, QUORUM keys, ONE/ALL keys.
 * Faults: a crash every ~700 ms (mean), at most one node down, ~300 ms each.
 * Expectations: every check passes on every seed.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, eventualKeys, strongKeys } from './key_groups.ts';

export const nodeJoinUnderLoad: Scenario = {
  name: 'node-join-under-load',
  summary: 'a node joins 4 under load and crashes (joiner and sources included): nothing lost, STRONG linearizable',
  cluster: {
    nodes: 4,
    keyspaces: [LWW_KEYSPACE],
    settings: { rangeStream: { bytesPerSec: 2048, pageBytes: 512, retryMs: 100 } },
    ringChanges: [{ kind: 'join', atMs: 300 }],
  },
  workload: {
    clients: 5,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [strongKeys(4, 2), eventualKeys('q', 40, ['QUORUM'], 2), eventualKeys('e', 40, ['ONE', 'ALL'])],
  },
  faults: {
    crashes: { meanIntervalMs: 700, meanDownMs: 300, maxDown: 1 },
  },
  durationMs: 3500,
  liveness: { settleMs: 1200, maxReadPasses: 3, afterPassMs: 300 },
  lwwUncertaintyMs: 205,
  expect: { linearizable: 'pass', converged: 'pass', durability: 'pass', validity: 'pass' },
  ciSeeds: 12,
  requiredMarks: ['write to pending replicas', 'range stream task done', 'range stream page served'],
};
