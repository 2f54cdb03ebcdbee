// Randomness enters core/ and sim/ only through Rng, seeded in the simulator
// so that a seed replays the same run.

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
}
