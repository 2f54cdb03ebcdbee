import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../io/env.ts';
import { Simulator } from '../../sim/simulator.ts';
import { keyToken } from '../ring/key_hash.ts';
import { Topology, type TopologyMember } from '../ring/topology.ts';
import { RecordWriter } from '../replication/record_writer.ts';
import { REPLICA_TAG, metaKey, parseReplicaKey, prefixEnd, replicaKey } from '../replication/storage_keys.ts';
import { Engine } from '../storage/engine.ts';
import type { EngineOptions } from '../storage/engine_options.ts';
import { parseFileName } from '../storage/manifest.ts';
import { RANGE_CLEANUP_META, RangeCleanup } from './range_cleanup.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const KEYSPACES = [
  { name: 'three', replicationFactor: 3 },
  { name: 'one', replicationFactor: 1 },
];

interface World {
  sim: Simulator;
  env: () => Env;
  engine: Engine;
  writer: RecordWriter;
}

function openWorld(sim: Simulator, options: Partial<EngineOptions> = {}): World {
  const env = () => sim.node('n1').env;
  let engine: Engine | undefined;
  Engine.open(env(), options, (err, e) => {
    if (err) throw err;
    engine = e;
  });
  sim.runUntil(() => engine !== undefined);
  return { sim, env, engine: engine!, writer: new RecordWriter(engine!) };
}

function newWorld(seed: string, options: Partial<EngineOptions> = {}): World {
  const sim = new Simulator({ seed });
  sim.addNode('n1', { disk: { syncLatencyMs: [0.5, 2] } });
  return openWorld(sim, options);
}

function put(w: World, storageKey: Uint8Array): void {
  let done = false;
  w.writer.put(storageKey, enc('v'), undefined, (err) => {
    if (err) throw err;
    done = true;
  });
  w.sim.runUntil(() => done);
}

/** Replica record keys (as "ks/key") the engine holds. */
function heldKeys(w: World): string[] {
  const out: string[] = [];
  const cursor = w.engine.iterator({ start: Uint8Array.of(REPLICA_TAG), end: prefixEnd(Uint8Array.of(REPLICA_TAG))! });
  for (let kv = cursor.next(); kv !== undefined; kv = cursor.next()) {
    const p = parseReplicaKey(kv.key)!;
    out.push(`${p.ks}/${new TextDecoder().decode(p.key)}`);
  }
  cursor.close();
  return out.sort();
}

function cleanupFor(w: World, state: { topology: Topology; settled: boolean; allowed: boolean }, marks: string[] = []): RangeCleanup {
  return new RangeCleanup({
    self: 'n1',
    timers: w.env().timers,
    engine: w.engine,
    writer: w.writer,
    keyspaces: () => KEYSPACES,
    topology: () => state.topology,
    settled: () => state.settled,
    allowed: () => state.allowed,
    loadMeta: (name) => w.engine.get(metaKey(name)),
    saveMeta: (name, value, cb) => w.writer.put(metaKey(name), value, undefined, cb),
    mark: (what) => marks.push(what),
  });
}

/** Ticks until no pass runs (the driver calls tick every probe interval). */
function runPasses(w: World, cleanup: RangeCleanup): void {
  cleanup.tick();
  w.sim.runUntil(() => cleanup.progress.running === null);
}

const member = (id: string, tokens: bigint[], phase: TopologyMember['phase'] = 'normal'): TopologyMember => ({ id, phase, tokens });

const arbTokens = fc.uniqueArray(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 1, maxLength: 4 });
const arbTopology = fc
  .tuple(arbTokens, fc.array(arbTokens, { minLength: 0, maxLength: 4 }))
  .map(([own, others]) => {
    // Tokens are unique per ring: a token claimed twice goes to one member only, which the model would have to follow.
    const seen = new Set<bigint>(own);
    const members = [member('n1', own)];
    others.forEach((ts, i) => {
      const mine = ts.filter((t) => !seen.has(t));
      mine.forEach((t) => seen.add(t));
      if (mine.length > 0) members.push(member(`p${i}`, mine));
    });
    return Topology.of(members);
  });
const arbKeys = fc.uniqueArray(fc.tuple(fc.constantFrom('three', 'one', 'unknown'), fc.stringMatching(/^[a-z0-9]{1,6}$/)), {
  minLength: 0,
  maxLength: 40,
  selector: ([ks, k]) => `${ks}/${k}`,
});

