/**
 * replace-dead-node: one node of a running 5-node cluster dies for good (its
 * disk is gone) and a new node takes its tokens, while clients keep reading
 * and writing and other nodes crash, the replacement and its sources among
 * them.
 *
 * Shows: the dead node is 'leaving' and the replacement 'joining' with the
 * same tokens (writes reach the replacement as a pending replica, reads stay
 * with the survivors); the replacement pulls the dead node's ranges from
 * every surviving replica and merges them (whatever a quorum held, one of
 * them holds), then the dead node is 'removed' and the replacement 'normal':
 * every key has N copies again, no acknowledged write is lost, replicas
 * converge, and STRONG keys stay linearizable.
 * Cluster: 5 nodes, the `default` keyspace (N=3, lww), 8 vnodes.
 * Workload: 5 clients; STRONG keys, QUORUM keys, ONE/ALL keys.
 * Faults: a crash every ~900 ms (mean), at most one node down besides the
 * dead one, ~300 ms each.
 * Expectations: every check passes on every seed.
 */

import type { Scenario } from '../sim/scenario.ts';
import { ringChangeCluster, ringChangeLoad } from './ring_change_load.ts';

export const replaceDeadNode: Scenario = {
  name: 'replace-dead-node',
  summary: 'a node dies for good under load and a new node takes its tokens, streamed from survivors: nothing lost',
  cluster: ringChangeCluster(5, [{ kind: 'replace', atMs: 300, node: 2, deadForMs: 400 }]),
  ...ringChangeLoad(),
  faults: {
    crashes: { meanIntervalMs: 900, meanDownMs: 300, maxDown: 2 },
  },
};
