/**
 * decommission-under-load: one node of a running 5-node cluster is
 * decommissioned while clients keep reading and writing, and nodes crash,
 * the leaving node and the new owners of its ranges among them.
 *
 * Shows: the leaving node is announced 'leaving' (it keeps serving reads;
 * writes also reach the new owners of its ranges as pending replicas), each
 * new owner pulls the ranges it gains from it (throttled, checkpointed: a
 * crash of either side resumes), and then it is 'left' and shut down; no
 * acknowledged write is lost, the replicas of the final ring converge, and
 * STRONG keys stay linearizable.
 * Cluster: 5 nodes (-1), the `default` keyspace (N=3, lww), 8 vnodes.
 * Workload: 5 clients; STRONG keys, QUORUM keys, ONE/ALL keys.
 * Faults: a crash every ~700 ms (mean), at most one node down, ~300 ms each.
 * Expectations: every check passes on every seed.
 */

import type { Scenario } from '../sim/scenario.ts';
import { ringChangeCluster, ringChangeLoad } from './ring_change_load.ts';

export const decommissionUnderLoad: Scenario = {
  name: 'decommission-under-load',
  summary: 'one of 5 nodes is decommissioned under load and crashes (leaver and receivers included): nothing lost',
  cluster: ringChangeCluster(5, [{ kind: 'decommission', atMs: 300, node: 1 }]),
  ...ringChangeLoad(),
  faults: {
    crashes: { meanIntervalMs: 700, meanDownMs: 300, maxDown: 1 },
  },
};
