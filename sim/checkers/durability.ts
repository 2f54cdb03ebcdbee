// Durability: no acknowledged write is lost. In the final state (the merge of
// what the home replicas hold, final_state.ts) every write a client saw
// succeed is present or superseded, and every acknowledged supersession
// (a delete, a write carrying a context) stays in effect.
//
// lww keyspaces: the final version is the write with the highest HLC. It may
// stand in for an acknowledged write W only if a client could have ordered it
// after W: it did not complete before W was called. "Before" allows the
// cluster's clock uncertainty ε (the bound on how far an HLC stamp can sit
// from true time: clock skew, the HLC lease a restarted node stamps ahead
// with, the millisecond resolution), so a write that completed more than ε
// before W was called must not beat W. That is the loss LWW suffers when
// clocks are skewed beyond ε; writes closer than ε may go either way.
//   - final is a value: its write must not have completed more than ε before
//     W was called (a write of unknown outcome may have happened any time
//     after its call; a definitely failed write supersedes nothing);
//   - final is a tombstone, or no replica holds the key (tombstone purged):
//     some delete (ok or unknown) must not have completed more than ε before
//     W was called;
//   - an acknowledged delete D: the final value, if any, must come from a
//     write that did not complete more than ε before D was called.
//
// siblings keyspaces: a write carrying a context supersedes exactly what the
// context saw. What a context saw is what the read that produced it returned,
// plus, transitively, what the contexts of the writes of those values saw (a
// replica holding a value has seen its write's context). So
//   - an acknowledged write W is present among the final siblings, or some
//     write or delete (ok or unknown) carried a context that saw it;
//   - no value an acknowledged write or delete saw is a final sibling.
// The first rule is complete for values (a supersession must start with a read
// that returned W live); both rules assume dots are never reused.

import { assert } from '../../io/assert.ts';
import { type ClientOp, historyKey } from '../client_op.ts';
import { type CheckViolation, type KeyReplicas, describeVersion, liveValues, mergedValue } from './final_state.ts';
import { writesByValue } from './validity.ts';

export interface DurabilityOptions {
  /** ε of the lww rules, in the unit of the history's times (ms). */
  lwwUncertaintyMs: number;
}

export interface DurabilityResult {
  /** Acknowledged writes lost plus acknowledged deletes and supersessions undone. */
  lostWrites: number;
  violations: CheckViolation[];
}

function describe(op: ClientOp): string {
  const what = op.kind === 'write' ? `write ${JSON.stringify(op.value)}` : op.kind;
  const ret = op.outcome === 'info' ? 'unknown outcome' : `returned ${op.ret}`;
  return `#${op.index + 1} (p${op.process} ${what} at ${op.coordinator}, ${op.consistency}, called ${op.call}, ${ret})`;
}

/** When `op` certainly took effect or never will: ok at its return, unknown never, failed never took effect. */
function effectiveReturn(op: ClientOp): number {
  if (op.outcome === 'ok') return op.ret!;
  if (op.outcome === 'info') return Number.POSITIVE_INFINITY;
  return Number.NEGATIVE_INFINITY;
}

export function checkDurability(ops: readonly ClientOp[], finalState: readonly KeyReplicas[], options: DurabilityOptions): DurabilityResult {
  assert(Number.isFinite(options.lwwUncertaintyMs) && options.lwwUncertaintyMs >= 0, `lwwUncertaintyMs ${options.lwwUncertaintyMs}`);
  const writes = writesByValue(ops);
  const byKey = new Map<string, ClientOp[]>();
  for (const op of ops) {
    if (op.kind === 'read' && op.outcome !== 'ok') continue;
    const k = historyKey(op.keyspace, op.key);
    let list = byKey.get(k);
    if (list === undefined) byKey.set(k, (list = []));
    list.push(op);
  }
  const violations: CheckViolation[] = [];
  const finalByKey = new Map(finalState.map((k) => [historyKey(k.keyspace, k.key), k]));
  for (const [key, keyOps] of byKey) {
    const state = finalByKey.get(key);
    const mutated = keyOps.some((op) => op.kind !== 'read' && op.outcome === 'ok');
    assert(state !== undefined || !mutated, `durability: no final state for ${key}, which acknowledged writes touched`);
    if (state === undefined) continue;
    const found =
      state.mode === 'lww'
        ? checkLwwKey(state, keyOps, writes, options.lwwUncertaintyMs)
        : checkSiblingsKey(state, keyOps, writes, ops);
    for (const message of found) violations.push({ check: 'durability', key, message });
  }
  return { lostWrites: violations.length, violations };
}

