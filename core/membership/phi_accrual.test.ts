import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimRng } from '../../sim/sim_rng.ts';
import { IntervalWindow, MAX_PHI, PhiAccrualDetector, type PhiAccrualOptions, phiOf, thresholdDeviation } from './phi_accrual.ts';

// ---------------------------------------------------------------------------
// A model: every recorded interval kept in an array, mean and variance by two
// passes over the last window, φ by Akka's formula as published, and the
// moment of suspicion found by bisection on that φ.

function akkaPhi(elapsed: number, mean: number, std: number): number {
  const y = (elapsed - mean) / std;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  return elapsed > mean ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e));
}

class ModelDetector {
  private readonly recorded: number[] = [];
  private last: number | null = null;

  constructor(private readonly o: Required<Pick<PhiAccrualOptions, 'threshold' | 'maxSampleSize' | 'minStdDeviationMs' | 'acceptableHeartbeatPauseMs' | 'firstHeartbeatEstimateMs'>>) {}

  private stats(): { mean: number; std: number } {
    const w = this.recorded.slice(-this.o.maxSampleSize);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const variance = w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length;
    return { mean: mean + this.o.acceptableHeartbeatPauseMs, std: Math.max(Math.sqrt(variance), this.o.minStdDeviationMs) };
  }

  private suspectAfter(): number {
    const { mean, std } = this.stats();
    let lo = 0;
    let hi = mean + 100 * std;
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      if (akkaPhi(mid, mean, std) >= this.o.threshold) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  heartbeat(now: number): void {
    if (this.last === null) {
      this.recorded.push(this.o.firstHeartbeatEstimateMs * 0.75, this.o.firstHeartbeatEstimateMs * 1.25);
    } else {
      this.recorded.push(Math.min(now - this.last, this.suspectAfter()));
    }
    this.last = now;
  }

  phi(now: number): number {
    if (this.last === null) return 0;
    const { mean, std } = this.stats();
    return akkaPhi(now - this.last, mean, std);
  }
}


// ---------------------------------------------------------------------------
// Heartbeats in simulated time: the sender's timer fires every second, late
// now and then by a GC-like pause; each heartbeat crosses a network whose
// latency is normal (σ = 100 ms) around 150 ms.

function normal(rng: SimRng): number {
  // Box–Muller; 1 - u is in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

interface HeartbeatPlan {
  intervalMs: number;
  latencyMeanMs: number;
  latencySigmaMs: number;
  gcProbability: number;
  gcPauseMs: number;
  /** The sender stops sending at this time. */
  crashAtMs: number;
  /** Heartbeats sent in [start, end) are lost (a partition). */
  lostBetween?: [number, number];
}

function arrivals(rng: SimRng, plan: HeartbeatPlan): number[] {
  const out: number[] = [];
  let send = rng.next() * plan.intervalMs;
  while (send < plan.crashAtMs) {
    const latency = Math.max(1, plan.latencyMeanMs + plan.latencySigmaMs * normal(rng));
    const lost = plan.lostBetween !== undefined && send >= plan.lostBetween[0] && send < plan.lostBetween[1];
    if (!lost) out.push(send + latency);
    send += plan.intervalMs + (rng.chance(plan.gcProbability) ? plan.gcPauseMs : 0);
  }
  return out.sort((a, b) => a - b);
}

const REALISTIC: Omit<HeartbeatPlan, 'crashAtMs'> = { intervalMs: 1000, latencyMeanMs: 150, latencySigmaMs: 100, gcProbability: 0.02, gcPauseMs: 500 };
const HOUR_MS = 3_600_000;
const TICK_MS = 100;

/**
 * Replays heartbeats up to `untilMs` into a detector, checking it every
 * TICK_MS (as a membership timer would) and just before every arrival after
 * the first (where φ peaks). `check` sees each check's time and verdict; it
 * returns true to stop the replay.
 */
function replay(detector: PhiAccrualDetector, times: readonly number[], untilMs: number, check: (t: number, available: boolean) => boolean | void): void {
  let next = 0;
  for (let tick = 0; tick <= untilMs; tick += TICK_MS) {
    while (next < times.length && times[next]! <= tick) {
      const t = times[next]!;
      if (next > 0 && check(t, detector.isAvailable('peer', t)) === true) return;
      detector.heartbeat('peer', t);
      next++;
    }
    if (next > 0 && check(tick, detector.isAvailable('peer', tick)) === true) return;
  }
}

/** The first check at or after `fromMs` at which the peer was not available, or null. */
function firstSuspicion(detector: PhiAccrualDetector, times: readonly number[], untilMs: number, fromMs = 0): number | null {
  let found: number | null = null;
  replay(detector, times, untilMs, (t, available) => {
    if (t >= fromMs && !available) found = t;
    return found !== null;
  });
  return found;
}

describe('phiOf and thresholdDeviation', () => {
  it('φ at the threshold deviation is the threshold', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 5000, noNaN: true }), fc.double({ min: 0, max: 1e5, noNaN: true }), fc.double({ min: 1, max: 1e4, noNaN: true }), (threshold, mean, std) => {
        const y = thresholdDeviation(threshold);
        expect(phiOf(mean + y * std, mean, std)).toBeCloseTo(threshold, 6);
      }),
    );
  });

  it('agrees with Akka formula where that formula is finite', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 20_000, noNaN: true }), fc.double({ min: 1, max: 10_000, noNaN: true }), fc.double({ min: 1, max: 5000, noNaN: true }), (elapsed, mean, std) => {
        const expected = akkaPhi(elapsed, mean, std);
        fc.pre(Number.isFinite(expected) && expected < 300);
        expect(Math.abs(phiOf(elapsed, mean, std) - expected)).toBeLessThan(1e-9 * Math.max(1, expected));
      }),
    );
  });

  it('stays finite and within [0, MAX_PHI] where the direct formula overflows', () => {
    expect(akkaPhi(1e6, 1000, 100)).toBe(Infinity);
    expect(phiOf(1e6, 1000, 100)).toBe(MAX_PHI);
    expect(phiOf(1e300, 0, 1e-300)).toBe(MAX_PHI);
    expect(phiOf(0, 1e300, 1e-300)).toBe(0);
    expect(phiOf(12_000, 1000, 100)).toBeGreaterThan(8);
    expect(Number.isFinite(phiOf(12_000, 1000, 100))).toBe(true);
  });
});

