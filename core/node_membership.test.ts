// StoreNode with membership: gossip between store nodes over their shared
// network, generations across restarts, garbage frames, failure detection
// acting on the coordinator's liveness, and tombstone safety (a node away
// longer than the grace period is refused back until rebuilt).

import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../io/frame_codec.ts';
import { ClusterFixture, dec, enc } from './replication/cluster_fixture.testkit.ts';

const KS = 'default';

describe('gossip in the store node', () => {
  it('every node learns every other, believes it normal, and a restart bumps the generation', () => {
    const c = new ClusterFixture('membership-1', { nodes: 4, config: { gossipIntervalMs: 200 } });
    c.advance(3000);
    for (const id of c.ids) {
      const views = c.node(id).memberStates();
      expect(views.map((v) => v.id)).toEqual(c.ids);
      for (const v of views) {
        expect(v.state, `${id} sees ${v.id}`).toBe('normal');
        expect(v.generation).toBe(1);
        expect(v.needsRebuild).toBe(false);
        if (v.id !== id) expect(c.node(id).phi(v.id)).toBeLessThan(8);
      }
    }
    c.crash('n2');
    c.restart('n2');
    expect(c.node('n2').generation).toBe(2);
    c.advance(3000);
    for (const id of c.ids) expect(c.node(id).memberStates().find((v) => v.id === 'n2')!.generation).toBe(2);
    c.crash('n2');
    c.restart('n2');
    expect(c.node('n2').generation).toBe(3);
  });

  it('spreads each node\'s peer address: every node learns those of the others', () => {
    const c = new ClusterFixture('membership-addr', { nodes: 3, config: { gossipIntervalMs: 200 }, configOf: (id) => (id === 'n3' ? {} : { peerAddress: `10.0.0.${id.slice(1)}:9001` }) });
    c.advance(3000);
    for (const id of c.ids) {
      expect(c.node(id).memberStates().map((v) => [v.id, v.address])).toEqual([
        ['n1', '10.0.0.1:9001'],
        ['n2', '10.0.0.2:9001'],
        ['n3', null],
      ]);
    }
  });

  it('garbage frames of either protocol are counted and dropped; the nodes keep serving', () => {
    const c = new ClusterFixture('membership-2', { nodes: 3, config: { gossipIntervalMs: 200 } });
    c.advance(1000);
    const env = c.sim.node('n1').env;
    env.net.send('n2', encodeFrame({ p: 'gossip', v: 1, t: 'syn', c: 'ringkv', d: ['n1', 'not a number', 3] }));
    env.net.send('n2', encodeFrame({ p: 'gossip', v: 99 }));
    env.net.send('n2', encodeFrame({ v: 1, t: 'no-such-message', id: 1 }));
    env.net.send('n2', encodeFrame(['not', 'a', 'map']));
    c.advance(500);
    const marks = c.node('n2').marks();
    expect(marks.get('garbage gossip frame dropped')).toBe(2);
    expect(marks.get('garbage frame dropped')).toBe(2);
    expect(c.put('n2', { keyspace: KS, key: enc('k'), value: enc('v'), consistency: { level: 'ALL' } }).ok).toBe(true);
  });

  it('a crashed node is judged down by every peer within 10 s, and up again soon after it restarts', () => {
    const c = new ClusterFixture('membership-3', { nodes: 5 });
    c.advance(30_000); // 1 s rounds: the detectors learn the rhythm
    c.crash('n3');
    const t0 = c.sim.nowMs();
    const seenDown = new Map<string, number>();
    while (c.sim.nowMs() - t0 < 15_000 && seenDown.size < 4) {
      c.advance(100);
      for (const id of c.ids) if (id !== 'n3' && !seenDown.has(id) && c.node(id).memberStates().find((v) => v.id === 'n3')!.state === 'down') seenDown.set(id, c.sim.nowMs() - t0);
    }
    expect(seenDown.size).toBe(4);
    expect(Math.max(...seenDown.values())).toBeLessThanOrEqual(10_000);
    for (const id of c.ids) if (id !== 'n3') expect(c.node(id).believesUp('n3')).toBe(false);
    c.restart('n3');
    c.advance(3000);
    for (const id of c.ids) {
      if (id === 'n3') continue;
      expect(c.node(id).memberStates().find((v) => v.id === 'n3')!.state).toBe('normal');
      expect(c.node(id).believesUp('n3')).toBe(true);
    }
  });

  it('after a long partition heals, peers are believed up again within a gossip round or two and stay up', () => {
    // Cut off long enough for gossip to judge the peers down as well as the request layer.
    let relapses = 0;
    const upAfter: number[] = [];
    for (let round = 0; round < 4; round++) {
      const c = new ClusterFixture(`membership-heal-${round}`, { nodes: 3 });
      c.advance(20_000);
      c.net.isolate('n1');
      for (let i = 0; i < 4; i++) c.put('n1', { keyspace: KS, key: enc(`p${i}`), value: enc('v'), consistency: { level: 'ONE' } });
      c.advance(10_000 + 137 * round);
      expect(c.node('n1').reaches('n2') || c.node('n1').reaches('n3')).toBe(false);
      expect(c.node('n1').memberStates().filter((v) => v.state === 'down').map((v) => v.id)).toEqual(['n2', 'n3']);
      c.net.heal();
      const healedAt = c.sim.nowMs();
      let upAt: number | null = null;
      while (c.sim.nowMs() - healedAt < 5000) {
        c.advance(10);
        const up = c.node('n1').believesUp('n2') && c.node('n1').believesUp('n3');
        if (up && upAt === null) upAt = c.sim.nowMs() - healedAt;
        if (!up && upAt !== null) relapses++;
      }
      expect(upAt).not.toBeNull();
      upAfter.push(upAt!);
    }
    console.log(`[membership] peers believed up again ${upAfter.join(', ')} ms after the heal`);
    expect(Math.max(...upAfter)).toBeLessThanOrEqual(2500);
    expect(relapses).toBe(0);
  });
});

