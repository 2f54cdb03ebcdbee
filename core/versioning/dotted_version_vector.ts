// Dotted version vector sets (Preguiça, Baquero, Almeida, Fonte, Gonçalves:
// "Dotted Version Vectors: Logical Clocks for Optimistic Replication", and
// Riak's dvvset). One per key in `siblings` mode. A state holds, per
// coordinating node, a counter N (the key's causal history contains that
// node's writes 1..N) and the siblings: the writes nobody has yet superseded,
// each tagged with its dot (node, counter).
//
// Unlike dvvset, every sibling keeps its dot explicitly instead of being
// implied by its position in a contiguous run: collapsing siblings to one
// (collapseLww) can then keep the winner at its own dot and stay a
// commutative, associative, idempotent sync. A state's meaning is the pair
// (history, live dots); every dot in the history but not live is superseded.
//
// Dots must identify one write forever: a coordinator that lost unsynced
// writes in a crash, after they may have reached other replicas, must not
// mint the same dots again. Callers pass a node id that changes with such an
// incarnation (Riak's vnode epoch) or make the write durable before sending it.
//
// Functions are pure and return new states; inputs are never mutated.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import { compareNodeIds } from './hlc.ts';

export interface Dot {
  readonly node: NodeId;
  readonly counter: number;
}

/** A causal context: per node, the highest counter seen. Sorted by node (compareNodeIds), counters >= 1. */
export type CausalContext = readonly Dot[];
export const EMPTY_CONTEXT: CausalContext = Object.freeze([]) as CausalContext;

export interface DvvSibling<V> {
  readonly counter: number;
  readonly value: V;
}

export interface DvvEntry<V> {
  readonly node: NodeId;
  /** The history holds this node's writes 1..counter. */
  readonly counter: number;
  /** Writes of this node not superseded, counters strictly descending, each in 1..counter. */
  readonly siblings: readonly DvvSibling<V>[];
}

export interface DvvSet<V> {
  /** Sorted by node (compareNodeIds), one entry per node. */
  readonly entries: readonly DvvEntry<V>[];
}

export function emptyDvv<V>(): DvvSet<V> {
  return { entries: [] };
}

/** Asserts the structural invariants of a state (sorted, counters in range). */
export function checkDvv<V>(state: DvvSet<V>): void {
  let previous: NodeId | null = null;
  for (const e of state.entries) {
    assert(previous === null || compareNodeIds(previous, e.node) < 0, `dvv entries out of order: ${previous} then ${e.node}`);
    assert(Number.isSafeInteger(e.counter) && e.counter >= 1, `dvv counter invalid: ${e.counter}`);
    let above = e.counter + 1;
    for (const s of e.siblings) {
      assert(Number.isSafeInteger(s.counter) && s.counter >= 1 && s.counter < above, `dvv sibling dot ${e.node}:${s.counter} out of order`);
      above = s.counter;
    }
    previous = e.node;
  }
}

/** Asserts that a context is sorted with positive counters. */
export function checkContext(context: CausalContext): void {
  let previous: NodeId | null = null;
  for (const d of context) {
    assert(previous === null || compareNodeIds(previous, d.node) < 0, `context entries out of order: ${previous} then ${d.node}`);
    assert(Number.isSafeInteger(d.counter) && d.counter >= 1, `context counter invalid: ${d.counter}`);
    previous = d.node;
  }
}

/** The opaque causal context handed to a client with a read: the state's whole history. */
export function join<V>(state: DvvSet<V>): CausalContext {
  return state.entries.map((e) => ({ node: e.node, counter: e.counter }));
}

/** Every sibling (tombstones included), by node ascending, newest first within a node. */
export function values<V>(state: DvvSet<V>): V[] {
  const out: V[] = [];
  for (const e of state.entries) for (const s of e.siblings) out.push(s.value);
  return out;
}

/** Every sibling with its dot, in the order of values(). */
export function dottedValues<V>(state: DvvSet<V>): { dot: Dot; value: V }[] {
  const out: { dot: Dot; value: V }[] = [];
  for (const e of state.entries) for (const s of e.siblings) out.push({ dot: { node: e.node, counter: s.counter }, value: s.value });
  return out;
}

export function siblingCount<V>(state: DvvSet<V>): number {
  let n = 0;
  for (const e of state.entries) n += e.siblings.length;
  return n;
}

export interface SiblingLimits {
  /** At or above this many siblings a write succeeds but should be logged. */
  readonly warn: number;
  /** Above this many siblings a client write is refused. */
  readonly max: number;
}

/**
 * Where a sibling count stands against the limits. Callers on client paths
 * check the state a write would produce; replication and repair never refuse
 * (refusing a sync would only keep replicas diverged).
 */
export function siblingLimitVerdict(count: number, limits: SiblingLimits): 'ok' | 'warn' | 'over' {
  assert(limits.warn >= 1 && limits.max >= limits.warn, `sibling limits invalid: warn ${limits.warn}, max ${limits.max}`);
  if (count > limits.max) return 'over';
  if (count >= limits.warn) return 'warn';
  return 'ok';
}

/**
 * A coordinator's write of `value` carrying the client's `context`, applied
 * to the coordinator's current `state`: the siblings the context saw are
 * superseded, all others stay (they are concurrent with this write), and the
 * new value gets the dot (nodeId, n + 1) where n is the highest counter of
 * nodeId in the state or the context. An empty context supersedes nothing.
 */
