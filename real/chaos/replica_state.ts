// The final state of a real cluster for the simulator's checkers
// (sim/checkers/final_state.ts): every node's replica records, read through
// `GET /admin/replicas` (real/replica_dump.ts), laid out per key over the
// key's home replicas. The ring is rebuilt the way every node builds it from
// its config: each member's tokens derived from its id and vnode count.

import type { FinalState, KeyReplicas, ReplicaHolding } from '../../sim/checkers/final_state.ts';
import { valueBytes, valueText } from '../../sim/workload_value.ts';
import { keyToken } from '../../core/ring/key_hash.ts';
import { Ring } from '../../core/ring/ring.ts';
import type { ReplicaRecord } from '../../core/node.ts';
import type { ConflictMode } from '../../core/versioning/versioned_value.ts';
import { derivedTokens } from '../node_config.ts';
import { decodeReplicaDump } from '../replica_dump.ts';

export function chaosRing(ids: readonly string[], vnodes: number): Ring {
  let ring = Ring.EMPTY;
  for (const id of ids) ring = ring.withNode(id, derivedTokens(id, vnodes));
  return ring;
}

/** One node's records, or why they could not be read. */
export async function fetchReplicaRecords(url: string, apiToken: string, timeoutMs: number): Promise<ReplicaRecord[] | string> {
  try {
    const res = await fetch(`${url}/admin/replicas`, { headers: { authorization: `Bearer ${apiToken}` }, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (res.status !== 200) return `HTTP ${res.status}: ${text.slice(0, 200)}`;
    return decodeReplicaDump(text).records;
  } catch (err) {
    return String(err);
  }
}

export interface ReplicaStateOptions {
  ring: Ring;
  replicationFactor: number;
  /** The conflict mode of every keyspace involved. */
  conflictMode: ConflictMode;
  keys: ReadonlyArray<{ keyspace: string; key: string }>;
  /** Every node's records, or why they could not be read. */
  dumps: ReadonlyMap<string, ReplicaRecord[] | string>;
}

/**
 * The FinalState over `keys` and every key a replica holds. A record held by
 * a node that is no home replica of its key is reported in `misplaced`
 * (hints live apart from replica records, so none should exist).
 */
export function replicaState(o: ReplicaStateOptions): { state: FinalState; misplaced: string[] } {
  const held = new Map<string, Map<string, ReplicaRecord>>();
  const order: Array<{ keyspace: string; key: string }> = [];
  const note = (keyspace: string, key: string): Map<string, ReplicaRecord> => {
    const k = `${keyspace}/${key}`;
    let m = held.get(k);
    if (m === undefined) {
      held.set(k, (m = new Map()));
      order.push({ keyspace, key });
    }
    return m;
  };
  for (const k of o.keys) note(k.keyspace, k.key);
  const unreadable: Array<{ node: string; error: string }> = [];
  for (const [node, dump] of o.dumps) {
    if (typeof dump === 'string') {
      unreadable.push({ node, error: dump });
      continue;
    }
    for (const r of dump) note(r.keyspace, valueText(r.key)).set(node, r);
  }
  const skipped = new Set(unreadable.map((u) => u.node));
  const misplaced: string[] = [];
  const keys = order.map(({ keyspace, key }): KeyReplicas => {
    const byNode = held.get(`${keyspace}/${key}`)!;
    const home = o.ring.preferenceList(keyToken(valueBytes(key)), o.replicationFactor);
    for (const node of byNode.keys()) if (!home.includes(node)) misplaced.push(`${node} holds ${keyspace}/${key} but is no home replica of it (home: ${home.join(',')})`);
    const replicas: ReplicaHolding[] = home.filter((n) => !skipped.has(n)).map((node) => ({ node, value: byNode.get(node)?.value ?? null }));
    return { keyspace, key, mode: o.conflictMode, replicas };
  });
  return { state: { keys, unreadable, lost: [] }, misplaced };
}
