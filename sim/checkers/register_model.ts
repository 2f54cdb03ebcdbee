// Sequential specifications of a single register, compiled to integers so the
// linearizability search steps them without allocating: a state is the id of
// the value the register holds (0 = absent), an operation is a code and two
// value ids.
//
// Two models: `register` (read, write, delete) and `cas-register`, which adds
// compare-and-set with etcd's semantics as Jepsen records them: an ok cas held
// `expected` and stored `value`; a failed cas ran and found something other
// than `expected`, changing nothing.

import { assert } from '../../io/assert.ts';
import type { HistoryOp, OpKind } from '../history.ts';

export type ModelName = 'register' | 'cas-register';
export const MODEL_NAMES: readonly ModelName[] = ['register', 'cas-register'];

export const ABSENT = 0;
export const ILLEGAL = -1;

// Operation codes. *_ANY: the outcome is unknown, so any result is accepted.
export const OP_READ = 0; // legal iff state == a
export const OP_WRITE = 1; // state := a (also used for delete, a = ABSENT)
export const OP_CAS_OK = 2; // legal iff state == a; state := b
export const OP_CAS_FAILED = 3; // legal iff state != a
export const OP_CAS_ANY = 4; // if state == a then state := b

export function modelAccepts(model: ModelName, kind: OpKind): boolean {
  return kind !== 'cas' || model === 'cas-register';
}

/** Maps values to small integers; null (absent) is ABSENT. */
export class ValueTable {
  private readonly ids = new Map<string, number>();
  private readonly values: (string | null)[] = [null];

  id(value: string | null): number {
    if (value === null) return ABSENT;
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(value, id);
      this.values.push(value);
    }
    return id;
  }

  value(id: number): string | null {
    assert(id >= 0 && id < this.values.length, `unknown value id ${id}`);
    return this.values[id]!;
  }
}

/**
 * The step an operation contributes to the search, or null when it imposes
 * nothing and changes nothing (a failed read/write/delete, a read of unknown
 * outcome) and can be left out.
 */
export function compileOp(op: HistoryOp, values: ValueTable): { code: number; a: number; b: number } | null {
  const unknown = op.outcome === 'info';
  switch (op.kind) {
    case 'read':
      if (op.outcome !== 'ok') return null;
      return { code: OP_READ, a: values.id(op.value), b: 0 };
    case 'write':
      if (op.outcome === 'fail') return null;
      assert(op.value !== null, 'write without a value');
      return { code: OP_WRITE, a: values.id(op.value), b: 0 };
    case 'delete':
      if (op.outcome === 'fail') return null;
      return { code: OP_WRITE, a: ABSENT, b: 0 };
    case 'cas': {
      assert(op.value !== null, 'cas without a value');
      const code = unknown ? OP_CAS_ANY : op.outcome === 'ok' ? OP_CAS_OK : OP_CAS_FAILED;
      return { code, a: values.id(op.expected), b: values.id(op.value) };
    }
  }
}

/** The register's next state, or ILLEGAL if the operation cannot happen in `state`. */
export function stepRegister(state: number, code: number, a: number, b: number): number {
  switch (code) {
    case OP_READ:
      return state === a ? state : ILLEGAL;
    case OP_WRITE:
      return a;
    case OP_CAS_OK:
      return state === a ? b : ILLEGAL;
    case OP_CAS_FAILED:
      return state !== a ? state : ILLEGAL;
    case OP_CAS_ANY:
      return state === a ? b : state;
    default:
      throw new Error(`unknown register operation code ${code}`);
  }
}

/** Why the operation cannot run on a register holding `state` (for explanations). */
export function whyIllegal(op: HistoryOp, state: string | null): string {
  const v = (s: string | null) => (s === null ? 'nil' : s);
  switch (op.kind) {
    case 'read':
      return `read returned ${v(op.value)} but the register held ${v(state)}`;
    case 'cas':
      return op.outcome === 'fail'
        ? `cas compare failed but the register held ${v(state)}, the expected value`
        : `cas expected ${v(op.expected)} but the register held ${v(state)}`;
    default:
      return `${op.kind} cannot fail`;
  }
}
