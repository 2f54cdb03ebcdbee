// When tree entries reach their purge time: a binary min-heap of (time,
// key, content) slots. A slot whose entry has since changed is skipped by
// the caller when it comes due (lazy deletion), so an update costs one push.

import { assert } from '../../io/assert.ts';

export interface PurgeSlot {
  readonly atMs: number;
  readonly id: string;
  readonly contentHash: bigint;
}

export class PurgeSchedule {
  private readonly heap: PurgeSlot[] = [];

  get size(): number {
    return this.heap.length;
  }

  add(atMs: number, id: string, contentHash: bigint): void {
    assert(Number.isFinite(atMs), `purge time ${atMs}`);
    const h = this.heap;
    h.push({ atMs, id, contentHash });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.atMs <= h[i]!.atMs) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  /** Removes and returns every slot due at or before `nowMs`, earliest first. */
  popDue(nowMs: number): PurgeSlot[] {
    const out: PurgeSlot[] = [];
    while (this.heap.length > 0 && this.heap[0]!.atMs <= nowMs) out.push(this.pop());
    return out;
  }

  private pop(): PurgeSlot {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.atMs < h[m]!.atMs) m = l;
        if (r < h.length && h[r]!.atMs < h[m]!.atMs) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}
