// What one node knows of the other members and whether it believes each up:
// their states (merged from gossip deltas), the phi-accrual detector fed by
// their heartbeats, and the members evicted after leaving or being removed.
//
// Liveness: a member's heartbeat advancing, as seen through gossip, is a
// heartbeat for the detector (phi_accrual.ts); so is a new generation, which
// the member wrote after its restart, later than anything known of the old
// one (a removal generation is not: a remover wrote it). A member is up once
// its heartbeat has advanced since this node learned of it (state learned
// second-hand may be a dead node's last words), while the detector does not
// suspect it, and while its status is not left or removed. Up and down are
// re-judged on every heartbeat and whenever the owner asks (each round, and
// at the next suspicion deadline), so isUp always agrees with the events
// sent.
//
// Eviction: left and removed members are forgotten evictAfterMs after this
// node first saw them so. The evicted generation is remembered, and gossip
// about the member at that generation or below is ignored, so peers that
// have not yet evicted it cannot bring it back; a higher generation can (the
// node restarted and joins again).

import { AssertionError, assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import { type MemberDelta, type MemberDigest, type MemberState, type MemberStatus, type NodeState, isTerminalStatus, mergeMember } from './member_state.ts';
import type { PhiAccrualDetector } from './phi_accrual.ts';

export type GossipEvent =
  | { readonly type: 'joined'; readonly nodeId: NodeId; readonly generation: number; readonly status: MemberStatus }
  /** A member's new generation (it restarted, or refuted a removal). */
  | { readonly type: 'restarted'; readonly nodeId: NodeId; readonly generation: number }
  | { readonly type: 'statusChanged'; readonly nodeId: NodeId; readonly from: MemberStatus; readonly to: MemberStatus }
  | { readonly type: 'tokensChanged'; readonly nodeId: NodeId; readonly tokens: readonly bigint[] }
  | { readonly type: 'up'; readonly nodeId: NodeId }
  | { readonly type: 'down'; readonly nodeId: NodeId }
  | { readonly type: 'evicted'; readonly nodeId: NodeId; readonly generation: number }
  /** This node moved to a new generation to refute gossip about itself: persist it. */
  | { readonly type: 'generationChanged'; readonly generation: number };

/** Why a delta was not applied. */
export type IgnoredDelta = 'stale' | 'gap' | 'incomplete' | 'evicted';

interface Member {
  state: MemberState;
  /** The heartbeat advanced (or a new generation came) since this node learned of the member. */
  advanced: boolean;
  up: boolean;
  /** When the detector will suspect it if no heartbeat comes first (it changes only with a heartbeat); Infinity before the first. */
  deadlineMs: number;
  /** Local time this node first saw the member left or removed; null while it is not. */
  terminalSinceMs: number | null;
}

export class MemberTable {
  private readonly members = new Map<NodeId, Member>();
  private readonly evicted = new Map<NodeId, number>();
  private changeCount = 0;
  private idsChangeCount = 0;

  constructor(
    private readonly self: NodeId,
    private readonly detector: PhiAccrualDetector,
    private readonly evictAfterMs: number,
    private readonly emit: (event: GossipEvent) => void,
  ) {
    if (!(Number.isFinite(evictAfterMs) && evictAfterMs >= 0)) throw new AssertionError(`evictAfterMs ${evictAfterMs}`);
  }

  /**
   * Counts changes to what the members say beyond heartbeats and load: a
   * member joined, restarted, was evicted, or its status, tokens or
   * application states changed. Bumped before the event is emitted, so a
   * listener that rebuilds from the table can skip the rebuild while it is
   * unchanged.
   */
  get changes(): number {
    return this.changeCount;
  }

  get size(): number {
    return this.members.size;
  }

  state(id: NodeId): MemberState | undefined {
    return this.members.get(id)?.state;
  }

  isUp(id: NodeId): boolean {
    return this.members.get(id)?.up ?? false;
  }

  /** The member's status, or 'down' while a member that should be serving is not up; null if unknown. */
  stateOf(id: NodeId): NodeState | null {
    const m = this.members.get(id);
    if (m === undefined) return null;
    if (!m.up && !isTerminalStatus(m.state.status)) return 'down';
    return m.state.status;
  }

  /** Bumped whenever a member is added or evicted: ids() changed. */
  get idsChanges(): number {
    return this.idsChangeCount;
  }

  /** Known members in the order they were learned. */
  ids(): IterableIterator<NodeId> {
    return this.members.keys();
  }

  states(): MemberState[] {
    return [...this.members.values()].map((m) => m.state);
  }

  /** Appends a digest per member to `out`. */
  digestsInto(out: MemberDigest[]): void {
    for (const m of this.members.values()) out.push(m.state.digest());
  }

  isEvicted(id: NodeId, generation: number): boolean {
    const g = this.evicted.get(id);
    return g !== undefined && generation <= g;
  }

  /** Merges a delta about another node; returns why it was ignored, or null. */
  apply(delta: MemberDelta, now: number): IgnoredDelta | null {
    const id = delta.nodeId;
    assert(id !== this.self, 'a node merges gossip about itself elsewhere');
    if (this.isEvicted(id, delta.generation)) return 'evicted';
    const m = this.members.get(id);
    // Read before merging: a merge within a generation changes the state in place.
    const statusBefore = m?.state.status;
    const r = mergeMember(m?.state, delta);
    if (r.kind === 'ignored') return r.reason;
    if (r.kind === 'unchanged') return null;
    if (r.kind === 'created' || r.kind === 'replaced' || r.statusChanged || r.tokensChanged || r.appChanged) this.changeCount++;
    if (m === undefined) {
      if (!(r.kind === 'created')) throw new AssertionError(`merge of unknown ${id} gave ${r.kind}`);
      this.evicted.delete(id);
      this.idsChangeCount++;
      this.members.set(id, { state: r.state, advanced: false, up: false, deadlineMs: Number.POSITIVE_INFINITY, terminalSinceMs: isTerminalStatus(r.state.status) ? now : null });
      this.emit({ type: 'joined', nodeId: id, generation: r.state.generation, status: r.state.status });
      return null;
    }
    // A heartbeat after the deadline may leave the member held by flap damping: judge it then.
    const late = now >= m.deadlineMs;
    if (r.kind === 'replaced') {
      m.state = r.state;
      this.detector.remove(id);
      m.deadlineMs = Number.POSITIVE_INFINITY;
      m.advanced = r.state.status !== 'removed';
      if (m.advanced) {
        this.heartbeat(id, m, now);
        this.emit({ type: 'restarted', nodeId: id, generation: r.state.generation });
      }
    } else if (r.heartbeatAdvanced) {
      m.advanced = true;
      this.heartbeat(id, m, now);
    }
    if (r.statusChanged) {
      const to = m.state.status;
      if (!isTerminalStatus(to)) m.terminalSinceMs = null;
      else if (m.terminalSinceMs === null) m.terminalSinceMs = now;
      this.emit({ type: 'statusChanged', nodeId: id, from: statusBefore!, to });
    }
    if (r.tokensChanged) this.emit({ type: 'tokensChanged', nodeId: id, tokens: m.state.tokens });
    // A heartbeat cannot take a member that is up down (the deadline timer and the rounds do that), so the
    // common case, a heartbeat of a live member, skips judging: with a thousand members it is most of the work.
    if (!m.up || r.statusChanged || late || r.kind === 'replaced') this.judge(id, m, now);
    return null;
  }

  private heartbeat(id: NodeId, m: Member, now: number): void {
    this.detector.heartbeat(id, now);
    m.deadlineMs = this.detector.suspicionDeadlineMs(id)!;
  }

  /** Re-judges every member, evicts the expired ones, and sorts the rest into believed up or not. */
  sweep(now: number): { live: NodeId[]; unreachable: NodeId[] } {
    const live: NodeId[] = [];
    const unreachable: NodeId[] = [];
    for (const [id, m] of this.members) {
      if (!this.clearlyStillUp(id, m, now)) this.judge(id, m, now);
      if (m.terminalSinceMs !== null && now - m.terminalSinceMs >= this.evictAfterMs) {
        this.evict(id, m);
        continue;
      }
      (m.up ? live : unreachable).push(id);
    }
    return { live, unreachable };
  }

  /** Re-judges every member. */
  judgeAll(now: number): void {
    for (const [id, m] of this.members) this.judge(id, m, now);
  }

  /** The earliest moment a member believed up becomes suspect if no heartbeat comes first; Infinity if none. */
  nextSuspicionMs(): number {
    let first = Number.POSITIVE_INFINITY;
    for (const m of this.members.values()) if (m.up && m.deadlineMs < first) first = m.deadlineMs;
    return first;
  }

  /**
   * Up, and well before its suspicion deadline: no need to compute φ (a
   * sweep over a thousand members each round is mostly this). Anything
   * closer to the deadline is judged on φ itself.
   */
  private clearlyStillUp(id: NodeId, m: Member, now: number): boolean {
    return m.up && now < m.deadlineMs - 1 && !this.detector.isHeld(id, now);
  }

  private judge(id: NodeId, m: Member, now: number): void {
    const up = m.advanced && !isTerminalStatus(m.state.status) && this.detector.isAvailable(id, now);
    if (up === m.up) return;
    m.up = up;
    this.emit({ type: up ? 'up' : 'down', nodeId: id });
  }

  private evict(id: NodeId, m: Member): void {
    if (!(!m.up)) throw new AssertionError(`evicting ${id} while it is up`);
    this.members.delete(id);
    this.idsChangeCount++;
    this.detector.remove(id);
    this.evicted.set(id, m.state.generation);
    this.changeCount++;
    this.emit({ type: 'evicted', nodeId: id, generation: m.state.generation });
  }
}
