/**
 * siblings-concurrent-writers: many clients write the same few keys of a
 * `siblings` keyspace at once, some blind, some with the context of their
 * last read, while the network partitions.
 *
 * Shows: dotted version vectors keep every concurrent write as a sibling
 * (none is silently dropped), a write carrying a context replaces exactly
 * the siblings that context saw, and after the partitions heal every replica
 * holds the same siblings and the same causal history.
 * Cluster: 5 nodes, the `carts` keyspace (N=3, siblings).
 * Workload: 6 clients on 3 keys, QUORUM and ONE; a write carries the
 * context of the client's last read of the key with probability 0.6.
 * Faults: random splits and isolations every ~400 ms (mean), ~300 ms long.
 * Expectations: every check passes on every seed (durability by the siblings
 * rules: present, or superseded by a write whose context saw it).
 */

import type { Scenario } from '../sim/scenario.ts';
import { SIBLINGS_KEYSPACE, siblingKeys } from './key_groups.ts';

export const siblingsConcurrentWriters: Scenario = {
  name: 'siblings-concurrent-writers',
  summary: 'concurrent writers on a siblings keyspace under partitions: no write silently dropped',
  cluster: { nodes: 5, keyspaces: [SIBLINGS_KEYSPACE] },
  workload: {
    clients: 6,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [siblingKeys(3, ['QUORUM', 'ONE'], 0.6)],
  },
  faults: { partitions: { meanIntervalMs: 400, meanDurationMs: 300, kinds: ['split', 'isolate'] } },
  durationMs: 1800,
  liveness: { settleMs: 1200, maxReadPasses: 3, afterPassMs: 300 },
  lwwUncertaintyMs: 2,
  expect: { linearizable: 'either', converged: 'pass', durability: 'pass', validity: 'pass' },
};
