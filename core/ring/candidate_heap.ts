// Max-heap of (score, id) pairs for the token allocator's lazy greedy search.
// Equal scores pop the smaller id first, so a search is reproducible. Typed
// arrays and hole-based sifting: the allocator pushes and pops millions of
// entries when a node joins a large ring.

import { assert } from '../../io/assert.ts';

export class CandidateHeap {
  private scores = new Float64Array(64);
  private ids = new Int32Array(64);
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(score: number, id: number): void {
    assert(!Number.isNaN(score), `candidate ${id} scored NaN`);
    if (this.count === this.ids.length) this.grow();
    let i = this.count++;
    const scores = this.scores;
    const ids = this.ids;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const ps = scores[parent]!;
      if (ps > score || (ps === score && ids[parent]! < id)) break;
      scores[i] = ps;
      ids[i] = ids[parent]!;
      i = parent;
    }
    scores[i] = score;
    ids[i] = id;
  }

  /** Adds an entry without restoring heap order; call heapify() before the next push, peek or pop. */
  append(score: number, id: number): void {
    assert(!Number.isNaN(score), `candidate ${id} scored NaN`);
    if (this.count === this.ids.length) this.grow();
    this.scores[this.count] = score;
    this.ids[this.count++] = id;
  }

  /** Restores heap order in O(size) after appends. */
  heapify(): void {
    for (let i = (this.count >> 1) - 1; i >= 0; i--) this.siftDown(i, this.scores[i]!, this.ids[i]!);
  }

  peekScore(): number {
    assert(this.count > 0, 'peek on an empty heap');
    return this.scores[0]!;
  }

  peekId(): number {
    assert(this.count > 0, 'peek on an empty heap');
    return this.ids[0]!;
  }

  /** Removes the best entry and returns its id. */
  pop(): number {
    assert(this.count > 0, 'pop on an empty heap');
    const top = this.ids[0]!;
    const n = --this.count;
    if (n > 0) this.siftDown(0, this.scores[n]!, this.ids[n]!);
    return top;
  }

  /** Places (score, id) at hole i or below it, moving better children up. */
  private siftDown(i: number, score: number, id: number): void {
    const scores = this.scores;
    const ids = this.ids;
    const n = this.count;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const r = child + 1;
      if (r < n && (scores[r]! > scores[child]! || (scores[r] === scores[child] && ids[r]! < ids[child]!))) child = r;
      const cs = scores[child]!;
      if (score > cs || (score === cs && id < ids[child]!)) break;
      scores[i] = cs;
      ids[i] = ids[child]!;
      i = child;
    }
    scores[i] = score;
    ids[i] = id;
  }

  private grow(): void {
    const scores = new Float64Array(this.scores.length * 2);
    const ids = new Int32Array(this.ids.length * 2);
    scores.set(this.scores);
    ids.set(this.ids);
    this.scores = scores;
    this.ids = ids;
  }
}
