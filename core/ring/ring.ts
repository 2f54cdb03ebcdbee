// The consistent-hash ring: sorted tokens, each owned by a node (a node holds
// many tokens, its vnodes). A key is stored on the first n distinct nodes met
// clockwise from its token (Dynamo's preference list); the token ending a
// range (see token_range.ts) names the range's primary owner.
//
// A Ring is immutable: membership changes build a new one (withNode,
// withoutNode), so a coordinator can hold the ring a request started with.
// Per-n replica tables and ownership are computed lazily and cached; they are
// pure functions of the tokens, so the caches do not make the object mutable
// in any observable way.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import { primaryTargets, replicaTargets } from './ownership_targets.ts';
import { isToken, RING_SIZE, type TokenRange } from './token_range.ts';

export { transfersFor, type Transfer } from './ring_transfers.ts';

export interface RingEntry {
  readonly token: bigint;
  readonly node: NodeId;
}

export interface NodeOwnership {
  /** Share of the ring whose keys this node holds as first replica. Sums to 1 over nodes. */
  readonly primary: number;
  /** Share of the ring whose keys this node holds a replica of. Sums to min(n, nodes) over nodes. */
  readonly replica: number;
}

export interface PreferenceEntry {
  readonly node: NodeId;
  readonly role: 'primary' | 'fallback';
  /** For a fallback standing in for a down home replica: that replica (the hinted handoff target). */
  readonly hintFor?: NodeId;
}

export interface OwnershipSpread {
  /** max/min over nodes of primary share / its target; 1 is perfect balance. */
  readonly primary: number;
  /** max/min over nodes of replica share / its target. */
  readonly replica: number;
}

export class Ring {
  static readonly EMPTY = new Ring([], new Uint32Array(0), [], new Float64Array(0));

  private readonly replicaTables = new Map<number, Uint32Array>();
  private readonly ownerships = new Map<number, ReadonlyMap<NodeId, NodeOwnership>>();
  private readonly nodeIndex = new Map<NodeId, number>();

  private constructor(
    /** Sorted ascending, unique, each in [0, 2^64). */
    private readonly sortedTokens: readonly bigint[],
    /** owner[i] indexes `nodeIds` for sortedTokens[i]. */
    private readonly owner: Uint32Array,
    /** Sorted, unique; every node has at least one token. */
    private readonly nodeIds: readonly NodeId[],
    private readonly weights: Float64Array,
  ) {
    assert(owner.length === sortedTokens.length, 'one owner per token');
    assert(weights.length === nodeIds.length, 'one weight per node');
    for (let i = 0; i < sortedTokens.length; i++) {
      assert(isToken(sortedTokens[i]!), `token ${sortedTokens[i]} outside [0, 2^64)`);
      assert(i === 0 || sortedTokens[i - 1]! < sortedTokens[i]!, `tokens not sorted and unique at ${i}`);
      assert(owner[i]! < nodeIds.length, `token ${i} owned by unknown node index ${owner[i]}`);
    }
    const tokenCounts = new Uint32Array(nodeIds.length);
    for (const o of owner) tokenCounts[o]!++;
    nodeIds.forEach((id, i) => {
      assert(i === 0 || nodeIds[i - 1]! < id, 'node ids sorted and unique');
      assert(tokenCounts[i]! > 0, `node ${id} has no token`);
      assert(Number.isFinite(weights[i]) && weights[i]! > 0, `node ${id} weight ${weights[i]}`);
      this.nodeIndex.set(id, i);
    });
  }

  /** A ring from (token, node) pairs in any order; nodes absent from `weights` weigh 1. */
  static fromEntries(entries: Iterable<RingEntry>, weights?: ReadonlyMap<NodeId, number>): Ring {
    const sorted = [...entries].sort((a, b) => (a.token < b.token ? -1 : a.token > b.token ? 1 : 0));
    const nodeIds = [...new Set(sorted.map((e) => e.node))].sort();
    for (const node of weights?.keys() ?? []) assert(nodeIds.includes(node), `weight for node ${node} without tokens`);
    const index = new Map(nodeIds.map((id, i) => [id, i]));
    const owner = Uint32Array.from(sorted, (e) => index.get(e.node)!);
    const w = Float64Array.from(nodeIds, (id) => weights?.get(id) ?? 1);
    return new Ring(sorted.map((e) => e.token), owner, nodeIds, w);
  }

