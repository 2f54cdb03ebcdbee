// Phi-accrual failure detection (Hayashibara et al., "The φ Accrual Failure
// Detector", 2004). Instead of a yes/no timeout the detector outputs
// φ = -log10(P(a heartbeat arrives later than now)), from the distribution of
// the peer's recent heartbeat inter-arrival times; a peer is suspected while
// φ >= threshold (default 8: a one-in-10^8 chance that the silence so far is
// ordinary lateness).
//
// Distribution: normal, as in Akka, not exponential as in Cassandra. Cassandra
// models gossip, where heartbeats arrive indirectly and irregularly, with an
// exponential: φ = t / (mean · ln 10), so at threshold 8 a peer is convicted
// only after 18.4 mean intervals (18 s at 1 s heartbeats). Heartbeats here are
// direct and regular, and a normal with a floor on the standard deviation
// convicts after mean + pause + ~5.4 σ (about 5 s at 1 s heartbeats with the
// defaults). The CDF uses Akka's logistic approximation
// F(y) ≈ 1 / (1 + e^(-y (1.5976 + 0.070566 y²))) (error < 1.4e-4), evaluated
// in log space so that φ stays finite and exact in the far tail.
//
// Against false suspicions (GC pauses, jitter):
// - minStdDeviationMs: a floor on σ, so a perfectly regular peer (σ → 0) does
//   not become suspect a few milliseconds after its usual interval;
// - acceptableHeartbeatPauseMs: added to the mean, a pause any peer may take;
// - a bounded window (maxSampleSize) so old behaviour is forgotten;
// - an interval longer than the moment the peer became suspect is recorded as
//   that moment: the excess measures an outage, not how heartbeats are spaced.
//   Recording it whole (Akka) inflates σ for a whole window and slows the next
//   detection; dropping it (Cassandra above its max interval) would never
//   adapt to a peer that really slowed down;
// - flap damping (as ringpop's damper): each recovery from suspicion adds a
//   penalty that halves every penaltyHalfLifeMs; a peer whose penalty reaches
//   suppressPenalty stays suspected, whatever φ says, until the penalty decays
//   below reusePenalty. Suspicion is a report; convicting (removing the peer
//   from membership) is the membership protocol's call, which can use
//   suspicionDeadlineMs to see how long a suspicion has lasted.
//
// Time is a number of milliseconds from a monotonic clock (io/clock.ts
// monotonicMs), passed in by the caller; it must not decrease per peer.

