// The search of one balanced join (the algorithm is explained in
// token_allocator.ts; the ring model is AllocationRing).
//
// Scoring a candidate has two parts. The analysis (which shares change, and
// how, as the new token's width x varies) depends only on the ring near the
// candidate and is cached per slot; a placement invalidates the caches of the
// slots near it. The score combines the cached analysis with the current
// shares of the few nodes involved, so re-scoring a candidate whose
// neighbourhood is unchanged is cheap; the lazy greedy search does this often.

import { assert } from '../../io/assert.ts';
import { AllocationRing } from './allocation_ring.ts';
import { CandidateHeap } from './candidate_heap.ts';
import { MaxTree } from './max_tree.ts';
import type { Ring } from './ring.ts';

// Tuning, chosen by building rings of 3 to 100 nodes at 16 and 256 vnodes
// (real/bench/ring_report.ts) and keeping the smallest worst-case spread.
/** A new token takes at least this fraction of the range it splits, and leaves at least as much. */
const MIN_SPLIT = 1 / 64;
/** Weight of the per-token terms against the per-node terms. */
const TOKEN_WEIGHT = 0.25;
/** Weight of replicated against primary balance in the per-node terms. */
const REPLICA_WEIGHT = 1.5;
/** Share of a re-scored candidate's drop applied to the rest of its group (see run). */
const CALIBRATION = 0.8;

export class BalancedAllocation {
  readonly ring: AllocationRing;

  // Cached analysis per slot: for each node whose shares change, the change
  // as alpha + beta x (primary, then replicated), and the token terms as a
  // quadratic in x plus their value before the split.
  private readonly nodesPerCandidate: number;
  private readonly cached: Uint8Array;
  private readonly cachedNodeCount: Uint8Array;
  private readonly cachedNodes: Int32Array;
  private readonly cachedShares: Float64Array;
  private readonly cachedTokenTerms: Float64Array;

  /** Nodes whose shares changed since their group's drift was last calibrated. */
  private readonly changed: Uint8Array;

  // Scratch.
  private readonly mark: Int32Array;
  private stamp = 0;
  private localSlot = 0;
  private localCount = 0;
  private q0 = 0;
  private q1 = 0;
  private q2 = 0;
  private bestFraction = 0.5;

  constructor(ring: Ring, weight: number, vnodes: number, m: number) {
    this.ring = new AllocationRing(ring, weight, vnodes, m);
    const capacity = ring.tokenCount + vnodes + 1;
    // The affected tokens have distinct owners (at most m), plus the host and the joining node.
    this.nodesPerCandidate = m + 2;
    this.cached = new Uint8Array(capacity);
    this.cachedNodeCount = new Uint8Array(capacity);
    this.cachedNodes = new Int32Array(capacity * this.nodesPerCandidate);
    this.cachedShares = new Float64Array(capacity * this.nodesPerCandidate * 4);
    this.cachedTokenTerms = new Float64Array(capacity * 4);
    this.changed = new Uint8Array(ring.nodeCount + 1);
    this.mark = new Int32Array(ring.nodeCount + 1);
  }

