/**
 * failure-detection: a node crashes for good in a store cluster on jittery
 * links; every peer must suspect it, and nobody else.
 *
 * Shows: phi accrual over gossiped heartbeats takes the crashed node out of
 * every peer's liveness view (coordinators stop waiting on it and write hints
 * for it) while delays, loss, duplicates and reordering raise no false
 * suspicion of the live nodes; after the node returns, its hints bring it up
 * to date. Detection time with 1 s heartbeats at 10 and 100 nodes, and false
 * suspicions over an hour of steady state, are measured by
 * gossip_scenarios.test.ts (core/membership/gossip_measurements.testkit.ts).
 * Cluster: 6 nodes, the `default` keyspace (N=3, lww), 250 ms gossip rounds.
 * Workload: 4 clients; STRONG keys (linearizability checked), QUORUM keys.
 * Faults: jittery links (1-300 ms delays, mean 8 ms; 1% loss, duplicates,
 * reordering); n4 crashes at 1 s and restarts only in the liveness phase.
 * Expectations: every check passes on every seed; the batch must see gossip
 * judge a peer down.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, eventualKeys, strongKeys } from './key_groups.ts';

export const failureDetection: Scenario = {
  name: 'failure-detection',
  summary: 'a node crashes for good on jittery links: gossip suspects it everywhere, nobody else; every check passes',
  cluster: { nodes: 6, keyspaces: [LWW_KEYSPACE], settings: { gossipIntervalMs: 250 } },
  workload: {
    clients: 4,
    thinkMs: 20,
    clientTimeoutMs: 1500,
    groups: [strongKeys(3), eventualKeys('q', 6, ['QUORUM'])],
  },
  faults: {
    network: {
      oneWayDelayMinMs: 1,
      oneWayDelayMeanMs: 8,
      oneWayDelayMaxMs: 300,
      packetLossProbability: 0.01,
      packetReplayProbability: 0.005,
      packetReorderProbability: 0.01,
    },
    script: [{ atMs: 1000, action: 'crash', node: 3 }],
  },
  durationMs: 4000,
  liveness: { settleMs: 1500, maxReadPasses: 3, afterPassMs: 300 },
  lwwUncertaintyMs: 2,
  expect: { linearizable: 'pass', converged: 'pass', durability: 'pass', validity: 'pass' },
  requiredMarks: ['gossip: peer down', 'hint stored'],
};