describe('IntervalWindow', () => {
  it('mean and variance match a two-pass recomputation over the last window', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.array(fc.double({ min: 0, max: 1e7, noNaN: true }), { minLength: 1, maxLength: 300 }), (capacity, xs) => {
        const w = new IntervalWindow(capacity);
        for (const x of xs) w.add(x);
        const last = xs.slice(-capacity);
        const mean = last.reduce((a, b) => a + b, 0) / last.length;
        const variance = last.reduce((a, b) => a + (b - mean) ** 2, 0) / last.length;
        expect(w.count).toBe(last.length);
        // Sliding sums round relative to the largest values they have held,
        // not to what is left in the window (a window of zeros after 4e5).
        const scale = Math.max(1, ...xs);
        expect(Math.abs(w.mean() - mean)).toBeLessThanOrEqual(1e-9 * scale);
        expect(Math.abs(w.variance() - variance)).toBeLessThanOrEqual(1e-9 * scale * scale);
      }),
      { numRuns: 2000, examples: [[3, [394715.08775000076, 0, 0, 0]]] },
    );
  });

  it('identical intervals have variance exactly zero, never negative', () => {
    const w = new IntervalWindow(1000);
    for (let i = 0; i < 5000; i++) w.add(1000.1);
    expect(w.variance()).toBe(0);
    expect(w.mean()).toBeCloseTo(1000.1, 9);
  });
});

