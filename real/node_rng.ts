// io/rng.ts's Rng for the real runtime: xoshiro128** seeded from the
// operating system's entropy. Not for secrets; for jitter, sampling and
// choosing peers. The seed is kept so a surprising run can be replayed.

import { randomBytes } from 'node:crypto';
import { assert } from '../io/assert.ts';
import type { Rng } from '../io/rng.ts';

export class NodeRng implements Rng {
  readonly seed: readonly [number, number, number, number];
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed`: four 32-bit words, not all zero; random when omitted. */
  constructor(seed?: readonly [number, number, number, number]) {
    let words = seed;
    if (!words) {
      const bytes = randomBytes(16);
      words = [bytes.readUInt32LE(0), bytes.readUInt32LE(4), bytes.readUInt32LE(8), bytes.readUInt32LE(12)];
      if ((words[0] | words[1] | words[2] | words[3]) === 0) words = [1, 0, 0, 0];
    }
    assert(words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff), 'seed words must be uint32');
    assert((words[0] | words[1] | words[2] | words[3]) !== 0, 'xoshiro seed must not be all zero');
    this.seed = [words[0], words[1], words[2], words[3]];
    [this.s0, this.s1, this.s2, this.s3] = [words[0] | 0, words[1] | 0, words[2] | 0, words[3] | 0];
  }

  /** One 32-bit output of xoshiro128** (Blackman & Vigna). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  next(): number {
    // 53 random bits, so every double in [0, 1) on the 2^-53 grid is reachable.
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  int(maxExclusive: number): number {
    assert(Number.isSafeInteger(maxExclusive) && maxExclusive > 0, `int bound ${maxExclusive}`);
    return Math.floor(this.next() * maxExclusive);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
