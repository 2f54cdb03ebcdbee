// Keyspaces: named key namespaces, each with its own replication factor,
// default consistency levels, conflict mode and default TTL. Every node is
// configured with the same list; the mode of a keyspace never changes (stored
// versions carry it, and versions of different modes do not merge).

import type { ConflictMode } from '../versioning/versioned_value.ts';
import { type ConsistencyLevel, isConsistencyLevel } from './consistency.ts';
import { showValue } from './show_value.ts';

export interface KeyspaceConfig {
  name: string;
  /** N: how many home replicas hold each key. */
  replicationFactor: number;
  readConsistency: ConsistencyLevel;
  writeConsistency: ConsistencyLevel;
  conflictMode: ConflictMode;
  /** Applied to puts that do not give a TTL; 0 = none. */
  defaultTtlMs: number;
}

export const DEFAULT_KEYSPACE: KeyspaceConfig = Object.freeze({
  name: 'default',
  replicationFactor: 3,
  readConsistency: 'QUORUM',
  writeConsistency: 'QUORUM',
  conflictMode: 'lww',
  defaultTtlMs: 0,
}) as KeyspaceConfig;

/** Longest keyspace name, in UTF-8 bytes (its length is one byte in storage keys). */
export const MAX_KEYSPACE_NAME_BYTES = 64;

const utf8 = new TextEncoder();

/** Why a keyspace configuration is unusable, or null. */
export function keyspaceProblem(ks: KeyspaceConfig): string | null {
  if (typeof ks.name !== 'string' || ks.name.length === 0) return 'keyspace name must be a non-empty string';
  const nameBytes = utf8.encode(ks.name).length;
  if (nameBytes > MAX_KEYSPACE_NAME_BYTES) return `keyspace name ${ks.name} is ${nameBytes} bytes, more than ${MAX_KEYSPACE_NAME_BYTES}`;
  if (!Number.isInteger(ks.replicationFactor) || ks.replicationFactor < 1) return `keyspace ${ks.name}: replication factor ${ks.replicationFactor} must be >= 1`;
  if (!isConsistencyLevel(ks.readConsistency)) return `keyspace ${ks.name}: read consistency ${showValue(ks.readConsistency)} unknown`;
  if (!isConsistencyLevel(ks.writeConsistency)) return `keyspace ${ks.name}: write consistency ${showValue(ks.writeConsistency)} unknown`;
  if (ks.conflictMode !== 'lww' && ks.conflictMode !== 'siblings') return `keyspace ${ks.name}: conflict mode ${showValue(ks.conflictMode)} unknown`;
  if (!Number.isSafeInteger(ks.defaultTtlMs) || ks.defaultTtlMs < 0) return `keyspace ${ks.name}: default TTL ${ks.defaultTtlMs} must be an integer >= 0`;
  return null;
}

/** The keyspaces a node serves, by name; `default` is added when not configured. */
export class KeyspaceRegistry {
  private readonly byName = new Map<string, KeyspaceConfig>();

  constructor(keyspaces: readonly KeyspaceConfig[]) {
    for (const ks of keyspaces) {
      const problem = keyspaceProblem(ks);
      if (problem !== null) throw new Error(problem);
      if (this.byName.has(ks.name)) throw new Error(`keyspace ${ks.name} configured twice`);
      this.byName.set(ks.name, Object.freeze({ ...ks }));
    }
    if (!this.byName.has(DEFAULT_KEYSPACE.name)) this.byName.set(DEFAULT_KEYSPACE.name, DEFAULT_KEYSPACE);
  }

  get(name: unknown): KeyspaceConfig | undefined {
    return typeof name === 'string' ? this.byName.get(name) : undefined;
  }

  /** Sorted by name. */
  all(): KeyspaceConfig[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