  get tokenCount(): number {
    return this.sortedTokens.length;
  }

  get nodeCount(): number {
    return this.nodeIds.length;
  }

  /** Node ids, sorted. */
  nodes(): readonly NodeId[] {
    return this.nodeIds;
  }

  hasNode(node: NodeId): boolean {
    return this.nodeIndex.has(node);
  }

  weightOf(node: NodeId): number {
    return this.weights[this.indexOfNode(node)]!;
  }

  /** Every token, ascending. */
  tokens(): readonly bigint[] {
    return this.sortedTokens;
  }

  tokenAt(i: number): bigint {
    if (!(i >= 0 && i < this.sortedTokens.length)) assert(false, `token index ${i}`);
    return this.sortedTokens[i]!;
  }

  nodeAt(i: number): NodeId {
    if (!(i >= 0 && i < this.sortedTokens.length)) assert(false, `token index ${i}`);
    return this.nodeIds[this.owner[i]!]!;
  }

  tokensOf(node: NodeId): bigint[] {
    const n = this.indexOfNode(node);
    return this.sortedTokens.filter((_, i) => this.owner[i] === n);
  }

  entries(): RingEntry[] {
    return this.sortedTokens.map((token, i) => ({ token, node: this.nodeIds[this.owner[i]!]! }));
  }

