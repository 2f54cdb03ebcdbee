// The body of GET /admin/status: who this node is, how it sees each member
// (the replication layer's up/down view, the peer link, heartbeat phi), ring
// ownership per keyspace replication factor, hints waiting, and the storage
// engine's compaction state.

import type { StoreNode } from '../core/node.ts';
import type { RealNodeConfig } from './node_config.ts';
import { engineActivity, engineStats } from './store_node_probe.ts';
import type { TcpNetwork } from './tcp_network.ts';

export interface StatusSources {
  config: RealNodeConfig;
  node: StoreNode;
  network: TcpNetwork;
  httpAddress: string;
  startedAtMs: number;
  nowMs: () => number;
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

export function nodeStatus(s: StatusSources): Record<string, unknown> {
  const { node, config } = s;
  const ring = node.ring;
  const peers = new Map(s.network.peerStatus().map((p) => [p.id, p]));
  const pending = node.pendingHints();
  const factors = [...new Set(config.node.keyspaces.map((k) => k.replicationFactor))].sort((a, b) => a - b);
  const ownership = new Map(factors.map((n) => [n, ring.ownership(n)]));
  const gossip = new Map(node.memberStates().map((v) => [v.id, v]));
  // The configured members, then any other gossip has told of (a node that joined later).
  const configured = new Set(config.members.map((m) => m.id));
  const listed = [
    ...config.members.map((m) => ({ id: m.id, address: `${m.host}:${m.port}`, tokens: m.tokens.length })),
    ...[...gossip.values()].filter((g) => !configured.has(g.id)).map((g) => ({ id: g.id, address: peers.get(g.id)?.address ?? g.address ?? '', tokens: g.tokens })),
  ];
  const members = listed.map((m) => {
    const self = m.id === config.nodeId;
    const g = gossip.get(m.id);
    const peer = peers.get(m.id);
    const up = self || node.believesUp(m.id);
    return {
      id: m.id,
      address: m.address,
      self,
      state: self ? 'up' : !up ? 'down' : peer?.suspected ? 'suspect' : 'up',
      link: self ? null : (peer?.link ?? null),
      phi: peer?.phi === null || peer === undefined ? null : round(peer.phi),
      gossip: g === undefined ? null : { state: g.state, generation: g.generation, heartbeat: g.heartbeat, phi: round(g.phi), needsRebuild: g.needsRebuild },
      queuedFrames: peer?.queuedFrames ?? 0,
      framesDropped: peer?.framesDropped ?? 0,
      tokens: m.tokens,
      ownership: Object.fromEntries(factors.map((n) => [`rf${n}`, { primary: round(ownership.get(n)!.get(m.id)?.primary ?? 0), replica: round(ownership.get(n)!.get(m.id)?.replica ?? 0) }])),
      hintsPending: pending.get(m.id) ?? 0,
    };
  });
  const stats = engineStats(node);
  return {
    node: config.nodeId,
    cluster: config.cluster,
    http: s.httpAddress,
    peer: `${s.network.address.host}:${s.network.address.port}`,
    uptimeSeconds: Math.round((s.nowMs() - s.startedAtMs) / 1000),
    generation: node.generation,
    needsRebuild: node.needsRebuild,
    rebuild: node.rebuildProgress(),
    rangeCleanup: node.rangeCleanupProgress(),
    durability: config.durability,
    members,
    ring: { tokens: ring.tokenCount, spread: Object.fromEntries(factors.map((n) => [`rf${n}`, ring.spread(n)])) },
    keyspaces: config.node.keyspaces,
    hints: { total: [...pending.values()].reduce((a, b) => a + b, 0), byTarget: Object.fromEntries(pending) },
    storage:
      stats === null
        ? null
        : {
            tablesPerLevel: stats.tablesPerLevel,
            compactionBacklogBytes: stats.compactionDebtBytes,
            compactionsRun: stats.compactionsRun,
            diskBytes: stats.diskBytes,
            writeAmplification: round(stats.writeAmplification, 2),
            walSyncs: stats.walSyncs,
            writeSlowdowns: stats.writeSlowdowns,
            writeStops: stats.writeStops,
            blockCache: stats.blockCache,
            bloom: stats.bloom,
            backgroundErrors: stats.backgroundErrors,
            corruptTables: stats.corruptTables,
            activity: engineActivity(node),
            recovery: stats.recovery,
          },
    events: Object.fromEntries(node.marks()),
  };
}
