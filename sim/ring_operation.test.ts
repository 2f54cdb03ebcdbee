// Ring operations in the simulator beyond the registered scenarios: removing
// a dead node without a replacement.

import { describe, expect, it } from 'vitest';
import { LWW_KEYSPACE } from '../scenarios/key_groups.ts';
import { nodeJoinUnderLoad } from '../scenarios/node_join_under_load.ts';
import { runScenario } from './run_scenario.ts';
import type { Scenario } from './scenario.ts';
import { storeNodeOpener } from './store_node_opener.ts';

const removeDeadNode: Scenario = {
  ...nodeJoinUnderLoad,
  name: 'remove-dead-node',
  cluster: {
    nodes: 5,
    keyspaces: [LWW_KEYSPACE],
    settings: { rangeStream: { bytesPerSec: 4096, pageBytes: 512, retryMs: 100 } },
    ringChanges: [{ kind: 'remove', atMs: 300, node: 3, deadForMs: 300 }],
  },
};

describe('ring operations', () => {
  it('removing a dead node re-replicates its ranges from the survivors: every check passes', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const { result } = runScenario(removeDeadNode, seed, { opener: storeNodeOpener });
      expect(result.error, `seed ${seed}`).toBeNull();
      expect(result.checks, `seed ${seed}`).toEqual({ linearizable: true, converged: true, lostWrites: 0, invalidReads: 0 });
      expect(result.marks['range stream task done'] ?? 0).toBeGreaterThan(0);
    }
  }, 120_000);
});