import { AssertionError, assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';

export interface PhiAccrualOptions {
  /** φ at and above which a peer is suspected. Default 8. */
  threshold?: number;
  /** Inter-arrival times remembered per peer. Default 1000. */
  maxSampleSize?: number;
  /** Floor on the standard deviation of inter-arrival times. Default 100 ms. */
  minStdDeviationMs?: number;
  /** A pause any peer may take without raising φ, added to the mean. Default 3000 ms. */
  acceptableHeartbeatPauseMs?: number;
  /** Interval assumed before the second heartbeat (history is seeded with mean ± mean/4). Default 1000 ms. */
  firstHeartbeatEstimateMs?: number;
  /** Penalty a recovery from suspicion adds. 0 switches flap damping off. Default 1000. */
  flapPenalty?: number;
  /** Penalty at which a flapping peer is held suspected (three recoveries within ~20 s). Default 2500. */
  suppressPenalty?: number;
  /** Penalty below which a held peer is released. Default 1000. */
  reusePenalty?: number;
  /** Half-life of the flap penalty. Default 60 000 ms. */
  penaltyHalfLifeMs?: number;
}

/** φ never exceeds this: far beyond any threshold, and finite. */
export const MAX_PHI = 1e6;

// Logistic approximation of the standard normal CDF (Akka's constants).
const LOGISTIC_A = 0.070566;
const LOGISTIC_B = 1.5976;
// |y| beyond this only pushes φ further past MAX_PHI; keeps y³ finite.
const Y_LIMIT = 1e4;

/** ln(1 + e^z) without overflow or loss of precision in either tail. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** φ for `elapsedMs` since the last heartbeat, given the (already adjusted) mean and σ. */
export function phiOf(elapsedMs: number, meanMs: number, stdDeviationMs: number): number {
  if (!(Number.isFinite(elapsedMs) && Number.isFinite(meanMs))) throw new AssertionError(`phi of elapsed ${elapsedMs}, mean ${meanMs}`);
  if (!(Number.isFinite(stdDeviationMs) && stdDeviationMs > 0)) throw new AssertionError(`phi with σ ${stdDeviationMs}`);
  let y = (elapsedMs - meanMs) / stdDeviationMs;
  if (y > Y_LIMIT) y = Y_LIMIT;
  if (y < -Y_LIMIT) y = -Y_LIMIT;
  // P(later) = 1 - F(y) = 1 / (1 + e^z), so φ = log10(1 + e^z).
  const z = y * (LOGISTIC_B + LOGISTIC_A * y * y);
  const phi = softplus(z) / Math.LN10;
  return phi > MAX_PHI ? MAX_PHI : phi;
}

/** thresholdDeviation by threshold: every node builds a detector on each open, nearly always with the same threshold. */
const deviations = new Map<number, number>();

/** The y (in σ above the mean) at which φ reaches `threshold`: phiOf's inverse. */
export function thresholdDeviation(threshold: number): number {
  const known = deviations.get(threshold);
  if (known !== undefined) return known;
  const y = solveThresholdDeviation(threshold);
  if (deviations.size < 64) deviations.set(threshold, y);
  return y;
}

function solveThresholdDeviation(threshold: number): number {
  if (!(Number.isFinite(threshold) && threshold > 0 && threshold < MAX_PHI)) throw new AssertionError(`phi threshold ${threshold}`);
  const t = threshold * Math.LN10;
  // Solve softplus(z) = t, then the cubic a y³ + b y = z (one real root: b > 0).
  const z = t > 30 ? t : Math.log(Math.expm1(t));
  const p = LOGISTIC_B / LOGISTIC_A;
  const q = -z / LOGISTIC_A;
  const d = Math.sqrt((q * q) / 4 + (p * p * p) / 27);
  let y = Math.cbrt(-q / 2 + d) + Math.cbrt(-q / 2 - d);
  // Cardano loses digits when its two terms nearly cancel; Newton restores them.
  for (let i = 0; i < 3; i++) {
    const f = y * (LOGISTIC_B + LOGISTIC_A * y * y) - z;
    y -= f / (LOGISTIC_B + 3 * LOGISTIC_A * y * y);
  }
  if (!Number.isFinite(y)) throw new AssertionError(`threshold deviation for φ ${threshold}`);
  return y;
}

/**
 * The last `capacity` inter-arrival times with their mean and variance kept
 * incrementally. Sums are of values minus a shift (a recent mean), so the
 * variance does not cancel catastrophically, and are recomputed exactly each
 * time the ring wraps, so rounding drift stays bounded.
 */
export class IntervalWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private size = 0;
  private shift = 0;
  private sum = 0;
  private sumSquares = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 2)) throw new AssertionError(`interval window of ${capacity}`);
    this.samples = new Float64Array(capacity);
  }

  get count(): number {
    return this.size;
  }

  add(intervalMs: number): void {
    if (!(Number.isFinite(intervalMs) && intervalMs >= 0)) throw new AssertionError(`interval ${intervalMs}`);
    if (this.size === 0) this.shift = intervalMs;
    if (this.size === this.capacity) {
      const old = this.samples[this.next]! - this.shift;
      this.sum -= old;
      this.sumSquares -= old * old;
    } else {
      this.size++;
    }
    this.samples[this.next] = intervalMs;
    const x = intervalMs - this.shift;
    this.sum += x;
    this.sumSquares += x * x;
    this.next++;
    if (this.next === this.capacity) {
      this.next = 0;
      this.resum();
    }
  }

  mean(): number {
    assert(this.size > 0, 'mean of an empty window');
    return this.shift + this.sum / this.size;
  }

  variance(): number {
    assert(this.size > 0, 'variance of an empty window');
    const m = this.sum / this.size;
    const v = this.sumSquares / this.size - m * m;
    return v > 0 ? v : 0;
  }

  private resum(): void {
    this.shift = this.mean();
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < this.size; i++) {
      const x = this.samples[i]! - this.shift;
      sum += x;
      sumSquares += x * x;
    }
    this.sum = sum;
    this.sumSquares = sumSquares;
  }
}

