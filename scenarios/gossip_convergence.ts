/**
 * gossip-convergence: gossip in a running store cluster; one node cut off and
 * back.
 *
 * Shows: every node learns every other by gossip from the configured seeds,
 * judges a node cut off by a partition down (phi accrual over its
 * heartbeats), and up again after the heal, and the request path acting on
 * that view (sloppy quorums, hints, read repair) loses nothing and converges.
 * The rounds a state change takes to reach 10, 100 and 1,000 gossiping nodes
 * are measured by gossip_scenarios.test.ts (core/membership/
 * gossip_measurements.testkit.ts).
 * Cluster: 6 nodes, the `default` keyspace (N=3, lww), 200 ms gossip rounds,
 * three seeds.
 * Workload: 4 clients, QUORUM keys and ONE/ALL keys.
 * Faults: n3 isolated from 0.8 s to 2.8 s; small packet loss throughout.
 * Expectations: every check passes on every seed; the batch must see gossip
 * judge a peer down and up.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, eventualKeys } from './key_groups.ts';

export const gossipConvergence: Scenario = {
  name: 'gossip-convergence',
  summary: 'gossip from three seeds in a 6-node store cluster; a node cut off is judged down, then up: every check passes',
  cluster: { nodes: 6, keyspaces: [LWW_KEYSPACE], settings: { gossipIntervalMs: 200, seeds: ['n1', 'n2', 'n3'] } },
  workload: {
    clients: 4,
    thinkMs: 20,
    clientTimeoutMs: 1500,
    groups: [eventualKeys('q', 6, ['QUORUM'], 2), eventualKeys('e', 6, ['ONE', 'ALL'])],
  },
  faults: {
    network: { packetLossProbability: 0.01 },
    script: [
      { atMs: 800, action: 'isolate', node: 2 },
      { atMs: 2800, action: 'heal' },
    ],
  },
  durationMs: 3500,
  liveness: { settleMs: 1200, maxReadPasses: 3, afterPassMs: 300 },
  lwwUncertaintyMs: 2,
  expect: { linearizable: 'either', converged: 'pass', durability: 'pass', validity: 'pass' },
  requiredMarks: ['gossip: peer down', 'gossip: peer up'],
};
