// Which ranges a node must receive for the moves in its topology, and from
// whom. For every stretch of the ring where the node is a replica on the
// target ring but not on the read ring (topology.ts), it pulls from the
// replicas the move displaces there (the current replicas that are not
// replicas on the target ring): the new replica then holds exactly what the
// one it replaces held, so every version on a quorum of the current replicas
// stays on a quorum of the final ones (Cassandra's consistent range
// movement). When the displaced replica is dead (a node being removed or
// replaced) or the move displaces nobody (the cluster grows while it has
// fewer than N nodes), the node pulls from every live current replica of the
// stretch and merges: whatever a quorum held, one of them holds.

import { assert } from '../../io/assert.ts';
import type { NodeId } from '../../io/network.ts';
import type { Topology } from '../ring/topology.ts';
import type { TokenRange } from '../ring/token_range.ts';

export interface StreamTask {
  readonly ks: string;
  readonly source: NodeId;
  /** In ring order, adjacent ones merged. */
  readonly ranges: readonly TokenRange[];
}

/**
 * The pulls `self` must make for keyspaces `keyspaces` (name and N), sources
 * in `dead` excluded. Ordered by keyspace, then source; deterministic.
 */
export function planStreams(topology: Topology, self: NodeId, keyspaces: readonly { name: string; n: number }[], dead: ReadonlySet<NodeId> = new Set()): StreamTask[] {
  const tasks: StreamTask[] = [];
  if (!topology.moving || topology.targetRing.tokenCount === 0) return tasks;
  const read = topology.readRing;
  const target = topology.targetRing;
  const bounds = [...new Set([...read.tokens(), ...target.tokens()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const { name, n } of [...keyspaces].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const bySource = new Map<NodeId, { start: bigint; end: bigint }[]>();
    for (let k = 0; k < bounds.length; k++) {
      const end = bounds[k]!;
      const start = bounds[(k === 0 ? bounds.length : k) - 1]!;
      const after = target.preferenceList(end, n);
      if (!after.includes(self)) continue;
      const before = read.tokenCount === 0 ? [] : read.preferenceList(end, n);
      if (before.includes(self)) continue;
      const displaced = before.filter((node) => !after.includes(node) && !dead.has(node));
      const sources = displaced.length > 0 ? displaced : before.filter((node) => !dead.has(node));
      for (const source of sources) {
        let list = bySource.get(source);
        if (list === undefined) bySource.set(source, (list = []));
        const last = list[list.length - 1];
        if (last !== undefined && last.end === start) last.end = end;
        else list.push({ start, end });
      }
    }
    for (const source of [...bySource.keys()].sort()) {
      const ranges = bySource.get(source)!;
      // The last stretch may run on into the first, through the wrap-around.
      if (ranges.length > 1 && ranges[ranges.length - 1]!.end === ranges[0]!.start && bounds.length > 0) {
        const tail = ranges.pop()!;
        ranges[0]!.start = tail.start;
      }
      assert(ranges.length > 0, 'a source with no range');
      tasks.push({ ks: name, source, ranges });
    }
  }
  return tasks;
}
