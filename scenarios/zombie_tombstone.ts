/**
 * zombie-tombstone: a replica is away longer than the tombstone grace period
 * while its keys are deleted; deleted values must not come back with it.
 *
 * Shows: the live replicas purge tombstones once the grace period has passed
 * (a full compaction every 400 ms, and reads hide expired records), so the
 * returning node's old values would be the only copies left: merged back by
 * read repair they would resurrect deleted keys. The node knows it was last
 * alive too long ago (core/replication/life_record.ts), refuses to serve,
 * gossips so, wipes its replica data and streams it back from the others
 * (replica_rebuild.ts) before serving again.
 * Cluster: 4 nodes, the `default` keyspace (N=3, lww); tombstone grace
 * period 1 s, hint window 400 ms (hints must expire before the tombstones
 * they carry could be purged), rebuild at open.
 * Workload: 4 clients, 16 keys at QUORUM and ALL, many deletes.
 * Faults: n1 crashes at 1 s and comes back only in the liveness phase, 3 s
 * later.
 * Expectations: every check passes on every seed: the durability check fails
 * on a read of a resurrected value or a final state holding one (an
 * acknowledged delete undone). The same run with the refusal switched off
 * (zombie-tombstone-unguarded) must fail it on most seeds.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE } from './key_groups.ts';

export const zombieTombstone: Scenario = {
  name: 'zombie-tombstone',
  summary: 'a replica away longer than the tombstone grace period is rebuilt before it serves: no deleted value returns',
  cluster: {
    nodes: 4,
    keyspaces: [LWW_KEYSPACE],
    settings: {
      engine: { tombstoneGraceMs: 1000 },
      hintWindowMs: 400,
      autoRebuild: true,
      lastAliveIntervalMs: 100,
      fullCompactionIntervalMs: 400,
    },
  },
  workload: {
    clients: 4,
    thinkMs: 40,
    clientTimeoutMs: 1500,
    groups: [{ keyspace: LWW_KEYSPACE.name, prefix: 'z', keys: 16, consistency: ['QUORUM', 'ALL'], weight: 1, mix: { read: 1, write: 2, delete: 2 }, linearizable: false }],
  },
  faults: { script: [{ atMs: 1000, action: 'crash', node: 0 }] },
  durationMs: 4000,
  liveness: { settleMs: 2500, maxReadPasses: 4, afterPassMs: 500 },
  lwwUncertaintyMs: 205,
  expect: { linearizable: 'either', converged: 'pass', durability: 'pass', validity: 'pass' },
  requiredMarks: ['needs rebuild at open', 'rebuild finished'],
};

/**
 * zombie-tombstone-unguarded: the same run with the refusal switched off
 * (refuseAfterGrace: false): the returning node serves its stale data at once,
 * read repair spreads it, and the durability check must catch acknowledged
 * deletes undone on most seeds.
 */
export const zombieTombstoneUnguarded: Scenario = {
  ...zombieTombstone,
  name: 'zombie-tombstone-unguarded',
  summary: 'the same without the refusal: deleted values come back (durability must fail)',
  cluster: { ...zombieTombstone.cluster, settings: { ...zombieTombstone.cluster.settings, refuseAfterGrace: false } },
  expect: { ...zombieTombstone.expect, durability: 'fail', converged: 'either' },
  minCatchRate: 0.5,
  requiredMarks: [],
};
