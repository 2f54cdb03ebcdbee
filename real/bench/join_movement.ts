// Data moved when one node joins a cluster of n nodes, against the ideal.
// The new node should end up with 1/(n+1) of every replica's data, so a join
// ideally streams N/(n+1) of one copy of the data; anything above is data
// moved for the sake of placement. The ring grows one node at a time by
// balanced allocation (core/ring/token_allocator.ts); at each size the next
// node's join is planned exactly as a joining node plans it
// (core/ring_change/stream_plan.ts: one source per range, the replica it
// displaces), and the streamed share is measured two ways: as token-range
// width and as a count of 20,000 hashed keys falling in the streamed ranges.

import { keyToken } from '../../core/ring/key_hash.ts';
import { Ring } from '../../core/ring/ring.ts';
import { balancedTokens } from '../../core/ring/token_allocator.ts';
import { Topology } from '../../core/ring/topology.ts';
import { MAX_TOKEN, type TokenRange, rangeShare } from '../../core/ring/token_range.ts';
import { planStreams } from '../../core/ring_change/stream_plan.ts';
import { SimRng } from '../../sim/sim_rng.ts';

export interface JoinMovementRow {
  /** Nodes before the join. */
  nodes: number;
  /** Streamed share of one copy of the data (token width). */
  streamedShare: number;
  /** N / (nodes + 1). */
  idealShare: number;
  /** streamedShare / idealShare. */
  ratio: number;
  /** The same ratio counted in sample keys. */
  keysRatio: number;
}

export interface JoinMovementReport {
  vnodes: number;
  replicas: number;
  sampleKeys: number;
  rows: JoinMovementRow[];
  worstRatio: number;
  target: number;
}

export function measureJoinMovement(options: { from?: number; to?: number; vnodes?: number; replicas?: number; sampleKeys?: number } = {}): JoinMovementReport {
  const from = options.from ?? 3;
  const to = options.to ?? 32;
  const vnodes = options.vnodes ?? 16;
  const replicas = options.replicas ?? 3;
  const sampleKeys = options.sampleKeys ?? 20_000;
  const rng = new SimRng('join-movement');
  const tokens = Array.from({ length: sampleKeys }, (_, i) => keyToken(new TextEncoder().encode(`key-${i}`))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let ring = Ring.EMPTY;
  const rows: JoinMovementRow[] = [];
  for (let n = 1; n <= to + 1; n++) {
    const joiner = `n${n}`;
    const joinerTokens = balancedTokens(ring, vnodes, 1, replicas, rng);
    if (n - 1 >= from) {
      const members = ring.nodes().map((id) => ({ id, phase: 'normal' as const, tokens: ring.tokensOf(id) }));
      const topology = Topology.of([...members, { id: joiner, phase: 'joining', tokens: joinerTokens }]);
      const tasks = planStreams(topology, joiner, [{ name: 'default', n: replicas }]);
      const ranges = tasks.flatMap((t) => t.ranges);
      const streamedShare = ranges.reduce((a, r) => a + rangeShare(r), 0);
      const keys = ranges.reduce((a, r) => a + keysIn(tokens, r), 0);
      const idealShare = replicas / n;
      rows.push({ nodes: n - 1, streamedShare, idealShare, ratio: streamedShare / idealShare, keysRatio: keys / sampleKeys / idealShare });
    }
    ring = ring.withNode(joiner, joinerTokens);
  }
  return { vnodes, replicas, sampleKeys, rows, worstRatio: Math.max(...rows.map((r) => r.ratio)), target: 1.1 };
}

export function renderJoinMovement(r: JoinMovementReport): string {
  const lines = [
    `data moved when one node joins n nodes (N=${r.replicas}, ${r.vnodes} vnodes, balanced allocation; ideal N/(n+1) of one copy)`,
    '',
    '    n   streamed   ideal    ratio   ratio (keys)',
    ...r.rows.map((x) => `  ${String(x.nodes).padStart(3)}   ${x.streamedShare.toFixed(4)}   ${x.idealShare.toFixed(4)}   ${x.ratio.toFixed(3)}   ${x.keysRatio.toFixed(3)}`),
    '',
    `  worst ratio ${r.worstRatio.toFixed(3)} (target <= ${r.target}): ${r.worstRatio <= r.target ? 'met' : 'NOT met'}`,
  ];
  return lines.join('\n');
}

/** Sorted tokens in (start, end], wrapping through zero when start >= end. */
function keysIn(sorted: readonly bigint[], r: TokenRange): number {
  // Count of tokens <= t.
  const upTo = (t: bigint): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  if (r.start < r.end) return upTo(r.end) - upTo(r.start);
  return upTo(MAX_TOKEN) - upTo(r.start) + upTo(r.end);
}