describe('PhiAccrualDetector against the model', () => {
  it('φ equals the model after any heartbeat sequence', () => {
    fc.assert(
      fc.property(
        fc.record({
          threshold: fc.double({ min: 0.5, max: 16, noNaN: true }),
          maxSampleSize: fc.integer({ min: 2, max: 50 }),
          minStdDeviationMs: fc.double({ min: 1, max: 500, noNaN: true }),
          acceptableHeartbeatPauseMs: fc.double({ min: 0, max: 5000, noNaN: true }),
          firstHeartbeatEstimateMs: fc.double({ min: 10, max: 5000, noNaN: true }),
        }),
        fc.array(fc.double({ min: 0, max: 30_000, noNaN: true }), { minLength: 1, maxLength: 120 }),
        fc.double({ min: 0, max: 60_000, noNaN: true }),
        (options, gaps, probe) => {
          const detector = new PhiAccrualDetector({ ...options, flapPenalty: 0 });
          const model = new ModelDetector(options);
          let now = 1_000_000;
          for (const gap of gaps) {
            now += gap;
            detector.heartbeat('p', now);
            model.heartbeat(now);
          }
          const expected = model.phi(now + probe);
          const actual = detector.phi('p', now + probe);
          if (Number.isFinite(expected) && expected < 300) {
            expect(Math.abs(actual - expected)).toBeLessThan(1e-6 * Math.max(1, expected));
          } else {
            expect(actual).toBeGreaterThan(300);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('φ is finite, non-negative and non-decreasing in silence; the deadline is where it crosses the threshold', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 20_000, noNaN: true }), { minLength: 1, maxLength: 60 }), fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 10 }), (gaps, probes) => {
        const detector = new PhiAccrualDetector({ flapPenalty: 0 });
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          detector.heartbeat('p', now);
        }
        let previous = 0;
        for (const probe of [...probes].sort((a, b) => a - b)) {
          const phi = detector.phi('p', now + probe);
          expect(Number.isFinite(phi) && phi >= 0 && phi <= MAX_PHI).toBe(true);
          expect(phi).toBeGreaterThanOrEqual(previous);
          previous = phi;
        }
        const deadline = detector.suspicionDeadlineMs('p')!;
        expect(deadline).toBeGreaterThan(now);
        expect(detector.isAvailable('p', deadline - 1)).toBe(true);
        expect(detector.isAvailable('p', deadline + 1)).toBe(false);
      }),
    );
  });
});

describe('PhiAccrualDetector edge cases', () => {
  it('an unknown peer has φ 0, is available and has no deadline', () => {
    const d = new PhiAccrualDetector();
    expect(d.phi('x', 5)).toBe(0);
    expect(d.isAvailable('x', 5)).toBe(true);
    expect(d.suspicionDeadlineMs('x')).toBeNull();
    expect(d.statistics('x')).toBeNull();
  });

  it('after the first heartbeat the estimate stands in for the history', () => {
    const d = new PhiAccrualDetector();
    d.heartbeat('x', 100);
    expect(d.statistics('x')).toEqual({ meanMs: 1000, stdDeviationMs: 250, samples: 2 });
    expect(d.phi('x', 100)).toBeLessThan(1e-100);
    expect(d.isAvailable('x', 100 + 4000)).toBe(true);
    // mean 1000 + pause 3000, σ 250: suspect a little after 5.3 s of silence.
    expect(d.isAvailable('x', 100 + 6000)).toBe(false);
    expect(Number.isFinite(d.phi('x', 1e12))).toBe(true);
  });

  it('perfectly regular heartbeats fall back on the σ floor instead of dividing by zero', () => {
    const d = new PhiAccrualDetector({ maxSampleSize: 10 });
    for (let t = 0; t <= 20_000; t += 1000) d.heartbeat('x', t);
    expect(d.statistics('x')!.stdDeviationMs).toBe(0);
    const phi = d.phi('x', 20_000 + 4000);
    expect(Number.isFinite(phi)).toBe(true);
    expect(phi).toBeLessThan(1);
    // Floor 100 ms: suspicion ~5.4 σ past mean + pause.
    const deadline = d.suspicionDeadlineMs('x')! - 20_000;
    expect(deadline).toBeGreaterThan(4000 + 4 * 100);
    expect(deadline).toBeLessThan(4000 + 7 * 100);
  });

  it('heartbeats at the same instant are intervals of zero, not errors', () => {
    const d = new PhiAccrualDetector();
    for (let i = 0; i < 10; i++) d.heartbeat('x', 5000);
    expect(Number.isFinite(d.phi('x', 5000))).toBe(true);
    expect(d.isAvailable('x', 5000)).toBe(true);
  });

  it('rejects time going backwards and nonsense options', () => {
    const d = new PhiAccrualDetector();
    d.heartbeat('x', 1000);
    expect(() => d.heartbeat('x', 999)).toThrow(/before the previous/);
    expect(() => d.phi('x', 999)).toThrow(/before its last heartbeat/);
    expect(() => d.heartbeat('x', Number.NaN)).toThrow();
    expect(() => new PhiAccrualDetector({ minStdDeviationMs: 0 })).toThrow();
    expect(() => new PhiAccrualDetector({ threshold: 0 })).toThrow();
    expect(() => new PhiAccrualDetector({ maxSampleSize: 1 })).toThrow();
  });

  it('remove forgets a peer; knownPeers is sorted', () => {
    const d = new PhiAccrualDetector();
    d.heartbeat('b', 0);
    d.heartbeat('a', 0);
    expect(d.knownPeers()).toEqual(['a', 'b']);
    d.remove('b');
    expect(d.knownPeers()).toEqual(['a']);
    expect(d.isAvailable('b', 1e9)).toBe(true);
  });
});

