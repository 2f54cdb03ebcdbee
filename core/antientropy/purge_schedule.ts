// When tree entries reach their purge time: a binary min-heap of (time, key)
// slots, held as two parallel arrays so a slot is not an object. A slot
// whose key has since changed is checked by the caller when it comes due
// (lazy deletion), so an update costs at most one push.

import { assert } from '../../io/assert.ts';

export interface PurgeSlot {
  readonly atMs: number;
  readonly id: string;
}

export class PurgeSchedule {
  private readonly times: number[] = [];
  private readonly ids: string[] = [];

  get size(): number {
    return this.times.length;
  }

  add(atMs: number, id: string): void {
    if (!Number.isFinite(atMs)) assert(false, `purge time ${atMs}`);
    const times = this.times;
    const ids = this.ids;
    // Sift up with a hole: parents move down until the slot fits.
    let i = times.length;
    times.push(atMs);
    ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= atMs) break;
      times[i] = times[parent]!;
      ids[i] = ids[parent]!;
      i = parent;
    }
    times[i] = atMs;
    ids[i] = id;
  }

  /** Removes and returns every slot due at or before `nowMs`, earliest first. */
  popDue(nowMs: number): PurgeSlot[] {
    const out: PurgeSlot[] = [];
    while (this.times.length > 0 && this.times[0]! <= nowMs) {
      out.push({ atMs: this.times[0]!, id: this.ids[0]! });
      this.pop();
    }
    return out;
  }

  private pop(): void {
    const times = this.times;
    const ids = this.ids;
    const lastTime = times.pop()!;
    const lastId = ids.pop()!;
    const n = times.length;
    if (n === 0) return;
    // Sift the last slot down from the root, with a hole.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && times[r]! < times[l]! ? r : l;
      if (times[m]! >= lastTime) break;
      times[i] = times[m]!;
      ids[i] = ids[m]!;
      i = m;
    }
    times[i] = lastTime;
    ids[i] = lastId;
  }
}
