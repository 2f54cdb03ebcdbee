// Checks on what a client hands a node, before anything is sent or written:
// a refused request is always a definite failure.

import type { KeyspaceConfig, KeyspaceRegistry } from './keyspace.ts';
import { type ErrorInfo, errorInfo } from './requests.ts';
import { MAX_LAYOUT_KEY_BYTES } from './storage_keys.ts';
import { showValue } from './show_value.ts';

export interface KeyLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
}

export function checkKeyspace(keyspaces: KeyspaceRegistry, name: unknown): KeyspaceConfig | ErrorInfo {
  const ks = keyspaces.get(name);
  return ks ?? errorInfo('not_found_keyspace', `keyspace ${showValue(name)} does not exist`, true);
}

export function keyProblem(key: unknown, limits: KeyLimits): ErrorInfo | null {
  if (!(key instanceof Uint8Array) || key.length === 0) return errorInfo('invalid', 'key must be non-empty bytes', true);
  const max = Math.min(limits.maxKeyBytes, MAX_LAYOUT_KEY_BYTES);
  if (key.length > max) return errorInfo('invalid', `key of ${key.length} bytes exceeds ${max}`, true);
  return null;
}

export function valueProblem(value: unknown, limits: KeyLimits): ErrorInfo | null {
  if (!(value instanceof Uint8Array)) return errorInfo('invalid', 'value must be bytes', true);
  if (value.length > limits.maxValueBytes) return errorInfo('invalid', `value of ${value.length} bytes exceeds ${limits.maxValueBytes}`, true);
  return null;
}

/** The TTL a put asks for (undefined: the keyspace default), or an error. */
export function ttlFor(ttlMs: unknown, ks: KeyspaceConfig): number | ErrorInfo {
  if (ttlMs === undefined || ttlMs === null) return ks.defaultTtlMs;
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 0) return errorInfo('invalid', `ttlMs ${showValue(ttlMs)} must be an integer >= 0`, true);
  return ttlMs;
}

export function contextProblem(context: unknown): ErrorInfo | null {
  if (context === undefined || context === null || typeof context === 'string') return null;
  return errorInfo('invalid', 'context must be a string or null', true);
}

export function isErrorInfo(x: unknown): x is ErrorInfo {
  return typeof x === 'object' && x !== null && 'code' in x && 'definite' in x;
}
