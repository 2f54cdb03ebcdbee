// Convergence: after the faults stop and repair has run, every home replica
// of every key holds the same version (the same LWW write, or the same dotted
// version vector set: the same history and the same siblings). A replica that
// holds nothing while another holds a version has not converged either, and
// neither has a node that is up but cannot list its records. A node lost for
// good is no replica any more: convergence is judged over the others.

import { type CheckViolation, type FinalState, describeVersion, sameVersion } from './final_state.ts';

export interface ConvergenceResult {
  converged: boolean;
  /** Keys whose replicas differ. */
  divergentKeys: number;
  /** Nodes whose records could not be read. */
  unreadableNodes: number;
  violations: CheckViolation[];
}

export function checkConvergence(state: FinalState): ConvergenceResult {
  const violations: CheckViolation[] = [];
  for (const u of state.unreadable) {
    violations.push({ check: 'converged', key: '', message: `node ${u.node} cannot list its records after the liveness phase: ${u.error}` });
  }
  for (const k of state.keys) {
    if (k.replicas.length === 0) continue;
    const first = k.replicas[0]!.value;
    if (k.replicas.every((r) => sameVersion(r.value, first))) continue;
    const held = k.replicas.map((r) => `${r.node} holds ${describeVersion(r.value)}`);
    violations.push({ check: 'converged', key: `${k.keyspace}/${k.key}`, message: `replicas differ after the liveness phase: ${held.join('; ')}` });
  }
  const unreadableNodes = state.unreadable.length;
  return { converged: violations.length === 0, divergentKeys: violations.length - unreadableNodes, unreadableNodes, violations };
}