interface PeerState {
  readonly intervals: IntervalWindow;
  lastHeartbeatMs: number;
  /** Flap penalty as of penaltyAtMs. */
  penalty: number;
  penaltyAtMs: number;
  /** Held suspected by flap damping (until the penalty decays below reusePenalty). */
  held: boolean;
}

export class PhiAccrualDetector {
  readonly threshold: number;
  private readonly maxSampleSize: number;
  private readonly minStdDeviationMs: number;
  private readonly acceptablePauseMs: number;
  private readonly firstEstimateMs: number;
  private readonly flapPenalty: number;
  private readonly suppressPenalty: number;
  private readonly reusePenalty: number;
  private readonly halfLifeMs: number;
  /** σ above the adjusted mean at which φ reaches the threshold. */
  private readonly thresholdY: number;
  private readonly peers = new Map<NodeId, PeerState>();

  constructor(options: PhiAccrualOptions = {}) {
    this.threshold = options.threshold ?? 8;
    this.maxSampleSize = options.maxSampleSize ?? 1000;
    this.minStdDeviationMs = options.minStdDeviationMs ?? 100;
    this.acceptablePauseMs = options.acceptableHeartbeatPauseMs ?? 3000;
    this.firstEstimateMs = options.firstHeartbeatEstimateMs ?? 1000;
    this.flapPenalty = options.flapPenalty ?? 1000;
    this.suppressPenalty = options.suppressPenalty ?? 2500;
    this.reusePenalty = options.reusePenalty ?? 1000;
    this.halfLifeMs = options.penaltyHalfLifeMs ?? 60_000;
    if (!(Number.isInteger(this.maxSampleSize) && this.maxSampleSize >= 2)) throw new AssertionError(`maxSampleSize ${this.maxSampleSize}`);
    if (!(this.minStdDeviationMs > 0 && Number.isFinite(this.minStdDeviationMs))) throw new AssertionError(`minStdDeviationMs ${this.minStdDeviationMs}`);
    if (!(this.acceptablePauseMs >= 0 && Number.isFinite(this.acceptablePauseMs))) throw new AssertionError(`acceptableHeartbeatPauseMs ${this.acceptablePauseMs}`);
    if (!(this.firstEstimateMs > 0 && Number.isFinite(this.firstEstimateMs))) throw new AssertionError(`firstHeartbeatEstimateMs ${this.firstEstimateMs}`);
    if (!(this.flapPenalty >= 0 && Number.isFinite(this.flapPenalty))) throw new AssertionError(`flapPenalty ${this.flapPenalty}`);
    if (!(this.reusePenalty > 0 && this.reusePenalty <= this.suppressPenalty)) throw new AssertionError(`reuse ${this.reusePenalty} / suppress ${this.suppressPenalty} penalties`);
    if (!(this.halfLifeMs > 0 && Number.isFinite(this.halfLifeMs))) throw new AssertionError(`penaltyHalfLifeMs ${this.halfLifeMs}`);
    this.thresholdY = thresholdDeviation(this.threshold);
  }

  /** A heartbeat from `peer` arrived at `nowMs`. */
  heartbeat(peer: NodeId, nowMs: number): void {
    if (!Number.isFinite(nowMs)) throw new AssertionError(`heartbeat at ${nowMs}`);
    const state = this.peers.get(peer);
    if (state === undefined) {
      const intervals = new IntervalWindow(this.maxSampleSize);
      // Akka's seed: two samples a quarter of the estimate either side of it.
      intervals.add(this.firstEstimateMs * 0.75);
      intervals.add(this.firstEstimateMs * 1.25);
      this.peers.set(peer, { intervals, lastHeartbeatMs: nowMs, penalty: 0, penaltyAtMs: nowMs, held: false });
      return;
    }
    const elapsed = nowMs - state.lastHeartbeatMs;
    if (!(elapsed >= 0)) throw new AssertionError(`heartbeat from ${peer} at ${nowMs} before the previous one at ${state.lastHeartbeatMs}`);
    const suspectAfter = this.suspectAfterMs(state);
    if (elapsed >= suspectAfter) this.recordFlap(state, nowMs);
    state.intervals.add(Math.min(elapsed, suspectAfter));
    state.lastHeartbeatMs = nowMs;
  }

