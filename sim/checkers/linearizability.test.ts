import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { History, HistoryOp } from '../history.ts';
import { checkKey, checkLinearizability } from './linearizability.ts';
import { bruteForceLinearizable } from './linearizability_oracle.ts';
import { arbitrarySmallHistory, sequentialRegisterHistory } from './register_history_generators.ts';

// Terse constructors: op(process, call, return, ...).
const base = (process: number, call: number, ret: number | null): Omit<HistoryOp, 'kind' | 'value'> => ({
  process,
  key: 'x',
  expected: null,
  call,
  ret,
  outcome: 'ok',
});
const w = (p: number, c: number, r: number | null, v: string, outcome: HistoryOp['outcome'] = 'ok'): HistoryOp => ({ ...base(p, c, r), kind: 'write', value: v, outcome });
const rd = (p: number, c: number, r: number, v: string | null): HistoryOp => ({ ...base(p, c, r), kind: 'read', value: v });
const del = (p: number, c: number, r: number | null, outcome: HistoryOp['outcome'] = 'ok'): HistoryOp => ({ ...base(p, c, r), kind: 'delete', value: null, outcome });
const cas = (p: number, c: number, r: number | null, from: string | null, to: string, outcome: HistoryOp['outcome'] = 'ok'): HistoryOp => ({
  ...base(p, c, r),
  kind: 'cas',
  expected: from,
  value: to,
  outcome,
});
const verdict = (h: History) => checkLinearizability(h).verdict;

