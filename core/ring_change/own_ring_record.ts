// A node's own place in the ring, kept in its meta keys so that a restart
// in the middle of a join or a decommission resumes it with the same tokens:
// the phase it last announced, its tokens, and the dead member it replaces.
//
// Format (UTF-8 text): `<phase>|<token hex>,<token hex>,...|<replaced id or empty>`.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import type { MemberPhase } from '../ring/topology.ts';

export const OWN_RING_META = 'ring-self';

export interface OwnRingRecord {
  phase: MemberPhase;
  tokens: readonly bigint[];
  replaces: NodeId | null;
}

const PHASES: readonly MemberPhase[] = ['joining', 'normal', 'leaving', 'left', 'removed'];

export function encodeOwnRing(r: OwnRingRecord): Uint8Array {
  assert(!(r.replaces ?? '').includes('|'), `replaced id ${r.replaces}`);
  const tokens = r.tokens.map((t) => {
    assert(t >= 0n, `token ${t}`);
    return t.toString(16);
  });
  return new TextEncoder().encode(`${r.phase}|${tokens.join(',')}|${r.replaces ?? ''}`);
}

/** null for a record that does not decode (treated as none: the configuration decides). */
export function decodeOwnRing(bytes: Uint8Array | undefined): OwnRingRecord | null {
  if (bytes === undefined) return null;
  const parts = new TextDecoder().decode(bytes).split('|');
  if (parts.length !== 3) return null;
  const phase = PHASES.find((p) => p === parts[0]);
  if (phase === undefined) return null;
  const hex = parts[1] === '' ? [] : parts[1]!.split(',');
  if (!hex.every((h) => /^[0-9a-f]{1,32}$/.test(h))) return null;
  return { phase, tokens: hex.map((h) => BigInt(`0x${h}`)), replaces: parts[2] === '' ? null : parts[2]! };
}
