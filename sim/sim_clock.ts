// A node's clock in the simulator. True time belongs to the Simulator; each
// node reads it through its own oscillator: a drift (ppm) scales how fast both
// readings advance, a skew offsets the wall reading, and `jump` moves the wall
// reading (forwards or back, as NTP or an operator would). The monotonic
// reading ignores skew and jumps and never decreases. Wall time starts at a
// fixed epoch so TTL and HLC arithmetic runs on realistic magnitudes.

// Per-event checks throw AssertionError themselves: a template message passed to
// assert() would be built (numbers formatted) on every call, not only on failure.
import { AssertionError, assert } from '../io/assert.ts';
import type { Clock } from '../io/clock.ts';

/** Wall time at true time 0 for a clock without skew: 2023-11-14T22:13:20Z. */
export const SIM_EPOCH_MS = 1_700_000_000_000;

export interface SimClockOptions {
  skewMs?: number;
  driftPpm?: number;
  epochMs?: number;
}

export class SimClock implements Clock {
  /** Monotonic reading at `anchorTrue`; re-anchored whenever the drift changes. */
  private anchorMono: number;
  private anchorTrue: number;
  private rate: number;
  private ppm: number;
  private offset: number;
  private readonly epoch: number;
  private lastMono = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly trueNowMs: () => number,
    options: SimClockOptions = {},
  ) {
    this.ppm = options.driftPpm ?? 0;
    this.rate = SimClock.rateOf(this.ppm);
    this.offset = options.skewMs ?? 0;
    this.epoch = options.epochMs ?? SIM_EPOCH_MS;
    assert(Number.isFinite(this.offset) && Number.isFinite(this.epoch), 'SimClock: skew and epoch must be finite');
    this.anchorTrue = trueNowMs();
    // A node that joins late has run as long as the world, as far as its readings go.
    this.anchorMono = this.anchorTrue * this.rate;
  }

  monotonicMs(): number {
    const now = this.trueNowMs();
    assert(now >= this.anchorTrue, 'SimClock: true time went backwards');
    const mono = this.anchorMono + (now - this.anchorTrue) * this.rate;
    if (!(mono >= this.lastMono)) throw new AssertionError(`SimClock: monotonic reading decreased (${this.lastMono} -> ${mono})`);
    this.lastMono = mono;
    return mono;
  }

  wallMs(): number {
    return this.epoch + this.offset + this.monotonicMs();
  }

  /** Moves the wall reading by `ms` (negative: backwards). The monotonic reading is unaffected. */
  jump(ms: number): void {
    assert(Number.isFinite(ms), `SimClock.jump: ${ms}`);
    this.offset += ms;
  }

  /** The wall reading's offset from an undrifted clock (skew plus jumps). */
  get offsetMs(): number {
    return this.offset;
  }

  get driftPpm(): number {
    return this.ppm;
  }

  /** Changes how fast this clock runs from now on. */
  setDriftPpm(ppm: number): void {
    const mono = this.monotonicMs();
    this.anchorTrue = this.trueNowMs();
    this.anchorMono = mono;
    this.ppm = ppm;
    this.rate = SimClock.rateOf(ppm);
  }

  /** The true-time delay after which at least `monoDelayMs` of this clock's monotonic time has passed. */
  trueDelayFor(monoDelayMs: number): number {
    if (!(Number.isFinite(monoDelayMs) && monoDelayMs >= 0)) throw new AssertionError(`SimClock.trueDelayFor: bad delay ${monoDelayMs}`);
    if (monoDelayMs === 0) return 0;
    const now = this.trueNowMs();
    const start = this.monoAt(now);
    let delay = monoDelayMs / this.rate;
    // Float rounding may leave the timer a hair early; a timeout must never be observed short.
    for (let i = 0; this.monoAt(now + delay) - start < monoDelayMs; i++) {
      assert(i < 64, 'SimClock.trueDelayFor: cannot reach the delay');
      delay += Math.max((now + delay) * 2 ** -52, Number.MIN_VALUE) * 2 ** i;
    }
    return delay;
  }

  /** The monotonic reading at true time `t` (a method, not a closure per call: every timer asks). */
  private monoAt(t: number): number {
    return this.anchorMono + (t - this.anchorTrue) * this.rate;
  }

  private static rateOf(ppm: number): number {
    assert(Number.isFinite(ppm) && ppm > -1_000_000, `SimClock: drift ${ppm} ppm would stop or reverse the clock`);
    return 1 + ppm / 1_000_000;
  }
}