describe('linearizability: one rule at a time', () => {
  it('an empty history and a lone read of nil are linearizable', () => {
    expect(verdict([])).toBe('linearizable');
    expect(verdict([rd(0, 0, 1, null)])).toBe('linearizable');
    expect(verdict([rd(0, 0, 1, '1')])).toBe('not-linearizable');
  });

  it('concurrent overlap: a read overlapping a write may see either value', () => {
    expect(verdict([w(0, 0, 10, '1'), rd(1, 2, 5, '1')])).toBe('linearizable');
    expect(verdict([w(0, 0, 10, '1'), rd(1, 2, 5, null)])).toBe('linearizable');
    // Two overlapping reads may see the write in either order only consistently.
    expect(verdict([w(0, 0, 10, '1'), rd(1, 1, 4, '1'), rd(2, 5, 8, null)])).toBe('not-linearizable');
    expect(verdict([w(0, 0, 10, '1'), rd(1, 1, 4, null), rd(2, 5, 8, '1')])).toBe('linearizable');
    // A return and a call at the same instant count as overlapping.
    expect(verdict([w(0, 0, 5, '1'), rd(1, 5, 6, null)])).toBe('linearizable');
    expect(verdict([w(0, 0, 5, '1'), rd(1, 6, 7, null)])).toBe('not-linearizable');
  });

  it('stale read after a completed write is not linearizable', () => {
    expect(verdict([w(0, 0, 1, '1'), w(0, 2, 3, '2'), rd(1, 4, 5, '1')])).toBe('not-linearizable');
    expect(verdict([w(0, 0, 1, '1'), w(0, 2, 3, '2'), rd(1, 4, 5, '2')])).toBe('linearizable');
  });

  it('unknown outcomes may take effect at any time after their call, or never', () => {
    // Never.
    expect(verdict([w(0, 0, null, '1', 'info'), rd(1, 5, 6, null)])).toBe('linearizable');
    // Long after the client gave up.
    expect(verdict([w(0, 0, 1, '1', 'info'), rd(1, 5, 6, null), rd(1, 7, 8, '1')])).toBe('linearizable');
    // But never before its call.
    expect(verdict([rd(1, 0, 1, '1'), w(0, 2, null, '1', 'info')])).toBe('not-linearizable');
    // And at most once: the value cannot come back after being overwritten.
    expect(verdict([w(0, 0, null, '1', 'info'), rd(1, 1, 2, '1'), w(1, 3, 4, '2'), rd(1, 5, 6, '1')])).toBe('not-linearizable');
    // An unknown cas, like a write, takes effect only where its compare holds.
    expect(verdict([w(0, 0, 1, '1'), cas(0, 2, null, '1', '2', 'info'), rd(1, 5, 6, '2')])).toBe('linearizable');
    expect(verdict([w(0, 0, 1, '3'), cas(0, 2, null, '1', '2', 'info'), rd(1, 5, 6, '2')])).toBe('not-linearizable');
    expect(verdict([del(0, 0, null, 'info'), w(1, 0, 1, '1'), rd(1, 2, 3, null)])).toBe('linearizable');
  });

  it('a failed write or delete did not happen', () => {
    expect(verdict([w(0, 0, 1, '1', 'fail'), rd(1, 2, 3, '1')])).toBe('not-linearizable');
    expect(verdict([w(0, 0, 1, '1'), del(0, 2, 3, 'fail'), rd(1, 4, 5, '1')])).toBe('linearizable');
  });

  it('failed cas: the compare failed, nothing changed (etcd semantics)', () => {
    expect(verdict([w(0, 0, 1, '1'), cas(0, 2, 3, '2', '3', 'fail'), rd(0, 4, 5, '1')])).toBe('linearizable');
    // It held the expected value, so the compare cannot have failed.
    expect(verdict([w(0, 0, 1, '1'), cas(0, 2, 3, '1', '3', 'fail')])).toBe('not-linearizable');
    // ...unless a concurrent write moved it away first.
    expect(verdict([w(0, 0, 1, '1'), cas(0, 2, 5, '1', '3', 'fail'), w(1, 3, 4, '2')])).toBe('linearizable');
    // An ok cas held its expected value and stored the new one.
    expect(verdict([w(0, 0, 1, '1'), cas(0, 2, 3, '1', '3'), rd(0, 4, 5, '3')])).toBe('linearizable');
    expect(verdict([w(0, 0, 1, '1'), cas(0, 2, 3, '2', '3')])).toBe('not-linearizable');
    expect(verdict([cas(0, 0, 1, null, '1'), rd(0, 2, 3, '1')])).toBe('linearizable');
  });

  it('delete then read sees nil', () => {
    expect(verdict([w(0, 0, 1, '1'), del(0, 2, 3), rd(1, 4, 5, null)])).toBe('linearizable');
    expect(verdict([w(0, 0, 1, '1'), del(0, 2, 3), rd(1, 4, 5, '1')])).toBe('not-linearizable');
    expect(verdict([w(0, 0, 1, '1'), del(0, 2, 6), rd(1, 4, 5, '1'), rd(1, 7, 8, null)])).toBe('linearizable');
  });

  it('keys are independent (P-compositionality) and the failing key is reported', () => {
    const h: History = [w(0, 0, 1, '1'), { ...rd(1, 2, 3, '1'), key: 'y' }, { ...rd(2, 2, 3, '1'), key: 'z' }];
    const r = checkLinearizability(h);
    expect(r.verdict).toBe('not-linearizable');
    expect(r.keys.map((k) => [k.key, k.verdict])).toEqual([
      ['x', 'linearizable'],
      ['y', 'not-linearizable'],
    ]);
    expect(verdict([w(0, 0, 1, '1'), { ...w(0, 2, 3, '2'), key: 'y' }, rd(1, 4, 5, '1'), { ...rd(1, 6, 7, '2'), key: 'y' }])).toBe('linearizable');
  });

  it('the register model has no cas', () => {
    expect(() => checkLinearizability([cas(0, 0, 1, null, '1')], { model: 'register' })).toThrow(/no cas/);
    expect(checkLinearizability([w(0, 0, 1, '1'), rd(0, 2, 3, '1')], { model: 'register' }).verdict).toBe('linearizable');
  });

  it('a step budget or a deadline ends the search with unknown, never a verdict', () => {
    // Many concurrent writes and a read no order can explain: a long search.
    const h: History = [];
    for (let i = 0; i < 14; i++) h.push(w(i, 0, 100, String(i)));
    h.push(rd(20, 0, 100, 'never'));
    const full = checkLinearizability(h);
    expect(full.verdict).toBe('not-linearizable');
    const cut = checkLinearizability(h, { maxSteps: 50 });
    expect(cut.verdict).toBe('unknown');
    expect(cut.reason).toMatch(/step budget/);
    let now = 0;
    const timed = checkLinearizability(h, { now: () => (now += 1), deadline: 3 });
    expect(timed.verdict).toBe('unknown');
    expect(timed.reason).toMatch(/time budget/);
  });

  it('reports the longest linearization it found and the state after it', () => {
    const r = checkKey([w(0, 0, 1, '1'), w(0, 2, 3, '2'), rd(1, 4, 5, '1')]);
    expect(r.verdict).toBe('not-linearizable');
    expect(r.longest).toEqual([0, 1]);
    expect(r.stateAfterLongest).toBe('2');
  });
});

describe('linearizability: properties', () => {
  it('agrees with the brute-force oracle on small arbitrary histories', () => {
    fc.assert(
      fc.property(arbitrarySmallHistory(7), (h) => {
        expect(verdict(h)).toBe(bruteForceLinearizable(h) ? 'linearizable' : 'not-linearizable');
      }),
      { numRuns: 3000 },
    );
  });

  it('histories of a sequential register with real-time overlaps are linearizable', () => {
    fc.assert(
      fc.property(sequentialRegisterHistory({ maxOps: 60, keys: 3, processes: 5 }), (h) => {
        expect(checkLinearizability(h).verdict).toBe('linearizable');
      }),
      { numRuns: 400 },
    );
  });

  it('the same histories with one read changed to a never-written value are not', () => {
    fc.assert(
      fc.property(sequentialRegisterHistory({ maxOps: 60, keys: 3, processes: 5 }), fc.nat(), (h, pick) => {
        const reads = h.flatMap((op, i) => (op.kind === 'read' && op.outcome === 'ok' ? [i] : []));
        fc.pre(reads.length > 0);
        const i = reads[pick % reads.length]!;
        const broken = h.map((op, j) => (j === i ? { ...op, value: 'never-written' } : op));
        const r = checkLinearizability(broken);
        expect(r.verdict).toBe('not-linearizable');
        expect(r.keys.at(-1)!.key).toBe(h[i]!.key);
      }),
      { numRuns: 400 },
    );
  });
});
