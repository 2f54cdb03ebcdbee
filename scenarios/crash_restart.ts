/**
 * crash-restart: nodes crash at random moments and restart from their disks.
 *
 * Shows: an acknowledged write survives the crash of the replicas that
 * acknowledged it (they synced before answering), a restarted node recovers
 * whatever its disk kept (unsynced tails are lost or torn), and its HLC stays
 * above every timestamp it issued before the crash.
 * Cluster: 5 nodes, the `default` keyspace (N=3, lww).
 * Workload: 5 clients; STRONG keys (linearizability checked), QUORUM keys,
 * ONE/ALL keys.
 * Faults: a crash every ~250 ms (mean), at most two nodes down at once, each
 * down ~300 ms (mean). Clocks in sync.
 * Expectations: every check passes on every seed. The LWW clock uncertainty
 * is the HLC lease (200 ms) plus resolution: a restarted node stamps up to a
 * lease ahead of its clock, so two writes closer than that may be ordered
 * either way.
 */

import type { Scenario } from '../sim/scenario.ts';
import { LWW_KEYSPACE, eventualKeys, strongKeys } from './key_groups.ts';

export const crashRestart: Scenario = {
  name: 'crash-restart',
  summary: 'random crashes (up to 2 of 5 down) and restarts from disk: every check passes',
  cluster: { nodes: 5, keyspaces: [LWW_KEYSPACE] },
  workload: {
    clients: 5,
    thinkMs: 10,
    clientTimeoutMs: 1500,
    groups: [strongKeys(3, 2), eventualKeys('q', 4, ['QUORUM']), eventualKeys('e', 4, ['ONE', 'ALL'])],
  },
  faults: {
    crashes: { meanIntervalMs: 250, meanDownMs: 300, maxDown: 2 },
  },
  durationMs: 3000,
  liveness: { settleMs: 1200, maxReadPasses: 3, afterPassMs: 300 },
  lwwUncertaintyMs: 205,
  expect: { linearizable: 'pass', converged: 'pass', durability: 'pass', validity: 'pass' },
};
