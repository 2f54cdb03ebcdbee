// What must be streamed when the ring changes: for every stretch of the ring
// whose replica set gains a node, that node must receive the stretch's data
// from the nodes that held it before. Nodes that lose a range only delete it,
// so they appear in no transfer.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import type { Ring } from './ring.ts';
import { RING_SIZE, rangeWidth, type TokenRange } from './token_range.ts';

export interface Transfer {
  readonly range: TokenRange;
  /** The range's replicas on the old ring, in preference order: the possible sources. */
  readonly from: readonly NodeId[];
  /** A replica of the range on the new ring that was not one on the old ring. */
  readonly to: NodeId;
}

/**
 * Transfers turning `oldRing`'s placement into `newRing`'s for n replicas,
 * in ring order of their ranges; adjacent ranges with the same source and
 * target are merged. Both rings' tokens cut the ring into elementary ranges
 * inside which both placements are constant.
 */
export function transfersFor(oldRing: Ring, newRing: Ring, n: number): Transfer[] {
  assert(Number.isInteger(n) && n >= 1, `replication factor ${n}`);
  const bounds = mergeSortedUnique(oldRing.tokens(), newRing.tokens());
  const out: { range: { start: bigint; end: bigint }; from: readonly NodeId[]; to: NodeId }[] = [];
  if (newRing.tokenCount === 0) return out;
  const firstFor = new Map<NodeId, number>();
  const lastFor = new Map<NodeId, number>();
  for (let k = 0; k < bounds.length; k++) {
    const start = bounds[(k === 0 ? bounds.length : k) - 1]!;
    const end = bounds[k]!;
    const before = oldRing.tokenCount === 0 ? [] : oldRing.preferenceList(end, n);
    for (const to of newRing.preferenceList(end, n)) {
      if (before.includes(to)) continue;
      const last = lastFor.get(to);
      const prev = last === undefined ? undefined : out[last]!;
      if (prev && k > 0 && prev.range.end === start && sameList(prev.from, before)) {
        prev.range.end = end;
      } else {
        if (!firstFor.has(to)) firstFor.set(to, out.length);
        lastFor.set(to, out.length);
        out.push({ range: { start, end }, from: before, to });
      }
    }
  }
  // A node's last range may run on into its first, through the wrap-around.
  const merged = new Set<number>();
  for (const [to, first] of firstFor) {
    const last = lastFor.get(to)!;
    const [f, l] = [out[first]!, out[last]!];
    if (first !== last && l.range.end === f.range.start && sameList(f.from, l.from)) {
      f.range.start = l.range.start;
      merged.add(last);
    }
  }
  return merged.size === 0 ? out : out.filter((_, i) => !merged.has(i));
}

/** Share of the ring's replica copies the transfers carry (a range sent to two nodes counts twice). */
export function transferredShare(transfers: readonly Transfer[]): number {
  let total = 0n;
  for (const t of transfers) total += rangeWidth(t.range);
  return Number(total) / Number(RING_SIZE);
}

function sameList(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function mergeSortedUnique(a: readonly bigint[], b: readonly bigint[]): bigint[] {
  const out: bigint[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    if (i < a.length && a[i] === x) i++;
    if (j < b.length && b[j] === x) j++;
    assert(out.length === 0 || out[out.length - 1]! < x, 'ring tokens must be sorted');
    out.push(x);
  }
  return out;
}
