// The working state of one balanced join (the algorithm is explained in
// token_allocator.ts). The ring is held as a circular doubly linked list of
// slots so a token can be inserted, or tried and taken back, in O(1); shares
// of the ring are doubles here (the error is far below what balance needs),
// tokens stay bigint.
//
// Replicated ownership is attributed to tokens: a token of node X accounts for
// the ranges X replicates because of it, its span. Walking counter-clockwise
// from the token, its own range is in the span; each earlier range is too,
// until one is owned by X itself (X's other token accounts for it) or its
// owner would be the m-th distinct other node (X is no longer among the first
// m replicas there). A node's replicated share is the sum of its spans.
//
// Scoring a candidate has two parts. The analysis (which shares change, and
// how, as the new token's width x varies) depends only on the ring near the
// candidate and is cached per slot; a placement invalidates the caches of the
// slots near it. The score combines the cached analysis with the current
// shares of the few nodes involved, so re-scoring a candidate whose
// neighbourhood is unchanged is cheap; the lazy greedy search does this often.

import { assert } from '../../io/assert.ts';
import { CandidateHeap } from './candidate_heap.ts';
import { MaxTree } from './max_tree.ts';
import type { Ring } from './ring.ts';
import { RING_SIZE } from './token_range.ts';

const RING = Number(RING_SIZE);
const FRACTION_ONE = 1 << 24;

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
  // Slots 0..used-1 hold tokens; slot `used` is the trial slot.
  private readonly token: bigint[] = [];
  private readonly owner: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  /** Share of the ring in the range ending at the slot's token. */
  private readonly width: Float64Array;
  /** Replicated share the slot's token accounts for. */
  private readonly span: Float64Array;
  private used = 0;

  // Units (nodes): existing ones by their index in ring.nodes(), the joining one last.
  private readonly joining: number;
  private readonly primary: Float64Array;
  private readonly replicated: Float64Array;
  private readonly primaryTarget: Float64Array;
  private readonly replicatedTarget: Float64Array;
  private readonly tokenCount: Int32Array;
  private placed = 0;

  // Cached analysis per slot: for each unit whose shares change, the change
  // as alpha + beta x (primary and replicated), and the token terms as a
  // quadratic in x plus their value before the split.
  private readonly unitsPerCandidate: number;
  private readonly cached: Uint8Array;
  private readonly cachedUnitCount: Uint8Array;
  private readonly cachedUnits: Int32Array;
  private readonly cachedShares: Float64Array;
  private readonly cachedTokenTerms: Float64Array;

  // Scratch.
  private readonly affected: Int32Array;
  private affectedCount = 0;
  private readonly seen: Int32Array;
  private readonly mark: Int32Array;
  private stamp = 0;
  /** Units whose shares changed since their group's drift was last calibrated. */
  private readonly changed: Uint8Array;
  private localSlot = 0;
  private localCount = 0;
  private trialLow = -1;
  private trialHigh = -1;
  private hitLow = false;
  private hitHigh = false;
  private q0 = 0;
  private q1 = 0;
  private q2 = 0;
  private bestFraction = 0.5;

  constructor(
    ring: Ring,
    weight: number,
    private readonly vnodes: number,
    /** Replicas per range the balance is computed for (1 to nodes + 1). */
    private readonly m: number,
  ) {
    assert(ring.tokenCount > 0, 'balanced allocation extends a non-empty ring');
    assert(Number.isInteger(vnodes) && vnodes > 0, `vnodes ${vnodes}`);
    assert(Number.isInteger(m) && m >= 1 && m <= ring.nodeCount + 1, `replicas ${m} for ${ring.nodeCount + 1} nodes`);
    const nodes = ring.nodes();
    const units = nodes.length + 1;
    this.joining = nodes.length;
    const capacity = ring.tokenCount + vnodes + 1;
    this.owner = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.width = new Float64Array(capacity);
    this.span = new Float64Array(capacity);
    this.primary = new Float64Array(units);
    this.replicated = new Float64Array(units);
    this.primaryTarget = new Float64Array(units);
    this.replicatedTarget = new Float64Array(units);
    this.tokenCount = new Int32Array(units);
    // Affected tokens have distinct owners (at most m), plus the host and the joining node.
    this.unitsPerCandidate = m + 2;
    this.cached = new Uint8Array(capacity);
    this.cachedUnitCount = new Uint8Array(capacity);
    this.cachedUnits = new Int32Array(capacity * this.unitsPerCandidate);
    this.cachedShares = new Float64Array(capacity * this.unitsPerCandidate * 4);
    this.cachedTokenTerms = new Float64Array(capacity * 4);
    this.affected = new Int32Array(m);
    this.seen = new Int32Array(m + 2);
    this.mark = new Int32Array(units);
    this.changed = new Uint8Array(units);

    let totalWeight = weight;
    for (const id of nodes) totalWeight += ring.weightOf(id);
    nodes.forEach((id, u) => {
      this.primaryTarget[u] = ring.weightOf(id) / totalWeight;
      this.replicatedTarget[u] = (m * ring.weightOf(id)) / totalWeight;
    });
    this.primaryTarget[this.joining] = weight / totalWeight;
    this.replicatedTarget[this.joining] = (m * weight) / totalWeight;
    this.tokenCount[this.joining] = vnodes;

    const unitOf = new Map(nodes.map((id, i) => [id, i]));
    const count = ring.tokenCount;
    for (let i = 0; i < count; i++) {
      this.token.push(ring.tokenAt(i));
      const u = unitOf.get(ring.nodeAt(i))!;
      this.owner[i] = u;
      this.tokenCount[u]!++;
      this.next[i] = (i + 1) % count;
      this.prev[i] = (i + count - 1) % count;
    }
    this.used = count;
    for (let i = 0; i < count; i++) this.width[i] = this.exactWidth(i);
    for (let i = 0; i < count; i++) {
      this.span[i] = this.walkSpan(i);
      this.primary[this.owner[i]!]! += this.width[i]!;
      this.replicated[this.owner[i]!]! += this.span[i]!;
    }
    // The joining node starts as if all its tokens were already placed with
    // ideal shares; each placement swaps one placeholder for the real thing.
    this.primary[this.joining] = this.primaryTarget[this.joining]!;
    this.replicated[this.joining] = this.replicatedTarget[this.joining]!;
  }

  /**
   * Chooses `vnodes` tokens, greedily. Candidates are grouped by the node
   * owning their range, one max-heap per group, and a tournament tree over
   * the groups' best keys finds the best overall. Keys are scores from when
   * they were computed, less the group's drift: a candidate is re-scored when
   * it reaches the top and taken if its fresh score still beats every other
   * key, else pushed back (lazy greedy, as in Cassandra).
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
    const hosts = this.joining;
    const heaps = Array.from({ length: hosts }, () => new CandidateHeap());
    const drift = new Float64Array(hosts);
    const tops = new MaxTree(hosts);
    const retop = (u: number): void => tops.set(u, heaps[u]!.size > 0 ? heaps[u]!.peekScore() - drift[u]! : -Infinity);
    for (let s = 0; s < this.used; s++) heaps[this.owner[s]!]!.push(this.evaluate(s), s);
    for (let u = 0; u < hosts; u++) retop(u);
    const chosen: bigint[] = [];
    this.changed.fill(0);
    while (chosen.length < this.vnodes) {
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
      chosen.push(this.confirm(s, this.bestFraction));
      heap.push(this.evaluate(s) + drift[best]!, s);
      retop(best);
    }
    this.checkTotals();
    return chosen;
  }

  /** Objective decrease from placing the next token in the range ending at slot s; sets bestFraction. */
  private evaluate(s: number): number {
    if (this.owner[s] === this.joining || this.width[s]! * RING < 4) return -Infinity;
    if (!this.cached[s]) this.analyse(s);
    return this.score(s);
  }

  /**
   * Caches how splitting the range ending at slot s changes shares. Which
   * ranges each span covers depends only on the order of owners, not on
   * where in the range the new token lands, so with x the width the new
   * token takes, every changed share is affine in x.
   */
  private analyse(s: number): void {
    const Y = this.joining;
    const w = this.width[s]!;
    const host = this.owner[s]!;
    const shares = this.cachedShares;
    this.localCount = 0;
    this.localSlot = s;
    this.stamp++;

    this.collectAffected(s);
    const p = this.used;
    this.link(p, s, Y);
    this.trialLow = p;
    this.trialHigh = s;
    this.q0 = this.q1 = this.q2 = 0;
    let old = 0;

    // Primary: the new token takes x from the host.
    const kY = this.tokenCount[Y]!;
    const kHost = this.tokenCount[host]!;
    const perTokenY = this.primaryTarget[Y]! / kY;
    const perTokenHost = this.primaryTarget[host]! / kHost;
    shares[this.local(host) + 1]! -= 1;
    const y = this.local(Y);
    shares[y]! -= perTokenY;
    shares[y + 1]! += 1;
    this.addSquare(TOKEN_WEIGHT / (kY * kY), -1, 1 / perTokenY);
    this.addSquare(TOKEN_WEIGHT / (kHost * kHost), w / perTokenHost - 1, -1 / perTokenHost);
    old += TOKEN_WEIGHT * sq(w / perTokenHost - 1) / (kHost * kHost);

    // Replicated: the new token's span, and every span that crossed range s.
    const spanTargetY = this.replicatedTarget[Y]! / kY;
    let base = this.walkSpan(p);
    let alpha = base + (this.hitHigh ? w : 0);
    let beta = (this.hitLow ? 1 : 0) - (this.hitHigh ? 1 : 0);
    shares[y + 2]! += alpha - spanTargetY;
    shares[y + 3]! += beta;
    this.addSquare(TOKEN_WEIGHT / (kY * kY), alpha / spanTargetY - 1, beta / spanTargetY);
    for (let i = 0; i < this.affectedCount; i++) {
      const a = this.affected[i]!;
      const u = this.owner[a]!;
      base = this.walkSpan(a);
      alpha = base + (this.hitHigh ? w : 0);
      beta = (this.hitLow ? 1 : 0) - (this.hitHigh ? 1 : 0);
      const at = this.local(u);
      shares[at + 2]! += alpha - this.span[a]!;
      shares[at + 3]! += beta;
      const k = this.tokenCount[u]!;
      const target = this.replicatedTarget[u]! / k;
      this.addSquare(TOKEN_WEIGHT / (k * k), alpha / target - 1, beta / target);
      old += TOKEN_WEIGHT * sq(this.span[a]! / target - 1) / (k * k);
    }
    this.trialLow = this.trialHigh = -1;
    this.unlink(p, s);

    this.cachedUnitCount[s] = this.localCount;
    const t = this.cachedTokenTerms;
    t[s * 4] = this.q0;
    t[s * 4 + 1] = this.q1;
    t[s * 4 + 2] = this.q2;
    t[s * 4 + 3] = old;
    this.cached[s] = 1;
  }

  /** Offset in cachedShares of unit u's entry in the analysis being built, added on first use. */
  private local(u: number): number {
    const cap = this.unitsPerCandidate;
    const first = this.localSlot * cap;
    if (this.mark[u] !== this.stamp) {
      this.mark[u] = this.stamp;
      assert(this.localCount < cap, `split of slot ${this.localSlot} touches more than ${cap} nodes`);
      const at = first + this.localCount++;
      this.cachedUnits[at] = u;
      const c = this.cachedShares;
      c[at * 4] = c[at * 4 + 1] = c[at * 4 + 2] = c[at * 4 + 3] = 0;
      return at * 4;
    }
    for (let i = first; ; i++) if (this.cachedUnits[i] === u) return i * 4;
  }

  /** Score from the cached analysis and the current shares: old objective minus the best new one. */
  private score(s: number): number {
    const cap = this.unitsPerCandidate;
    const t = this.cachedTokenTerms;
    this.q0 = t[s * 4]!;
    this.q1 = t[s * 4 + 1]!;
    this.q2 = t[s * 4 + 2]!;
    let old = t[s * 4 + 3]!;
    for (let i = 0; i < this.cachedUnitCount[s]!; i++) {
      const u = this.cachedUnits[s * cap + i]!;
      const at = (s * cap + i) * 4;
      const c = this.cachedShares;
      const pt = this.primaryTarget[u]!;
      const rt = this.replicatedTarget[u]!;
      const p0 = this.primary[u]!;
      const r0 = this.replicated[u]!;
      this.addSquare(1, (p0 + c[at]!) / pt - 1, c[at + 1]! / pt);
      this.addSquare(REPLICA_WEIGHT, (r0 + c[at + 2]!) / rt - 1, c[at + 3]! / rt);
      old += sq(p0 / pt - 1) + REPLICA_WEIGHT * sq(r0 / rt - 1);
    }
    const w = this.width[s]!;
    const lo = w * MIN_SPLIT;
    const hi = w - lo;
    let x = this.q2 > 0 ? -this.q1 / (2 * this.q2) : this.q1 > 0 ? lo : hi;
    x = Math.min(hi, Math.max(lo, x));
    this.bestFraction = x / w;
    return old - (this.q0 + x * (this.q1 + x * this.q2));
  }

  /** Places the next token in the range ending at slot s, `fraction` of the way along it; returns it. */
  private confirm(s: number, fraction: number): bigint {
    const Y = this.joining;
    const host = this.owner[s]!;
    this.collectAffected(s);
    const p = this.used++;
    const start = this.token[this.prev[s]!]!;
    let d = this.token[s]! - start;
    if (d <= 0n) d += RING_SIZE;
    assert(d >= 4n, 'range too narrow to split');
    let offset = (d * BigInt(Math.round(fraction * FRACTION_ONE))) / BigInt(FRACTION_ONE);
    if (offset < 1n) offset = 1n;
    if (offset > d - 1n) offset = d - 1n;
    let token = start + offset;
    if (token >= RING_SIZE) token -= RING_SIZE;
    this.token[p] = token;
    this.link(p, s, Y);
    const oldWidth = this.width[s]!;
    this.width[p] = this.exactWidth(p);
    this.width[s] = this.exactWidth(s);
    this.primary[host]! -= oldWidth - this.width[s]!;
    this.primary[Y]! += this.width[p]! - this.primaryTarget[Y]! / this.vnodes;
    for (let i = 0; i < this.affectedCount; i++) {
      const a = this.affected[i]!;
      const after = this.walkSpan(a);
      this.replicated[this.owner[a]!]! += after - this.span[a]!;
      this.span[a] = after;
    }
    this.span[p] = this.walkSpan(p);
    this.replicated[Y]! += this.span[p]! - this.replicatedTarget[Y]! / this.vnodes;
    this.placed++;
    this.changed[host] = 1;
    if (this.joining >= 4 * (this.m + 1)) {
      for (let i = 0; i < this.affectedCount; i++) this.changed[this.owner[this.affected[i]!]!] = 1;
    }
    this.invalidateAround(p);
    return token;
  }

  /**
   * Drops the cached analyses that may read the ring around slot p: a
   * candidate's analysis reads at most m distinct owners' worth of ranges on
   * either side of it; two more are a margin for the owner just inserted.
   */
  private invalidateAround(p: number): void {
    const reach = this.m + 2;
    for (const step of [this.next, this.prev]) {
      const seen = this.seen;
      let distinct = 0;
      for (let j = p, n = 0; n < this.used; j = step[j]!, n++) {
        this.cached[j] = 0;
        const o = this.owner[j]!;
        let known = false;
        for (let i = 0; i < distinct; i++) known ||= seen[i] === o;
        if (known) continue;
        if (distinct === reach) break;
        seen[distinct++] = o;
      }
    }
  }

  /**
   * The existing tokens whose span covers the range ending at slot s: s itself
   * and those clockwise after it that walk back to s before meeting their own
   * node or m distinct others. Only these change when that range is split.
   */
  private collectAffected(s: number): void {
    const seen = this.seen;
    let distinct = 0;
    this.affected[0] = s;
    this.affectedCount = 1;
    seen[distinct++] = this.owner[s]!;
    for (let k = this.next[s]!; k !== s && distinct < this.m; k = this.next[k]!) {
      const o = this.owner[k]!;
      let known = false;
      for (let j = 0; j < distinct; j++) known ||= seen[j] === o;
      if (!known) {
        this.affected[this.affectedCount++] = k;
        seen[distinct++] = o;
      }
    }
  }

  /**
   * The replicated share token k accounts for (see the file comment). During
   * a trial insertion the two halves of the split range are left out of the
   * sum and reported in hitLow / hitHigh instead.
   */
  private walkSpan(k: number): number {
    const x = this.owner[k]!;
    const seen = this.seen;
    let distinct = 0;
    this.hitLow = this.hitHigh = false;
    let total = this.part(k);
    for (let j = this.prev[k]!; j !== k; j = this.prev[j]!) {
      const o = this.owner[j]!;
      if (o === x) break;
      let known = false;
      for (let i = 0; i < distinct; i++) known ||= seen[i] === o;
      if (!known) {
        if (distinct === this.m - 1) break;
        seen[distinct++] = o;
      }
      total += this.part(j);
    }
    return total;
  }

  private part(j: number): number {
    if (j === this.trialLow) {
      this.hitLow = true;
      return 0;
    }
    if (j === this.trialHigh) {
      this.hitHigh = true;
      return 0;
    }
    return this.width[j]!;
  }

  /** Adds weight * (alpha + beta x)^2 to the quadratic being built. */
  private addSquare(weight: number, alpha: number, beta: number): void {
    this.q0 += weight * alpha * alpha;
    this.q1 += 2 * weight * alpha * beta;
    this.q2 += weight * beta * beta;
  }

  /** Inserts slot p, owned by u, just before slot s. */
  private link(p: number, s: number, u: number): void {
    const before = this.prev[s]!;
    this.owner[p] = u;
    this.prev[p] = before;
    this.next[p] = s;
    this.next[before] = p;
    this.prev[s] = p;
  }

  private unlink(p: number, s: number): void {
    const before = this.prev[p]!;
    this.next[before] = s;
    this.prev[s] = before;
  }

  private exactWidth(i: number): number {
    const j = this.prev[i]!;
    if (j === i) return 1;
    let d = this.token[i]! - this.token[j]!;
    if (d <= 0n) d += RING_SIZE;
    return Number(d) / RING;
  }

  private checkTotals(): void {
    assert(this.placed === this.vnodes, 'every vnode placed');
    let p = 0;
    let r = 0;
    for (let u = 0; u < this.primary.length; u++) {
      p += this.primary[u]!;
      r += this.replicated[u]!;
    }
    assert(Math.abs(p - 1) < 1e-6, `primary shares sum to ${p}`);
    assert(Math.abs(r - this.m) < 1e-6, `replicated shares sum to ${r}, expected ${this.m}`);
  }
}

function sq(x: number): number {
  return x * x;
}
