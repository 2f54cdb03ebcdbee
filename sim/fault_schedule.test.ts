import { describe, expect, it } from 'vitest';
import type { KeyspaceConfig } from '../core/replication/keyspace.ts';
import { SimCluster } from './cluster.ts';
import { fakeStoreOpener } from './fake_store_node.ts';
import { FaultSchedule, type FaultSpec } from './fault_schedule.ts';
import { SimRng } from './sim_rng.ts';
import { Simulator } from './simulator.ts';

const LWW: KeyspaceConfig = { name: 'default', replicationFactor: 3, readConsistency: 'QUORUM', writeConsistency: 'QUORUM', conflictMode: 'lww', defaultTtlMs: 0 };

const EVERYTHING: FaultSpec = {
  network: { packetLossProbability: 0.1 },
  partitions: { meanIntervalMs: 50, meanDurationMs: 50, kinds: ['split', 'isolate', 'one-way'] },
  crashes: { meanIntervalMs: 40, meanDownMs: 80, maxDown: 2 },
  bitFlips: { meanIntervalMs: 60, bits: 1, nodes: [0, 1] },
  readErrorRate: 0.01,
  clocks: { skewMs: 100, driftPpm: 50, fast: { nodes: [4], aheadMs: 300 }, jumps: { meanIntervalMs: 100, maxMs: 20 } },
  script: [
    { atMs: 10, action: 'partition', groups: [[0], [1, 2]] },
    { atMs: 20, action: 'heal' },
    { atMs: 30, action: 'clock-jump', node: 3, ms: 500 },
    { atMs: 40, action: 'one-way', from: [0], to: [1] },
  ],
};

function world(seed: number, spec: FaultSpec) {
  const sim = new Simulator({ seed });
  const faults = new FaultSchedule(spec, sim.rng.fork('faults'));
  const cluster = new SimCluster(sim, { nodes: 5, keyspaces: [LWW] }, fakeStoreOpener({ behaviour: 'atomic' }), (i) => faults.nodeOptions(i));
  cluster.startAll();
  sim.runUntil(() => cluster.allReady(), { untilMs: 100 });
  // Something on every disk for the bit flips to hit.
  for (const id of cluster.ids) {
    const f = sim.node(id).disk.create('data');
    f.append(new Uint8Array(4096));
    f.sync(() => {});
    sim.node(id).disk.syncDir(() => {});
  }
  return { sim, faults, cluster };
}

describe('fault schedule', () => {
  it('injects every kind of fault, never more than maxDown nodes down, and the liveness phase undoes them', () => {
    const { sim, faults, cluster } = world(1, EVERYTHING);
    faults.start(sim, cluster);
    let worstDown = 0;
    const watch = (): void => {
      worstDown = Math.max(worstDown, cluster.ids.filter((id) => !sim.isUp(id)).length);
      if (sim.nowMs() < 3000) sim.schedule(1, 'watch', watch);
    };
    watch();
    sim.run({ untilMs: 3000 });
    const log = faults.log.join('\n');
    for (const what of [/partition n/, /isolate n/, /one-way n/, /crash n/, /restart n/, /flip \d+ bits on n[12] /, /clock of n\d jumps/, /heal partitions/]) expect(log).toMatch(what);
    expect(log).not.toMatch(/flip \d+ bits on n[345]/);
    expect(log).toMatch(/\d+ ms: clock of n4 jumps 500 ms/);
    expect(worstDown).toBeGreaterThan(0);
    expect(worstDown).toBeLessThanOrEqual(2);

    faults.heal(sim, cluster);
    const logged = faults.log.length;
    expect(cluster.downIds()).toEqual([]);
    expect(cluster.net.describePartitions()).toEqual([]);
    expect(cluster.net.options().packetLossProbability).toBe(0);
    sim.runUntil(() => cluster.allReady(), { untilMs: sim.nowMs() + 100 });
    expect(cluster.allReady()).toBe(true);
    sim.run({ untilMs: sim.nowMs() + 2000 });
    expect(faults.log.length).toBe(logged);
    expect(cluster.ids.every((id) => sim.isUp(id))).toBe(true);
  });

  it('is a function of the seed', () => {
    const logOf = (seed: number): string[] => {
      const { sim, faults, cluster } = world(seed, EVERYTHING);
      faults.start(sim, cluster);
      sim.run({ untilMs: 1000 });
      return faults.log;
    };
    expect(logOf(5)).toEqual(logOf(5));
    expect(logOf(5)).not.toEqual(logOf(6));
  });

  it('draws clock skews within the bound and sets fast nodes exactly ahead', () => {
    const f = new FaultSchedule({ clocks: { skewMs: 50, driftPpm: 10, fast: { nodes: [1], aheadMs: 400 } } }, new SimRng(3));
    const opts = [0, 1, 2, 3].map((i) => f.nodeOptions(i));
    expect(opts[1]!.clockSkewMs).toBe(400);
    for (const i of [0, 2, 3]) expect(Math.abs(opts[i]!.clockSkewMs!)).toBeLessThanOrEqual(50);
    for (const o of opts) expect(Math.abs(o.clockDriftPpm!)).toBeLessThanOrEqual(10);
    expect(new FaultSchedule({}, new SimRng(3)).nodeOptions(0)).toEqual({});
  });
});
