// The Gossiper's options (with the defaults chosen in simulation) and its
// counters.

import type { NodeId } from '../../io/network.ts';
import type { MemberStatus } from './member_state.ts';
import type { PhiAccrualOptions } from './phi_accrual.ts';

export interface GossiperOptions {
  /** This node's incarnation: the caller bumps it on every restart and persists it (see 'generationChanged'). */
  generation: number;
  /** Nodes every node gossips with now and then; a new node learns the cluster from them. */
  seeds: readonly NodeId[];
  /** Period of a round (and of this node's heartbeat). Default 1000. */
  intervalMs?: number;
  /**
   * Live members sent a SYN per round. Default 2: news of a heartbeat then
   * reaches a node regularly enough that, at 100 nodes, the last peer
   * suspects a crash after ~8 s; with one SYN a round and a 3 s acceptable
   * pause (Cassandra's rhythm) it takes ~13 s (gossip_cluster.test.ts).
   */
  fanout?: number;
  /** φ at which a member is suspected. Default 8. */
  phiThreshold?: number;
  /**
   * The rest of the detector's options. Defaults here: firstHeartbeatEstimateMs
   * = intervalMs; acceptableHeartbeatPauseMs = 2 intervals (a member's stall
   * of up to 2 s at 1 s rounds is no suspicion; the gossip lag itself is in
   * σ); maxSampleSize = 50 (50 s of rhythm at 1 s rounds, σ known within
   * ~10%; every node keeps a window per member, a million windows in a
   * simulated thousand-node cluster).
   */
  detector?: Omit<PhiAccrualOptions, 'threshold'>;
  /** Gossip from another cluster is ignored. Default 'ringkv'. */
  clusterName?: string;
  /** Initial fields of this node's state. Defaults: 'joining', no tokens, load 0, no application states. */
  status?: MemberStatus;
  tokens?: readonly bigint[];
  load?: number;
  appStates?: ReadonlyMap<string, string>;
  /** How long a left or removed member stays known. Default 3 days (Cassandra's quarantine). */
  evictAfterMs?: number;
  /** Sends a frame; given when a multiplexer owns env.net. Default env.net.send, with env.net.onFrame registered at start. */
  send?: (to: NodeId, frame: Uint8Array) => void;
}

export interface GossipStats {
  rounds: number;
  sent: { syn: number; ack: number; ack2: number };
  received: { syn: number; ack: number; ack2: number };
  bytesSent: number;
  /** Frames or payloads that failed to decode or validate (dropped). */
  rejectedFrames: number;
  /** Well-formed messages of another cluster (dropped). */
  foreignCluster: number;
  /** Messages that arrived while stopped (dropped). */
  whileStopped: number;
  /** Deltas not applied: older generation, gap in versions, not a whole state, or an evicted member. */
  ignoredDeltas: { stale: number; gap: number; incomplete: number; evicted: number };
  /** Times this node moved to a new generation to refute gossip about itself. */
  refutations: number;
}

/** Cassandra's quarantine of a member that left. */
export const DEFAULT_EVICT_AFTER_MS = 3 * 24 * 3600 * 1000;
