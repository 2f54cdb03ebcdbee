// Convergence: after the faults stop and repair has run, every home replica
// of every key holds the same version (the same LWW write, or the same dotted
// version vector set: the same history and the same siblings). A replica that
// holds nothing while another holds a version has not converged either.

import { type CheckViolation, type KeyReplicas, describeVersion, sameVersion } from './final_state.ts';

export interface ConvergenceResult {
  converged: boolean;
  /** Keys whose replicas differ. */
  divergentKeys: number;
  violations: CheckViolation[];
}

export function checkConvergence(keys: readonly KeyReplicas[]): ConvergenceResult {
  const violations: CheckViolation[] = [];
  for (const k of keys) {
    if (k.replicas.length === 0) continue;
    const first = k.replicas[0]!.value;
    if (k.replicas.every((r) => sameVersion(r.value, first))) continue;
    const held = k.replicas.map((r) => `${r.node} holds ${describeVersion(r.value)}`);
    violations.push({ check: 'converged', key: `${k.keyspace}/${k.key}`, message: `replicas differ after the liveness phase: ${held.join('; ')}` });
  }
  return { converged: violations.length === 0, divergentKeys: violations.length, violations };
}
