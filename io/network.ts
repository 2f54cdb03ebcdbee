// The network moves opaque, already-encoded frames between nodes. Delivery is
// unreliable by contract: a frame may be dropped, delayed, duplicated or
// reordered, and the protocols in core/ must be correct under all of it.

export type NodeId = string;

export interface Network {
  /** Queues a frame for `to`; never throws for an unreachable peer (the frame is just lost). */
  send(to: NodeId, frame: Uint8Array): void;
  /** Registers the one handler for frames arriving at this node. */
  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void;
}