function checkLwwKey(state: KeyReplicas, keyOps: ClientOp[], writes: Map<string, ClientOp>, epsilon: number): string[] {
  const out: string[] = [];
  const merged = mergedValue(state);
  assert(merged === null || merged.mode === 'lww', 'lww key with a siblings version');
  const finalValue = liveValues(merged)[0] ?? null;
  const winner = finalValue === null ? undefined : writes.get(finalValue);
  const deletes = keyOps.filter((op) => op.kind === 'delete');
  const mayFollow = (x: ClientOp, w: ClientOp): boolean => effectiveReturn(x) + epsilon >= w.call;
  // Some delete may follow a write iff the one that returned last may (keeps the check linear in the ops).
  const lastDeleteReturn = deletes.reduce((m, d) => Math.max(m, effectiveReturn(d)), Number.NEGATIVE_INFINITY);
  const finalText = describeVersion(merged);
  for (const op of keyOps) {
    if (op.outcome !== 'ok') continue;
    if (op.kind === 'write') {
      if (finalValue === op.value) continue;
      if (finalValue !== null) {
        if (winner === undefined) {
          out.push(`acknowledged ${describe(op)} is lost: the replicas hold ${finalText}, which no client wrote`);
        } else if (!mayFollow(winner, op)) {
          out.push(`acknowledged ${describe(op)} is lost: the replicas hold ${finalText}, written by ${describe(winner)}, which ${lateBy(winner, op)}`);
        }
      } else if (!(lastDeleteReturn + epsilon >= op.call)) {
        const latest = latestEffective(deletes);
        out.push(
          `acknowledged ${describe(op)} is lost: the replicas hold ${finalText}, and ` +
            (latest === null ? 'no client deleted this key' : `every delete completed before it was called (the last: ${describe(latest)}, which ${lateBy(latest, op)})`),
        );
      }
    } else if (op.kind === 'delete' && finalValue !== null && winner !== undefined && !mayFollow(winner, op)) {
      out.push(`acknowledged ${describe(op)} is undone: the replicas hold ${finalText}, written by ${describe(winner)}, which ${lateBy(winner, op)}`);
    }
  }
  return out;

  function lateBy(earlier: ClientOp, later: ClientOp): string {
    if (earlier.outcome === 'fail') return 'was reported as definitely failed';
    const gap = later.call - effectiveReturn(earlier);
    return `completed ${round(gap)} ms before ${'#' + (later.index + 1)} was called (more than the ${epsilon} ms clock uncertainty)`;
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

function latestEffective(ops: ClientOp[]): ClientOp | null {
  let best: ClientOp | null = null;
  for (const op of ops) if (op.outcome !== 'fail' && (best === null || effectiveReturn(op) > effectiveReturn(best))) best = op;
  return best;
}

function checkSiblingsKey(state: KeyReplicas, keyOps: ClientOp[], writes: Map<string, ClientOp>, allOps: readonly ClientOp[]): string[] {
  const out: string[] = [];
  const merged = mergedValue(state);
  const live = new Set(liveValues(merged));
  const finalText = describeVersion(merged);
  const contextUsers = new Map<number, ClientOp[]>(); // read index -> ops that carried its context
  for (const op of keyOps) {
    if (op.kind === 'read' || op.contextFrom === null) continue;
    let list = contextUsers.get(op.contextFrom);
    if (list === undefined) contextUsers.set(op.contextFrom, (list = []));
    list.push(op);
  }
  const readsReturning = new Map<string, ClientOp[]>();
  for (const op of keyOps) {
    if (op.kind !== 'read') continue;
    for (const v of op.values!) {
      let list = readsReturning.get(v);
      if (list === undefined) readsReturning.set(v, (list = []));
      list.push(op);
    }
  }

  // Values some write or delete that may have happened superseded: reachable from their contexts.
  const superseded = new Set<string>();
  const visitedReads = new Set<number>();
  const stack: number[] = [];
  for (const op of keyOps) if (op.kind !== 'read' && op.contextFrom !== null && op.outcome !== 'fail') stack.push(op.contextFrom);
  while (stack.length > 0) {
    const r = stack.pop()!;
    if (visitedReads.has(r)) continue;
    visitedReads.add(r);
    const read = allOps[r]!;
    assert(read.index === r && read.kind === 'read' && read.outcome === 'ok', `context of a write comes from ${r}, not an ok read`);
    for (const v of read.values!) {
      superseded.add(v);
      const writer = writes.get(v);
      if (writer !== undefined && writer.contextFrom !== null) stack.push(writer.contextFrom);
    }
  }
  for (const op of keyOps) {
    if (op.kind !== 'write' || op.outcome !== 'ok') continue;
    if (live.has(op.value!) || superseded.has(op.value!)) continue;
    out.push(`acknowledged ${describe(op)} is lost: it is not among the final siblings ${finalText}, and no write or delete carried a context that saw it`);
  }

  // Live values an acknowledged write or delete saw: walk forward from the reads that returned them.
  for (const v of live) {
    const seenValues = new Set<string>([v]);
    const queue = [v];
    let culprit: ClientOp | null = null;
    while (queue.length > 0 && culprit === null) {
      const u = queue.pop()!;
      for (const read of readsReturning.get(u) ?? []) {
        for (const user of contextUsers.get(read.index) ?? []) {
          if (user.outcome === 'ok') {
            culprit = user;
            break;
          }
          if (user.kind === 'write' && !seenValues.has(user.value!)) {
            seenValues.add(user.value!);
            queue.push(user.value!);
          }
        }
        if (culprit !== null) break;
      }
    }
    if (culprit !== null) {
      const writer = writes.get(v);
      out.push(
        `acknowledged ${describe(culprit)} is undone: its context saw ${JSON.stringify(v)}` +
          (writer === undefined ? '' : ` (${describe(writer)})`) +
          `, which is still a final sibling: ${finalText}`,
      );
    }
  }
  return out;
}
