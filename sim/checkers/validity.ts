// Validity: no read returns bytes that no client wrote to that key, and no
// replica ends up holding such bytes. Workload values (workload_value.ts)
// check themselves and name their write, so a value is invalid when
//   - it does not parse or its checksum fails (torn, flipped, invented bytes),
//   - it was written to another key (a mixed-up record),
//   - no client operation wrote it,
//   - its write was reported as definitely failed (it must not exist), or
//   - (reads) its write was called only after the read returned.

import { assert } from '../../io/assert.ts';
import { type ClientOp, historyKey } from '../client_op.ts';
import { parseWorkloadValue } from '../workload_value.ts';
import { type CheckViolation, type KeyReplicas, liveValues } from './final_state.ts';

export interface ValidityResult {
  /** Read results (client reads and final repair reads) and replica values that are invalid. */
  invalidReads: number;
  violations: CheckViolation[];
}

/** Every write operation by the value it wrote. */
export function writesByValue(ops: readonly ClientOp[]): Map<string, ClientOp> {
  const out = new Map<string, ClientOp>();
  for (const op of ops) {
    if (op.kind !== 'write') continue;
    assert(op.value !== null, `write ${op.index} without a value`);
    assert(!out.has(op.value), `value ${op.value} written twice: workload values must be unique`);
    out.set(op.value, op);
  }
  return out;
}

/** Why `value`, found on `keyspace/key`, is not a value a client could have put there, or null. */
function problem(value: string, keyspace: string, key: string, writes: Map<string, ClientOp>): string | null {
  const parsed = parseWorkloadValue(value);
  if (typeof parsed === 'string') return `bytes no client wrote (${parsed})`;
  if (parsed.keyspace !== keyspace || parsed.key !== key) return `a value written to ${parsed.keyspace}/${parsed.key}, not to this key`;
  const write = writes.get(value);
  if (write === undefined) return 'a value no client operation wrote';
  if (write.outcome === 'fail') return `the value of write #${write.index + 1} (p${write.process}), which was reported as definitely failed`;
  return null;
}

const quote = (s: string): string => JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}...` : s);

export function checkValidity(ops: readonly ClientOp[], finalState: readonly KeyReplicas[]): ValidityResult {
  const writes = writesByValue(ops);
  const violations: CheckViolation[] = [];
  for (const op of ops) {
    if (op.kind !== 'read' || op.outcome !== 'ok') continue;
    assert(op.values !== null && op.ret !== null, `read ${op.index} ok without values or return`);
    for (const value of op.values) {
      let why = problem(value, op.keyspace, op.key, writes);
      const write = writes.get(value);
      if (why === null && write !== undefined && write.call > op.ret) {
        why = `the value of write #${write.index + 1} (p${write.process}), called at ${write.call}, after the read returned`;
      }
      if (why === null) continue;
      violations.push({
        check: 'validity',
        key: historyKey(op.keyspace, op.key),
        message: `read #${op.index + 1} (p${op.process} at ${op.coordinator}, ${op.consistency}, [${op.call}, ${op.ret}]) returned ${quote(value)}: ${why}`,
      });
    }
  }
  for (const k of finalState) {
    for (const r of k.replicas) {
      for (const value of liveValues(r.value)) {
        const why = problem(value, k.keyspace, k.key, writes);
        if (why === null) continue;
        violations.push({ check: 'validity', key: historyKey(k.keyspace, k.key), message: `replica ${r.node} holds ${quote(value)}: ${why}` });
      }
    }
  }
  return { invalidReads: violations.length, violations };
}
