// The anti-entropy service inside real store nodes in the simulator: a
// replica that missed writes (down, no hints to replay, no reads) is brought
// level by scheduled exchanges alone, and not without them; an operator
// repair reports progress and converges; purged tombstones leave the trees.

import { describe, expect, it } from 'vitest';
import { ClusterFixture, enc } from '../replication/cluster_fixture.testkit.ts';
import { DEFAULT_KEYSPACE, type NodeConfig } from '../node.ts';
import type { RepairProgress } from './anti_entropy_service.ts';

const KS = 'default';

/** Replica records per key, as comparable strings, for the nodes given. */
function holdings(f: ClusterFixture, ids: readonly string[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const id of ids) {
    for (const r of f.node(id).dumpReplicaRecords()) {
      const key = new TextDecoder().decode(r.key);
      if (!out.has(key)) out.set(key, new Map());
      out.get(key)!.set(id, JSON.stringify(r.value, (_, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? [...v] : v)));
    }
  }
  return out;
}

/** Keys whose home replicas do not all hold the same record. */
function divergentKeys(f: ClusterFixture): string[] {
  const out: string[] = [];
  for (const [key, byNode] of holdings(f, f.ids)) {
    const home = f.home(key);
    const values = home.map((n) => byNode.get(n) ?? '<none>');
    if (new Set(values).size > 1) out.push(key);
  }
  return out.sort();
}

/** Three nodes, N=3: n3 is down while keys are written and some deleted, then comes back. No fallbacks exist, so no hints. */
function missedWrites(seed: string, config: Partial<NodeConfig>): ClusterFixture {
  const f = new ClusterFixture(seed, { nodes: 3, keyspaces: [DEFAULT_KEYSPACE], config: { engine: { tombstoneGraceMs: 3_600_000 }, ...config } });
  for (let i = 0; i < 20; i++) expect(f.put('n1', { keyspace: KS, key: enc(`before${i}`), value: enc(`v${i}`), consistency: { level: 'ALL' } }).ok).toBe(true);
  f.crash('n3');
  for (let i = 0; i < 40; i++) expect(f.put('n1', { keyspace: KS, key: enc(`k${i}`), value: enc(`w${i}`), consistency: { level: 'QUORUM' } }).ok).toBe(true);
  for (let i = 0; i < 5; i++) expect(f.delete('n2', { keyspace: KS, key: enc(`before${i}`), consistency: { level: 'QUORUM' } }).ok).toBe(true);
  f.restart('n3');
  return f;
}