describe('PhiAccrualDetector in simulated time (1 s heartbeats)', () => {
  it('zero false suspicions over one simulated hour of jitter and GC-like pauses', () => {
    let heartbeats = 0;
    let gcPauses = 0;
    let maxPhi = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const rng = new SimRng(`phi-steady-${seed}`);
      const times = arrivals(rng, { ...REALISTIC, crashAtMs: HOUR_MS });
      heartbeats += times.length;
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      gcPauses += gaps.filter((g) => g > 1400).length;
      const detector = new PhiAccrualDetector();
      let suspicions = 0;
      replay(detector, times, HOUR_MS, (t, available) => {
        if (!available) suspicions++;
        maxPhi = Math.max(maxPhi, detector.phi('peer', t));
      });
      expect(suspicions).toBe(0);
      expect(detector.flapPenaltyOf('peer', HOUR_MS)).toBe(0);
    }
    console.log(`phi: highest φ over 8 simulated hours of steady state ${maxPhi.toExponential(2)} (threshold 8)`);
    expect(heartbeats).toBeGreaterThan(8 * 3500);
    // The jitter is really there: the pauses happened.
    expect(gcPauses).toBeGreaterThan(8 * 30);
  });

  it('the same hour does raise false suspicions without the pause allowance and σ floor', () => {
    // Shows the hour above can fail: a detector tuned too tightly trips on it.
    const rng = new SimRng('phi-steady-1');
    const times = arrivals(rng, { ...REALISTIC, crashAtMs: HOUR_MS });
    const tight = new PhiAccrualDetector({ acceptableHeartbeatPauseMs: 0, minStdDeviationMs: 1, threshold: 3 });
    expect(firstSuspicion(tight, times, HOUR_MS)).not.toBeNull();
  });

  it('every peer suspects a crashed node within 10 s', () => {
    const delays: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const world = new SimRng(`phi-crash-${seed}`);
      const crashAtMs = 600_000 + world.next() * 60_000;
      // Five monitors, each with its own network path to the crashed node.
      for (let monitor = 0; monitor < 5; monitor++) {
        const times = arrivals(world.fork(`monitor-${monitor}`), { ...REALISTIC, crashAtMs });
        const detector = new PhiAccrualDetector();
        const suspectedAt = firstSuspicion(detector, times, crashAtMs + 60_000);
        expect(suspectedAt).not.toBeNull();
        // Not before the crash (that would be a false suspicion) ...
        expect(suspectedAt!).toBeGreaterThan(crashAtMs);
        delays.push(suspectedAt! - crashAtMs);
      }
    }
    // ... and within 10 s of it.
    expect(Math.max(...delays)).toBeLessThanOrEqual(10_000);
    const sorted = [...delays].sort((a, b) => a - b);
    console.log(`phi: crash suspected after ${sorted[0]!.toFixed(0)} / ${sorted[sorted.length >> 1]!.toFixed(0)} / ${sorted.at(-1)!.toFixed(0)} ms (min / median / max of ${sorted.length})`);
    expect(Math.min(...delays)).toBeGreaterThan(2000);
  });

  it('a long partition does not slow the detection of a later crash', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const rng = new SimRng(`phi-partition-${seed}`);
      const crashAtMs = 1_500_000;
      const times = arrivals(rng, { ...REALISTIC, crashAtMs, lostBetween: [600_000, 660_000] });
      const detector = new PhiAccrualDetector({ flapPenalty: 0 });
      const suspicions: number[] = [];
      replay(detector, times, crashAtMs + 60_000, (t, available) => {
        if (!available) suspicions.push(t);
      });
      // Suspected within 10 s of the partition and throughout it ...
      const during = suspicions.filter((t) => t < crashAtMs);
      expect(during.length).toBeGreaterThan(0);
      expect(during[0]!).toBeGreaterThan(600_000);
      expect(during[0]!).toBeLessThan(610_000);
      expect(during.at(-1)!).toBeLessThan(662_500);
      // ... and the later crash is found as fast as on a peer that never
      // went through a partition: the minute of silence was not one sample.
      const after = suspicions.filter((t) => t >= crashAtMs);
      expect(after.length).toBeGreaterThan(0);
      expect(after[0]! - crashAtMs).toBeLessThanOrEqual(10_000);
      expect(detector.statistics('peer')!.stdDeviationMs).toBeLessThan(400);
    }
  });
});

