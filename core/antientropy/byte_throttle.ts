// Average-rate pacing for anti-entropy traffic: each message's bytes push
// the earliest time of the next one back by bytes / rate. Bursts are one
// message long; over time the rate holds.

import { assert } from '../../io/assert.ts';
import type { Clock } from '../../io/clock.ts';
import type { Timers } from '../../io/timers.ts';

export class ByteThrottle {
  private nextAtMs = 0;

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly bytesPerSec: number,
  ) {
    assert(bytesPerSec > 0, `throttle of ${bytesPerSec} B/s`);
  }

  /** Accounts `bytes` just sent or received. */
  spend(bytes: number): void {
    assert(bytes >= 0, `spent ${bytes} bytes`);
    this.nextAtMs = Math.max(this.nextAtMs, this.clock.monotonicMs()) + (bytes * 1000) / this.bytesPerSec;
  }

  /** Calls `go` once the budget allows the next message (at once, synchronously, when it already does). */
  wait(go: () => void): void {
    const delay = this.nextAtMs - this.clock.monotonicMs();
    if (delay <= 0) return go();
    this.timers.setTimer(Math.ceil(delay), go);
  }
}
