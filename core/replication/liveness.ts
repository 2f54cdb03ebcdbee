// Which peers a coordinator believes it can reach, and the two views that
// decide it.
//
// ReachabilityView, the request layer's: a peer is down after
// `downAfterTimeouts` consecutive requests to it went unanswered, and up
// again as soon as any frame arrives from it (down peers are probed
// periodically, so a healed partition is noticed without client traffic). A
// request sent before the peer was last seen coming back up says nothing
// about the link since: its timeout does not count. Without that rule the
// requests a partition swallowed keep timing out for up to a request timeout
// after the heal and mark the peer down again.
//
// MemberLiveness, what the coordinator, hint replay and repair act on: a peer
// is down if either view says so: the reachability view, or membership
// (gossip's phi-accrual detector has judged it down, or the member refuses
// to serve while it is rebuilt). When gossip sees a member freshly up, the
// reachability view forgets its misses too, so the peer is retried at once.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';

export interface LivenessView {
  isUp(nodeId: NodeId): boolean;
}

/** What the request layer tells a liveness view about each peer. */
export interface LivenessSignals {
  /** A request to the peer, sent at `sentAtMs` (monotonic), went unanswered. */
  timedOut(nodeId: NodeId, sentAtMs: number): void;
  /** Any frame arrived from the peer. */
  heardFrom(nodeId: NodeId): void;
}

export class ReachabilityView implements LivenessView, LivenessSignals {
  private readonly misses = new Map<NodeId, number>();
  private readonly down = new Set<NodeId>();
  /** When each peer last came back up (monotonic ms). */
  private readonly upSince = new Map<NodeId, number>();

  constructor(
    private readonly self: NodeId,
    private readonly downAfterTimeouts: number,
    /** Told when a peer changes state (for coverage marks). */
    private readonly onChange: (nodeId: NodeId, up: boolean) => void = () => {},
    /** The monotonic clock the request layer stamps its sends with. */
    private readonly nowMs: () => number = () => 0,
  ) {
    assert(Number.isInteger(downAfterTimeouts) && downAfterTimeouts >= 1, `downAfterTimeouts ${downAfterTimeouts}`);
  }

  isUp(nodeId: NodeId): boolean {
    return nodeId === this.self || !this.down.has(nodeId);
  }

  /** A request to the peer went unanswered. */
  timedOut(nodeId: NodeId, sentAtMs: number): void {
    if (nodeId === this.self) return;
    const since = this.upSince.get(nodeId);
    if (since !== undefined && sentAtMs < since) return;
    const n = (this.misses.get(nodeId) ?? 0) + 1;
    this.misses.set(nodeId, n);
    if (n >= this.downAfterTimeouts && !this.down.has(nodeId)) {
      this.down.add(nodeId);
      this.onChange(nodeId, false);
    }
  }

  /** Any frame from the peer. */
  heardFrom(nodeId: NodeId): void {
    this.misses.delete(nodeId);
    if (this.down.delete(nodeId)) {
      this.upSince.set(nodeId, this.nowMs());
      this.onChange(nodeId, true);
    }
  }

  /** Membership saw the peer come (back) up: forget its misses, and the timeouts of requests sent before now. */
  cameUp(nodeId: NodeId): void {
    if (nodeId === this.self) return;
    this.misses.delete(nodeId);
    this.upSince.set(nodeId, this.nowMs());
    if (this.down.delete(nodeId)) this.onChange(nodeId, true);
  }

  /** Peers currently believed down, sorted. */
  downNodes(): NodeId[] {
    return [...this.down].sort();
  }
}

/** What membership says about a peer. */
export interface MembershipOpinion {
  /** Gossip judged the member down (it had been up), or it refuses to serve until rebuilt. */
  excludes(nodeId: NodeId): boolean;
}

export class MemberLiveness implements LivenessView {
  constructor(
    private readonly self: NodeId,
    private readonly reachability: LivenessView,
    private readonly membership: MembershipOpinion,
  ) {}

  isUp(nodeId: NodeId): boolean {
    if (nodeId === this.self) return true;
    return this.reachability.isUp(nodeId) && !this.membership.excludes(nodeId);
  }
}
