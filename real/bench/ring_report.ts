// Ring balance and speed figures: ownership spread (max/min share per target)
// for 3 to 100 nodes joined one at a time, at 16 and 256 vnodes, random
// against balanced tokens; the data a join moves against the ideal 1/(n+1);
// key hashing against MD5 (Cassandra's RandomPartitioner hash); preference
// list lookups. Run: npx tsx real/bench/ring_report.ts [--json]

import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { keyToken } from '../../core/ring/key_hash.ts';
import { Ring } from '../../core/ring/ring.ts';
import { joinRing, type AllocationStrategy } from '../../core/ring/token_allocator.ts';
import { NodeRng } from '../node_rng.ts';

const CHECKPOINTS = [3, 5, 10, 20, 50, 100];
const REPLICAS = 3;

export interface SpreadFigures {
  strategy: AllocationStrategy;
  vnodes: number;
  /** Spread after the n-th join, at each checkpoint. */
  at: { nodes: number; primary: number; replica: number }[];
  /** Worst spread over every ring size from 3 to maxNodes. */
  worstPrimary: number;
  worstReplica: number;
  /** Replica copies a join moves over the ideal share, joins onto 3 or more nodes. */
  joinMoveMean: number;
  joinMoveMax: number;
  /** Wall time to choose every node's tokens. */
  allocationMs: number;
}

export interface RingReport {
  replicas: number;
  maxNodes: number;
  spreads: SpreadFigures[];
  hashing: { keyBytes: number; murmur3PerSecond: number; md5PerSecond: number }[];
  lookups: { nodes: number; vnodes: number; preferenceListsPerSecond: number };
}

export interface RingReportOptions {
  /** Largest ring built (default 100). */
  maxNodes?: number;
  /** Vnodes per node to compare (default 16 and 256). */
  vnodes?: number[];
  seed?: number;
  /** Time spent on each throughput measurement (default 300 ms). */
  measureMs?: number;
}

export function ringReport(options: RingReportOptions = {}): RingReport {
  const maxNodes = options.maxNodes ?? 100;
  const measureMs = options.measureMs ?? 300;
  const spreads: SpreadFigures[] = [];
  let lookupRing = Ring.EMPTY;
  for (const vnodes of options.vnodes ?? [16, 256]) {
    for (const strategy of ['random', 'balanced'] as const) {
      const { figures, ring } = growRing(strategy, vnodes, maxNodes, options.seed ?? 1);
      spreads.push(figures);
      if (strategy === 'balanced' && vnodes >= lookupRing.tokenCount / Math.max(1, lookupRing.nodeCount)) lookupRing = ring;
    }
  }
  return {
    replicas: REPLICAS,
    maxNodes,
    spreads,
    hashing: [16, 64, 256].map((bytes) => measureHashing(bytes, measureMs)),
    lookups: measureLookups(lookupRing, measureMs),
  };
}

function growRing(strategy: AllocationStrategy, vnodes: number, maxNodes: number, seed: number) {
  const rng = new NodeRng([seed, 0x9e3779b9, 7, 11]);
  let ring = Ring.EMPTY;
  const at: SpreadFigures['at'] = [];
  let [worstPrimary, worstReplica, moveSum, moveMax, moves, allocationMs] = [1, 1, 0, 0, 0, 0];
  for (let n = 1; n <= maxNodes; n++) {
    const node = `n${String(n).padStart(3, '0')}`;
    const started = performance.now();
    ring = joinRing(ring, node, { strategy, vnodes, replicas: REPLICAS }, rng);
    allocationMs += performance.now() - started;
    if (n < 3) continue;
    const spread = ring.spread(REPLICAS);
    worstPrimary = Math.max(worstPrimary, spread.primary);
    worstReplica = Math.max(worstReplica, spread.replica);
    if (CHECKPOINTS.includes(n)) at.push({ nodes: n, primary: spread.primary, replica: spread.replica });
    if (n >= 4) {
      // The joining node receives exactly the replicas it now holds (see transfersFor).
      const moved = ring.ownership(REPLICAS).get(node)!.replica / REPLICAS;
      const ratio = moved / (1 / n);
      moveSum += ratio;
      moveMax = Math.max(moveMax, ratio);
      moves++;
    }
  }
  const figures: SpreadFigures = {
    strategy,
    vnodes,
    at,
    worstPrimary,
    worstReplica,
    joinMoveMean: moves === 0 ? 0 : moveSum / moves,
    joinMoveMax: moveMax,
    allocationMs: Math.round(allocationMs),
  };
  return { figures, ring };
}

