/**
 * rolling-restart: every node is restarted in turn under load, the way an
 * operator upgrades a cluster.
 *
 * Shows: a restarted node comes back with a higher gossip generation (its
 * peers see it restart, not a stale incarnation), is judged up again by
 * gossip and by its peers' request layers, gets the writes it missed through
 * hints, and no acknowledged write is lost; STRONG keys stay linearizable
 * throughout, since only one replica is ever down.
 * Cluster: 5 nodes, the `default` keyspace (N=3, lww), 500 ms gossip rounds.
 * Workload: 5 clients; STRONG keys (linearizability checked), QUORUM keys,
 * ONE/ALL keys.
 * Faults: node i (i = 0..4) crashes at 0.4 + 0.8·i s and restarts 0.5 s
 * later; nothing else.
 * Expectations: every check passes on every seed.
 */

import type { ScriptedFault } from '../sim/fault_schedule.ts';
import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, eventualKeys, strongKeys } from './key_groups.ts';

const NODES = 5;
const script: ScriptedFault[] = Array.from({ length: NODES }, (_, i): ScriptedFault[] => [
  { atMs: 400 + 800 * i, action: 'crash', node: i },
  { atMs: 900 + 800 * i, action: 'restart', node: i },
]).flat();

export const rollingRestart: Scenario = {
  name: 'rolling-restart',
  summary: 'every node restarted in turn under load: nothing lost, converged, STRONG linearizable',
  cluster: { nodes: NODES, keyspaces: [LWW_KEYSPACE], settings: { gossipIntervalMs: 500 } },
  workload: {
    clients: 5,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [strongKeys(3, 2), eventualKeys('q', 4, ['QUORUM']), eventualKeys('e', 4, ['ONE', 'ALL'])],
  },
  faults: { script },
  durationMs: 400 + 800 * NODES + 300,
  liveness: { settleMs: 1200, maxReadPasses: 3, afterPassMs: 300 },
  lwwUncertaintyMs: 205,
  expect: { linearizable: 'pass', converged: 'pass', durability: 'pass', validity: 'pass' },
  requiredMarks: ['hint replayed', 'gossip: peer up'],
};
