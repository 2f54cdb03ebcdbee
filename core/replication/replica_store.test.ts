import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SIM_EPOCH_MS } from '../../sim/sim_clock.ts';
import { Simulator } from '../../sim/simulator.ts';
import { Engine } from '../storage/engine.ts';
import { EMPTY_CONTEXT, emptyDvv, update } from '../versioning/dotted_version_vector.ts';
import { type VersionedValue, type Write, tombstoneWrite, valueWrite } from '../versioning/versioned_value.ts';
import { RecordWriter } from './record_writer.ts';
import { ReplicaStore, engineTtlMs } from './replica_store.ts';
import { sameVersion, mergeAll } from './version_set.ts';

const enc = (s: string) => new TextEncoder().encode(s);

function openStore(seed: string) {
  const sim = new Simulator({ seed });
  const node = sim.addNode('n1', { disk: { syncLatencyMs: [0.5, 3] } });
  let engine: Engine | undefined;
  Engine.open(node.env, {}, (err, e) => {
    if (err) throw err;
    engine = e;
  });
  sim.runUntil(() => engine !== undefined);
  const writer = new RecordWriter(engine!);
  return { sim, node, engine: engine!, writer, store: new ReplicaStore(engine!, writer, node.env.clock, 1000) };
}

const lwwArb: fc.Arbitrary<VersionedValue> = fc
  .record({ wall: fc.integer({ min: 1, max: 6 }), node: fc.constantFrom('a', 'b'), tomb: fc.boolean(), byte: fc.nat(3) })
  .map((v) => {
    const hlc = { wallMs: SIM_EPOCH_MS + v.wall, logical: 0, nodeId: v.node };
    return { mode: 'lww', write: v.tomb ? tombstoneWrite(hlc) : valueWrite(hlc, Uint8Array.of(v.byte)) };
  });

// Siblings states as replicas of a real history would hold them: each a prefix-closed result of coordinator updates.
const siblingStatesArb: fc.Arbitrary<VersionedValue[]> = fc
  .array(fc.record({ coord: fc.constantFrom('a', 'b', 'c'), sawAll: fc.boolean() }), { minLength: 1, maxLength: 8 })
  .map((steps) => {
    const byCoord = new Map<string, VersionedValue>();
    const out: VersionedValue[] = [];
    steps.forEach((s, i) => {
      const prev = byCoord.get(s.coord);
      const dvv = prev?.mode === 'siblings' ? prev.dvv : emptyDvv<never>();
      const next = update(dvv, s.sawAll && prev?.mode === 'siblings' ? prev.dvv.entries.map((e) => ({ node: e.node, counter: e.counter })) : EMPTY_CONTEXT, valueWrite({ wallMs: i + 1, logical: 0, nodeId: s.coord }, Uint8Array.of(i)), s.coord);
      const v: VersionedValue = { mode: 'siblings', dvv: next };
      byCoord.set(s.coord, v);
      out.push(v);
    });
    return out;
  });

