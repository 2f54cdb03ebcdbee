// The cluster's placement while members join and leave: which nodes a read
// of a token goes to, and which a write must reach so that no range change
// can lose it.
//
// Two rings are derived from the members' phases:
// - the read ring (normal + leaving members): the placement every node has
//   fully received; reads and the "natural" write replicas come from it;
// - the target ring (normal + joining members): the placement once every
//   move in progress has finished.
// A write goes to its natural replicas plus the "pending" ones, the nodes of
// the target ring's preference list that are not natural (a joining node
// taking the range, the new owner of a leaving node's range). Reads never
// go to a pending node: it may not have received the range yet.
//
// Several moves may be under way at once; pending replicas are those of the
// placement where all of them have finished (Cassandra works them out per
// move). The operations in this codebase run one move at a time.
//
// A dead node being removed is 'leaving' while the survivors re-replicate its
// ranges (its reads then go to the others through the sloppy list) and
// 'removed' once they have; a replacement is 'joining' with the dead node's
// tokens while the dead node is 'leaving' (or still 'normal', as gossip may
// say of a node that cannot announce anything): the replacement owns the
// tokens in the target ring, the dead node in the read ring.

import { AssertionError } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import { Ring } from './ring.ts';
import { transfersFor, type Transfer } from './ring_transfers.ts';

export type MemberPhase = 'joining' | 'normal' | 'leaving' | 'left' | 'removed'; // 'down' is liveness, not phase

export interface TopologyMember {
  id: string;
  phase: MemberPhase;
  tokens: readonly bigint[];
}

export interface WriteReplicas {
  natural: NodeId[];
  pending: NodeId[];
  /** The key's replicas once the moves in progress finish (target ring); natural when nothing moves. */
  target: NodeId[];
}

const PHASE_RANK: Record<MemberPhase, number> = { joining: 0, normal: 1, leaving: 2, left: 3, removed: 4 };

export class Topology {
  /** Normal + leaving members: where reads go. */
  readonly readRing: Ring;
  /** Normal + joining members: the placement once the moves in progress finish. */
  readonly targetRing: Ring;
  /** A hash of the members: equal topologies have equal versions, and a change of any query's answer changes it. */
  readonly version: number;
  /** Whether any member is joining or leaving (writes may have pending replicas). */
  readonly moving: boolean;

  private constructor(
    private readonly sorted: readonly TopologyMember[],
    version: number,
  ) {
    // A token claimed by two members goes to the one whose phase comes first
    // (then the smaller id): a replacement 'joining' with a dead node's tokens
    // takes them in the target ring even while gossip still calls the dead
    // node 'normal'; in the read ring a 'normal' member beats a 'leaving' one.
    const entries = (phases: readonly MemberPhase[]) => {
      const owner = new Map<bigint, string>();
      for (const phase of phases) for (const m of sorted) if (m.phase === phase) for (const t of m.tokens) if (!owner.has(t)) owner.set(t, m.id);
      return [...owner].map(([token, node]) => ({ token, node }));
    };
    this.readRing = Ring.fromEntries(entries(['normal', 'leaving']));
    this.moving = sorted.some((m) => m.phase === 'joining' || m.phase === 'leaving');
    this.targetRing = this.moving ? Ring.fromEntries(entries(['joining', 'normal'])) : this.readRing;
    this.version = version;
  }

  /** Deterministic: the same members in any order give the same topology. */
  static of(members: readonly TopologyMember[]): Topology {
    const seen = new Set<string>();
    for (const m of members) {
      if (!(!seen.has(m.id))) throw new AssertionError(`member ${m.id} listed twice`);
      seen.add(m.id);
      if (!(PHASE_RANK[m.phase] !== undefined)) throw new AssertionError(`member ${m.id} has unknown phase ${String(m.phase)}`);
      const active = m.phase === 'joining' || m.phase === 'normal' || m.phase === 'leaving';
      if (!(!active || m.tokens.length > 0)) throw new AssertionError(`member ${m.id} is ${m.phase} without tokens`);
    }
    const sorted = sortById(members).map((m) => ({ id: m.id, phase: m.phase, tokens: canonicalTokens(m.tokens).sorted }));
    // Every node builds the same few topologies (at open, on each ring
    // change): an equal one built lately is shared, rings and their lookup
    // tables included (a Topology and its Rings never change once built).
    // Equal members have equal versions, so the hash is computed only for a new one.
    for (let i = 0; i < recentTopologies.length; i++) {
      const t = recentTopologies[i]!;
      if (!sameMembers(t.sorted, sorted)) continue;
      if (i > 0) recentTopologies.unshift(...recentTopologies.splice(i, 1)); // most recently used first
      return t;
    }
    const built = new Topology(sorted, versionOf(sorted));
    recentTopologies.unshift(built);
    if (recentTopologies.length > RECENT_TOPOLOGIES) recentTopologies.pop();
    return built;
  }

