// What a node gossips about its part in a ring change, as one application
// state (app key RING_PROGRESS_KEY): the version of the topology it currently
// uses, and whether it has received every range that topology moves to it.
//
// Format: `<version in base 36>.<0|1>`, e.g. "k3x9zq1.1". The node whose phase
// changes reads it from every peer: it moves on only when all of them use its
// topology (so no coordinator places writes by an older one) and, before a
// leaving or removed node goes, when every receiver reports caught up.

import { assert } from '../../io/assert.ts';

export const RING_PROGRESS_KEY = 'ring';
/** Application state naming the dead member an operator is removing (or replacing); '' when none. */
export const REMOVING_KEY = 'removing';
/**
 * Application state listing (comma-separated) the dead members this node has
 * removed: gossip's own removal (removalState) needs the member's gossiped
 * state, and a member that died before anyone heard it has none.
 */
export const REMOVED_KEY = 'removed';

export interface RingProgress {
  topologyVersion: number;
  caughtUp: boolean;
}

export function encodeRingProgress(p: RingProgress): string {
  assert(Number.isSafeInteger(p.topologyVersion) && p.topologyVersion >= 0, `topology version ${p.topologyVersion}`);
  return `${p.topologyVersion.toString(36)}.${p.caughtUp ? 1 : 0}`;
}

/** null for anything that is not an encoded RingProgress (absent, garbage). */
export function decodeRingProgress(s: string | undefined): RingProgress | null {
  if (s === undefined) return null;
  const m = /^([0-9a-z]{1,11})\.([01])$/.exec(s);
  if (m === null) return null;
  const topologyVersion = parseInt(m[1]!, 36);
  if (!Number.isSafeInteger(topologyVersion)) return null;
  return { topologyVersion, caughtUp: m[2] === '1' };
}