describe('replica store', () => {
  it('ends at the merge of every version applied, in any order, duplicated, back to back', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(lwwArb, { minLength: 1, maxLength: 8 }), siblingStatesArb), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), (versions, dupes, waitEach) => {
        const { sim, store } = openStore('merge');
        const sequence = [...versions, ...dupes.map((d) => versions[d % versions.length]!)];
        let acked = 0;
        for (const v of sequence) {
          store.apply('ks', enc('k'), v, (err) => {
            expect(err).toBeNull();
            acked++;
          });
          if (waitEach) sim.runUntil(() => acked === sequence.indexOf(v) + 1 || acked === sequence.length);
        }
        sim.runUntil(() => acked === sequence.length);
        expect(sameVersion(store.read('ks', enc('k')), mergeAll(versions))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('reports only acknowledged data from read, and the newest from latest', () => {
    const { sim, store } = openStore('views');
    const v: VersionedValue = { mode: 'lww', write: valueWrite({ wallMs: 5, logical: 0, nodeId: 'a' }, enc('x')) };
    let done = false;
    store.apply('ks', enc('k'), v, () => (done = true));
    expect(store.read('ks', enc('k'))).toBeNull();
    expect(store.latest('ks', enc('k'))).toEqual(v);
    sim.runUntil(() => done);
    expect(sameVersion(store.read('ks', enc('k')), v)).toBe(true);
  });

  it('answers a duplicate only once the version it reports is durable', () => {
    const { sim, store } = openStore('dup');
    const v: VersionedValue = { mode: 'lww', write: valueWrite({ wallMs: 5, logical: 0, nodeId: 'a' }, enc('x')) };
    const order: string[] = [];
    store.apply('ks', enc('k'), v, () => order.push('first'));
    store.apply('ks', enc('k'), v, () => order.push('dup'));
    sim.runUntil(() => order.length === 2);
    expect(order).toEqual(['first', 'dup']);
  });

  it('refuses to merge versions of different modes', () => {
    const { sim, store } = openStore('modes');
    const v: VersionedValue = { mode: 'lww', write: valueWrite({ wallMs: 5, logical: 0, nodeId: 'a' }, enc('x')) };
    let first = false;
    store.apply('ks', enc('k'), v, () => (first = true));
    sim.runUntil(() => first);
    let error: Error | null = null;
    store.apply('ks', enc('k'), { mode: 'siblings', dvv: update(emptyDvv(), EMPTY_CONTEXT, v.write, 'a') }, (err) => (error = err));
    expect(error).not.toBeNull();
  });

  it('scans a keyspace in key order with a limit, and dumps every keyspace', () => {
    const { sim, store } = openStore('scan');
    let acked = 0;
    const keys = ['b', 'a', 'd', 'c', 'e'];
    for (const k of keys) {
      store.apply('one', enc(k), { mode: 'lww', write: valueWrite({ wallMs: 1, logical: 0, nodeId: 'a' }, enc(k)) }, () => acked++);
      store.apply('two', enc(k), { mode: 'lww', write: tombstoneWrite({ wallMs: SIM_EPOCH_MS, logical: 0, nodeId: 'a' }) }, () => acked++);
    }
    sim.runUntil(() => acked === 10);
    const page = store.scan('one', enc('b'), enc('e'), 2);
    expect(page.records.map((r) => new TextDecoder().decode(r.key))).toEqual(['b', 'c']);
    expect(page.more).toBe(true);
    expect(store.scan('one', enc('b'), enc('e'), 3).more).toBe(false);
    expect(store.scan('two', undefined, undefined, 100).records.length).toBe(5);
    expect(store.dump().map((r) => r.ks + new TextDecoder().decode(r.key))).toEqual(['onea', 'oneb', 'onec', 'oned', 'onee', 'twoa', 'twob', 'twoc', 'twod', 'twoe']);
  });

  it('survives a crash once acknowledged', () => {
    const { sim, store, node } = openStore('crash');
    let done = false;
    store.apply('ks', enc('k'), { mode: 'lww', write: valueWrite({ wallMs: 5, logical: 0, nodeId: 'a' }, enc('x')) }, () => (done = true));
    sim.runUntil(() => done);
    sim.crash('n1');
    const env = sim.restart('n1').env;
    let engine: Engine | undefined;
    Engine.open(env, {}, (err, e) => {
      if (err) throw err;
      engine = e;
    });
    sim.runUntil(() => engine !== undefined);
    expect(new ReplicaStore(engine!, new RecordWriter(engine!), node.env.clock, 0).read('ks', enc('k'))).not.toBeNull();
  });
});

describe('engine TTL of a stored version', () => {
  const at = (wallMs: number) => ({ wallMs, logical: 0, nodeId: 'a' });
  it('is unset while a write neither expires nor is deleted, else the last deletion or expiry plus grace', () => {
    expect(engineTtlMs({ mode: 'lww', write: valueWrite(at(10), enc('x')) }, 100, 50)).toBeUndefined();
    expect(engineTtlMs({ mode: 'lww', write: valueWrite(at(10), enc('x'), 500) }, 100, 50)).toBe(450);
    expect(engineTtlMs({ mode: 'lww', write: tombstoneWrite(at(90)) }, 100, 50)).toBe(40);
    expect(engineTtlMs({ mode: 'lww', write: tombstoneWrite(at(10)) }, 100, 50)).toBe(1);
    const both = update(update(emptyDvv<Write>(), EMPTY_CONTEXT, valueWrite(at(1), enc('x'), 300), 'a'), EMPTY_CONTEXT, tombstoneWrite(at(200)), 'b');
    expect(engineTtlMs({ mode: 'siblings', dvv: both }, 100, 50)).toBe(250);
    const forever = update(both, EMPTY_CONTEXT, valueWrite(at(3), enc('y')), 'c');
    expect(engineTtlMs({ mode: 'siblings', dvv: forever }, 100, 50)).toBeUndefined();
  });
});
