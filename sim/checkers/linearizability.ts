// Linearizability of a register history: the Wing–Gong–Lowe search with
// Lowe's memoisation, shaped as Porcupine does it.
//
// The history splits by key (P-compositionality: a history is linearizable iff
// each key's sub-history is) and each key is searched on its own. A key's
// operations become call and return entries in one doubly linked list ordered
// by time. The search walks the list: at a call entry it tries to linearize
// that operation next (the model accepts it and the pair (set of linearized
// operations, model state) has not been seen before), lifting the call and its
// return out of the list and restarting from the head; at a return entry no
// pending operation can go first any more, so it backtracks. It succeeds once
// every operation of known outcome is placed (see the pruning rules below).
//
// Operations of unknown outcome return at +infinity, so they may be placed
// after everything else, which is the same as never taking effect. A step
// budget (and an optional deadline read through an injected clock) ends the
// search with the verdict 'unknown', never a guess.

import { assert } from '../../io/assert.ts';
import { effectiveReturn, type History, type HistoryOp } from '../history.ts';
import * as register from './register_model.ts';
import { compileOp, modelAccepts, type ModelName, ValueTable } from './register_model.ts';
import { SeenConfigurations, zobristKey } from './seen_configurations.ts';

// Module-local copies: imported bindings are live and may cost a property
// read through a getter on every use in the search loop.
const ILLEGAL = register.ILLEGAL;
const OP_READ = register.OP_READ;
const OP_CAS_FAILED = register.OP_CAS_FAILED;
const stepRegister = register.stepRegister;

export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

export interface CheckOptions {
  /** Default 'cas-register'. */
  model?: ModelName;
  /** Search steps allowed over all keys together; default unlimited. */
  maxSteps?: number;
  /** A clock (any unit) and the reading at which to give up; both or neither. */
  now?: () => number;
  deadline?: number;
}

export interface KeyResult {
  key: string;
  verdict: Verdict;
  /** Operations of this key in the history. */
  ops: number;
  steps: number;
}

export interface CheckResult {
  verdict: Verdict;
  /** One per key, in order of first appearance. */
  keys: KeyResult[];
  steps: number;
  /** Why the verdict is 'unknown'. */
  reason: string | null;
}

/** The outcome of searching one key's operations. */
export interface KeySearch {
  verdict: Verdict;
  steps: number;
  /** The longest sequence of operations (indexes into the input) that the search linearized. */
  longest: number[];
  /** The register's value after `longest`. */
  stateAfterLongest: string | null;
  reason: string | null;
}

/** Indexes of the operations on each key, keys in order of first appearance. */
export function splitByKey(history: History): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  history.forEach((op, i) => {
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(i);
  });
  return byKey;
}

/** Steps between two readings of the injected clock. */
const CLOCK_EVERY = 1 << 12;

class Budget {
  steps = 0;
  exhausted: string | null = null;
  constructor(private readonly options: CheckOptions) {
    assert((options.now === undefined) === (options.deadline === undefined), 'now and deadline go together');
  }
  /** Called every step; false once the search must stop. */
  allow(): boolean {
    this.steps++;
    const max = this.options.maxSteps;
    if (max !== undefined && this.steps > max) {
      this.exhausted = `step budget of ${max} exhausted`;
      return false;
    }
    if ((this.steps & (CLOCK_EVERY - 1)) === 0 && this.options.now !== undefined) {
      if (this.options.now() >= this.options.deadline!) {
        this.exhausted = 'time budget exhausted';
        return false;
      }
    }
    return true;
  }
}

/** Checks a whole history, key by key, stopping at the first key that is not linearizable. */
export function checkLinearizability(history: History, options: CheckOptions = {}): CheckResult {
  const budget = new Budget(options);
  const keys: KeyResult[] = [];
  let verdict: Verdict = 'linearizable';
  let reason: string | null = null;
  for (const [key, indexes] of splitByKey(history)) {
    const before = budget.steps;
    const ops = indexes.map((i) => history[i]!);
    const search = searchKey(ops, options, budget);
    keys.push({ key, verdict: search.verdict, ops: ops.length, steps: budget.steps - before });
    if (search.verdict === 'not-linearizable') {
      verdict = 'not-linearizable';
      reason = null;
      break;
    }
    if (search.verdict === 'unknown') {
      verdict = 'unknown';
      reason = search.reason;
      break;
    }
  }
  return { verdict, keys, steps: budget.steps, reason };
}

/** Searches the operations of one key (their keys are not looked at). */
export function checkKey(ops: HistoryOp[], options: CheckOptions = {}): KeySearch {
  return searchKey(ops, options, new Budget(options));
}

