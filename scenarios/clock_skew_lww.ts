/**
 * clock-skew-lww: one node's clock runs 400 ms ahead while the network is
 * split, and last-writer-wins orders writes by timestamp, not by when they
 * happened.
 *
 * Shows: LWW loses acknowledged writes under clock skew, and the durability
 * check catches it. Which outcome, and why: the skew is inside the HLC's
 * bound (maxSkewMs, 500 ms), so replicas accept the fast node's timestamps,
 * and the HLC would prevent the loss between nodes that hear from each other
 * (a node adopts the fast node's time as soon as a message brings it: with
 * the same skew and no partition, durability failed on only 3 of 20 seeds,
 * in the moments before the fast time had spread). The HLC cannot order
 * what it never heard of: while n1 and n2 are cut off from n3, n4 and n5,
 * writes on n1's side carry n1's future time, writes on the other side carry
 * the true time, and a client that saw its write on n1's side complete and
 * then wrote on the other side loses its later write when the partition
 * heals. (Skew beyond the bound is refused instead: replicas reject the
 * write, 'write refused: timestamp too far ahead', and nothing is lost.)
 * Cluster: 5 nodes, the `default` keyspace (N=3, lww); n1 is 400 ms fast,
 * the other clocks are in sync.
 * Workload: 8 clients, ONE and QUORUM writes (sloppy: fallbacks take them on
 * either side) and reads, no deletes, on 2 keys.
 * Faults: the skew; the partition {n1, n2} | {n3, n4, n5} from 100 ms; n1
 * and n2 crash at 1500 ms, so the writes of the last 350 ms all go to the
 * other side, stamped below n1's last ones. The liveness phase heals the
 * partition and restarts n1 and n2.
 * Expectations: durability must fail on most seeds (the judged clock
 * uncertainty is 2 ms, that of clocks in sync); convergence and validity
 * pass on every seed.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, eventualKeys } from './key_groups.ts';

export const clockSkewLww: Scenario = {
  name: 'clock-skew-lww',
  summary: 'one clock 400 ms fast (inside the HLC bound) across a partition: LWW loses acknowledged writes, durability must fail',
  cluster: { nodes: 5, keyspaces: [LWW_KEYSPACE] },
  workload: {
    clients: 8,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    // No deletes: a tombstone does not say which delete made it, so the check excuses more around one.
    groups: [{ ...eventualKeys('k', 2, ['ONE', 'QUORUM']), mix: { read: 1, write: 3, delete: 0 } }],
  },
  faults: {
    clocks: { skewMs: 0, fast: { nodes: [0], aheadMs: 400 } },
    // The partition is healed (and n1, n2 restarted) by the liveness phase, after the last write: a write made after
    // the heal would carry the fast time on both sides and supersede the partition's writes legitimately.
    script: [
      { atMs: 100, action: 'partition', groups: [[0, 1], [2, 3, 4]] },
      { atMs: 1500, action: 'crash', node: 0 },
      { atMs: 1500, action: 'crash', node: 1 },
    ],
  },
  durationMs: 1850,
  liveness: { settleMs: 1200, maxReadPasses: 3, afterPassMs: 300 },
  lwwUncertaintyMs: 2,
  expect: { linearizable: 'either', converged: 'pass', durability: 'fail', validity: 'pass' },
  minCatchRate: 0.8,
};
