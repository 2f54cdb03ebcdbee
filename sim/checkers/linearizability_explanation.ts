// Explains why a key's history is not linearizable, in terms a person can
// check by hand: the shortest prefix of the history (in time order) that no
// order explains, the operation whose return closes that prefix, and the
// longest order the search managed to build before it got stuck.
//
// A prefix keeps every operation called in it; one that has not returned by
// the end of the prefix becomes of unknown outcome (it may or may not take
// effect, its result is not yet known). Linearizability is prefix-closed
// under that reading: adding a call adds only options, adding a return only
// constraints. So the shortest failing prefix can be found by binary search,
// and it always ends with a return.

import { assert } from '../../io/assert.ts';
import { describeOp, effectiveReturn, type History, type HistoryOp } from '../history.ts';
import { type CheckOptions, checkKey, splitByKey } from './linearizability.ts';
import { compileOp, ILLEGAL, stepRegister, ValueTable, whyIllegal } from './register_model.ts';

export interface HistoryEvent {
  /** Index of the operation in the whole history. */
  op: number;
  type: 'call' | 'return';
  time: number;
}

export interface UnplacedOp {
  op: number;
  /** Why it cannot go right after the longest linearization. */
  reason: string;
}

export interface Violation {
  key: string;
  /** The key's call and return events in time order (returns at +infinity omitted). */
  events: HistoryEvent[];
  /** Length of the shortest prefix of `events` that cannot be linearized. */
  prefixEvents: number;
  /** The operation whose return is the last event of that prefix. */
  failingOp: number;
  /** The longest linearization found for that prefix (history indexes, in order). */
  longest: number[];
  /** The register's value after `longest`. */
  stateAfterLongest: string | null;
  /** Completed operations of the prefix left out of `longest`, each with why. */
  unplaced: UnplacedOp[];
}

/** The key's events, ordered as the search orders them. */
export function keyEvents(history: History, indexes: number[]): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const i of indexes) {
    const op = history[i]!;
    events.push({ op: i, type: 'call', time: op.call });
    const ret = effectiveReturn(op);
    if (ret !== Infinity) events.push({ op: i, type: 'return', time: ret });
  }
  events.sort((a, b) => a.time - b.time || (a.type === 'call' ? 0 : 1) - (b.type === 'call' ? 0 : 1) || a.op - b.op);
  return events;
}

/** The operations of the first `count` events, as a history of their own. */
function prefixOps(history: History, events: HistoryEvent[], count: number): { ops: HistoryOp[]; indexes: number[] } {
  const returned = new Set<number>();
  for (let e = 0; e < count; e++) if (events[e]!.type === 'return') returned.add(events[e]!.op);
  const ops: HistoryOp[] = [];
  const indexes: number[] = [];
  for (let e = 0; e < count; e++) {
    const ev = events[e]!;
    if (ev.type !== 'call') continue;
    const op = history[ev.op]!;
    if (returned.has(ev.op) || op.outcome === 'info') {
      ops.push(op);
    } else {
      // Pending at the end of the prefix: its result is not known yet.
      ops.push({ ...op, value: op.kind === 'read' ? null : op.value, ret: null, outcome: 'info' });
    }
    indexes.push(ev.op);
  }
  return { ops, indexes };
}

/**
 * Explains the violation on `key`, or returns null if the key's history is
 * linearizable. Throws if the budget runs out (the explanation would be a guess).
 */