function searchKey(input: HistoryOp[], options: CheckOptions, budget: Budget): KeySearch {
  const model = options.model ?? 'cas-register';
  const values = new ValueTable();
  // Operations that constrain or change the register; the rest cannot matter.
  const kept: number[] = [];
  const compiled: { code: number; a: number; b: number }[] = [];
  input.forEach((op, i) => {
    assert(modelAccepts(model, op.kind), `the ${model} model has no ${op.kind} operation`);
    const c = compileOp(op, values);
    if (c === null) return;
    kept.push(i);
    compiled.push(c);
  });
  const n = kept.length;
  const code = new Int32Array(n);
  const argA = new Int32Array(n);
  const argB = new Int32Array(n);
  compiled.forEach((c, i) => {
    code[i] = c.code;
    argA[i] = c.a;
    argB[i] = c.b;
  });

  // Entries 0..n-1 are calls and n..2n-1 returns (entry n+i is op i's return);
  // HEAD is the sentinel in front of the list, -1 ends it.
  const HEAD = 2 * n;
  const next = new Int32Array(2 * n + 1);
  const prev = new Int32Array(2 * n + 1);
  const order: { entry: number; time: number }[] = [];
  for (let i = 0; i < n; i++) {
    const op = input[kept[i]!]!;
    order.push({ entry: i, time: op.call }, { entry: n + i, time: effectiveReturn(op) });
  }
  // By time; at equal times calls first (they overlap), then by operation.
  order.sort((x, y) => x.time - y.time || (x.entry >= n ? 1 : 0) - (y.entry >= n ? 1 : 0) || x.entry - y.entry);
  let last = HEAD;
  for (const { entry } of order) {
    next[last] = entry;
    prev[entry] = last;
    last = entry;
  }
  next[last] = -1;

  // Pruning, each rule keeping at least one linearization of every kind the
  // plain search would find:
  // - OBSERVERS (an ok read, a failed cas) never change the register. One that
  //   is legal now can be linearized now: in any linearization from here that
  //   places it later, moving it to the front keeps every other operation's
  //   state, and whatever must precede it is already placed. So the search
  //   commits to it; when that fails, the configuration fails as a whole.
  // - An operation of unknown outcome (it never returns) is never needed as a
  //   no-op: a linearization placing it where it changes nothing stays valid
  //   with it left out. Nor is it ever needed at all once every operation of
  //   known outcome is placed (the rest can follow in any order, being always
  //   legal), so that is success.
  // - Identical unknown operations are interchangeable: of those already
  //   called, the search places them in call order only.
  const KIND_EFFECT = 0;
  const KIND_OBSERVER = 1;
  const KIND_UNKNOWN = 2;
  const kind = new Uint8Array(n);
  const twin = new Int32Array(n).fill(-1);
  const lastOfShape = new Map<string, number>();
  let definite = 0;
  for (const { entry: op } of order) {
    if (op >= n) continue;
    if (effectiveReturn(input[kept[op]!]!) === Infinity) {
      kind[op] = KIND_UNKNOWN;
      const shape = `${code[op]} ${argA[op]} ${argB[op]}`;
      twin[op] = lastOfShape.get(shape) ?? -1;
      lastOfShape.set(shape, op);
    } else {
      kind[op] = code[op] === OP_READ || code[op] === OP_CAS_FAILED ? KIND_OBSERVER : KIND_EFFECT;
      definite++;
    }
  }
  const zobristKeys = new Int32Array(n);
  for (let i = 0; i < n; i++) zobristKeys[i] = zobristKey(i);

  const words = Math.max(1, Math.ceil(n / 32));
  const linearized = new Uint32Array(words);
  const seen = new SeenConfigurations(words);
  const stackOp = new Int32Array(n);
  const stackState = new Int32Array(n);
  let depth = 0;
  let placedDefinite = 0;
  let longest: number[] = [];
  let stateAfterLongest = 0;
  let state = 0;
  let hash = 0;
  let entry = next[HEAD]!;
  const startSteps = budget.steps;

  while (placedDefinite < definite) {
    if (!budget.allow()) return finish('unknown', budget.exhausted);
    if (entry < n) {
      const op = entry;
      entry = next[op]!;
      const newState = stepRegister(state, code[op]!, argA[op]!, argB[op]!);
      if (newState === ILLEGAL) continue;
      const opKind = kind[op]!;
      if (opKind === KIND_UNKNOWN) {
        if (newState === state) continue;
        const t = twin[op]!;
        if (t >= 0 && (linearized[t >>> 5]! & (1 << (t & 31))) === 0) continue;
      }
      const w = op >>> 5;
      const bit = 1 << (op & 31);
      linearized[w] = linearized[w]! | bit;
      const newHash = hash ^ zobristKeys[op]!;
      if (seen.add(linearized, newHash, newState)) {
        stackOp[depth] = op;
        stackState[depth] = state;
        depth++;
        if (opKind !== KIND_UNKNOWN) placedDefinite++;
        state = newState;
        hash = newHash;
        // Lift the call and its return out of the list.
        const ret = n + op;
        next[prev[op]!] = next[op]!;
        prev[next[op]!] = prev[op]!;
        next[prev[ret]!] = next[ret]!;
        if (next[ret] !== -1) prev[next[ret]!] = prev[ret]!;
        entry = next[HEAD]!;
        continue;
      }
      linearized[w] = linearized[w]! & ~bit;
      // An observer placed here was explored before and failed: so does this.
      if (opKind === KIND_OBSERVER) entry = HEAD;
    } else {
      // A return (or HEAD, see above): no pending operation can go next.
      if (depth > longest.length) {
        longest = Array.from(stackOp.subarray(0, depth));
        stateAfterLongest = state;
      }
      let op: number;
      do {
        if (depth === 0) return finish('not-linearizable', null);
        depth--;
        op = stackOp[depth]!;
        state = stackState[depth]!;
        hash ^= zobristKeys[op]!;
        linearized[op >>> 5] = linearized[op >>> 5]! & ~(1 << (op & 31));
        if (kind[op] !== KIND_UNKNOWN) placedDefinite--;
        // Unlift: put the return back, then the call, where they were.
        const ret = n + op;
        next[prev[ret]!] = ret;
        if (next[ret] !== -1) prev[next[ret]!] = ret;
        next[prev[op]!] = op;
        prev[next[op]!] = op;
      } while (kind[op] === KIND_OBSERVER);
      entry = next[op]!;
    }
  }
  longest = Array.from(stackOp.subarray(0, depth));
  stateAfterLongest = state;
  return finish('linearizable', null);

  function finish(verdict: Verdict, reason: string | null): KeySearch {
    return {
      verdict,
      steps: budget.steps - startSteps,
      longest: longest.map((i) => kept[i]!),
      stateAfterLongest: values.value(stateAfterLongest),
      reason,
    };
  }
}
