// A fixed set of keyed slots with O(log n) update and O(1) max: a tournament
// tree over a power-of-two array. The token allocator keeps one slot per node
// holding that node's best candidate score. Ties go to the lower slot.

import { assert } from '../../io/assert.ts';

export class MaxTree {
  private readonly leaves: number;
  /** Internal nodes 1..leaves-1 hold the index of the winning slot below them. */
  private readonly winner: Int32Array;
  private readonly keys: Float64Array;

  constructor(readonly size: number) {
    assert(Number.isInteger(size) && size > 0, `tree size ${size}`);
    let leaves = 1;
    while (leaves < size) leaves *= 2;
    this.leaves = leaves;
    this.keys = new Float64Array(leaves).fill(-Infinity);
    this.winner = new Int32Array(2 * leaves);
    for (let i = 0; i < leaves; i++) this.winner[leaves + i] = i;
    for (let i = leaves - 1; i >= 1; i--) this.winner[i] = this.pick(this.winner[2 * i]!, this.winner[2 * i + 1]!);
  }

  set(slot: number, key: number): void {
    assert(slot >= 0 && slot < this.size, `tree slot ${slot}`);
    assert(!Number.isNaN(key), `tree slot ${slot} keyed NaN`);
    this.keys[slot] = key;
    for (let i = (this.leaves + slot) >> 1; i >= 1; i >>= 1) {
      this.winner[i] = this.pick(this.winner[2 * i]!, this.winner[2 * i + 1]!);
    }
  }

  get(slot: number): number {
    return this.keys[slot]!;
  }

  /** The slot with the largest key (-Infinity when every slot is empty). */
  argmax(): number {
    return this.winner[1]!;
  }

  max(): number {
    return this.keys[this.argmax()]!;
  }

  private pick(a: number, b: number): number {
    return this.keys[b]! > this.keys[a]! ? b : a;
  }
}