export function explainViolation(history: History, key: string, options: CheckOptions = {}): Violation | null {
  const indexes = splitByKey(history).get(key);
  assert(indexes !== undefined, `no operation on key ${key}`);
  const events = keyEvents(history, indexes);
  const search = (count: number) => {
    const { ops, indexes: map } = prefixOps(history, events, count);
    const result = checkKey(ops, options);
    if (result.verdict === 'unknown') throw new Error(`cannot explain the violation on key ${key}: ${result.reason}`);
    return { result, map };
  };
  if (search(events.length).result.verdict === 'linearizable') return null;
  // Invariant: prefix `lo` is linearizable, prefix `hi` is not.
  let lo = 0;
  let hi = events.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (search(mid).result.verdict === 'linearizable') lo = mid;
    else hi = mid;
  }
  const last = events[hi - 1]!;
  assert(last.type === 'return', 'a call alone cannot make a history non-linearizable');
  const { result, map } = search(hi);
  const longest = result.longest.map((i) => map[i]!);
  const placed = new Set(longest);
  const unplaced: UnplacedOp[] = [];
  const values = new ValueTable();
  const state = values.id(result.stateAfterLongest);
  const returnedInPrefix = new Set(events.slice(0, hi).filter((e) => e.type === 'return').map((e) => e.op));
  // Completed operations of the prefix that the longest linearization left out.
  const waiting = map.filter((i) => !placed.has(i) && returnedInPrefix.has(i) && compileOp(history[i]!, values) !== null);
  for (const i of waiting) {
    const op = history[i]!;
    const c = compileOp(op, values)!;
    // Real-time order: whatever returned before this call must come first.
    const before = waiting.find((j) => j !== i && history[j]!.ret! < op.call);
    let reason: string;
    if (before !== undefined) reason = `must follow #${before + 1}, which returned before it was called`;
    else if (stepRegister(state, c.code, c.a, c.b) === ILLEGAL) reason = whyIllegal(op, result.stateAfterLongest);
    else reason = 'could go next, but every order that places it leaves another operation stuck';
    unplaced.push({ op: i, reason });
  }
  return { key, events, prefixEvents: hi, failingOp: last.op, longest, stateAfterLongest: result.stateAfterLongest, unplaced };
}

/** Operations of the prefix with a known outcome that had not returned by its end (their outcome is taken as unknown there). */
export function runningAtPrefixEnd(history: History, v: Violation): Set<number> {
  const called = new Set<number>();
  for (let e = 0; e < v.prefixEvents; e++) {
    const ev = v.events[e]!;
    if (ev.type === 'call') called.add(ev.op);
    else called.delete(ev.op);
  }
  for (const i of called) if (history[i]!.outcome === 'info') called.delete(i);
  return called;
}

const showValue = (v: string | null) => (v === null ? 'nil' : v);

/** `#12 p3 read -> 4 [call 40, return 57]`: the operation's number is its 1-based place in the history. */
export function formatOp(history: History, i: number): string {
  const op = history[i]!;
  const ret = effectiveReturn(op) === Infinity ? 'never returned' : `return ${op.ret}`;
  return `#${i + 1} p${op.process} ${describeOp(op)} [call ${op.call}, ${ret}]`;
}

/** The violation as readable text, one fact a line. */
export function formatViolation(history: History, v: Violation): string {
  const keyOps = new Set(v.events.map((e) => e.op));
  const running = runningAtPrefixEnd(history, v);
  const note = (i: number) => (running.has(i) ? '  (still running when the prefix ends: taken as unknown)' : '');
  const lines = [
    `not linearizable: key ${JSON.stringify(v.key)} (${keyOps.size} operations, ${v.events.length} events)`,
    `shortest prefix that cannot be linearized: the first ${v.prefixEvents} of ${v.events.length} events, ending when this operation returned:`,
    `  ${formatOp(history, v.failingOp)}`,
    `longest linearization found for that prefix (${v.longest.length} operations), leaving the register at ${showValue(v.stateAfterLongest)}:`,
    ...v.longest.map((i, n) => `  ${String(n + 1).padStart(3)}. ${formatOp(history, i)}${note(i)}`),
    `completed operations it could not place after that:`,
    ...v.unplaced.map((u) => `  ${formatOp(history, u.op)}: ${u.reason}`),
  ];
  return lines.join('\n');
}
