// The client-facing requests and responses of a store node (re-exported by
// core/node.ts, where the node contract is documented).

import type { VersionedValue } from '../versioning/versioned_value.ts';
import type { Consistency } from './consistency.ts';

export type ErrorCode = 'unavailable' | 'timeout' | 'invalid' | 'overloaded' | 'corruption' | 'not_found_keyspace' | 'internal';

export const ERROR_CODES: readonly ErrorCode[] = Object.freeze([
  'unavailable',
  'timeout',
  'invalid',
  'overloaded',
  'corruption',
  'not_found_keyspace',
  'internal',
]);

export interface ErrorInfo {
  code: ErrorCode;
  /** Says how many replicas answered and how many were required. */
  message: string;
  replied?: number;
  required?: number;
  /** true when the write certainly did not take effect anywhere (safe to record as a failed op). */
  definite: boolean;
}

export interface GetRequest {
  keyspace: string;
  key: Uint8Array;
  consistency?: Consistency;
}

export type GetResponse =
  | { ok: true; found: boolean; values: Uint8Array[]; context: string | null }
  | { ok: false; error: ErrorInfo };

export interface PutRequest {
  keyspace: string;
  key: Uint8Array;
  value: Uint8Array;
  consistency?: Consistency;
  ttlMs?: number;
  context?: string | null;
}

export interface DeleteRequest {
  keyspace: string;
  key: Uint8Array;
  consistency?: Consistency;
  context?: string | null;
}

export type WriteResponse = { ok: true } | { ok: false; error: ErrorInfo };

export interface ScanRequest {
  keyspace: string;
  start?: Uint8Array;
  end?: Uint8Array;
  limit: number;
  resumeToken?: string | null;
  consistency?: Consistency;
}

export interface ScanItem {
  key: Uint8Array;
  values: Uint8Array[];
  context: string | null;
}

export type ScanResponse = { ok: true; items: ScanItem[]; resumeToken: string | null } | { ok: false; error: ErrorInfo };

/** What one replica stores for one key, for the convergence and durability checkers. */
export interface ReplicaRecord {
  keyspace: string;
  key: Uint8Array;
  value: VersionedValue;
}

export function errorInfo(code: ErrorCode, message: string, definite: boolean, counts?: { replied: number; required: number }): ErrorInfo {
  return counts === undefined ? { code, message, definite } : { code, message, definite, replied: counts.replied, required: counts.required };
}
