// Latency samples for a benchmark: every sample kept (a few hundred
// thousand at most), percentiles by sorting, so small tails are exact.

import { assert } from '../../io/assert.ts';

export class LatencySamples {
  private samples = new Float64Array(1024);
  private n = 0;
  private sorted = true;

  /** Records one latency in microseconds. */
  record(micros: number): void {
    assert(Number.isFinite(micros) && micros >= 0, `latency ${micros}`);
    if (this.n === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.n++] = micros;
    this.sorted = false;
  }

  get count(): number {
    return this.n;
  }

  /** The p-th percentile (0 < p <= 100), nearest-rank. */
  percentile(p: number): number {
    assert(p > 0 && p <= 100, `percentile ${p}`);
    assert(this.n > 0, 'percentile of no samples');
    if (!this.sorted) {
      this.samples.subarray(0, this.n).sort();
      this.sorted = true;
    }
    const rank = Math.ceil((p / 100) * this.n);
    return this.samples[Math.max(0, rank - 1)]!;
  }

  mean(): number {
    assert(this.n > 0, 'mean of no samples');
    let sum = 0;
    for (let i = 0; i < this.n; i++) sum += this.samples[i]!;
    return sum / this.n;
  }
}

/** Microseconds between two process.hrtime.bigint() readings. */
export function microsBetween(startNs: bigint, endNs: bigint): number {
  return Number(endNs - startNs) / 1000;
}
