// Recovery of a store node's state at open (StoreNode.open, node.ts): the
// storage engine, then the facts kept in its meta keys that decide how the
// node comes back: the HLC lease ceiling (timestamps stay above those issued
// before a crash), whether its replica records may lack acknowledged writes
// (replica_completeness.ts), its generation and whether it was away longer
// than the tombstone grace period (life_record.ts), and its own ring phase
// (ring_change/own_ring_record.ts). What must be durable before the node
// serves anything is written here, before the callback.

import type { Env } from '../io/env.ts';
import type { Topology } from './ring/topology.ts';
import { OWN_RING_META, type OwnRingRecord, decodeOwnRing } from './ring_change/own_ring_record.ts';
import { Engine, type EngineOptions } from './storage/engine.ts';
import { CorruptionError } from './storage/errors.ts';
import { DEFAULT_MAX_SKEW_MS } from './versioning/hlc.ts';
import { DEFAULT_HLC_LEASE_MS, decodeCeiling } from './replication/hlc_lease.ts';
import { GENERATION_META, REBUILD_META, absentTooLong, encodeDecimal, readLifeRecord } from './replication/life_record.ts';
import { completenessAtOpen, lossAtOpen } from './replication/replica_completeness.ts';
import { LAYOUT_OVERHEAD_BYTES, metaKey } from './replication/storage_keys.ts';
import { DEFAULT_GRACE_MS, HLC_META, INCOMPLETE_META, type NodeConfig, checkConfig } from './node_config.ts';

/** What a node is built from once its disk is recovered. */
export interface RecoveredNodeState {
  topology: Topology;
  engine: Engine;
  /** The HLC lease ceiling persisted before the crash (0 if none). */
  ceilingMs: number;
  /** Whether acknowledged writes may be missing (flagged durably by now). */
  incomplete: boolean;
  life: { generation: number; needsRebuild: boolean; ownRing: OwnRingRecord | null };
}

/** Checks the config, opens (recovers) the engine and reads the node's meta keys; on error the engine is closed. */
export function recoverNodeState(env: Env, config: NodeConfig, cb: (err: Error | null, state?: RecoveredNodeState) => void): void {
  let topology: Topology;
  try {
    topology = checkConfig(env, config);
  } catch (err) {
    return cb(err as Error);
  }
  const engineOptions: Partial<EngineOptions> = {
    ...config.engine,
    maxKeyBytes: config.maxKeyBytes + LAYOUT_OVERHEAD_BYTES,
    // A siblings-mode record holds several values, and a hint record one more header.
    maxValueBytes: Math.max(config.engine?.maxValueBytes ?? 0, config.maxValueBytes * 8 + 64 * 1024),
  };
  Engine.open(env, engineOptions, (err, engine) => {
    if (err !== null) return cb(err);
    let ceiling = 0;
    try {
      ceiling = decodeCeiling(engine!.get(metaKey(HLC_META)));
    } catch (readErr) {
      if (!(readErr instanceof CorruptionError)) throw readErr;
    }
    const stats = engine!.stats();
    const completeness = completenessAtOpen(
      () => engine!.get(metaKey(INCOMPLETE_META)) !== undefined,
      lossAtOpen(stats.recovery, env.disk.list(), stats.quarantinedTables),
    );
    const incomplete = completeness.incomplete;
    const record = readLifeRecord(engine!, ceiling - (config.hlcLeaseMs ?? DEFAULT_HLC_LEASE_MS));
    const graceMs = config.engine?.tombstoneGraceMs ?? DEFAULT_GRACE_MS;
    const tooLong = config.refuseAfterGrace !== false && absentTooLong(record.lastAliveMs, env.clock.wallMs(), graceMs, config.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);
    let ownRing: OwnRingRecord | null;
    try {
      ownRing = decodeOwnRing(engine!.get(metaKey(OWN_RING_META)));
    } catch (readErr) {
      if (!(readErr instanceof CorruptionError)) throw readErr;
      ownRing = null;
    }
    const life = { generation: record.generation + 1, needsRebuild: record.rebuildFlagged || tooLong, ownRing };
    const build = (): void => cb(null, { topology, engine: engine!, ceilingMs: ceiling, incomplete, life });
    // Durable before anything is served: the generation (gossip must never reuse one), the rebuild flag,
    // and the incompleteness flag (recovery has already removed the damaged log).
    const writes: [Uint8Array, Uint8Array][] = [[GENERATION_META, encodeDecimal(life.generation)]];
    if (life.needsRebuild && !record.rebuildFlagged) writes.push([REBUILD_META, Uint8Array.of(1)]);
    if (completeness.writeFlag) writes.push([metaKey(INCOMPLETE_META), Uint8Array.of(1)]);
    const next = (i: number): void => {
      if (i === writes.length) return build();
      engine!.put(writes[i]![0], writes[i]![1], undefined, (putErr) => {
        if (putErr !== null) return engine!.close(() => cb(putErr));
        next(i + 1);
      });
    };
    next(0);
  });
}