  /** Index of the token whose range holds `keyToken`: the first token >= keyToken, wrapping to 0. */
  tokenIndexFor(keyToken: bigint): number {
    if (!isToken(keyToken)) assert(false, `key token ${keyToken} outside [0, 2^64)`);
    const tokens = this.sortedTokens;
    assert(tokens.length > 0, 'lookup on an empty ring');
    let lo = 0;
    let hi = tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (tokens[mid]! < keyToken) lo = mid + 1;
      else hi = mid;
    }
    return lo === tokens.length ? 0 : lo;
  }

  /** The range ending at token i. */
  rangeAt(i: number): TokenRange {
    const t = this.sortedTokens;
    if (!(i >= 0 && i < t.length)) assert(false, `range index ${i}`);
    return { start: t[(i === 0 ? t.length : i) - 1]!, end: t[i]! };
  }

  ownerOf(keyToken: bigint): NodeId {
    return this.nodeAt(this.tokenIndexFor(keyToken));
  }

  /** The first min(n, nodes) distinct nodes clockwise from the key: its home replicas, in order. */
  preferenceList(keyToken: bigint, n: number): NodeId[] {
    if (this.sortedTokens.length === 0) return [];
    const table = this.replicaTable(n);
    const m = Math.min(n, this.nodeIds.length);
    const row = this.tokenIndexFor(keyToken) * m;
    const out = new Array<NodeId>(m);
    for (let j = 0; j < m; j++) out[j] = this.nodeIds[table[row + j]!]!;
    return out;
  }

  /**
   * The sloppy-quorum list (riak_core_apl's annotated list): the key's home
   * replicas that are up, tagged 'primary', then up nodes further clockwise,
   * tagged 'fallback'. The first fallbacks stand in for the down home replicas
   * (hintFor, in the order those appear in the preference list); `extra` more
   * fallbacks follow as spares. At most n + extra entries: fewer only when
   * too few nodes are up. The first n entries are where a sloppy write goes.
   */
  extendedPreferenceList(
    keyToken: bigint,
    n: number,
    extra: number,
    isUp: (node: NodeId) => boolean = () => true,
  ): PreferenceEntry[] {
    if (!(Number.isInteger(n) && n >= 1)) assert(false, `replication factor ${n}`);
    if (!(Number.isInteger(extra) && extra >= 0)) assert(false, `extra fallbacks ${extra}`);
    const out: PreferenceEntry[] = [];
    if (this.sortedTokens.length === 0) return out;
    const downHomes: NodeId[] = [];
    let homes = 0;
    this.walkDistinct(this.tokenIndexFor(keyToken), (idx) => {
      const node = this.nodeIds[idx]!;
      const up = isUp(node);
      if (homes < n) {
        homes++;
        if (up) out.push({ node, role: 'primary' });
        else downHomes.push(node);
        return true;
      }
      if (out.length >= n + extra) return false;
      if (up) {
        const fallbacks = out.length - (homes - downHomes.length);
        const hintFor = downHomes[fallbacks];
        out.push(hintFor === undefined ? { node, role: 'fallback' } : { node, role: 'fallback', hintFor });
      }
      return out.length < n + extra;
    });
    assert(out.length <= n + extra, 'extended list longer than n + extra');
    return out;
  }

  /** Primary ranges in ring order, each with its owner. */
  ranges(): { range: TokenRange; node: NodeId }[] {
    return this.sortedTokens.map((_, i) => ({ range: this.rangeAt(i), node: this.nodeAt(i) }));
  }

  /** Share of the ring each node holds as first replica and as any of the n replicas. */
  ownership(n: number): ReadonlyMap<NodeId, NodeOwnership> {
    const m = Math.min(n, this.nodeIds.length);
    const cached = this.ownerships.get(m);
    if (cached) return cached;
    const out = new Map<NodeId, NodeOwnership>();
    const nodes = this.nodeIds.length;
    if (nodes === 0) return out;
    const table = this.replicaTable(n);
    const primary = new Array<bigint>(nodes).fill(0n);
    const replica = new Array<bigint>(nodes).fill(0n);
    for (let i = 0; i < this.sortedTokens.length; i++) {
      const w = this.widthAt(i);
      primary[this.owner[i]!]! += w;
      for (let j = 0; j < m; j++) replica[table[i * m + j]!]! += w;
    }
    // Exact integer sums: every key has one primary and m replicas.
    assert(primary.reduce((a, b) => a + b, 0n) === RING_SIZE, 'primary ownership must cover the ring once');
    assert(replica.reduce((a, b) => a + b, 0n) === BigInt(m) * RING_SIZE, 'replicas must cover the ring m times');
    const size = Number(RING_SIZE);
    this.nodeIds.forEach((id, i) => out.set(id, { primary: Number(primary[i]!) / size, replica: Number(replica[i]!) / size }));
    this.ownerships.set(m, out);
    return out;
  }

  /**
   * How unequal ownership is: max/min over nodes of share / target share,
   * targets being proportional to weight (replica targets capped at 1, see
   * ownership_targets.ts). 1 is perfect balance.
   */
  spread(n: number): OwnershipSpread {
    if (this.nodeIds.length === 0) return { primary: 1, replica: 1 };
    const own = this.ownership(n);
    const primaryTarget = primaryTargets(this.weights);
    const replicaTarget = replicaTargets(this.weights, Math.min(n, this.nodeIds.length));
    let [pMin, pMax, rMin, rMax] = [Infinity, 0, Infinity, 0];
    this.nodeIds.forEach((id, u) => {
      const { primary, replica } = own.get(id)!;
      pMin = Math.min(pMin, primary / primaryTarget[u]!);
      pMax = Math.max(pMax, primary / primaryTarget[u]!);
      rMin = Math.min(rMin, replica / replicaTarget[u]!);
      rMax = Math.max(rMax, replica / replicaTarget[u]!);
    });
    return { primary: pMax / pMin, replica: rMax / rMin };
  }

  /**
   * The ranges whose keys `node` holds among their n replicas, in ring order
   * with adjacent ranges merged (the first may wrap through zero). A node
   * replicating everything gets the single whole-ring range.
   */
  rangesOf(node: NodeId, n: number): TokenRange[] {
    const idx = this.indexOfNode(node);
    const m = Math.min(n, this.nodeIds.length);
    const table = this.replicaTable(n);
    const t = this.sortedTokens;
    const out: { start: bigint; end: bigint }[] = [];
    let openEnd = -2;
    for (let i = 0; i < t.length; i++) {
      let holds = false;
      for (let j = 0; j < m && !holds; j++) holds = table[i * m + j] === idx;
      if (!holds) continue;
      if (openEnd === i - 1) out[out.length - 1]!.end = t[i]!;
      else out.push({ ...this.rangeAt(i) });
      openEnd = i;
    }
    // The range ending at the last token continues into the one ending at token 0.
    if (out.length > 1 && openEnd === t.length - 1 && out[0]!.start === t[t.length - 1]) {
      out[0]!.start = out.pop()!.start;
    }
    return out;
  }

  /** This ring plus `node` holding `tokens` (none already on the ring). */
  withNode(node: NodeId, tokens: readonly bigint[], weight = 1): Ring {
    assert(!this.hasNode(node), `node ${node} is already on the ring`);
    assert(tokens.length > 0, `node ${node} joins without tokens`);
    const added = [...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let at = 0;
    while (at < this.nodeIds.length && this.nodeIds[at]! < node) at++;
    const nodeIds = [...this.nodeIds.slice(0, at), node, ...this.nodeIds.slice(at)];
    const weights = new Float64Array(nodeIds.length);
    weights.set(this.weights.subarray(0, at));
    weights[at] = weight;
    weights.set(this.weights.subarray(at), at + 1);
    // Merge the two sorted token lists; old owners past the new node shift up.
    const old = this.sortedTokens;
    const count = old.length + added.length;
    const merged = new Array<bigint>(count);
    const owner = new Uint32Array(count);
    let i = 0;
    let j = 0;
    for (let k = 0; k < count; k++) {
      if (j >= added.length || (i < old.length && old[i]! < added[j]!)) {
        merged[k] = old[i]!;
        const o = this.owner[i++]!;
        owner[k] = o >= at ? o + 1 : o;
      } else {
        assert(i >= old.length || old[i] !== added[j], `node ${node} brings token ${added[j]} already on the ring`);
        merged[k] = added[j++]!;
        owner[k] = at;
      }
    }
    return new Ring(merged, owner, nodeIds, weights);
  }

  withoutNode(node: NodeId): Ring {
    const gone = this.indexOfNode(node);
    const kept: bigint[] = [];
    const owner: number[] = [];
    this.sortedTokens.forEach((t, i) => {
      const o = this.owner[i]!;
      if (o === gone) return;
      kept.push(t);
      owner.push(o > gone ? o - 1 : o);
    });
    const nodeIds = this.nodeIds.filter((id) => id !== node);
    const weights = Float64Array.from(nodeIds, (id) => this.weightOf(id));
    return new Ring(kept, Uint32Array.from(owner), nodeIds, weights);
  }

  private indexOfNode(node: NodeId): number {
    const i = this.nodeIndex.get(node);
    assert(i !== undefined, `node ${node} is not on the ring`);
    return i;
  }

  /** Width of the range ending at token i, in [1, 2^64]. */
  private widthAt(i: number): bigint {
    const t = this.sortedTokens;
    if (t.length === 1) return RING_SIZE;
    const d = t[i]! - t[i === 0 ? t.length - 1 : i - 1]!;
    return d > 0n ? d : d + RING_SIZE;
  }

  /** Visits distinct node indexes clockwise from token `from` until `visit` returns false or all are seen. */
  private walkDistinct(from: number, visit: (nodeIdx: number) => boolean): void {
    const seen = new Uint8Array(this.nodeIds.length);
    let found = 0;
    const count = this.sortedTokens.length;
    for (let step = 0; step < count && found < this.nodeIds.length; step++) {
      const o = this.owner[(from + step) % count]!;
      if (seen[o]) continue;
      seen[o] = 1;
      found++;
      if (!visit(o)) return;
    }
  }

  /** Row i (min(n, nodes) node indexes) is the preference list of range i. */
  private replicaTable(n: number): Uint32Array {
    assert(Number.isInteger(n) && n >= 1, `replication factor ${n}`);
    const m = Math.min(n, this.nodeIds.length);
    const cached = this.replicaTables.get(m);
    if (cached) return cached;
    const count = this.sortedTokens.length;
    const table = new Uint32Array(count * m);
    const seenAt = new Int32Array(this.nodeIds.length).fill(-1);
    for (let i = 0; i < count; i++) {
      let found = 0;
      for (let step = 0; step < count && found < m; step++) {
        const o = this.owner[(i + step) % count]!;
        if (seenAt[o] === i) continue;
        seenAt[o] = i;
        table[i * m + found++] = o;
      }
      assert(found === m, `range ${i} has ${found} distinct replicas, expected ${m}`);
    }
    this.replicaTables.set(m, table);
    return table;
  }
}
