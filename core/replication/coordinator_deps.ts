// What the coordinating paths (coordinator.ts, strong.ts, scan_coordinator.ts)
// share: the node's view of the cluster and its local stores, and the shape
// of a write on its way through them.

import type { Clock } from '../../io/clock.ts';
import type { Env } from '../../io/env.ts';
import type { Topology } from '../ring/topology.ts';
import type { SiblingLimits } from '../versioning/dotted_version_vector.ts';
import type { Consistency } from './consistency.ts';
import type { HlcLease } from './hlc_lease.ts';
import type { KeyspaceConfig, KeyspaceRegistry } from './keyspace.ts';
import type { LivenessView } from './liveness.ts';
import type { PeerRpc } from './peer_rpc.ts';
import type { ReplicaStore } from './replica_store.ts';

export interface CoordinatorLimits {
  requestTimeoutMs: number;
  maxKeyBytes: number;
  maxValueBytes: number;
  siblingLimits: SiblingLimits;
}

export interface CoordinatorDeps {
  readonly env: Env;
  /** The current placement, read per request: membership changes replace it (topology.ts). */
  topology(): Topology;
  readonly keyspaces: KeyspaceRegistry;
  readonly rpc: PeerRpc;
  readonly liveness: LivenessView;
  readonly lease: HlcLease;
  readonly replicas: ReplicaStore;
  readonly limits: CoordinatorLimits;
  mark(what: string): void;
}

/** The time a request has left, on the monotonic clock. */
export class Deadline {
  private readonly at: number;

  constructor(
    private readonly clock: Clock,
    budgetMs: number,
  ) {
    this.at = clock.monotonicMs() + budgetMs;
  }

  remainingMs(): number {
    return Math.max(0, this.at - this.clock.monotonicMs());
  }
}

/** A validated put or delete. */
export interface WriteIntent {
  readonly ks: KeyspaceConfig;
  readonly key: Uint8Array;
  /** null: a delete. */
  readonly value: Uint8Array | null;
  /** 0: no expiry. */
  readonly ttlMs: number;
  readonly context: string | null;
  readonly consistency: Consistency | undefined;
  readonly deadline: Deadline;
  /** Relayed by another node: coordinate here or fail, never relay again. */
  readonly forwarded: boolean;
}