  /** φ of `peer` at `nowMs`; 0 for a peer never heard from. Always finite, in [0, MAX_PHI]. */
  phi(peer: NodeId, nowMs: number): number {
    const state = this.peers.get(peer);
    if (state === undefined) return 0;
    const elapsed = this.elapsedMs(peer, state, nowMs);
    return phiOf(elapsed, this.adjustedMean(state), this.stdDeviation(state));
  }

  /**
   * φ below the threshold and not held by flap damping. A peer never heard
   * from counts as available: the membership layer decides whom to expect.
   */
  isAvailable(peer: NodeId, nowMs: number): boolean {
    const state = this.peers.get(peer);
    if (state === undefined) return true;
    if (this.heldAt(state, nowMs)) return false;
    return this.phi(peer, nowMs) < this.threshold;
  }

  /**
   * When φ reaches the threshold if no heartbeat arrives first (the time to set
   * a timer for); null for a peer never heard from.
   */
  suspicionDeadlineMs(peer: NodeId): number | null {
    const state = this.peers.get(peer);
    if (state === undefined) return null;
    return state.lastHeartbeatMs + this.suspectAfterMs(state);
  }

  /** True while flap damping holds the peer suspected. */
  isHeld(peer: NodeId, nowMs: number): boolean {
    const state = this.peers.get(peer);
    return state !== undefined && this.heldAt(state, nowMs);
  }

  /** The flap penalty at `nowMs` (0 for an unknown peer). */
  flapPenaltyOf(peer: NodeId, nowMs: number): number {
    const state = this.peers.get(peer);
    return state === undefined ? 0 : this.penaltyAt(state, nowMs);
  }

  /** Mean and σ of the peer's recorded intervals (before the pause and the floor). */
  statistics(peer: NodeId): { meanMs: number; stdDeviationMs: number; samples: number } | null {
    const state = this.peers.get(peer);
    if (state === undefined) return null;
    return { meanMs: state.intervals.mean(), stdDeviationMs: Math.sqrt(state.intervals.variance()), samples: state.intervals.count };
  }

  /** Forgets a peer (it left the membership). */
  remove(peer: NodeId): void {
    this.peers.delete(peer);
  }

  /** Peers heard from, sorted. */
  knownPeers(): NodeId[] {
    return [...this.peers.keys()].sort();
  }

  private elapsedMs(peer: NodeId, state: PeerState, nowMs: number): number {
    if (!Number.isFinite(nowMs)) throw new AssertionError(`phi at ${nowMs}`);
    const elapsed = nowMs - state.lastHeartbeatMs;
    if (!(elapsed >= 0)) throw new AssertionError(`phi of ${peer} at ${nowMs}, before its last heartbeat at ${state.lastHeartbeatMs}`);
    return elapsed;
  }

  private adjustedMean(state: PeerState): number {
    return state.intervals.mean() + this.acceptablePauseMs;
  }

  private stdDeviation(state: PeerState): number {
    return Math.max(Math.sqrt(state.intervals.variance()), this.minStdDeviationMs);
  }

  /** Silence after which φ reaches the threshold. */
  private suspectAfterMs(state: PeerState): number {
    const after = this.adjustedMean(state) + this.thresholdY * this.stdDeviation(state);
    return after > 0 ? after : 0;
  }

  private heldAt(state: PeerState, nowMs: number): boolean {
    return state.held && this.penaltyAt(state, nowMs) >= this.reusePenalty;
  }

  private penaltyAt(state: PeerState, nowMs: number): number {
    if (state.penalty === 0) return 0;
    const dt = Math.max(0, nowMs - state.penaltyAtMs);
    return state.penalty * Math.pow(2, -dt / this.halfLifeMs);
  }

  private recordFlap(state: PeerState, nowMs: number): void {
    if (this.flapPenalty === 0) return;
    const before = this.penaltyAt(state, nowMs);
    const wasHeld = this.heldAt(state, nowMs);
    state.penalty = before + this.flapPenalty;
    state.penaltyAtMs = nowMs;
    state.held = wasHeld || state.penalty >= this.suppressPenalty;
  }
}
