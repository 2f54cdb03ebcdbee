// Measurements of the gossip protocol in simulation, for its tests and for a
// bench to print: how many rounds a state change takes to reach every node,
// how long a crash takes to be suspected everywhere, and how many false
// suspicions a long steady state with jittery links produces.

import { assert } from '../../io/assert.ts';
import type { PacketFaultOptions } from '../../sim/packet_fault_options.ts';
import type { Seed } from '../../sim/sim_rng.ts';
import { GossipCluster, type GossipClusterOptions } from './gossip_cluster.testkit.ts';

export function median(values: readonly number[]): number {
  assert(values.length > 0, 'median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Runs until every node has heard of every other (counting 'joined' events,
 * which is cheap at a thousand nodes); returns the time or null.
 */
function bootstrap(cluster: GossipCluster, limitMs: number): number | null {
  const n = cluster.ids.length;
  const known = new Map<string, number>(cluster.ids.map((id) => [id, 0]));
  let complete = n === 1 ? n : 0;
  cluster.onEvent((e) => {
    if (e.type !== 'joined') return;
    const k = known.get(e.at)! + 1;
    known.set(e.at, k);
    if (k === n - 1) complete++;
  });
  return cluster.runUntil(() => complete === n, limitMs);
}

export interface GossipConvergenceRun {
  seed: Seed;
  /** Rounds (intervals) from the start until every node knew every node; null when the membership was preloaded. */
  bootstrapRounds: number | null;
  /** Rounds from one node's status change until every node had it. */
  changeRounds: number;
  /** Frames sent per node per round while the change spread. */
  framesPerNodeRound: number;
  /** Bytes sent per node per round while the change spread. */
  bytesPerNodeRound: number;
}

export interface GossipConvergenceResult {
  nodes: number;
  runs: GossipConvergenceRun[];
  medianChangeRounds: number;
  medianBootstrapRounds: number | null;
  /** The target: 2 · log2(nodes) rounds. */
  targetRounds: number;
}

export interface ConvergenceOptions {
  cluster?: Partial<GossipClusterOptions>;
  /**
   * 'seeds' (default): every node starts knowing only the seeds and the run
   * bootstraps by gossip. 'preloaded': every node starts with the whole
   * membership (GossipCluster.preloadMembership), which spares a thousand-node
   * run the heaviest rounds (each joiner is sent the state of every node); the
   * change is then measured once heartbeats have made everyone up.
   */
  bootstrap?: 'seeds' | 'preloaded';
}

/**
 * For each seed: `nodes` gossipers (three seeds, default options) start
 * together; once every node knows every node and has had a few rounds to
 * believe them up, a random node changes its status at a random moment, and
 * the rounds until the last node learns it are counted (time / interval, so
 * fractions of a round show).
 */
export function measureGossipConvergence(nodes: number, seeds: readonly Seed[], options: ConvergenceOptions = {}): GossipConvergenceResult {
  assert(nodes >= 2 && seeds.length > 0, `convergence of ${nodes} nodes over ${seeds.length} seeds`);
  const runs = seeds.map((seed): GossipConvergenceRun => {
    const cluster = new GossipCluster({ ...options.cluster, nodes, seed });
    const interval = cluster.intervalMs;
    let boot: number | null = null;
    if (options.bootstrap === 'preloaded') {
      cluster.preloadMembership();
    } else {
      boot = bootstrap(cluster, 200 * interval);
      assert(boot !== null, `seed ${seed}: ${nodes} nodes did not learn of each other in 200 rounds`);
    }
    // Let heartbeats settle everyone up, then change at a random moment within a round.
    cluster.runFor(3 * interval + cluster.sim.rng.fork('change').next() * interval);
    const changer = cluster.ids[cluster.sim.rng.fork('changer').int(nodes)]!;
    let learned = 0;
    cluster.onEvent((e) => {
      if (e.type === 'statusChanged' && e.nodeId === changer && e.to === 'leaving' && e.at !== changer) learned++;
    });
    const before = totals(cluster);
    const t0 = cluster.nowMs();
    cluster.gossiper(changer).setStatus('leaving');
    const done = cluster.runUntil(() => learned === nodes - 1, 200 * interval, interval / 20);
    assert(done !== null, `seed ${seed}: the change did not reach all ${nodes} nodes in 200 rounds`);
    const after = totals(cluster);
    const rounds = (done - t0) / interval;
    return {
      seed,
      bootstrapRounds: boot === null ? null : boot / interval,
      changeRounds: rounds,
      framesPerNodeRound: (after.frames - before.frames) / nodes / rounds,
      bytesPerNodeRound: (after.bytes - before.bytes) / nodes / rounds,
    };
  });
  const boots = runs.flatMap((r) => (r.bootstrapRounds === null ? [] : [r.bootstrapRounds]));
  return {
    nodes,
    runs,
    medianChangeRounds: median(runs.map((r) => r.changeRounds)),
    medianBootstrapRounds: boots.length === 0 ? null : median(boots),
    targetRounds: 2 * Math.log2(nodes),
  };
}

function totals(cluster: GossipCluster): { frames: number; bytes: number } {
  let frames = 0;
  let bytes = 0;
  for (const g of cluster.running()) {
    const s = g.stats();
    frames += s.sent.syn + s.sent.ack + s.sent.ack2;
    bytes += s.bytesSent;
  }
  return { frames, bytes };
}

export interface FailureDetectionRun {
  seed: Seed;
  crashed: string;
  /** Per surviving node, ms from the crash to its 'down' event (Infinity if none within the limit). */
  delaysMs: number[];
  maxMs: number;
  medianMs: number;
}

/**
 * A cluster reaches one view, runs `warmupMs` of steady state (the detectors
 * learn the heartbeat rhythm), then one random node crashes at a random
 * moment; every survivor's time to suspect it is recorded.
 */
export function measureFailureDetection(nodes: number, seed: Seed, options: Partial<GossipClusterOptions> = {}, warmupMs = 60_000): FailureDetectionRun {
  const cluster = new GossipCluster({ ...options, nodes, seed });
  const interval = cluster.intervalMs;
  assert(cluster.runUntil(() => cluster.allUp(), 100 * interval, interval) !== null, `seed ${seed}: no single view`);
  const rng = cluster.sim.rng.fork('crash');
  cluster.runFor(warmupMs + rng.next() * interval);
  const crashed = cluster.ids[rng.int(nodes)]!;
  const suspectedAt = new Map<string, number>();
  cluster.onEvent((e) => {
    if (e.type === 'down' && e.nodeId === crashed && !suspectedAt.has(e.at)) suspectedAt.set(e.at, e.timeMs);
  });
  const t0 = cluster.nowMs();
  cluster.crash(crashed);
  cluster.runUntil(() => suspectedAt.size === nodes - 1, 60 * interval, interval);
  const delaysMs = cluster.ids.filter((id) => id !== crashed).map((id) => (suspectedAt.get(id) ?? Number.POSITIVE_INFINITY) - t0);
  return { seed, crashed, delaysMs, maxMs: Math.max(...delaysMs), medianMs: median(delaysMs) };
}

/** Links of a realistic network: a few ms typical, an exponential tail to a second, some loss, duplication and reordering. */
export const JITTERY_NETWORK: Partial<PacketFaultOptions> = {
  oneWayDelayMinMs: 1,
  oneWayDelayMeanMs: 20,
  oneWayDelayMaxMs: 1000,
  packetLossProbability: 0.01,
  packetReplayProbability: 0.005,
  packetReorderProbability: 0.01,
};

export interface SteadyStateRun {
  seed: Seed;
  durationMs: number;
  /** 'down' events about nodes that never crashed. */
  falseSuspicions: number;
  /** The highest φ any node computed for any member at the end of a round-spaced sample. */
  maxPhiSampled: number;
  /** Node stalls injected (every link of one node held for up to stallMaxMs). */
  stalls: number;
}

/**
 * No node crashes for `durationMs` on jittery links (JITTERY_NETWORK), with
 * drifting clocks and, now and then, a node whose links all stall (a long
 * GC pause, a busy host) for up to `stallMaxMs`; counts the suspicions.
 */
export function countFalseSuspicions(
  nodes: number,
  seed: Seed,
  durationMs: number,
  options: Partial<GossipClusterOptions> = {},
  stallMaxMs = 2000,
  stallMeanGapMs = 120_000,
): SteadyStateRun {
  const cluster = new GossipCluster({ net: JITTERY_NETWORK, clockDriftPpm: 200, ...options, nodes, seed });
  const interval = cluster.intervalMs;
  assert(cluster.runUntil(() => cluster.allUp(), 100 * interval, interval) !== null, `seed ${seed}: no single view`);
  let falseSuspicions = 0;
  cluster.onEvent((e) => {
    if (e.type === 'down') falseSuspicions++;
  });
  const rng = cluster.sim.rng.fork('stalls');
  let stalls = 0;
  const stall = (): void => {
    const victim = rng.pick(cluster.ids);
    const ms = rng.between(0, stallMaxMs);
    for (const other of cluster.ids) {
      if (other === victim) continue;
      cluster.net.clog(victim, other, ms);
      cluster.net.clog(other, victim, ms);
    }
    stalls++;
    cluster.sim.schedule(rng.exponential(stallMeanGapMs), 'stall', stall);
  };
  if (stallMaxMs > 0) cluster.sim.schedule(rng.exponential(stallMeanGapMs), 'stall', stall);
  let maxPhiSampled = 0;
  const end = cluster.nowMs() + durationMs;
  while (cluster.nowMs() < end) {
    cluster.runFor(Math.min(10 * interval, end - cluster.nowMs()));
    for (const g of cluster.running()) for (const id of cluster.ids) if (id !== g.nodeId) maxPhiSampled = Math.max(maxPhiSampled, g.phi(id));
  }
  return { seed, durationMs, falseSuspicions, maxPhiSampled, stalls };
}
