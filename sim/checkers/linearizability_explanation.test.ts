import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { History, HistoryOp } from '../history.ts';
import { renderHistoryHtml } from './history_html.ts';
import { checkLinearizability } from './linearizability.ts';
import { explainViolation, formatViolation } from './linearizability_explanation.ts';
import { bruteForceLinearizable } from './linearizability_oracle.ts';
import { arbitrarySmallHistory } from './register_history_generators.ts';

const op = (process: number, kind: HistoryOp['kind'], value: string | null, call: number, ret: number | null, extra: Partial<HistoryOp> = {}): HistoryOp => ({
  process,
  key: 'x',
  kind,
  value,
  expected: null,
  call,
  ret,
  outcome: 'ok',
  ...extra,
});

/**
 * The history cut after the first `count` events, written independently of
 * the module: operations called later vanish, operations that have not
 * returned yet have an unknown outcome.
 */
function cut(history: History, count: number): (HistoryOp | undefined)[] {
  const events: { i: number; time: number; call: boolean }[] = [];
  history.forEach((o, i) => {
    events.push({ i, time: o.call, call: true });
    if (o.outcome !== 'info' && o.ret !== null) events.push({ i, time: o.ret, call: false });
  });
  events.sort((a, b) => a.time - b.time || Number(b.call) - Number(a.call) || a.i - b.i);
  const kept = events.slice(0, count);
  const called = new Set(kept.filter((e) => e.call).map((e) => e.i));
  const returned = new Set(kept.filter((e) => !e.call).map((e) => e.i));
  return history.map((o, i) => {
    if (!called.has(i)) return undefined;
    if (returned.has(i) || o.outcome === 'info') return o;
    return { ...o, value: o.kind === 'read' ? null : o.value, ret: null, outcome: 'info' as const };
  });
}

const present = (h: (HistoryOp | undefined)[]): History => h.filter((o) => o !== undefined);

/** Whether `order` is a legal sequential run of a register from nil. */
function legalSequence(history: (HistoryOp | undefined)[], order: number[]): boolean {
  let state: string | null = null;
  for (const i of order) {
    const o = history[i]!;
    if (o.kind === 'read' && o.value !== state) return false;
    if (o.kind === 'write') state = o.value;
    if (o.kind === 'delete') state = null;
    if (o.kind === 'cas') {
      if (o.outcome === 'ok' && state !== o.expected) return false;
      if (o.outcome === 'fail' && state === o.expected) return false;
      if (state === o.expected && o.outcome !== 'fail') state = o.value;
    }
  }
  return true;
}

describe('explainViolation', () => {
  it('names the stale read, the shortest failing prefix and the longest linearization', () => {
    const h = [op(0, 'write', '1', 0, 1), op(0, 'write', '2', 2, 3), op(1, 'read', '1', 4, 5), op(1, 'write', '3', 6, 7)];
    const v = explainViolation(h, 'x')!;
    expect(v.failingOp).toBe(2);
    expect(v.prefixEvents).toBe(6); // three calls and three returns
    expect(v.longest).toEqual([0, 1]);
    expect(v.stateAfterLongest).toBe('2');
    expect(v.unplaced).toEqual([{ op: 2, reason: 'read returned 1 but the register held 2' }]);
    const text = formatViolation(h, v);
    expect(text).toContain('not linearizable: key "x"');
    expect(text).toContain('the first 6 of 8 events');
    expect(text).toContain('#3 p1 read -> 1 [call 4, return 5]');
    expect(text).toContain('read returned 1 but the register held 2');
  });

  it('explains a failed compare and real-time order', () => {
    const h = [op(0, 'write', '1', 0, 1), op(0, 'cas', '3', 2, 3, { expected: '1', outcome: 'fail' })];
    const v = explainViolation(h, 'x')!;
    expect(v.failingOp).toBe(1);
    expect(v.unplaced[0]!.reason).toMatch(/compare failed but the register held 1/);
    expect(explainViolation([op(0, 'write', '1', 0, 1)], 'x')).toBeNull();
  });

  it('the prefix is the shortest that fails and the longest linearization is legal (against the oracle)', () => {
    fc.assert(
      fc.property(arbitrarySmallHistory(7), (history) => {
        const result = checkLinearizability(history);
        fc.pre(result.verdict === 'not-linearizable');
        const key = result.keys.at(-1)!.key;
        const ofKey = history.filter((o) => o.key === key);
        const v = explainViolation(ofKey, key)!;
        expect(v).not.toBeNull();
        const prefix = cut(ofKey, v.prefixEvents);
        expect(bruteForceLinearizable(present(prefix))).toBe(false);
        expect(bruteForceLinearizable(present(cut(ofKey, v.prefixEvents - 1)))).toBe(true);
        expect(v.events[v.prefixEvents - 1]).toMatchObject({ op: v.failingOp, type: 'return' });
        // Legal for the prefix, where operations still running have an unknown outcome.
        expect(legalSequence(prefix, v.longest)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('renderHistoryHtml', () => {
  it('draws every operation, marks the failing one and escapes text', () => {
    const h = [op(0, 'write', '<b>', 0, 1), op(0, 'write', '2', 2, 3), op(1, 'read', '<b>', 4, 5), op(2, 'write', '9', 4, null, { outcome: 'info' })];
    const v = explainViolation(h, 'x')!;
    const page = renderHistoryHtml({
      title: 't <1>',
      subtitle: 'NOT linearizable',
      details: formatViolation(h, v),
      history: h,
      sections: [{ key: 'x', ops: [0, 1, 2, 3], linearization: v.longest, violation: v }],
    });
    expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(page.match(/<g class="op /g)).toHaveLength(4);
    expect(page.match(/<g class="op failing" id="failing">/g)).toHaveLength(1);
    expect(page).toContain('#3 p1 read -&gt; &lt;b&gt; [call 4, return 5]');
    expect(page).toContain('t &lt;1&gt;');
    expect(page).not.toContain('<b>2');
    expect(page).toContain('url(#fade)'); // the operation that never returned
    expect(page).toContain('class="cut"');
    // Self-contained: nothing fetched from anywhere.
    expect(page).not.toMatch(/(src|href)=/);
    // One lane per process.
    expect(page.match(/class="proc"/g)).toHaveLength(3);
  });
});
