// The simulator's seeded randomness. One root SimRng per run; every component
// takes its own `fork(label)`, a stream derived from the seed and the label
// alone (never from draws made so far), so adding a draw in the disk does not
// shift what the network or a workload client sees.

import seedrandom from 'seedrandom';
// Per-event checks throw AssertionError themselves: a template message passed to
// assert() would be built (numbers formatted) on every call, not only on failure.
import { AssertionError, assert } from '../io/assert.ts';
import type { Rng } from '../io/rng.ts';

export type Seed = number | string;

export class SimRng implements Rng {
  /** The full seed string this stream was derived from (root seed plus fork labels). */
  readonly seed: string;
  private readonly prng: seedrandom.PRNG;
  /** Forks taken per label, so forking the same label twice gives two different streams. */
  private readonly forkCounts = new Map<string, number>();

  constructor(seed: Seed) {
    assert(typeof seed === 'string' || Number.isFinite(seed), `SimRng: seed must be a string or finite number, got ${seed}`);
    this.seed = String(seed);
    // alea: fast to create (forks are cheap) and passes BigCrush.
    this.prng = seedrandom.alea(this.seed);
  }

  /** Uniform in [0, 1), 32 bits of randomness. */
  next(): number {
    return this.prng();
  }

  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number {
    if (!(Number.isSafeInteger(maxExclusive) && maxExclusive > 0)) throw new AssertionError(`SimRng.int: bad bound ${maxExclusive}`);
    // 32 bits are not enough to reach every value of a large bound evenly.
    const u = maxExclusive <= 0x1_0000_0000 ? this.prng() : this.prng.double();
    const r = Math.floor(u * maxExclusive);
    assert(r >= 0 && r < maxExclusive, 'SimRng.int: out of range');
    return r;
  }

  /** Uniform integer in [min, max], both inclusive. */
  intBetween(min: number, max: number): number {
    if (!(Number.isSafeInteger(min) && Number.isSafeInteger(max) && min <= max)) throw new AssertionError(`SimRng.intBetween: bad range [${min}, ${max}]`);
    return min + this.int(max - min + 1);
  }

  /** Uniform real in [min, max). */
  between(min: number, max: number): number {
    if (!(Number.isFinite(min) && Number.isFinite(max) && min <= max)) throw new AssertionError(`SimRng.between: bad range [${min}, ${max})`);
    return min + this.prng() * (max - min);
  }

  /** True with probability p (p <= 0 never, p >= 1 always; no draw in either case). */
  chance(p: number): boolean {
    assert(!Number.isNaN(p), 'SimRng.chance: p is NaN');
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.prng() < p;
  }

  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'SimRng.pick: empty array');
    return items[this.int(items.length)]!;
  }

  /** A shuffled copy (Fisher–Yates); the input is left alone. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }

  /** Exponentially distributed with the given mean (memoryless delays, inter-arrival times). */
  exponential(meanMs: number): number {
    if (!(Number.isFinite(meanMs) && meanMs >= 0)) throw new AssertionError(`SimRng.exponential: bad mean ${meanMs}`);
    // 1 - u is in (0, 1], so the log is finite.
    return -Math.log(1 - this.prng()) * meanMs;
  }

  /** An independent stream that depends only on this stream's seed, the label and how often it was forked. */
  fork(label: string): SimRng {
    const n = this.forkCounts.get(label) ?? 0;
    this.forkCounts.set(label, n + 1);
    return new SimRng(n === 0 ? `${this.seed}/${label}` : `${this.seed}/${label}#${n}`);
  }
}
