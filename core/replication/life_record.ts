// What a node remembers of its own life across restarts, in the engine's
// meta keys (storage_keys.ts):
//
//   gossip-generation  decimal text: the gossip generation of the last open
//                      (the next open takes one above it)
//   last-alive         decimal text: wall-clock ms at which the node last
//                      recorded that it was running (rewritten periodically)
//   needs-rebuild      present (one byte) while the node must be rebuilt
//                      before it serves again (replica_rebuild.ts)
//
// Tombstone safety rests on last-alive: a node that opens more than the
// tombstone grace period after it was last alive (less the clock skew bound,
// since the other replicas purge by their own clocks) may have missed deletes
// whose tombstones are gone everywhere else, so it needs a rebuild. The
// record is a lower bound on when the node last ran, so the test errs on the
// side of rebuilding.
//
// A record that cannot be read (bit rot in its block): no generation (the
// gossiper refutes a newer one it hears of); for last-alive, the HLC lease
// ceiling less the lease length stands in (the node issued timestamps then,
// so it was alive); an unreadable rebuild flag counts as absent, and last-alive,
// which is not rewritten while a rebuild is needed, still tells.

import type { Engine } from '../storage/engine.ts';
import { CorruptionError } from '../storage/errors.ts';
import { metaKey } from './storage_keys.ts';

export const GENERATION_META = metaKey('gossip-generation');
export const LAST_ALIVE_META = metaKey('last-alive');
export const REBUILD_META = metaKey('needs-rebuild');

export interface LifeRecord {
  /** The last generation stored, 0 if none. */
  generation: number;
  /** null: never recorded (a fresh node) or unreadable. */
  lastAliveMs: number | null;
  rebuildFlagged: boolean;
}

export function encodeDecimal(n: number): Uint8Array {
  return new TextEncoder().encode(String(Math.floor(n)));
}

/** A non-negative safe integer written by encodeDecimal, or null. */
export function decodeDecimal(bytes: Uint8Array | undefined): number | null {
  if (bytes === undefined || bytes.length === 0 || bytes.length > 16) return null;
  let n = 0;
  for (const b of bytes) {
    if (b < 0x30 || b > 0x39) return null;
    n = n * 10 + (b - 0x30);
  }
  return Number.isSafeInteger(n) ? n : null;
}

function readMeta(engine: Engine, key: Uint8Array): { bytes: Uint8Array | undefined; corrupt: boolean } {
  try {
    return { bytes: engine.get(key), corrupt: false };
  } catch (err) {
    if (!(err instanceof CorruptionError)) throw err;
    return { bytes: undefined, corrupt: true };
  }
}

/** `aliveByLeaseMs`: a moment the HLC lease shows the node alive (its ceiling less the lease), 0 if none. */
export function readLifeRecord(engine: Engine, aliveByLeaseMs: number): LifeRecord {
  const generation = decodeDecimal(readMeta(engine, GENERATION_META).bytes) ?? 0;
  const alive = decodeDecimal(readMeta(engine, LAST_ALIVE_META).bytes);
  const lease = aliveByLeaseMs > 0 ? aliveByLeaseMs : null;
  return {
    generation,
    lastAliveMs: alive === null ? lease : lease === null ? alive : Math.max(alive, lease),
    rebuildFlagged: readMeta(engine, REBUILD_META).bytes !== undefined,
  };
}

/** Whether a node last alive at `lastAliveMs` may have missed deletes whose tombstones are purged by `nowMs`. */
export function absentTooLong(lastAliveMs: number | null, nowMs: number, graceMs: number, maxSkewMs: number): boolean {
  if (lastAliveMs === null) return false;
  return nowMs - lastAliveMs > Math.max(0, graceMs - maxSkewMs);
}

/** How often last-alive is rewritten by default: a tenth of the grace period, between 10 ms and 60 s. */
export function defaultLastAliveIntervalMs(graceMs: number): number {
  return Math.min(60_000, Math.max(10, Math.floor(graceMs / 10)));
}
