/**
 * clock-skew-lww: one node's clock runs 400 ms ahead, and LWW orders writes
 * by timestamps, not by when they happened.
 *
 * Shows: last-writer-wins loses acknowledged writes under clock skew, and the
 * durability check catches it. The skew is deliberately inside the HLC's
 * bound (maxSkewMs, 500 ms), so replicas accept the fast node's timestamps:
 * the HLC does not prevent the loss. A write coordinated by the fast node is
 * stamped 400 ms in the future; a later write coordinated by a node that has
 * not heard from the fast node since gets a smaller timestamp and loses,
 * although the client saw the first write complete before it began. (Skew
 * beyond the bound is refused instead: replicas reject a timestamp too far
 * ahead, 'write refused: timestamp too far ahead', and nothing is lost.)
 * Cluster: 5 nodes, the `default` keyspace (N=3, lww); n1 is 400 ms fast.
 * Workload: 5 clients, QUORUM and ONE writes and reads on a few keys.
 * Faults: none besides the skew.
 * Expectations: durability must fail on most seeds (the judged clock
 * uncertainty is 2 ms, that of clocks in sync); convergence and validity
 * pass on every seed.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, eventualKeys } from './key_groups.ts';

export const clockSkewLww: Scenario = {
  name: 'clock-skew-lww',
  summary: 'one clock 400 ms fast (inside the HLC bound): LWW loses acknowledged writes, durability must fail',
  cluster: { nodes: 5, keyspaces: [LWW_KEYSPACE] },
  workload: {
    clients: 5,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [eventualKeys('k', 4, ['QUORUM', 'ONE'])],
  },
  faults: { clocks: { skewMs: 400, fastNodes: [0] } },
  durationMs: 2000,
  liveness: { settleMs: 300, maxReadPasses: 3 },
  lwwUncertaintyMs: 2,
  expect: { linearizable: 'either', converged: 'pass', durability: 'fail', validity: 'pass' },
  minCatchRate: 0.8,
};
