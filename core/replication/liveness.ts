// Which peers a coordinator believes it can reach. A simple reachability
// view: a peer is down after `downAfterTimeouts` consecutive requests to it
// went unanswered, and up again as soon as any frame arrives from it; down
// peers are probed periodically (the node sends the pings) so a healed
// partition is noticed without client traffic. The phi-accrual detector of
// the membership layer can replace it behind LivenessView.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';

export interface LivenessView {
  isUp(nodeId: NodeId): boolean;
}

/** What the request layer tells a liveness view about each peer. */
export interface LivenessSignals {
  /** A request to the peer went unanswered. */
  timedOut(nodeId: NodeId): void;
  /** Any frame arrived from the peer. */
  heardFrom(nodeId: NodeId): void;
}

export class ReachabilityView implements LivenessView, LivenessSignals {
  private readonly misses = new Map<NodeId, number>();
  private readonly down = new Set<NodeId>();

  constructor(
    private readonly self: NodeId,
    private readonly downAfterTimeouts: number,
    /** Told when a peer changes state (for coverage marks). */
    private readonly onChange: (nodeId: NodeId, up: boolean) => void = () => {},
  ) {
    assert(Number.isInteger(downAfterTimeouts) && downAfterTimeouts >= 1, `downAfterTimeouts ${downAfterTimeouts}`);
  }

  isUp(nodeId: NodeId): boolean {
    return nodeId === this.self || !this.down.has(nodeId);
  }

  /** A request to the peer went unanswered. */
  timedOut(nodeId: NodeId): void {
    if (nodeId === this.self) return;
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
    if (this.down.delete(nodeId)) this.onChange(nodeId, true);
  }

  /** Peers currently believed down, sorted. */
  downNodes(): NodeId[] {
    return [...this.down].sort();
  }
}
