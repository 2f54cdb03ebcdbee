// The memo of Lowe's linearizability search: the configurations (set of
// linearized operations, model state) already explored, so that none is
// explored twice. Sets are bitsets of `words` 32-bit words, hashed by Zobrist
// keys that the search updates in O(1) per step; a hash match is confirmed on
// the full bitset, so a collision costs time, never a wrong answer.

// Zobrist keys: the hash of a set of operations is the xor of its members'
// keys, kept up to date in O(1) as operations are linearized and undone.
// Fixed seed, so every run searches and hashes identically.
const zobrist: number[] = [];
let zobristSeed = 0x9e3779b9;
export function zobristKey(i: number): number {
  while (zobrist.length <= i) {
    // xorshift32
    zobristSeed ^= zobristSeed << 13;
    zobristSeed ^= zobristSeed >>> 17;
    zobristSeed ^= zobristSeed << 5;
    zobrist.push(zobristSeed >>> 0);
  }
  return zobrist[i]!;
}

/**
 * The memo of Lowe's algorithm: a set of (linearized bitset, state) pairs,
 * open addressing over flat typed arrays so that a lookup allocates nothing.
 */
export class SeenConfigurations {
  private slots: Int32Array; // 1 + entry index, 0 = empty
  private mask: number;
  private hashes: Uint32Array;
  private states: Int32Array;
  private bits: Uint32Array;
  private count = 0;

  constructor(private readonly words: number) {
    const cap = 1024;
    this.slots = new Int32Array(cap * 2);
    this.mask = cap * 2 - 1;
    this.hashes = new Uint32Array(cap);
    this.states = new Int32Array(cap);
    this.bits = new Uint32Array(cap * words);
  }

  get size(): number {
    return this.count;
  }

  /** Adds the pair; false if it was already there. */
  add(set: Uint32Array, hash: number, state: number): boolean {
    const h = (Math.imul(hash ^ Math.imul(state + 1, 0x85ebca6b), 0xc2b2ae35) ^ (hash >>> 15)) >>> 0;
    const words = this.words;
    let slot = h & this.mask;
    for (;;) {
      const e = this.slots[slot]! - 1;
      if (e < 0) break;
      if (this.hashes[e] === h && this.states[e] === state) {
        let same = true;
        const base = e * words;
        for (let w = 0; w < words; w++) {
          if (this.bits[base + w] !== set[w]) {
            same = false;
            break;
          }
        }
        if (same) return false;
      }
      slot = (slot + 1) & this.mask;
    }
    const e = this.count++;
    if (e === this.hashes.length) this.grow();
    this.hashes[e] = h;
    this.states[e] = state;
    this.bits.set(set, e * words);
    if (this.count * 2 > this.slots.length) this.rehash();
    else this.slots[slot] = e + 1;
    return true;
  }

  private grow(): void {
    const cap = this.hashes.length * 2;
    const hashes = new Uint32Array(cap);
    hashes.set(this.hashes);
    const states = new Int32Array(cap);
    states.set(this.states);
    const bits = new Uint32Array(cap * this.words);
    bits.set(this.bits);
    this.hashes = hashes;
    this.states = states;
    this.bits = bits;
  }

  // Rebuilds the slot array at twice the size, entries 0..count-1 included.
  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let e = 0; e < this.count; e++) {
      let slot = this.hashes[e]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = e + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
