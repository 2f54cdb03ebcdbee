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
import { ringChangeCluster, ringChangeLoad } from './ring_change_load.ts';

export const nodeJoinUnderLoad: Scenario = {
  name: 'node-join-under-load',
  summary: 'a node joins 4 under load and crashes (joiner and sources included): nothing lost, STRONG linearizable',
  cluster: ringChangeCluster(4, [{ kind: 'join', atMs: 300 }]),
  ...ringChangeLoad(),
  faults: {
    crashes: { meanIntervalMs: 700, meanDownMs: 300, maxDown: 1 },
  },
};