describe('tombstone safety', () => {
  const graceMs = 1000;
  function scenario(refuseAfterGrace: boolean): { c: ClusterFixture; key: string; returning: string } {
    const c = new ClusterFixture('tombstones', {
      nodes: 4,
      config: { gossipIntervalMs: 200, hintWindowMs: 300, engine: { tombstoneGraceMs: graceMs }, lastAliveIntervalMs: 50, fullCompactionIntervalMs: 300, refuseAfterGrace },
    });
    c.advance(1000);
    const key = 'zombie';
    const [returning, other] = c.home(key);
    expect(c.put(other!, { keyspace: KS, key: enc(key), value: enc('old'), consistency: { level: 'ALL' } }).ok).toBe(true);
    c.advance(200); // a last-alive record after the write
    c.crash(returning!);
    expect(c.delete(other!, { keyspace: KS, key: enc(key), consistency: { level: 'QUORUM' } }).ok).toBe(true);
    c.advance(3 * graceMs); // the tombstone's grace passes; compaction purges it; the hint expires
    expect(c.held(KS, key).size).toBe(0);
    c.restart(returning!);
    return { c, key, returning: returning! };
  }

  it('a node away longer than the grace period refuses to serve, is left out by its peers, and rebuilt holds no deleted value', () => {
    const { c, key, returning } = scenario(true);
    const node = c.node(returning);
    expect(node.needsRebuild).toBe(true);
    const refused = c.get(returning, { keyspace: KS, key: enc(key), consistency: { level: 'ONE' } });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.message).toMatch(/down longer than the tombstone grace period/);
    c.advance(1000);
    const peer = c.ids.find((id) => id !== returning)!;
    expect(c.node(peer).memberStates().find((v) => v.id === returning)!.needsRebuild).toBe(true);
    expect(c.node(peer).believesUp(returning)).toBe(false);
    const get = c.get(peer, { keyspace: KS, key: enc(key), consistency: { level: 'QUORUM' } });
    expect(get.ok && get.found).toBe(false);
    // Reopened before the rebuild, it still refuses (the flag is durable).
    c.crash(returning);
    expect(c.restart(returning).needsRebuild).toBe(true);
    expect(c.wait<Error | null>((cb) => c.node(returning).rebuild(cb))).toBeNull();
    expect(c.node(returning).needsRebuild).toBe(false);
    expect(c.node(returning).marks().get('rebuild finished')).toBe(1);
    c.advance(1500);
    expect(c.node(peer).believesUp(returning)).toBe(true);
    for (const id of c.ids) {
      const res = c.get(id, { keyspace: KS, key: enc(key), consistency: { level: 'ALL' } });
      expect(res.ok && res.found, `read at ${id}`).toBe(false);
    }
    expect(c.held(KS, key).size).toBe(0);
    // Data written before the absence and never deleted is streamed back.
    expect(c.put(peer, { keyspace: KS, key: enc('kept'), value: enc('v'), consistency: { level: 'ALL' } }).ok).toBe(true);
    expect([...c.held(KS, 'kept').values()].flat()).toEqual(['v', 'v', 'v']);
  });

  it('without the refusal the deleted value comes back (what the refusal prevents)', () => {
    const { c, key, returning } = scenario(false);
    expect(c.node(returning).needsRebuild).toBe(false);
    c.advance(1500);
    const res = c.get(returning, { keyspace: KS, key: enc(key), consistency: { level: 'ALL' } });
    expect(res.ok && res.found && dec(res.values[0]!)).toBe('old');
  });

  it('a restart within the grace period needs no rebuild', () => {
    const c = new ClusterFixture('tombstones-short', { nodes: 3, config: { engine: { tombstoneGraceMs: 60_000 }, lastAliveIntervalMs: 1000 } });
    c.advance(5000);
    c.crash('n1');
    c.advance(20_000);
    expect(c.restart('n1').needsRebuild).toBe(false);
    expect(c.node('n1').rebuildProgress()).toBeNull();
  });
});
