// What a scenario is: a cluster, a workload, a fault schedule, how long each
// phase lasts, and what the checks must say. scenarios/*.ts define them;
// sim/run_scenario.ts runs one for a seed.

import type { ClusterSpec } from './cluster.ts';
import type { FaultSpec } from './fault_schedule.ts';
import type { WorkloadSpec } from './workload.ts';

export type CheckName = 'linearizable' | 'converged' | 'durability' | 'validity';
export const CHECK_NAMES: readonly CheckName[] = ['linearizable', 'converged', 'durability', 'validity'];

/**
 * 'pass': must pass on every seed. 'fail': the scenario exists to show this
 * check catching a fault; it must fail on at least `minCatchRate` of seeds
 * (a single seed may happen not to produce the bad interleaving).
 * 'either': not judged (the outcome depends on things the scenario documents).
 */
export type CheckExpectation = 'pass' | 'fail' | 'either';

export interface Scenario {
  name: string;
  /** One line for `ringkv scenarios`. */
  summary: string;
  cluster: ClusterSpec;
  workload: WorkloadSpec;
  faults: FaultSpec;
  /** Length of the safety phase: clients run and faults fire. */
  durationMs: number;
  liveness: {
    /**
     * Quiet time after healing, before the first read-all pass: hint replay,
     * and peers noticing each other again (requests sent during a partition
     * keep timing out for up to a request timeout after it heals).
     */
    settleMs: number;
    /** Read-all passes at ALL at most, each followed by `afterPassMs`, until the replicas converge. */
    maxReadPasses: number;
    afterPassMs: number;
  };
  /** ε of the LWW durability rule (checkers/durability.ts): clock skew bound + HLC lease + resolution. */
  lwwUncertaintyMs: number;
  expect: Record<CheckName, CheckExpectation>;
  /** For 'fail' expectations: the least share of seeds that must catch it. */
  minCatchRate?: number;
  /** Coverage marks (StoreNode.marks) that a batch of seeds must hit at least once. */
  requiredMarks?: string[];
}