export function update<V>(state: DvvSet<V>, context: CausalContext, value: V, nodeId: NodeId): DvvSet<V> {
  checkContext(context);
  const entries: DvvEntry<V>[] = [];
  let i = 0;
  let j = 0;
  let placed = false;
  const emit = (node: NodeId, counter: number, siblings: readonly DvvSibling<V>[]): void => {
    if (!placed && compareNodeIds(nodeId, node) <= 0) {
      placed = true;
      if (node === nodeId) {
        entries.push(event(counter, siblings, value, nodeId));
        return;
      }
      entries.push(event(0, [], value, nodeId));
    }
    entries.push({ node, counter, siblings });
  };
  while (i < state.entries.length || j < context.length) {
    const e = state.entries[i];
    const d = context[j];
    const c = e && d ? compareNodeIds(e.node, d.node) : e ? -1 : 1;
    if (c < 0) {
      emit(e!.node, e!.counter, e!.siblings);
      i++;
    } else if (c > 0) {
      emit(d!.node, d!.counter, []);
      j++;
    } else {
      const seen = d!.counter;
      emit(e!.node, Math.max(e!.counter, seen), e!.siblings.filter((s) => s.counter > seen));
      i++;
      j++;
    }
  }
  if (!placed) entries.push(event(0, [], value, nodeId));
  const out = { entries };
  checkDvv(out);
  return out;
}

function event<V>(counter: number, siblings: readonly DvvSibling<V>[], value: V, nodeId: NodeId): DvvEntry<V> {
  assert(counter < Number.MAX_SAFE_INTEGER, `dvv counter exhausted for ${nodeId}`);
  return { node: nodeId, counter: counter + 1, siblings: [{ counter: counter + 1, value }, ...siblings] };
}

/**
 * Merges two replicas' states of one key: the union of the histories, and the
 * siblings that neither side has superseded (a dot stays if each side either
 * holds it or has not seen it). Idempotent, commutative and associative when
 * equal dots carry equal values; `pickSameDot` decides otherwise (a dot reused
 * after a crash) and must itself be commutative for sync to stay so.
 */
export function sync<V>(a: DvvSet<V>, b: DvvSet<V>, pickSameDot: (x: V, y: V) => V = (x) => x): DvvSet<V> {
  if (a === b) return a;
  const entries: DvvEntry<V>[] = [];
  let i = 0;
  let j = 0;
  while (i < a.entries.length || j < b.entries.length) {
    const x = a.entries[i];
    const y = b.entries[j];
    const c = x && y ? compareNodeIds(x.node, y.node) : x ? -1 : 1;
    if (c < 0) {
      entries.push(x!);
      i++;
    } else if (c > 0) {
      entries.push(y!);
      j++;
    } else {
      entries.push(mergeEntry(x!, y!, pickSameDot));
      i++;
      j++;
    }
  }
  const out = { entries };
  checkDvv(out);
  return out;
}

function mergeEntry<V>(x: DvvEntry<V>, y: DvvEntry<V>, pick: (p: V, q: V) => V): DvvEntry<V> {
  const siblings: DvvSibling<V>[] = [];
  let i = 0;
  let j = 0;
  while (i < x.siblings.length || j < y.siblings.length) {
    const s = x.siblings[i];
    const t = y.siblings[j];
    if (s && (!t || s.counter > t.counter)) {
      if (s.counter > y.counter) siblings.push(s);
      i++;
    } else if (t && (!s || t.counter > s.counter)) {
      if (t.counter > x.counter) siblings.push(t);
      j++;
    } else {
      siblings.push({ counter: s!.counter, value: pick(s!.value, t!.value) });
      i++;
      j++;
    }
  }
  return { node: x.node, counter: Math.max(x.counter, y.counter), siblings };
}

/**
 * Collapses the siblings to the greatest one under `compare` (ties broken by
 * the larger dot), kept at its own dot; the history is unchanged. Any replica
 * may do this on its own: as every replica keeps the greatest of what it
 * holds, the overall greatest survives syncs and the replicas converge.
 */
export function collapseLww<V>(state: DvvSet<V>, compare: (a: V, b: V) => number): DvvSet<V> {
  let best: { node: NodeId; counter: number; value: V } | null = null;
  for (const e of state.entries) {
    for (const s of e.siblings) {
      if (best === null) {
        best = { node: e.node, counter: s.counter, value: s.value };
        continue;
      }
      const c = compare(s.value, best.value) || compareNodeIds(e.node, best.node) || s.counter - best.counter;
      if (c > 0) best = { node: e.node, counter: s.counter, value: s.value };
    }
  }
  if (best === null) return state;
  const winner = best;
  return {
    entries: state.entries.map((e) => ({
      node: e.node,
      counter: e.counter,
      siblings: e.node === winner.node ? [{ counter: winner.counter, value: winner.value }] : [],
    })),
  };
}

/**
 * Replaces all siblings by `resolve(values)` as a new write by `nodeId` that
 * saw the whole state. It mints a dot, so it belongs on a coordinator's write
 * path; two replicas reconciling independently would produce two siblings.
 */
export function reconcile<V>(state: DvvSet<V>, resolve: (siblings: V[]) => V, nodeId: NodeId): DvvSet<V> {
  return update(state, join(state), resolve(values(state)), nodeId);
}

/** Whether `context` has seen every write in `state` (a write with it would leave one sibling). */
export function contextCovers<V>(context: CausalContext, state: DvvSet<V>): boolean {
  let j = 0;
  for (const e of state.entries) {
    while (j < context.length && compareNodeIds(context[j]!.node, e.node) < 0) j++;
    const seen = j < context.length && context[j]!.node === e.node ? context[j]!.counter : 0;
    if (seen < e.counter) return false;
  }
  return true;
}
