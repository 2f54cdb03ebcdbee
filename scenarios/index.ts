// Every named scenario, in the order `ringkv scenarios` lists them.

import { assert } from '../io/assert.ts';
import type { Scenario } from '../sim/scenario.ts';
import { antiEntropyAfterHintsExpire, noAntiEntropyAfterHintsExpire } from './anti_entropy_after_hints_expire.ts';
import { clockSkewLww } from './clock_skew_lww.ts';
import { crashRestart } from './crash_restart.ts';
import { decommissionUnderLoad } from './decommission_under_load.ts';
import { diskCorruption } from './disk_corruption.ts';
import { eventualNotLinearizable } from './eventual_not_linearizable.ts';
import { failureDetection } from './failure_detection.ts';
import { gossipConvergence } from './gossip_convergence.ts';
import { hintedHandoff } from './hinted_handoff.ts';
import { nodeJoinUnderLoad } from './node_join_under_load.ts';
import { partitionHeal } from './partition_heal.ts';
import { readRepair } from './read_repair.ts';
import { replaceDeadNode } from './replace_dead_node.ts';
import { rollingRestart } from './rolling_restart.ts';
import { siblingsConcurrentWriters } from './siblings_concurrent_writers.ts';
import { smoke } from './smoke.ts';
import { strongUnderChaos } from './strong_under_chaos.ts';
import { rangeRegained, rangeRegainedNoCleanup } from './range_regained.ts';
import { zombieTombstone, zombieTombstoneUnguarded } from './zombie_tombstone.ts';

export const SCENARIOS: readonly Scenario[] = [
  smoke,
  partitionHeal,
  crashRestart,
  diskCorruption,
  hintedHandoff,
  readRepair,
  clockSkewLww,
  siblingsConcurrentWriters,
  strongUnderChaos,
  eventualNotLinearizable,
  antiEntropyAfterHintsExpire,
  noAntiEntropyAfterHintsExpire,
  nodeJoinUnderLoad,
  decommissionUnderLoad,
  replaceDeadNode,
  gossipConvergence,
  failureDetection,
  zombieTombstone,
  zombieTombstoneUnguarded,
  rollingRestart,
  rangeRegained,
  rangeRegainedNoCleanup,
];

assert(new Set(SCENARIOS.map((s) => s.name)).size === SCENARIOS.length, 'scenario names must be unique');

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
