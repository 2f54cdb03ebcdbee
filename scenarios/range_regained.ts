/**
 * range-regained: a node joins and, later, is decommissioned, so ranges
 * that moved to it come back to their old owners; meanwhile keys of those
 * ranges are deleted and the tombstones purged.
 *
 * Shows: once the join has settled, each old owner drops the records of the
 * ranges it gave away (ring_change/range_cleanup.ts). Without that, an old
 * owner keeps values that were deleted while it was not a replica; when the
 * range returns, the stream merges into them and read repair and
 * anti-entropy bring the deleted values back (range-regained-no-cleanup).
 * Cluster: 4 nodes (+1 joining), the `default` keyspace (N=3, lww); a
 * 300 ms request timeout and 200 ms gossip rounds, so a ring change settles
 * in about half a second and a move takes about 2.7 s; a tombstone grace
 * period of 3 s (above that, as the grace rule requires: a move must finish
 * within it) with a full compaction every 300 ms; hint window 300 ms; a fast
 * stream.
 * Workload: 4 clients, 400 keys at QUORUM, many deletes.
 * Faults: none; the ring changes are the point: n5 joins at 200 ms (done at
 * about 3 s) and is decommissioned at 9 s, so deletes between the two have
 * their tombstones purged before the ranges return.
 * Expectations: every check passes on every seed: the durability check fails
 * on a read of a resurrected value or a final state holding one.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE } from './key_groups.ts';

export const rangeRegained: Scenario = {
  name: 'range-regained',
  summary: 'a joined node leaves again and its ranges return: the old owners dropped them, so no deleted value comes back',
  cluster: {
    nodes: 4,
    keyspaces: [LWW_KEYSPACE],
    settings: {
      engine: { tombstoneGraceMs: 3000 },
      requestTimeoutMs: 300,
      gossipIntervalMs: 200,
      hintWindowMs: 300,
      fullCompactionIntervalMs: 300,
      rangeStream: { bytesPerSec: 1 << 20, pageBytes: 4096, retryMs: 100 },
    },
    ringChanges: [
      { kind: 'join', atMs: 200 },
      { kind: 'decommission', atMs: 9000, node: 4 },
    ],
  },
  workload: {
    clients: 4,
    thinkMs: 40,
    clientTimeoutMs: 1500,
    groups: [{ keyspace: LWW_KEYSPACE.name, prefix: 'r', keys: 400, consistency: ['QUORUM'], weight: 1, mix: { read: 1, write: 2, delete: 2 }, linearizable: false }],
  },
  faults: {},
  durationMs: 12_000,
  liveness: { settleMs: 2000, maxReadPasses: 4, afterPassMs: 500 },
  lwwUncertaintyMs: 205,
  expect: { linearizable: 'either', converged: 'pass', durability: 'pass', validity: 'pass' },
  requiredMarks: ['range cleanup: records dropped', 'range stream task done'],
};

/**
 * range-regained-no-cleanup: the same run with the cleanup switched off
 * (rangeCleanup: false): the old owners keep what they gave away, and the
 * durability check must catch deleted values coming back on most seeds.
 */
export const rangeRegainedNoCleanup: Scenario = {
  ...rangeRegained,
  name: 'range-regained-no-cleanup',
  summary: 'the same without the cleanup: deleted values come back (durability must fail)',
  cluster: { ...rangeRegained.cluster, settings: { ...rangeRegained.cluster.settings, rangeCleanup: false } },
  expect: { ...rangeRegained.expect, durability: 'fail', converged: 'either' },
  minCatchRate: 0.5,
  requiredMarks: [],
};
