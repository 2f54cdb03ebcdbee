// Read repair: after a read has heard from its replicas, the ones whose
// version fell short of the merge of all replies get that merge, as an
// ordinary replica write (merging is idempotent, so a repair racing a newer
// write cannot undo it). The merge is sent as is: repair never builds a new
// version (that would mint a dot, and two coordinators repairing the same
// key would create siblings out of nothing). A fallback that answered for a
// down replica gets the repair into the hint it holds for that replica.
// Ordinary reads repair in the background after answering; STRONG reads
// write back before answering (strong.ts).

import type { NodeId } from '../../io/network.ts';
import type { PreferenceEntry } from '../ring/ring.ts';
import type { VersionedValue } from '../versioning/versioned_value.ts';
import type { CoordinatorDeps } from './coordinator_deps.ts';

export function sendReadRepair(
  d: Pick<CoordinatorDeps, 'rpc' | 'mark'>,
  ks: string,
  key: Uint8Array,
  merged: VersionedValue,
  stale: readonly NodeId[],
  entries: readonly PreferenceEntry[],
  timeoutMs: number,
): void {
  for (const node of stale) {
    const hintFor = entries.find((e) => e.node === node)?.hintFor ?? null;
    d.mark('read repair sent');
    d.rpc.call(node, { t: 'write', ks, key, value: merged, origin: 'repair', hintFor }, timeoutMs, (reply) => {
      if (reply?.t === 'write_ok') d.mark('read repair applied');
    });
  }
}
