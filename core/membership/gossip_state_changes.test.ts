import { describe, expect, it } from 'vitest';
import { GossipCluster } from './gossip_cluster.testkit.ts';

const ROUND = 1000;

// Gossiper.stateChanges lets a view built from gossip state (node_membership.ts's topology) skip rebuilding
// while it is unchanged: it must move on every change such a view reads, and stay put on heartbeats.
describe('Gossiper.stateChanges', () => {
  it('stays put while a settled cluster only exchanges heartbeats', () => {
    const cluster = new GossipCluster({ nodes: 5, seed: 11 });
    expect(cluster.runUntil(() => cluster.oneView(), 60 * ROUND, ROUND)).not.toBeNull();
    cluster.runFor(5 * ROUND);
    const before = cluster.ids.map((id) => cluster.gossiper(id).stateChanges);
    const beats = cluster.ids.map((id) => cluster.gossiper(id).member('n0001')!.heartbeat);
    cluster.runFor(10 * ROUND);
    expect(cluster.ids.map((id) => cluster.gossiper(id).member('n0001')!.heartbeat)).not.toEqual(beats);
    expect(cluster.ids.map((id) => cluster.gossiper(id).stateChanges)).toEqual(before);
  });

  it('moves at every node on a status, token or application-state change, and not for a rewrite of the same value', () => {
    const cluster = new GossipCluster({ nodes: 5, seed: 12 });
    expect(cluster.runUntil(() => cluster.oneView(), 60 * ROUND, ROUND)).not.toBeNull();
    const reading = (): number[] => cluster.ids.map((id) => cluster.gossiper(id).stateChanges);
    const moved = (a: number[], b: number[]): boolean[] => a.map((x, i) => b[i]! > x);
    const all = cluster.ids.map(() => true);

    const writer = cluster.gossiper('n0002');
    writer.setAppState('k', 'v1');
    let before = reading();
    expect(writer.stateChanges).toBeGreaterThan(0);
    cluster.runFor(15 * ROUND);
    expect(cluster.gossiper('n0004').member('n0002')!.appState('k')).toBe('v1');

    before = reading();
    writer.setAppState('k', 'v1'); // same value, new version: gossiped, but nothing a view reads changed
    cluster.runFor(15 * ROUND);
    expect(reading()).toEqual(before);

    for (const change of [() => writer.setAppState('k', 'v2'), () => writer.setStatus('leaving'), () => writer.setTokens([5n, 9n])]) {
      before = reading();
      change();
      cluster.runFor(15 * ROUND);
      expect(moved(before, reading())).toEqual(all);
    }
  });
});
