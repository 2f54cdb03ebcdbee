import { describe, expect, it } from 'vitest';
import type { KeyspaceConfig } from '../core/replication/keyspace.ts';
import { toHistory } from './client_op.ts';
import { SimCluster } from './cluster.ts';
import { fakeStoreOpener } from './fake_store_node.ts';
import { validateHistory } from './history.ts';
import { Simulator } from './simulator.ts';
import { Workload, type WorkloadSpec } from './workload.ts';
import { parseWorkloadValue } from './workload_value.ts';

const LWW: KeyspaceConfig = { name: 'default', replicationFactor: 3, readConsistency: 'QUORUM', writeConsistency: 'QUORUM', conflictMode: 'lww', defaultTtlMs: 0 };
const SIB: KeyspaceConfig = { ...LWW, name: 'carts', conflictMode: 'siblings' };

const SPEC: WorkloadSpec = {
  clients: 5,
  thinkMs: 5,
  clientTimeoutMs: 200,
  groups: [
    { keyspace: 'default', prefix: 'a', keys: 3, consistency: ['ONE', 'QUORUM'], readConsistency: ['ALL'], weight: 2, mix: { read: 2, write: 2, delete: 1 }, linearizable: false },
    { keyspace: 'carts', prefix: 'c', keys: 2, consistency: ['QUORUM'], weight: 1, mix: { read: 2, write: 2, delete: 1 }, contextProbability: 1, linearizable: false },
  ],
};

function run(seed: number, errorProbability: number, crashAtMs: number | null = null) {
  const sim = new Simulator({ seed });
  const cluster = new SimCluster(sim, { nodes: 4, keyspaces: [LWW, SIB] }, fakeStoreOpener({ behaviour: 'atomic', errorProbability }));
  cluster.startAll();
  sim.runUntil(() => cluster.allReady(), { untilMs: 1000 });
  const w = new Workload(sim, cluster, SPEC, sim.rng.fork('workload'));
  w.start();
  if (crashAtMs !== null) sim.schedule(crashAtMs, 'crash', () => cluster.crash('n2'));
  sim.run({ untilMs: sim.nowMs() + 1500 });
  w.stop();
  sim.runUntil(() => w.idle(), { untilMs: sim.nowMs() + 1000 });
  return { sim, cluster, w };
}

describe('workload', () => {
  it('records one operation at a time per client, unique self-describing values, levels from the group', () => {
    const { w } = run(1, 0);
    expect(w.idle()).toBe(true);
    expect(w.ops.length).toBeGreaterThan(300);
    expect(w.ops.every((op) => op.outcome !== null && op.ret !== null && op.ret >= op.call)).toBe(true);
    validateHistory(toHistory(w.ops));
    const values = w.ops.filter((op) => op.kind === 'write').map((op) => op.value!);
    expect(new Set(values).size).toBe(values.length);
    for (const op of w.ops.filter((o) => o.kind === 'write')) {
      expect(parseWorkloadValue(op.value!)).toMatchObject({ keyspace: op.keyspace, key: op.key, process: op.process });
    }
    for (const op of w.ops.filter((o) => o.keyspace === 'default')) expect(op.kind === 'read' ? ['ALL'] : ['ONE', 'QUORUM']).toContain(op.consistency);
    expect(new Set(w.ops.map((op) => op.coordinator)).size).toBe(4);
    expect(w.ops.map((op) => op.index)).toEqual(w.ops.map((_, i) => i));
  });

  it('sends, in a siblings keyspace, the context of the client\'s own last read of the key', () => {
    const { w } = run(2, 0);
    const withContext = w.ops.filter((op) => op.contextFrom !== null);
    expect(withContext.length).toBeGreaterThan(20);
    for (const op of withContext) {
      const read = w.ops[op.contextFrom!]!;
      expect(read).toMatchObject({ kind: 'read', outcome: 'ok', process: op.process, keyspace: op.keyspace, key: op.key });
      expect(op.contextSent).toBe(read.contextReturned);
      expect(op.keyspace).toBe('carts');
      const later = w.ops.filter((o) => o.process === op.process && o.key === op.key && o.kind === 'read' && o.outcome === 'ok' && o.index > read.index && o.index < op.index);
      expect(later).toEqual([]);
    }
    expect(w.ops.some((op) => op.keyspace === 'default' && op.contextSent !== null)).toBe(false);
  });

  it('maps answers to outcomes: failed reads fail, definite write errors fail, others and timeouts are unknown', () => {
    const { w } = run(3, 0.3, 700);
    const failed = w.ops.filter((op) => op.outcome !== 'ok');
    expect(failed.length).toBeGreaterThan(50);
    for (const op of failed) {
      if (op.kind === 'read') expect(op.outcome).toBe('fail');
      else if (op.error === 'client timeout') expect(op.outcome).toBe('info');
      else expect(op.outcome).toBe(op.error!.includes('(nothing was written)') ? 'fail' : 'info');
    }
    expect(failed.some((op) => op.kind !== 'read' && op.outcome === 'fail')).toBe(true);
    expect(failed.some((op) => op.kind !== 'read' && op.outcome === 'info' && op.error !== 'client timeout')).toBe(true);
    // The crash of n2 leaves its requests unanswered: the clients give up after their timeout.
    const timedOut = failed.filter((op) => op.error === 'client timeout');
    expect(timedOut.length).toBeGreaterThan(0);
    expect(timedOut.every((op) => op.coordinator === 'n2' && op.ret! - op.call === 200)).toBe(true);
    expect(w.ops.filter((op) => op.call > 700 + 1e-9).every((op) => op.coordinator !== 'n2')).toBe(true);
  });

  it('readAll reads every key at the level given, spreading keys over the nodes and shifting by pass', () => {
    const { sim, w } = run(4, 0);
    w.readAll('ALL', 0);
    w.readAll('ALL', 1);
    sim.runUntil(() => w.idle(), { untilMs: sim.nowMs() + 1000 });
    expect(w.finalReads).toHaveLength(2 * w.keys().length);
    const first = w.finalReads.slice(0, w.keys().length);
    const second = w.finalReads.slice(w.keys().length);
    first.forEach((op, i) => expect(second[i]!.coordinator).not.toBe(op.coordinator));
    expect(w.finalReads.every((op) => op.consistency === 'ALL' && op.outcome === 'ok')).toBe(true);
    expect(w.finalReads[0]!.index).toBe(w.ops.length);
  });
});
