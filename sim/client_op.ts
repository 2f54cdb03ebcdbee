// What the simulated clients did: one record per operation, richer than the
// `ringkv` history file (sim/history.ts) because the convergence, durability
// and validity checkers need the keyspace, the siblings a read returned and
// the causal context a write carried. `toHistory` projects these records onto
// the checker's register history.

import { assert } from '../io/assert.ts';
import type { ConsistencyLevel } from '../core/replication/consistency.ts';
import type { History, HistoryOp, Outcome } from './history.ts';

export type ClientOpKind = 'read' | 'write' | 'delete';

export interface ClientOp {
  /** Position in the run's operation list (call order). */
  readonly index: number;
  /** The client; a client has at most one operation in flight. */
  readonly process: number;
  readonly keyspace: string;
  /** The user key (its UTF-8 bytes are sent). */
  readonly key: string;
  readonly kind: ClientOpKind;
  readonly consistency: ConsistencyLevel;
  /** The node the client asked. */
  readonly coordinator: string;
  /** write: the value written; otherwise null. */
  readonly value: string | null;
  /** write/delete: the causal context sent (siblings keyspaces), else null. */
  readonly contextSent: string | null;
  /** write/delete: the operation whose read produced `contextSent`, else null. */
  readonly contextFrom: number | null;
  readonly call: number;
  ret: number | null;
  outcome: Outcome | null;
  /** read, ok: the values returned (siblings; one or none in lww), as strings. */
  values: string[] | null;
  /** read, ok: the causal context returned. */
  contextReturned: string | null;
  /** Why the operation did not end ok: the error code and message, or 'client timeout'. */
  error: string | null;
}

/** The key of an operation in the register history: keyspace and key. */
export function historyKey(keyspace: string, key: string): string {
  return `${keyspace}/${key}`;
}

/** How the values of a sibling read are written in the one value field of a history line. */
export const SIBLING_SEPARATOR = ' & ';

/** One completed (or given up) operation as a register history operation. */
export function toHistoryOp(op: ClientOp): HistoryOp {
  assert(op.outcome !== null, `operation ${op.index} has not completed`);
  let value: string | null = null;
  if (op.kind === 'write') value = op.value;
  else if (op.kind === 'read' && op.outcome === 'ok') {
    const vs = op.values ?? [];
    value = vs.length === 0 ? null : [...vs].sort().join(SIBLING_SEPARATOR);
  }
  return {
    process: op.process,
    key: historyKey(op.keyspace, op.key),
    kind: op.kind,
    value,
    expected: null,
    call: op.call,
    ret: op.outcome === 'info' ? null : op.ret,
    outcome: op.outcome,
  };
}

/** The register history of the completed operations that `include` selects, in call order. */
export function toHistory(ops: readonly ClientOp[], include: (op: ClientOp) => boolean = () => true): History {
  return ops.filter((op) => op.outcome !== null && include(op)).map(toHistoryOp);
}