  /**
   * Chooses the joining node's tokens, greedily. Candidates are grouped by
   * the node owning their range, one max-heap per group, and a tournament
   * tree over the groups' best keys finds the best overall. Keys are scores
   * from when they were computed, less the group's drift: a candidate is
   * re-scored when it reaches the top and taken if its fresh score still
   * beats every other key, else pushed back (lazy greedy, as in Cassandra).
   *
   * Taking a range of node H lowers the worth of all H's ranges by about the
   * same amount, and plain lazy greedy would then re-score H's ranges one by
   * one (hundreds of re-scores per token at 256 vnodes). Instead the first
   * re-score in H's group after H changed measures the drop, and most of it
   * (CALIBRATION) is applied to the whole group at once through the drift;
   * the remainder keeps the search close to exact. Nodes that only lost
   * replicated share are calibrated the same way on large rings; on small
   * rings every placement touches most nodes and exact re-scoring is cheap.
   */
  run(): bigint[] {
    const ring = this.ring;
    const hosts = ring.joining;
    const heaps = Array.from({ length: hosts }, () => new CandidateHeap());
    const drift = new Float64Array(hosts);
    const tops = new MaxTree(hosts);
    const retop = (u: number): void => tops.set(u, heaps[u]!.size > 0 ? heaps[u]!.peekScore() - drift[u]! : -Infinity);
    for (let s = 0; s < ring.used; s++) heaps[ring.owner[s]!]!.append(this.evaluate(s), s);
    for (let u = 0; u < hosts; u++) {
      heaps[u]!.heapify();
      retop(u);
    }
    const chosen: bigint[] = [];
    while (chosen.length < ring.vnodes) {
      const best = tops.argmax();
      const estimate = tops.max();
      assert(estimate > -Infinity, 'no candidate left to split');
      const heap = heaps[best]!;
      const wasCached = this.cached[heap.peekId()] === 1;
      const s = heap.pop();
      const score = this.evaluate(s);
      if (score > -Infinity && this.changed[best] && wasCached && score < estimate) {
        drift[best]! += CALIBRATION * (estimate - score);
        this.changed[best] = 0;
      }
      retop(best);
      if (score === -Infinity) continue; // too narrow to split: no longer a candidate
      // Keys carry the drift, so an exact score may read back a rounding error
      // lower; without the tolerance two equal candidates could swap forever.
      const rival = tops.max();
      if (score < rival - 1e-9 * Math.abs(rival)) {
        heap.push(score + drift[best]!, s);
        retop(best);
        continue;
      }
      chosen.push(this.place(s, this.bestFraction));
      heap.push(this.evaluate(s) + drift[best]!, s);
      retop(best);
    }
    ring.checkTotals();
    return chosen;
  }

  /** Objective decrease from placing the next token in the range ending at slot s; sets bestFraction. */
  private evaluate(s: number): number {
    if (!this.ring.canSplit(s)) return -Infinity;
    if (!this.cached[s]) this.analyse(s);
    return this.score(s);
  }

  private place(s: number, fraction: number): bigint {
    const ring = this.ring;
    const host = ring.owner[s]!;
    const p = ring.insert(s, fraction);
    this.changed[host] = 1;
    if (ring.joining >= 4 * (ring.m + 1)) {
      for (let i = 0; i < ring.affectedCount; i++) this.changed[ring.owner[ring.affected[i]!]!] = 1;
    }
    // An analysis reads at most m distinct owners' worth of ranges on either
    // side of its slot; two more are a margin for the owner just inserted.
    ring.forEachNear(p, ring.m + 2, (slot) => (this.cached[slot] = 0));
    return ring.token[p]!;
  }

  /**
   * Caches how splitting the range ending at slot s changes shares. Which
   * ranges each span covers depends only on the order of owners, not on
   * where in the range the new token lands, so with x the width the new
   * token takes, every changed share is affine in x.
   */
  private analyse(s: number): void {
    const ring = this.ring;
    const Y = ring.joining;
    const w = ring.width[s]!;
    const host = ring.owner[s]!;
    const shares = this.cachedShares;
    this.localCount = 0;
    this.localSlot = s;
    this.stamp++;

    ring.collectAffected(s);
    const p = ring.used;
    ring.link(p, s, Y);
    ring.trialLow = p;
    ring.trialHigh = s;
    this.q0 = this.q1 = this.q2 = 0;
    let old = 0;

    // Primary: the new token takes x from the host.
    const kY = ring.tokenCount[Y]!;
    const kHost = ring.tokenCount[host]!;
    const perTokenY = ring.primaryTarget[Y]! / kY;
    const perTokenHost = ring.primaryTarget[host]! / kHost;
    shares[this.local(host) + 1]! -= 1;
    const y = this.local(Y);
    shares[y]! -= perTokenY;
    shares[y + 1]! += 1;
    this.addSquare(TOKEN_WEIGHT / (kY * kY), -1, 1 / perTokenY);
    this.addSquare(TOKEN_WEIGHT / (kHost * kHost), w / perTokenHost - 1, -1 / perTokenHost);
    old += (TOKEN_WEIGHT * sq(w / perTokenHost - 1)) / (kHost * kHost);

    // Replicated: the new token's span, and every span that crossed range s.
    const spanTargetY = ring.replicatedTarget[Y]! / kY;
    let base = ring.walkSpan(p);
    let alpha = base + (ring.hitHigh ? w : 0);
    let beta = (ring.hitLow ? 1 : 0) - (ring.hitHigh ? 1 : 0);
    shares[y + 2]! += alpha - spanTargetY;
    shares[y + 3]! += beta;
    this.addSquare(TOKEN_WEIGHT / (kY * kY), alpha / spanTargetY - 1, beta / spanTargetY);
    for (let i = 0; i < ring.affectedCount; i++) {
      const a = ring.affected[i]!;
      const u = ring.owner[a]!;
      base = ring.walkSpan(a);
      alpha = base + (ring.hitHigh ? w : 0);
      beta = (ring.hitLow ? 1 : 0) - (ring.hitHigh ? 1 : 0);
      const at = this.local(u);
      shares[at + 2]! += alpha - ring.span[a]!;
      shares[at + 3]! += beta;
      const k = ring.tokenCount[u]!;
      const target = ring.replicatedTarget[u]! / k;
      this.addSquare(TOKEN_WEIGHT / (k * k), alpha / target - 1, beta / target);
      old += (TOKEN_WEIGHT * sq(ring.span[a]! / target - 1)) / (k * k);
    }
    ring.trialLow = ring.trialHigh = -1;
    ring.unlink(p, s);

    this.cachedNodeCount[s] = this.localCount;
    const t = this.cachedTokenTerms;
    t[s * 4] = this.q0;
    t[s * 4 + 1] = this.q1;
    t[s * 4 + 2] = this.q2;
    t[s * 4 + 3] = old;
    this.cached[s] = 1;
  }

