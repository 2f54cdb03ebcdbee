/**
 * partition-heal: random network partitions come and go, then heal for good.
 *
 * Shows: sloppy quorums keep ordinary writes available on both sides of a
 * partition, STRONG refuses rather than answer stale, and once the network
 * heals, hints and read repair bring every replica to the same versions
 * without losing an acknowledged write.
 * Cluster: 5 nodes, the `default` keyspace (N=3, lww), clocks in sync.
 * Workload: 5 clients; STRONG keys (linearizability checked), QUORUM keys,
 * ONE/ALL keys.
 * Faults: every ~300 ms (mean) a partition: a random split, one node
 * isolated, or a one-way cut, lasting ~400 ms (mean); small packet loss.
 * Expectations: every check passes on every seed.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, eventualKeys, strongKeys } from './key_groups.ts';

export const partitionHeal: Scenario = {
  name: 'partition-heal',
  summary: 'random partitions (splits, isolation, one-way) then heal: every check passes',
  cluster: { nodes: 5, keyspaces: [LWW_KEYSPACE] },
  workload: {
    clients: 5,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [strongKeys(3, 2), eventualKeys('q', 4, ['QUORUM']), eventualKeys('e', 4, ['ONE', 'ALL'])],
  },
  faults: {
    network: { packetLossProbability: 0.01 },
    partitions: { meanIntervalMs: 300, meanDurationMs: 400, kinds: ['split', 'isolate', 'one-way'] },
  },
  durationMs: 3000,
  liveness: { settleMs: 1200, maxReadPasses: 3, afterPassMs: 300 },
  lwwUncertaintyMs: 2,
  expect: { linearizable: 'pass', converged: 'pass', durability: 'pass', validity: 'pass' },
};