describe('PhiAccrualDetector flap damping', () => {
  /** A peer with a long steady history (1000 regular heartbeats up to the returned time). */
  function steadyPeer(options: PhiAccrualOptions = {}): { d: PhiAccrualDetector; t: number } {
    const d = new PhiAccrualDetector(options);
    let t = 0;
    for (let i = 0; i <= 1000; i++) d.heartbeat('x', (t = i * 1000));
    return { d, t };
  }

  /** `times` rounds of 8 s of silence (suspected each time) then 3 heartbeats a second apart. */
  function flap(d: PhiAccrualDetector, start: number, times: number): number {
    let t = start;
    for (let i = 0; i < times; i++) {
      expect(d.isAvailable('x', t + 8000)).toBe(false);
      t += 8000;
      for (let k = 0; k < 3; k++) d.heartbeat('x', (t += 1000));
    }
    return t;
  }

  it('one recovery (a restart) is not damped', () => {
    const { d, t: start } = steadyPeer();
    const t = flap(d, start, 1);
    expect(d.flapPenaltyOf('x', t)).toBeGreaterThan(900);
    expect(d.isHeld('x', t)).toBe(false);
    expect(d.isAvailable('x', t)).toBe(true);
  });

  it('a peer that keeps flapping stays suspected until its penalty decays', () => {
    const { d, t: start } = steadyPeer();
    let t = flap(d, start, 3);
    // φ alone would call it available right after a heartbeat; damping holds it.
    expect(d.phi('x', t)).toBeLessThan(1);
    expect(d.isHeld('x', t)).toBe(true);
    expect(d.isAvailable('x', t)).toBe(false);
    const heldSince = t;
    // Steady heartbeats from now on: held until the penalty (≈ 2650) halves below 1000, ~85 s.
    let releasedAt: number | null = null;
    while (t < heldSince + 300_000) {
      d.heartbeat('x', (t += 1000));
      if (releasedAt === null && d.isAvailable('x', t)) releasedAt = t;
      if (releasedAt !== null) expect(d.isAvailable('x', t)).toBe(true);
    }
    expect(releasedAt).not.toBeNull();
    expect(releasedAt! - heldSince).toBeGreaterThan(60_000);
    expect(releasedAt! - heldSince).toBeLessThan(120_000);
    expect(d.flapPenaltyOf('x', t)).toBeLessThan(1000);
  });

  it('flapPenalty 0 switches damping off', () => {
    const { d, t: start } = steadyPeer({ flapPenalty: 0 });
    const t = flap(d, start, 5);
    expect(d.isHeld('x', t)).toBe(false);
    expect(d.isAvailable('x', t)).toBe(true);
  });
});
