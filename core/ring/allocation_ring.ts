// The ring as the balanced allocator sees it while one node joins: a circular
// doubly linked list of slots, so a token can be inserted, or tried and taken
// back, in O(1), with every node's primary and replicated share kept current.
// Shares are doubles here (their error is far below what balance needs);
// tokens stay bigint.
//
// Replicated ownership is attributed to tokens: a token of node X accounts for
// the ranges X replicates because of it, its span. Walking counter-clockwise
// from the token, its own range is in the span; each earlier range is too,
// until one is owned by X itself (X's other token accounts for it) or its
// owner would be the m-th distinct other node (X is no longer among the first
// m replicas there). A node's replicated share is the sum of its spans.
//
// Nodes are numbered by their index in ring.nodes(); the joining node is last.

import { assert } from '../../io/assert.ts';
import { primaryTargets, replicaTargets } from './ownership_targets.ts';
import type { Ring } from './ring.ts';
import { RING_SIZE } from './token_range.ts';

const RING = Number(RING_SIZE);
const FRACTION_ONE = 1 << 24;

export class AllocationRing {
  // Slots 0..used-1 hold tokens; slot `used` is free for a trial insertion.
  readonly token: bigint[] = [];
  readonly owner: Int32Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Share of the ring in the range ending at the slot's token. */
  readonly width: Float64Array;
  /** Replicated share the slot's token accounts for. */
  readonly span: Float64Array;
  used = 0;

  readonly joining: number;
  readonly primary: Float64Array;
  readonly replicated: Float64Array;
  readonly primaryTarget: Float64Array;
  readonly replicatedTarget: Float64Array;
  readonly tokenCount: Int32Array;
  placed = 0;

  /** Output of collectAffected. */
  readonly affected: Int32Array;
  affectedCount = 0;
  /** During a trial insertion: the two halves of the split range, which walkSpan reports instead of summing. */
  trialLow = -1;
  trialHigh = -1;
  hitLow = false;
  hitHigh = false;
  private readonly seen: Int32Array;

  constructor(
    ring: Ring,
    weight: number,
    readonly vnodes: number,
    /** Replicas per key the shares are computed for (1 to nodes + 1). */
    readonly m: number,
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
    this.tokenCount = new Int32Array(units);
    this.affected = new Int32Array(m);
    this.seen = new Int32Array(m + 2);

    const weights = [...nodes.map((id) => ring.weightOf(id)), weight];
    this.primaryTarget = primaryTargets(weights);
    this.replicatedTarget = replicaTargets(weights, m);
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

  /** Whether the joining node may place a token in the range ending at slot s. */
  canSplit(s: number): boolean {
    return this.owner[s] !== this.joining && this.width[s]! * RING >= 4;
  }

  /**
   * Places the joining node's next token in the range ending at slot s,
   * `fraction` of the way along it, updating every share. Returns the new slot;
   * collectAffected(s) holds the tokens whose spans changed.
   */
  insert(s: number, fraction: number): number {
    const Y = this.joining;
    const host = this.owner[s]!;
    assert(host !== Y && this.placed < this.vnodes, `slot ${s} cannot take another token`);
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
    return p;
  }

  /**
   * The existing tokens whose span covers the range ending at slot s: s itself
   * and those clockwise after it that walk back to s before meeting their own
   * node or m distinct others. Only these change when that range is split;
   * they have distinct owners, so there are at most m.
   */
  collectAffected(s: number): void {
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

  /** The replicated share token k accounts for (see the file comment). */
  walkSpan(k: number): number {
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

  /**
   * Calls visit on slot p and its neighbours in both directions, up to and
   * including the first slot owned by the (reach+1)-th distinct node each way.
   */
  forEachNear(p: number, reach: number, visit: (slot: number) => void): void {
    const seen = new Int32Array(reach);
    for (const step of [this.next, this.prev]) {
      let distinct = 0;
      for (let j = p, n = 0; n < this.used; j = step[j]!, n++) {
        visit(j);
        const o = this.owner[j]!;
        let known = false;
        for (let i = 0; i < distinct; i++) known ||= seen[i] === o;
        if (known) continue;
        if (distinct === reach) break;
        seen[distinct++] = o;
      }
    }
  }

  /** Inserts slot p, owned by u, just before slot s. */
  link(p: number, s: number, u: number): void {
    const before = this.prev[s]!;
    this.owner[p] = u;
    this.prev[p] = before;
    this.next[p] = s;
    this.next[before] = p;
    this.prev[s] = p;
  }

  unlink(p: number, s: number): void {
    const before = this.prev[p]!;
    this.next[before] = s;
    this.prev[s] = before;
  }

  /** Shares as tracked here: existing nodes in ring.nodes() order, the joining node last. */
  shares(): { primary: number[]; replicated: number[] } {
    return { primary: [...this.primary], replicated: [...this.replicated] };
  }

  checkTotals(): void {
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

  private exactWidth(i: number): number {
    const j = this.prev[i]!;
    if (j === i) return 1;
    let d = this.token[i]! - this.token[j]!;
    if (d <= 0n) d += RING_SIZE;
    return Number(d) / RING;
  }
}