  /** Offset in cachedShares of node u's entry in the analysis being built, added on first use. */
  private local(u: number): number {
    const first = this.localSlot * this.nodesPerCandidate;
    if (this.mark[u] !== this.stamp) {
      this.mark[u] = this.stamp;
      assert(this.localCount < this.nodesPerCandidate, `split of slot ${this.localSlot} touches too many nodes`);
      const at = first + this.localCount++;
      this.cachedNodes[at] = u;
      const c = this.cachedShares;
      c[at * 4] = c[at * 4 + 1] = c[at * 4 + 2] = c[at * 4 + 3] = 0;
      return at * 4;
    }
    for (let i = first; ; i++) if (this.cachedNodes[i] === u) return i * 4;
  }

  /** Score from the cached analysis and the current shares: old objective minus the best new one. */
  private score(s: number): number {
    const ring = this.ring;
    const t = this.cachedTokenTerms;
    const c = this.cachedShares;
    // The new objective as q0 + q1 x + q2 x^2 (see addSquare, inlined here: this is the hot loop).
    let q0 = t[s * 4]!;
    let q1 = t[s * 4 + 1]!;
    let q2 = t[s * 4 + 2]!;
    let old = t[s * 4 + 3]!;
    const count = this.cachedNodeCount[s]!;
    for (let i = 0; i < count; i++) {
      const at = s * this.nodesPerCandidate + i;
      const u = this.cachedNodes[at]!;
      const pt = ring.primaryTarget[u]!;
      const rt = ring.replicatedTarget[u]!;
      const p0 = ring.primary[u]! / pt - 1;
      const r0 = ring.replicated[u]! / rt - 1;
      const pa = p0 + c[at * 4]! / pt;
      const pb = c[at * 4 + 1]! / pt;
      const ra = r0 + c[at * 4 + 2]! / rt;
      const rb = c[at * 4 + 3]! / rt;
      q0 += pa * pa + REPLICA_WEIGHT * ra * ra;
      q1 += 2 * (pa * pb + REPLICA_WEIGHT * ra * rb);
      q2 += pb * pb + REPLICA_WEIGHT * rb * rb;
      old += p0 * p0 + REPLICA_WEIGHT * r0 * r0;
    }
    const w = ring.width[s]!;
    const lo = w * MIN_SPLIT;
    const hi = w - lo;
    let x = q2 > 0 ? -q1 / (2 * q2) : q1 > 0 ? lo : hi;
    x = Math.min(hi, Math.max(lo, x));
    this.bestFraction = x / w;
    return old - (q0 + x * (q1 + x * q2));
  }

  /** Adds weight * (alpha + beta x)^2 to the quadratic being built. */
  private addSquare(weight: number, alpha: number, beta: number): void {
    this.q0 += weight * alpha * alpha;
    this.q1 += 2 * weight * alpha * beta;
    this.q2 += weight * beta * beta;
  }
}

function sq(x: number): number {
  return x * x;
}
