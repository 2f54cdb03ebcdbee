// A store node's configuration (StoreNode, node.ts): what an operator or the
// simulator sets, its defaults, and the checks run before a node opens.

import { assert } from '../io/assert.ts';
import type { Env } from '../io/env.ts';
import { type MemberPhase, Topology } from './ring/topology.ts';
import type { RangeStreamOptions } from './ring_change/range_streamer.ts';
import type { EngineOptions } from './storage/engine.ts';
import type { SiblingLimits } from './versioning/dotted_version_vector.ts';
import { nodeIdProblem } from './versioning/hlc.ts';
import type { AntiEntropyOptions } from './antientropy/anti_entropy_options.ts';
import type { KeyspaceConfig } from './replication/keyspace.ts';

/** A node of the cluster and its tokens; every node builds the same ring from the same list. */
export interface ClusterMember {
  id: string;
  tokens: bigint[];
  /** Default 'normal'. */
  phase?: MemberPhase;
}

export interface NodeConfig {
  nodeId: string;
  members: ClusterMember[];
  keyspaces: KeyspaceConfig[];
  /** A coordinator answers by then. */
  requestTimeoutMs: number;
  /** Hints older than this are dropped (and counted). */
  hintWindowMs: number;
  /** Bounded hint storage; over it, writes needing a hint there are refused. */
  maxHintsPerTarget: number;
  /** Hint replay pace. */
  hintReplayBytesPerSec: number;
  /** Storage engine options; syncWrites: false would acknowledge writes a crash can lose. */
  engine?: Partial<EngineOptions>;
  maxKeyBytes: number;
  maxValueBytes: number;
  /** How often down peers are pinged and hints replayed; default 200 ms. */
  probeIntervalMs?: number;
  /** Consecutive unanswered requests after which a peer is considered down; default 2. */
  downAfterTimeouts?: number;
  /** Length of the persisted HLC lease; default 200 ms (must stay below maxSkewMs). */
  hlcLeaseMs?: number;
  /** How far ahead of the local clock a write's timestamp may be; default 500 ms. */
  maxSkewMs?: number;
  /** Siblings per key at which a write is marked, and above which a client write is refused. */
  siblingLimits?: SiblingLimits;
  /** Hints in flight per target during replay; default 4. */
  hintReplayInflight?: number;
  /** Range streaming pace and page size (ring_change/range_streamer.ts). */
  rangeStream?: Partial<RangeStreamOptions>;
  /** Merkle anti-entropy settings (antientropy/anti_entropy_options.ts). */
  antiEntropy?: Partial<AntiEntropyOptions>;
  /** Nodes gossip starts from; default every member. */
  seeds?: string[];
  /** Gossip round (and heartbeat) period; default 1000 ms. */
  gossipIntervalMs?: number;
  /**
   * Where the other nodes reach this one (host:port in the real runtime),
   * gossiped for them to connect to; the core only passes it on.
   */
  peerAddress?: string;
  /** φ at which gossip suspects a member; default 8. */
  phiThreshold?: number;
  /** How often the node records that it is alive (tombstone safety); default a tenth of the grace period, at most 60 s. */
  lastAliveIntervalMs?: number;
  /** A node that needs a rebuild starts it at open (default false: an operator calls rebuild()). */
  autoRebuild?: boolean;
  /**
   * Refuse to serve after an absence longer than the tombstone grace period
   * until rebuilt (default true). false brings such a node back as it was,
   * deleted values and all: only for showing what the refusal prevents.
   */
  refuseAfterGrace?: boolean;
  /** Compact the whole engine this often (purging tombstones past their grace); default never (compaction runs as writes need it). */
  fullCompactionIntervalMs?: number;
  /**
   * Drop the records of ranges the node no longer replicates once the ring
   * has settled (ring_change/range_cleanup.ts; default true). false keeps
   * them, as Cassandra does until `nodetool cleanup`: only for showing the
   * deleted values such leftovers bring back when a range returns.
   */
  rangeCleanup?: boolean;
  /**
   * Join the running cluster (ring_change/ring_phase_driver.ts): learn the
   * ring from the seeds, pick tokens by balanced allocation, announce
   * 'joining', pull the ranges, announce 'normal'. The node need not be
   * among `members`. Ignored once the node has announced a phase (a restart
   * resumes from its meta keys).
   */
  join?: boolean;
  /** With join: take over the tokens of this dead member instead of picking new ones (replace). */
  replaces?: string;
  /** Tokens a joining node picks; default as many as the first configured member has (8 if none). */
  vnodes?: number;
}

/** A configuration with the defaults the simulator and tests use. */
export function defaultNodeConfig(nodeId: string, members: ClusterMember[], overrides: Partial<NodeConfig> = {}): NodeConfig {
  return {
    nodeId,
    members,
    keyspaces: [],
    requestTimeoutMs: 1000,
    hintWindowMs: 3 * 3600 * 1000,
    maxHintsPerTarget: 100_000,
    hintReplayBytesPerSec: 1024 * 1024,
    maxKeyBytes: 1024,
    maxValueBytes: 1024 * 1024,
    ...overrides,
  };
}

/** Meta key of the persisted HLC lease ceiling (replication/hlc_lease.ts). */
export const HLC_META = 'hlc-lease';
export const DEFAULT_GRACE_MS = 10 * 24 * 3600 * 1000;
/** Present once this node's replica records may lack acknowledged writes (replica_completeness.ts). */
export const INCOMPLETE_META = 'replica-incomplete';
export const DEFAULT_SIBLING_LIMITS: SiblingLimits = { warn: 25, max: 100 };

/** Validates `config` against `env`; returns the configured members' topology. Throws a clear Error on bad input. */
export function checkConfig(env: Env, config: NodeConfig): Topology {
  assert(config.nodeId === env.nodeId, `config is for ${config.nodeId}, env for ${env.nodeId}`);
  const problem = nodeIdProblem(config.nodeId);
  if (problem !== null) throw new Error(`node id: ${problem}`);
  for (const [name, v] of [
    ['requestTimeoutMs', config.requestTimeoutMs],
    ['hintWindowMs', config.hintWindowMs],
    ['maxHintsPerTarget', config.maxHintsPerTarget],
    ['hintReplayBytesPerSec', config.hintReplayBytesPerSec],
    ['maxKeyBytes', config.maxKeyBytes],
  ] as const) {
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new Error(`${name} must be > 0, got ${String(v)}`);
  }
  if (!(Number.isInteger(config.maxValueBytes) && config.maxValueBytes >= 0)) throw new Error(`maxValueBytes must be >= 0`);
  const topology = Topology.of(config.members.map((m) => ({ id: m.id, phase: m.phase ?? 'normal', tokens: m.tokens })));
  if (topology.phaseOf(config.nodeId) === undefined && config.join !== true) throw new Error(`node ${config.nodeId} is not among the members`);
  if (config.replaces !== undefined && config.join !== true) throw new Error('replaces is set without join');
  return topology;
}
