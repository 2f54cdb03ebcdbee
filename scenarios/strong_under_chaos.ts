/**
 * strong-under-chaos: everything at once, and STRONG must stay linearizable.
 *
 * Shows: single-key reads, writes and deletes at STRONG are linearizable
 * under random partitions (splits, isolation, one-way), crashes and
 * restarts, lost, duplicated and reordered packets, bit rot on one disk,
 * skewed and drifting clocks and clock jumps. Without a strict quorum STRONG
 * answers an error, never a stale value.
 * Cluster: 5 nodes, the `default` keyspace (N=3, lww). A node that cannot
 * open its rotten disk is lost for the rest of the run.
 * Workload: 8 clients on 4 keys, every operation at STRONG.
 * Faults: partitions every ~300 ms (mean), ~300 ms long; a crash every
 * ~400 ms (mean), at most 2 down, ~250 ms down; 2% loss, 2% duplication, 5%
 * reordering; 2 bits flipped on n1's disk every ~400 ms (mean); clocks
 * skewed up to ±100 ms, drifting up to ±200 ppm, jumping up to ±150 ms every
 * ~1 s (mean).
 * Expectations: every check passes on every seed; linearizability is the
 * point (zero violations over 10,000 seeds is the target). A node lost to a
 * rotten disk is no replica any more: convergence is judged over the others.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, strongKeys } from './key_groups.ts';

export const strongUnderChaos: Scenario = {
  name: 'strong-under-chaos',
  summary: 'partitions, crashes, packet faults, bit rot, clock skew and jumps: STRONG stays linearizable',
  cluster: { nodes: 5, keyspaces: [LWW_KEYSPACE], onOpenFailure: 'lose' },
  workload: {
    clients: 8,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [strongKeys(4)],
  },
  faults: {
    network: { packetLossProbability: 0.02, packetReplayProbability: 0.02, packetReorderProbability: 0.05 },
    partitions: { meanIntervalMs: 300, meanDurationMs: 300, kinds: ['split', 'isolate', 'one-way'] },
    crashes: { meanIntervalMs: 400, meanDownMs: 250, maxDown: 2 },
    bitFlips: { meanIntervalMs: 400, bits: 2, nodes: [0] },
    clocks: { skewMs: 100, driftPpm: 200, jumps: { meanIntervalMs: 1000, maxMs: 150 } },
  },
  durationMs: 3000,
  liveness: { settleMs: 1200, maxReadPasses: 3, afterPassMs: 300 },
  // STRONG writes learn the highest version from a quorum before stamping, so skew cannot reorder them.
  lwwUncertaintyMs: 2,
  expect: { linearizable: 'pass', converged: 'pass', durability: 'pass', validity: 'pass' },
};
