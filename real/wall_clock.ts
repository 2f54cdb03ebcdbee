// io/clock.ts's Clock on the real machine: monotonic time from
// process.hrtime.bigint (immune to wall-clock steps), wall time from Date.now.

import type { Clock } from '../io/clock.ts';

export class WallClock implements Clock {
  private readonly originNs = process.hrtime.bigint();
  private lastMonotonicMs = 0;

  monotonicMs(): number {
    const ms = Number(process.hrtime.bigint() - this.originNs) / 1e6;
    // hrtime is CLOCK_MONOTONIC, but the contract is "never decreases" for
    // every caller, so it is enforced here rather than trusted.
    if (ms > this.lastMonotonicMs) this.lastMonotonicMs = ms;
    return this.lastMonotonicMs;
  }

  wallMs(): number {
    return Date.now();
  }
}