function keysOf(bytes: number, count: number): Uint8Array[] {
  const rng = new NodeRng([bytes, 1, 2, 3]);
  return Array.from({ length: count }, () => Uint8Array.from({ length: bytes }, () => rng.int(256)));
}

/** Runs `op` over the keys repeatedly for about `ms` milliseconds; operations per second. */
function rate(keys: Uint8Array[], ms: number, op: (key: Uint8Array) => unknown): number {
  let sink = 0;
  let done = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (const key of keys) if (op(key)) sink++;
    done += keys.length;
    elapsed = performance.now() - started;
  }
  if (sink < 0) throw new Error('unreachable');
  return Math.round((done / elapsed) * 1000);
}

function measureHashing(keyBytes: number, ms: number): RingReport['hashing'][number] {
  const keys = keysOf(keyBytes, 4096);
  rate(keys, ms / 6, keyToken); // warm up both before measuring either
  rate(keys, ms / 6, md5Token);
  return { keyBytes, murmur3PerSecond: rate(keys, ms, keyToken), md5PerSecond: rate(keys, ms, md5Token) };
}

/** The comparator: a 64-bit token from MD5, as a token from RandomPartitioner would be built. */
function md5Token(key: Uint8Array): bigint {
  return createHash('md5').update(key).digest().readBigUInt64BE(0);
}

function measureLookups(ring: Ring, ms: number): RingReport['lookups'] {
  const keys = keysOf(16, 4096);
  const tokens = new Map(keys.map((key) => [key, keyToken(key)]));
  const perSecond = rate(keys, ms, (key) => ring.preferenceList(tokens.get(key)!, REPLICAS).length);
  return { nodes: ring.nodeCount, vnodes: Math.round(ring.tokenCount / Math.max(1, ring.nodeCount)), preferenceListsPerSecond: perSecond };
}

function printReport(report: RingReport): void {
  const f = (x: number) => x.toFixed(3);
  console.log(`ownership spread, max/min of share per target (1.000 = perfect), N=${report.replicas}, nodes joined one at a time`);
  console.log(`${'vnodes'.padEnd(7)}${'tokens'.padEnd(10)}${'nodes'.padEnd(7)}${'primary'.padEnd(9)}replica`);
  for (const s of report.spreads) {
    for (const a of s.at) console.log(`${String(s.vnodes).padEnd(7)}${s.strategy.padEnd(10)}${String(a.nodes).padEnd(7)}${f(a.primary).padEnd(9)}${f(a.replica)}`);
    console.log(
      `${String(s.vnodes).padEnd(7)}${s.strategy.padEnd(10)}${`worst 3..${report.maxNodes}`.padEnd(16)}${f(s.worstPrimary)} / ${f(s.worstReplica)}` +
        `   join moves ${f(s.joinMoveMean)}x ideal (max ${f(s.joinMoveMax)}x)   allocation ${s.allocationMs} ms`,
    );
  }
  console.log('\nkey hashing (token from key bytes), per second');
  for (const h of report.hashing) {
    console.log(`  ${String(h.keyBytes).padStart(4)} B keys: murmur3 ${h.murmur3PerSecond.toLocaleString('en')}  md5 ${h.md5PerSecond.toLocaleString('en')}  (${(h.murmur3PerSecond / h.md5PerSecond).toFixed(1)}x)`);
  }
  const l = report.lookups;
  console.log(`\npreference lists (N=${report.replicas}) on ${l.nodes} nodes x ${l.vnodes} vnodes: ${l.preferenceListsPerSecond.toLocaleString('en')} per second`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = ringReport();
  if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
  else printReport(report);
}
