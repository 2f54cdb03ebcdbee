// fast-check generators of register histories, for testing checkers: ones
// produced by a sequential register (linearizable by construction) and
// arbitrary small ones.

import fc from 'fast-check';
import type { History, HistoryOp, OpKind, Outcome } from '../history.ts';

interface Intent {
  process: number;
  key: number;
  kind: OpKind;
  value: number;
  expected: number | null;
  gap: number;
  before: number;
  after: number;
  roll: number;
}

const intent = (keys: number, processes: number): fc.Arbitrary<Intent> =>
  fc.record({
    process: fc.integer({ min: 0, max: processes - 1 }),
    key: fc.integer({ min: 0, max: keys - 1 }),
    kind: fc.constantFrom<OpKind>('read', 'read', 'write', 'write', 'delete', 'cas', 'cas'),
    value: fc.integer({ min: 1, max: 4 }),
    expected: fc.option(fc.integer({ min: 1, max: 4 }), { freq: 5 }),
    gap: fc.integer({ min: 0, max: 6 }),
    before: fc.integer({ min: 0, max: 12 }),
    after: fc.integer({ min: 0, max: 12 }),
    roll: fc.integer({ min: 0, max: 99 }),
  });

/**
 * Histories produced by running a sequential register: every operation takes
 * effect at one instant inside its [call, return] interval, processes issue
 * one operation at a time, some operations time out (info: took effect or
 * not), some fail (did not happen), cas fails exactly when its compare does.
 * Linearizable by construction.
 */
export function sequentialRegisterHistory(opts: { maxOps: number; keys: number; processes: number }): fc.Arbitrary<History> {
  return fc.array(intent(opts.keys, opts.processes), { minLength: 1, maxLength: opts.maxOps }).map((intents) => {
    const free = new Array<number>(opts.processes).fill(0);
    const nextProcess = new Array<number>(opts.processes).fill(0).map((_, i) => i);
    const planned = intents.map((it, i) => {
      const call = free[it.process]! + it.gap;
      const at = call + it.before;
      const ret = at + it.after;
      free[it.process] = ret;
      return { it, i, call, at, ret, process: nextProcess[it.process]! };
    });
    const stateOf = new Map<number, string | null>();
    const ops: HistoryOp[] = new Array(planned.length);
    for (const p of [...planned].sort((x, y) => x.at - y.at || x.i - y.i)) {
      const { it } = p;
      const key = `k${it.key}`;
      const state = stateOf.get(it.key) ?? null;
      const value = `v${it.value}`;
      const outcome: Outcome = it.roll < 10 ? 'info' : it.roll < 18 ? 'fail' : 'ok';
      const tookEffect = outcome === 'ok' || (outcome === 'info' && it.roll % 2 === 0);
      const op: HistoryOp = { process: p.process, key, kind: it.kind, value: null, expected: null, call: p.call, ret: p.ret, outcome, };
      if (outcome === 'info') op.ret = it.roll % 3 === 0 ? null : p.ret;
      switch (it.kind) {
        case 'read':
          if (outcome === 'ok') op.value = state;
          break;
        case 'write':
          op.value = value;
          if (tookEffect) stateOf.set(it.key, value);
          break;
        case 'delete':
          if (tookEffect) stateOf.set(it.key, null);
          break;
        case 'cas': {
          op.value = value;
          op.expected = it.expected === null ? null : `v${it.expected}`;
          const matches = state === op.expected;
          if (outcome === 'fail') {
            // A failed cas is a compare that failed; an ok cas one that held.
            if (matches) op.outcome = 'info';
          } else if (outcome === 'ok' && !matches) {
            op.outcome = 'fail';
          } else if (tookEffect && matches) {
            stateOf.set(it.key, value);
          }
          break;
        }
      }
      ops[p.i] = op;
    }
    return ops;
  });
}

/** Any small history at all, linearizable or not, for comparing with the oracle. */
export function arbitrarySmallHistory(maxOps: number): fc.Arbitrary<History> {
  return fc
    .array(
      fc.record({
        process: fc.integer({ min: 0, max: 3 }),
        key: fc.constantFrom('a', 'b'),
        kind: fc.constantFrom<OpKind>('read', 'write', 'delete', 'cas'),
        value: fc.option(fc.constantFrom('1', '2', '3'), { freq: 4 }),
        expected: fc.option(fc.constantFrom('1', '2', '3'), { freq: 4 }),
        call: fc.integer({ min: 0, max: 10 }),
        len: fc.integer({ min: 0, max: 6 }),
        outcome: fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'fail', 'info'),
      }),
      { minLength: 1, maxLength: maxOps },
    )
    .map((rs) =>
      rs.map((r): HistoryOp => {
        const value = r.kind === 'delete' ? null : r.kind === 'read' ? (r.outcome === 'ok' ? r.value : null) : (r.value ?? '1');
        return {
          process: r.process,
          key: r.key,
          kind: r.kind,
          value,
          expected: r.kind === 'cas' ? r.expected : null,
          call: r.call,
          ret: r.outcome === 'info' && r.len === 0 ? null : r.call + r.len,
          outcome: r.outcome,
        };
      }),
    );
}