  /**
   * The version Topology.of(members) would have, without building its rings:
   * a caller that rebuilds the members often (membership, every background
   * tick) compares this first and builds only on a change.
   */
  static versionOf(members: readonly TopologyMember[]): number {
    return versionOf(sortById(members));
  }

  /** Every member 'normal': the topology of a cluster that is not changing. */
  static allNormal(members: readonly { id: string; tokens: readonly bigint[] }[]): Topology {
    return Topology.of(members.map((m) => ({ id: m.id, phase: 'normal', tokens: m.tokens })));
  }

  /** Home replicas for a read of `token` (first n distinct nodes of readRing). */
  readReplicas(token: bigint, n: number): NodeId[] {
    return this.readRing.preferenceList(token, n);
  }

  /**
   * Replicas for a write: readReplicas plus pending ones (a joining node
   * taking the range, the new owner of a leaving node's range), so writes
   * during a move reach both old and new owners.
   */
  writeReplicas(token: bigint, n: number): WriteReplicas {
    const natural = this.readRing.preferenceList(token, n);
    if (!this.moving) return { natural, pending: [], target: natural };
    const target = this.targetRing.tokenCount === 0 ? [] : this.targetRing.preferenceList(token, n);
    const pending = target.filter((node) => !natural.includes(node));
    return { natural, pending, target };
  }

  /** Members sorted by id, tokens ascending. */
  members(): readonly TopologyMember[] {
    return this.sorted;
  }

  phaseOf(id: string): MemberPhase | undefined {
    return this.sorted.find((m) => m.id === id)?.phase;
  }

  /** What the moves in progress must stream: ranges each pending node gains, with their current replicas as sources. */
  pendingTransfers(n: number): Transfer[] {
    if (!this.moving) return [];
    return transfersFor(this.readRing, this.targetRing, n);
  }

  /** This topology with one member's phase (and tokens, when given) changed, or the member added. */
  withMember(id: string, phase: MemberPhase, tokens?: readonly bigint[]): Topology {
    const old = this.sorted.find((m) => m.id === id);
    const next = { id, phase, tokens: tokens ?? old?.tokens ?? [] };
    return Topology.of([...this.sorted.filter((m) => m.id !== id), next]);
  }
}

const RECENT_TOPOLOGIES = 8;
const recentTopologies: Topology[] = [];

/**
 * Same ids and phases in the same order, with the same tokens in the same
 * order (a restarted member's state comes with new arrays of the same
 * tokens: comparing them is far cheaper than hashing the members again).
 */
export function sameMembers(a: readonly TopologyMember[], b: readonly TopologyMember[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.id !== y.id || x.phase !== y.phase || x.tokens.length !== y.tokens.length) return false;
    if (x.tokens !== y.tokens) for (let j = 0; j < x.tokens.length; j++) if (x.tokens[j] !== y.tokens[j]) return false;
  }
  return true;
}

const byId = (a: TopologyMember, b: TopologyMember): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const sortById = (members: readonly TopologyMember[]): TopologyMember[] => [...members].sort(byId);

/**
 * A member's tokens ascending and their text in the version hash, kept per
 * tokens array: members are rebuilt from the same arrays (configuration,
 * gossip state, which replaces an array rather than changing it) far more
 * often than the tokens change, and sorting and printing bigints dominated
 * the rebuild.
 */
const tokenCache = new WeakMap<readonly bigint[], { sorted: readonly bigint[]; text: string }>();
function canonicalTokens(tokens: readonly bigint[]): { sorted: readonly bigint[]; text: string } {
  let c = tokenCache.get(tokens);
  if (c === undefined) {
    const sorted = Object.freeze([...tokens].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    let text = '';
    for (const t of sorted) text += `${t.toString(16)},`;
    c = { sorted, text };
    tokenCache.set(tokens, c);
    tokenCache.set(sorted, c);
  }
  return c;
}

/** Two FNV-1a hashes over the canonical members (sorted by id), folded into a safe integer. */
function versionOf(sorted: readonly TopologyMember[]): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  const feed = (s: string): void => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193) >>> 0;
      b = Math.imul(b ^ c, 0x01000193 ^ 0x100) >>> 0;
    }
  };
  for (const m of sorted) {
    feed(m.id);
    feed(`|${PHASE_RANK[m.phase]}|`);
    feed(canonicalTokens(m.tokens).text);
    feed(';');
  }
  return (a & 0x1fffff) * 0x100000000 + b;
}
