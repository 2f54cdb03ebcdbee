// A token bucket for background I/O (flush, compaction): bytes are tokens,
// refilled at `bytesPerSec` up to `burstBytes`. Work is charged after it is
// done and may drive the balance negative; the caller then waits the time
// the bucket needs to refill before its next step. Foreground reads and
// writes are never charged: the limit exists so they keep their latency.

import { assert } from '../../io/assert.ts';
import type { Clock } from '../../io/clock.ts';

export class RateLimiter {
  private tokens: number;
  private lastRefillMs: number;
  /** Cumulative bytes charged, and cumulative wait handed out, for stats. */
  bytesCharged = 0;
  waitMs = 0;

  /** bytesPerSec = 0 means unlimited. */
  constructor(
    private readonly clock: Clock,
    readonly bytesPerSec: number,
    readonly burstBytes = Math.max(1, Math.floor(bytesPerSec / 10)),
  ) {
    assert(Number.isFinite(bytesPerSec) && bytesPerSec >= 0, `rate limit invalid: ${bytesPerSec}`);
    assert(burstBytes > 0, `burst invalid: ${burstBytes}`);
    this.tokens = burstBytes;
    this.lastRefillMs = clock.monotonicMs();
  }

  /** Charges `bytes` of finished work; returns how long to wait before the next step (ms, >= 0). */
  charge(bytes: number): number {
    assert(bytes >= 0, 'charge of negative bytes');
    this.bytesCharged += bytes;
    if (this.bytesPerSec === 0) return 0;
    this.refill();
    this.tokens -= bytes;
    if (this.tokens >= 0) return 0;
    const wait = Math.ceil((-this.tokens * 1000) / this.bytesPerSec);
    this.waitMs += wait;
    return wait;
  }

  private refill(): void {
    const now = this.clock.monotonicMs();
    const elapsed = now - this.lastRefillMs;
    if (elapsed <= 0) return;
    this.lastRefillMs = now;
    this.tokens = Math.min(this.burstBytes, this.tokens + (elapsed * this.bytesPerSec) / 1000);
  }
}
