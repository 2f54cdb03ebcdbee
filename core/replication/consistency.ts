// Per-request consistency: how many replicas must answer a read (R) or
// acknowledge a write (W) before the coordinator replies. Levels name the
// count relative to the keyspace's replication factor N; an explicit r or w
// overrides the level. STRONG is a strict majority of the home replicas (no
// fallbacks), with the extra round trips of strong.ts.

import { assert } from '../../io/assert.ts';
import { showValue } from './show_value.ts';

export type ConsistencyLevel = 'ONE' | 'TWO' | 'QUORUM' | 'ALL' | 'STRONG';

export interface Consistency {
  level?: ConsistencyLevel;
  r?: number;
  w?: number;
}

export const CONSISTENCY_LEVELS: readonly ConsistencyLevel[] = Object.freeze(['ONE', 'TWO', 'QUORUM', 'ALL', 'STRONG']);

export function isConsistencyLevel(x: unknown): x is ConsistencyLevel {
  return typeof x === 'string' && (CONSISTENCY_LEVELS as readonly string[]).includes(x);
}

/** A strict majority of n. */
export function quorumOf(n: number): number {
  assert(Number.isInteger(n) && n >= 1, `replication factor ${n}`);
  return Math.floor(n / 2) + 1;
}

export function countForLevel(level: ConsistencyLevel, n: number): number {
  switch (level) {
    case 'ONE':
      return 1;
    case 'TWO':
      return Math.min(2, n);
    case 'QUORUM':
    case 'STRONG':
      return quorumOf(n);
    case 'ALL':
      return n;
  }
}

/** What a request needs: the replica count, and whether it takes the STRONG path. */
export interface Requirement {
  readonly count: number;
  readonly strong: boolean;
}

/**
 * The requirement of a read ('r') or write ('w') with `consistency` over a
 * keyspace of replication factor n whose default level is `fallback`.
 * Returns a message instead when the request asks for something impossible.
 */
export function resolveRequirement(
  consistency: Consistency | undefined,
  which: 'r' | 'w',
  n: number,
  fallback: ConsistencyLevel,
): Requirement | string {
  if (consistency !== undefined && (typeof consistency !== 'object' || consistency === null)) return 'consistency must be an object';
  const explicit = consistency?.[which];
  const level = consistency?.level;
  if (level !== undefined && !isConsistencyLevel(level)) return `consistency level ${showValue(level)} unknown`;
  if (explicit !== undefined) {
    if (!Number.isInteger(explicit) || explicit < 1 || explicit > n) return `${which}=${showValue(explicit)} must be an integer in 1..${n}`;
    if (level === 'STRONG') return `STRONG cannot be combined with an explicit ${which}`;
    return { count: explicit, strong: false };
  }
  const chosen = level ?? fallback;
  return { count: countForLevel(chosen, n), strong: chosen === 'STRONG' };
}
