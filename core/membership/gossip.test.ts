import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from '../../io/frame_codec.ts';
import { SimNetwork } from '../../sim/sim_network.ts';
import { SimRng } from '../../sim/sim_rng.ts';
import { Simulator } from '../../sim/simulator.ts';
import type { LivenessView } from '../replication/liveness.ts';
import { type GossipEvent, Gossiper } from './gossip.ts';
import { type ClusterEvent, GossipCluster } from './gossip_cluster.testkit.ts';
import { GOSSIP_PROTOCOL, encodeGossipFrame, isGossipPayload } from './gossip_messages.ts';

const ROUND = 1000;

function settled(nodes: number, seed: number, extra: Partial<ConstructorParameters<typeof GossipCluster>[0]> = {}): GossipCluster {
  const cluster = new GossipCluster({ nodes, seed, ...extra });
  expect(cluster.runUntil(() => cluster.oneView(), 60 * ROUND, ROUND), 'no single view').not.toBeNull();
  return cluster;
}

function record(cluster: GossipCluster): ClusterEvent[] {
  const events: ClusterEvent[] = [];
  cluster.onEvent((e) => events.push(e));
  return events;
}

describe('Gossiper', () => {
  it('nodes that know only the seeds learn the whole cluster, and believe everyone up', () => {
    const cluster = new GossipCluster({ nodes: 8, seed: 1 });
    const events = record(cluster);
    const at = cluster.runUntil(() => cluster.oneView(), 60 * ROUND, ROUND);
    expect(at).not.toBeNull();
    expect(at!).toBeLessThanOrEqual(10 * ROUND);
    for (const id of cluster.ids) {
      expect(events.filter((e) => e.at === id && e.type === 'joined').length).toBe(7);
      expect(events.filter((e) => e.at === id && e.type === 'up').length).toBe(7);
      expect(events.filter((e) => e.at === id && e.type === 'down').length).toBe(0);
    }
    const g = cluster.gossiper('n0005');
    expect(g.knownNodes()).toEqual(cluster.ids);
    expect(g.stateOf('n0001')).toBe('normal');
  });

  it('is a LivenessView: itself is up, an unknown node is not, a member never heard alive is down', () => {
    const sim = new Simulator({ seed: 2 });
    sim.addNode('a');
    SimNetwork.attach(sim);
    const g = new Gossiper(sim.node('a').env, { generation: 1, seeds: ['b'] });
    const view: LivenessView = g;
    expect(view.isUp('a')).toBe(true);
    expect(view.isUp('nobody')).toBe(false);
    expect(g.stateOf('nobody')).toBeNull();
    expect(g.stateOf('a')).toBe('joining');
  });

  it('spreads status and token changes, with events at every peer', () => {
    const cluster = settled(6, 3);
    const events = record(cluster);
    cluster.gossiper('n0002').setStatus('leaving');
    cluster.gossiper('n0003').setTokens([42n, 7n]);
    cluster.runFor(15 * ROUND);
    for (const id of cluster.ids) {
      const g = cluster.gossiper(id);
      expect(g.member('n0002')!.status).toBe('leaving');
      expect(g.member('n0003')!.tokens).toEqual([42n, 7n]);
      expect(events.some((e) => e.at === id && e.type === 'statusChanged' && e.nodeId === 'n0002' && e.from === 'normal' && e.to === 'leaving')).toBe(true);
      expect(events.some((e) => e.at === id && e.type === 'tokensChanged' && e.nodeId === 'n0003')).toBe(true);
    }
  });

  it('a restart with a higher generation replaces the old state everywhere, whatever its versions', () => {
    const cluster = settled(5, 4);
    const x = 'n0003';
    cluster.gossiper(x).setAppState('before', 'crash');
    cluster.runFor(20 * ROUND);
    const oldMax = cluster.gossiper('n0000').member(x)!.maxVersion;
    expect(cluster.gossiper('n0000').member(x)!.appState('before')).toBe('crash');
    cluster.crash(x);
    cluster.runFor(3 * ROUND);
    const events = record(cluster);
    cluster.restart(x).setAppState('after', 'restart');
    expect(cluster.runUntil(() => cluster.oneView(), 60 * ROUND, ROUND)).not.toBeNull();
    for (const id of cluster.ids.filter((id) => id !== x)) {
      const m = cluster.gossiper(id).member(x)!;
      expect(m.generation).toBe(2);
      expect(m.maxVersion).toBeLessThan(oldMax);
      expect(m.appState('before')).toBeUndefined();
      expect(m.appState('after')).toBe('restart');
      expect(events.some((e) => e.at === id && e.type === 'restarted' && e.nodeId === x && e.generation === 2)).toBe(true);
    }
  });

  it('a restart that reuses its generation finds its old self in gossip and moves past it', () => {
    const cluster = settled(5, 5);
    const x = 'n0001';
    cluster.gossiper(x).setAppState('before', 'crash');
    cluster.runFor(20 * ROUND);
    cluster.crash(x);
    cluster.runFor(2 * ROUND);
    const restarted = cluster.restart(x, 1);
    const mine: GossipEvent[] = [];
    restarted.onChange((e) => mine.push(e));
    expect(cluster.runUntil(() => cluster.oneView() && restarted.generation > 1, 60 * ROUND, ROUND)).not.toBeNull();
    expect(mine).toContainEqual({ type: 'generationChanged', generation: 2 });
    expect(restarted.stats().refutations).toBe(1);
    for (const id of cluster.ids) expect(cluster.gossiper(id).member(x)!.appState('before')).toBeUndefined();
  });

  it('a dead member can be removed (not a live one), and every node then sees it removed', () => {
    const cluster = settled(6, 6);
    const x = 'n0004';
    expect(cluster.gossiper('n0000').removeMember(x)).toBe(false);
    expect(cluster.gossiper('n0000').removeMember('n0000')).toBe(false);
    expect(cluster.gossiper('n0000').removeMember('stranger')).toBe(false);
    cluster.crash(x);
    expect(cluster.runUntil(() => cluster.running().every((g) => g.stateOf(x) === 'down'), 30 * ROUND, ROUND)).not.toBeNull();
    expect(cluster.gossiper('n0000').removeMember(x)).toBe(true);
    expect(cluster.runUntil(() => cluster.running().every((g) => g.stateOf(x) === 'removed'), 30 * ROUND, ROUND)).not.toBeNull();
    for (const g of cluster.running()) {
      expect(g.isUp(x)).toBe(false);
      expect(g.member(x)!.generation).toBe(2);
    }
  });

  it('a member removed while only partitioned away refutes the removal when the partition heals', () => {
    const cluster = settled(6, 7);
    const x = 'n0005';
    cluster.net.isolate(x);
    expect(cluster.runUntil(() => cluster.running().every((g) => g.nodeId === x || g.stateOf(x) === 'down'), 30 * ROUND, ROUND)).not.toBeNull();
    expect(cluster.gossiper('n0001').removeMember(x)).toBe(true);
    cluster.runFor(10 * ROUND);
    expect(cluster.gossiper('n0002').stateOf(x)).toBe('removed');
    cluster.net.heal();
    expect(cluster.runUntil(() => cluster.oneView(), 60 * ROUND, ROUND)).not.toBeNull();
    expect(cluster.gossiper(x).generation).toBe(3);
    for (const g of cluster.running()) expect(g.stateOf(x)).toBe('normal');
  });

  it('evicts a member some time after it left, and peers that still hold it cannot bring it back; a new generation can', () => {
    const evictAfterMs = 30 * ROUND;
    // n0001 forgets late, so it keeps gossiping the left member after the others evicted it.
    const cluster = settled(5, 8, { perNode: (id) => ({ evictAfterMs: id === 'n0001' ? 10 * evictAfterMs : evictAfterMs }) });
    const x = 'n0004';
    const events = record(cluster);
    cluster.gossiper(x).setStatus('left');
    cluster.runFor(5 * ROUND);
    cluster.crash(x);
    cluster.runFor(evictAfterMs + 20 * ROUND);
    for (const id of ['n0000', 'n0002', 'n0003']) {
      expect(cluster.gossiper(id).member(x), id).toBeUndefined();
      expect(events.filter((e) => e.at === id && e.type === 'evicted' && e.nodeId === x).length).toBe(1);
      expect(events.some((e) => e.at === id && e.type === 'joined' && e.nodeId === x)).toBe(false);
    }
    expect(cluster.gossiper('n0001').member(x)!.status).toBe('left');
    expect(cluster.gossiper('n0000').stats().ignoredDeltas.evicted + cluster.gossiper('n0002').stats().ignoredDeltas.evicted).toBeGreaterThan(0);
    cluster.restart(x).setStatus('joining');
    expect(cluster.runUntil(() => cluster.running().every((g) => g.stateOf(x) === 'joining' && g.isUp(x)), 30 * ROUND, ROUND)).not.toBeNull();
  });

  it('garbage is dropped and counted, never a crash, and the cluster carries on', () => {
    const cluster = settled(4, 9);
    const target = cluster.gossiper('n0000');
    const rng = new SimRng('garbage');
    let handled = 0;
    for (let i = 0; i < 200; i++) {
      const bytes = new Uint8Array(rng.int(100));
      for (let j = 0; j < bytes.length; j++) bytes[j] = rng.int(256);
      if (target.handleFrame('n0001', bytes)) handled++;
    }
    // Well-framed garbage through the simulated network.
    const junk = [encodeFrame([1, 2, 3]), encodeFrame({ p: GOSSIP_PROTOCOL, v: 1, t: 'syn', c: 'ringkv', d: 'x' }), encodeFrame({ p: GOSSIP_PROTOCOL, v: 9, t: 'syn' }), encodeFrame('hello')];
    for (const frame of junk) cluster.sim.node('n0002').env.net.send('n0000', frame);
    expect(target.handleMessage('n0001', { p: GOSSIP_PROTOCOL, v: 1, t: 'ack2', c: 'ringkv', s: [{ i: 'n0003', g: -1 }] })).toBe(false);
    const foreign = encodeGossipFrame({ t: 'syn', cluster: 'other', digests: [{ nodeId: 'intruder', generation: 1, maxVersion: 9 }] });
    expect(target.handleFrame('n0003', foreign)).toBe(false);
    cluster.runFor(10 * ROUND);
    expect(handled).toBe(0);
    const stats = target.stats();
    expect(stats.rejectedFrames).toBe(200 + junk.length + 1);
    expect(stats.foreignCluster).toBe(1);
    expect(target.member('intruder')).toBeUndefined();
    expect(cluster.oneView()).toBe(true);
  });

  it('behind a multiplexer: an injected send, payloads handed over, the network left to the multiplexer', () => {
    const sim = new Simulator({ seed: 10 });
    const ids = ['a', 'b', 'c'];
    for (const id of ids) sim.addNode(id);
    SimNetwork.attach(sim);
    const others: string[] = [];
    const gossipers = ids.map((id) => {
      const env = sim.node(id).env;
      const g = new Gossiper(env, { generation: 1, seeds: ['a'], status: 'normal', send: (to, frame) => env.net.send(to, frame) });
      env.net.onFrame((from, frame) => {
        const payload = decodeFrame(frame)!.message;
        if (isGossipPayload(payload)) g.handleMessage(from, payload);
        else others.push(`${from}>${id}`);
      });
      g.start();
      return g;
    });
    sim.node('b').env.net.send('c', encodeFrame({ v: 1, t: 'ping', id: 1 }));
    sim.run({ untilMs: 20 * ROUND });
    for (const g of gossipers) expect(g.liveMembers()).toEqual(ids.filter((id) => id !== g.nodeId));
    expect(others).toEqual(['b>c']);
  });

  it('a stopped node sends nothing, drops what arrives, and is suspected by the others', () => {
    const cluster = settled(4, 11);
    const x = cluster.gossiper('n0002');
    x.stop();
    const sent = x.stats().sent;
    cluster.runFor(20 * ROUND);
    expect(x.stats().sent).toEqual(sent);
    expect(x.stats().whileStopped).toBeGreaterThan(0);
    for (const g of cluster.running()) if (g !== x) expect(g.stateOf('n0002')).toBe('down');
  });

  it('two halves of a partition each see the other down, and after it heals hold one view again', () => {
    const cluster = settled(10, 12);
    const events = record(cluster);
    const left = cluster.ids.slice(0, 5);
    const right = cluster.ids.slice(5);
    cluster.net.partition([left, right]);
    cluster.runFor(30 * ROUND);
    for (const id of left) for (const other of right) expect(cluster.gossiper(id).isUp(other)).toBe(false);
    // Each half changes while apart.
    cluster.gossiper('n0001').setStatus('leaving');
    cluster.gossiper('n0007').setTokens([99n]);
    cluster.runFor(30 * ROUND);
    expect(cluster.gossiper('n0008').member('n0001')!.status).toBe('normal');
    const healedAt = cluster.nowMs();
    cluster.net.heal();
    const at = cluster.runUntil(() => cluster.oneView(), 60 * ROUND, ROUND);
    expect(at).not.toBeNull();
    expect(at! - healedAt).toBeLessThanOrEqual(10 * ROUND);
    for (const g of cluster.running()) {
      expect(g.member('n0001')!.status).toBe('leaving');
      expect(g.member('n0007')!.tokens).toEqual([99n]);
    }
    expect(events.filter((e) => e.type === 'down').length).toBe(2 * 5 * 5);
  });

  it('a member whose links keep failing is held down by flap damping instead of flapping', () => {
    /** 'up' events about the member at one peer, per cycle. */
    const upsPerCycle = (flapPenalty: number): number[] => {
      const cluster = settled(5, 15, { gossip: { detector: { flapPenalty } } });
      cluster.runFor(60 * ROUND);
      const x = 'n0004';
      let cycle = 0;
      const ups = Array.from({ length: 10 }, () => 0);
      cluster.onEvent((e) => {
        if (e.at === 'n0000' && e.type === 'up' && e.nodeId === x) ups[cycle]!++;
      });
      // Cut off for 20 s (long enough to be suspected), back for 10 s, ten times over.
      for (; cycle < 10; cycle++) {
        cluster.net.isolate(x);
        cluster.runFor(20 * ROUND);
        cluster.net.heal();
        cluster.runFor(10 * ROUND);
      }
      return ups;
    };
    // Penalties of 1000 per recovery reach the suppress level (2500) at the third: from then on the member is
    // held down while reachable, until the penalty decays.
    const damped = upsPerCycle(1000);
    const undamped = upsPerCycle(0);
    expect(damped.slice(0, 3)).toEqual([1, 1, 1]);
    expect(damped.slice(3, 9)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(undamped.slice(3, 9).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
  });

  it('is deterministic: the same seed gives the same trace, another seed another', () => {
    const run = (seed: number): string => {
      const cluster = new GossipCluster({ nodes: 6, seed, net: { packetLossProbability: 0.05, packetReplayProbability: 0.05 } });
      cluster.runFor(30 * ROUND);
      cluster.crash('n0003');
      cluster.runFor(20 * ROUND);
      cluster.restart('n0003');
      cluster.runFor(20 * ROUND);
      return cluster.sim.traceHash();
    };
    expect(run(13)).toBe(run(13));
    expect(run(13)).not.toBe(run(14));
  });
});