describe('anti-entropy service', () => {
  it('brings a replica that missed writes and deletes level by scheduled exchanges alone', () => {
    const f = missedWrites('ae-scheduled', { antiEntropy: { intervalMs: 50 } });
    expect(divergentKeys(f).length).toBeGreaterThanOrEqual(45);
    f.advance(30_000);
    expect(divergentKeys(f)).toEqual([]);
    const status = f.node('n3').antiEntropyStatus();
    expect(status.treesBuilt).toBe(status.trees);
    expect(status.trees).toBeGreaterThan(0);
    const received = f.ids.reduce((n, id) => n + f.node(id).antiEntropyStatus().keysReceived + f.node(id).antiEntropyStatus().keysSent, 0);
    expect(received).toBeGreaterThanOrEqual(45);
    expect(f.markCount('anti-entropy range repaired')).toBeGreaterThan(0);
  });

  it('leaves the replica behind when exchanges are disabled (the test above can fail)', () => {
    const f = missedWrites('ae-scheduled', { antiEntropy: { enabled: false } });
    f.advance(30_000);
    expect(divergentKeys(f).length).toBeGreaterThanOrEqual(45);
    expect(f.node('n1').antiEntropyStatus().exchangesStarted).toBe(0);
  });

  it('runs an operator repair of the whole node with progress, then finds everything in sync', () => {
    const f = missedWrites('ae-operator', { antiEntropy: { enabled: false } });
    const progress: RepairProgress[] = [];
    const result = f.wait<{ err: Error | null; p: RepairProgress }>((cb) =>
      f.node('n3').repair('all', (p) => progress.push(p), (err, p) => cb({ err, p })),
    );
    expect(result.err).toBeNull();
    expect(result.p.finished).toBe(true);
    expect(result.p.done).toBe(result.p.pairs);
    expect(result.p.pairs).toBe(2 * f.node('n3').antiEntropyStatus().trees);
    expect(result.p.keysRepaired).toBeGreaterThanOrEqual(45);
    expect(progress.length).toBe(result.p.pairs + 1);
    expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));
    expect(divergentKeys(f)).toEqual([]);
    const again = f.wait<RepairProgress>((cb) => f.node('n1').repair({ keyspace: KS }, () => {}, (_err, p) => cb(p)));
    expect(again.keysRepaired).toBe(0);
    expect(again.inSync).toBe(again.pairs);
    expect(again.bytes).toBeLessThan(again.pairs * 200);
  });

  it('repairs one range only when asked for one range', () => {
    const f = missedWrites('ae-range', { antiEntropy: { enabled: false } });
    const before = divergentKeys(f);
    const range = f.ring.rangeAt(0);
    const p = f.wait<RepairProgress>((cb) => f.node('n3').repair({ keyspace: KS, range }, () => {}, (_err, progress) => cb(progress)));
    expect(p.pairs).toBe(2);
    const after = divergentKeys(f);
    expect(after.length).toBeLessThan(before.length);
    expect(after.length).toBeGreaterThan(0);
  });

  it('refuses a second repair while one runs, and an unknown keyspace', () => {
    const f = new ClusterFixture('ae-refuse', { nodes: 3, keyspaces: [DEFAULT_KEYSPACE], config: { antiEntropy: { enabled: false } } });
    const errors: string[] = [];
    f.node('n1').repair('all', () => {}, () => {});
    f.node('n1').repair('all', () => {}, (err) => errors.push(err!.message));
    f.node('n1').repair({ keyspace: 'nope' }, () => {}, (err) => errors.push(err!.message));
    expect(errors).toEqual(['a repair is already running on this node', 'keyspace nope is not configured']);
    expect(f.node('n1').antiEntropyStatus().repair).not.toBeNull();
  });

  it('drops tombstones from the trees at the end of the grace period, so they cause no repair', () => {
    const f = new ClusterFixture('ae-purge', { nodes: 3, keyspaces: [DEFAULT_KEYSPACE], config: { engine: { tombstoneGraceMs: 2_000 }, antiEntropy: { intervalMs: 50 } } });
    for (let i = 0; i < 10; i++) expect(f.put('n1', { keyspace: KS, key: enc(`k${i}`), value: enc('v'), consistency: { level: 'ALL' } }).ok).toBe(true);
    f.advance(1_000);
    const tracked = f.node('n1').antiEntropyStatus().keysTracked;
    expect(tracked).toBeGreaterThanOrEqual(10);
    for (let i = 0; i < 10; i++) expect(f.delete('n1', { keyspace: KS, key: enc(`k${i}`), consistency: { level: 'ALL' } }).ok).toBe(true);
    f.advance(500);
    expect(f.node('n1').antiEntropyStatus().keysTracked).toBe(tracked);
    f.advance(5_000);
    const s = f.node('n1').antiEntropyStatus();
    expect(s.entriesPurged).toBeGreaterThanOrEqual(10);
    expect(s.keysTracked).toBe(tracked - 10);
    const keysMoved = f.ids.reduce((n, id) => n + f.node(id).antiEntropyStatus().keysReceived + f.node(id).antiEntropyStatus().keysSent, 0);
    expect(keysMoved).toBe(0);
    expect(s.rangesInSync).toBeGreaterThan(0);
  });

  it('builds trees only when first needed, after a restart from what is on disk', () => {
    const f = new ClusterFixture('ae-restart', { nodes: 3, keyspaces: [DEFAULT_KEYSPACE], config: { antiEntropy: { enabled: false, buildKeysPerStep: 7 } } });
    for (let i = 0; i < 50; i++) expect(f.put('n1', { keyspace: KS, key: enc(`k${i}`), value: enc('v'), consistency: { level: 'ALL' } }).ok).toBe(true);
    // Nothing has asked for a tree yet: writes cost no upkeep.
    expect(f.node('n2').antiEntropyStatus().treesBuilt).toBe(0);
    expect(f.node('n2').antiEntropyStatus().keysTracked).toBe(0);
    const repairOn = (id: string): RepairProgress => f.wait<RepairProgress>((cb) => f.node(id).repair('all', () => {}, (_err, p) => cb(p)));
    // A repair builds n2's trees, and its peers' when n2 first asks them (a refusal while they build is asked again).
    const first = repairOn('n2');
    expect(first.failed).toBe(0);
    expect(first.inSync).toBe(first.pairs);
    const tracked = f.node('n2').antiEntropyStatus().keysTracked;
    expect(tracked).toBe(50);
    f.crash('n2');
    const node = f.restart('n2');
    f.advance(1_000);
    expect(node.antiEntropyStatus().treesBuilt).toBe(0);
    const again = repairOn('n2');
    expect(again.failed).toBe(0);
    expect(node.antiEntropyStatus().treesBuilt).toBe(node.antiEntropyStatus().trees);
    expect(node.antiEntropyStatus().keysTracked).toBe(tracked);
  });
});