describe('RangeCleanup', () => {
  it('drops exactly the records the node is not a home replica of, and keeps unknown keyspaces', () => {
    fc.assert(
      fc.property(arbTopology, arbKeys, (topology, keys) => {
        const w = newWorld('cleanup-model');
        for (const [ks, k] of keys) put(w, replicaKey(ks, enc(k)));
        const cleanup = cleanupFor(w, { topology, settled: true, allowed: true });
        runPasses(w, cleanup);
        const expected = keys
          .filter(([ks, k]) => {
            const config = KEYSPACES.find((c) => c.name === ks);
            return config === undefined || topology.readReplicas(keyToken(enc(k)), config.replicationFactor).includes('n1');
          })
          .map(([ks, k]) => `${ks}/${k}`)
          .sort();
        expect(heldKeys(w)).toEqual(expected);
        expect(cleanup.progress.cleanedVersion).toBe(topology.version);
        expect(cleanup.progress.droppedSinceOpen).toBe(keys.length - expected.length);
      }),
      { numRuns: 60 },
    );
  });

  it('waits while ranges move, the ring is unsettled or a rebuild is needed', () => {
    const w = newWorld('cleanup-wait');
    const tokens = (base: bigint) => [base, base + (1n << 62n)];
    const normal = Topology.of([member('n1', tokens(1n)), member('n2', tokens(1n << 60n)), member('n3', tokens(2n << 60n)), member('n4', tokens(3n << 60n))]);
    for (let i = 0; i < 300; i++) put(w, replicaKey('one', enc(`k${i}`)));
    const state = { topology: normal.withMember('n5', 'joining', tokens(5n << 59n)), settled: true, allowed: true };
    const cleanup = cleanupFor(w, state);
    cleanup.tick();
    expect(cleanup.progress.running).toBeNull(); // moving
    state.topology = normal;
    state.settled = false;
    cleanup.tick();
    expect(cleanup.progress.running).toBeNull(); // not settled
    state.settled = true;
    state.allowed = false;
    cleanup.tick();
    expect(cleanup.progress.running).toBeNull(); // rebuild needed
    expect(heldKeys(w)).toHaveLength(300);
    state.allowed = true;
    runPasses(w, cleanup);
    const kept = heldKeys(w).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(300); // N=1 over four members: most keys belong to others
  });

  it('stops a pass when the topology changes, starts over for the new one, and does not walk again after a restart', () => {
    const w = newWorld('cleanup-restart');
    const a = Topology.of([member('n1', [1n]), member('n2', [1n << 63n])]);
    const b = Topology.of([member('n1', [1n]), member('n2', [1n << 63n]), member('n3', [1n << 62n])]);
    // Enough keys for several steps.
    for (let i = 0; i < 1200; i++) put(w, replicaKey('one', enc(`k${i}`)));
    const state = { topology: a, settled: true, allowed: true };
    const marks: string[] = [];
    const cleanup = cleanupFor(w, state, marks);
    cleanup.tick();
    expect(cleanup.progress.running?.topologyVersion).toBe(a.version);
    state.topology = b;
    cleanup.tick();
    expect(marks).toContain('range cleanup: pass stopped');
    expect(cleanup.progress.running?.topologyVersion).toBe(b.version);
    w.sim.runUntil(() => cleanup.progress.running === null);
    const owned = (k: string) => b.readReplicas(keyToken(enc(k)), 1).includes('n1');
    expect(heldKeys(w)).toEqual(Array.from({ length: 1200 }, (_, i) => `k${i}`).filter(owned).map((k) => `one/${k}`).sort());
    expect(new TextDecoder().decode(w.engine.get(metaKey(RANGE_CLEANUP_META))!)).toBe(String(b.version));

    w.sim.crash('n1');
    w.sim.restart('n1');
    const again = openWorld(w.sim);
    const marksAfter: string[] = [];
    const reopened = cleanupFor(again, { topology: b, settled: true, allowed: true }, marksAfter);
    expect(reopened.progress.cleanedVersion).toBe(b.version);
    reopened.tick();
    expect(reopened.progress.running).toBeNull();
    expect(marksAfter).toEqual([]);
  });

  it('stops at a corrupt table without throwing, and tries again later', () => {
    const w = newWorld('cleanup-corrupt', { compression: false, blockCacheBytes: 0 }); // no cache: the walk reads the disk
    const sim = w.sim;
    for (let i = 0; i < 400; i++) put(w, replicaKey('one', enc(`k${i}`)));
    let flushed = false;
    w.engine.flush((err) => {
      if (err) throw err;
      flushed = true;
    });
    sim.runUntil(() => flushed);
    const table = sim.node('n1').disk.list().find((n) => parseFileName(n)?.kind === 'table')!;
    sim.node('n1').disk.flipBit(table, 100, 3); // inside the first data block
    const topology = Topology.of([member('n1', [1n]), member('n2', [1n << 63n])]);
    const marks: string[] = [];
    const cleanup = cleanupFor(w, { topology, settled: true, allowed: true }, marks);
    runPasses(w, cleanup);
    expect(marks).toContain('range cleanup: corrupt data, pass stopped');
    expect(cleanup.progress.cleanedVersion).toBeNull();
    cleanup.tick();
    expect(cleanup.progress.running).toBeNull(); // not at once
    sim.run({ untilMs: sim.nowMs() + 31_000 });
    cleanup.tick();
    expect(cleanup.progress.running).not.toBeNull();
    cleanup.close();
  });
});
