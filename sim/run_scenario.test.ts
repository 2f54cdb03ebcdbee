import { describe, expect, it } from 'vitest';
import type { KeyspaceConfig } from '../core/replication/keyspace.ts';
import { type FakeStoreOptions, fakeStoreOpener } from './fake_store_node.ts';
import { exitCodeOf, runScenario } from './run_scenario.ts';
import type { Scenario } from './scenario.ts';

const LWW: KeyspaceConfig = { name: 'default', replicationFactor: 3, readConsistency: 'QUORUM', writeConsistency: 'QUORUM', conflictMode: 'lww', defaultTtlMs: 0 };
const SIB: KeyspaceConfig = { ...LWW, name: 'sib', conflictMode: 'siblings' };

function scenario(over: Partial<Scenario> = {}): Scenario {
  return {
    name: 'harness',
    summary: 'the harness against a test double',
    cluster: { nodes: 4, keyspaces: [LWW, SIB] },
    workload: {
      clients: 4,
      thinkMs: 5,
      clientTimeoutMs: 500,
      groups: [
        { keyspace: 'default', prefix: 's', keys: 2, consistency: ['STRONG'], weight: 2, mix: { read: 2, write: 2, delete: 1 }, linearizable: true },
        { keyspace: 'default', prefix: 'e', keys: 3, consistency: ['ONE', 'QUORUM'], weight: 1, mix: { read: 2, write: 2, delete: 1 }, linearizable: false },
        { keyspace: 'sib', prefix: 'c', keys: 2, consistency: ['QUORUM'], weight: 1, mix: { read: 3, write: 2, delete: 1 }, linearizable: false },
      ],
    },
    faults: {},
    durationMs: 1500,
    liveness: { settleMs: 100, maxReadPasses: 2, afterPassMs: 100 },
    lwwUncertaintyMs: 2,
    expect: { linearizable: 'pass', converged: 'pass', durability: 'pass', validity: 'pass' },
    ...over,
  };
}

const run = (s: Scenario, seed: number | string, fake: FakeStoreOptions) => runScenario(s, seed, { opener: fakeStoreOpener(fake) });

describe('runScenario against a test double of the node', () => {
  it('a correct store passes every check, and the run is a function of the seed', () => {
    const a = run(scenario(), 7, { behaviour: 'atomic' });
    expect(a.result.error).toBeNull();
    expect(a.result.checks).toEqual({ linearizable: true, converged: true, lostWrites: 0, invalidReads: 0 });
    expect(a.result.expectation).toEqual({ met: true, unexpected: [], caught: [], missed: [] });
    expect(exitCodeOf(a.result)).toBe(0);
    expect(a.result.ops.ok).toBeGreaterThan(200);
    expect(a.history.every((op) => op.key.startsWith('default/s'))).toBe(true);
    const b = run(scenario(), 7, { behaviour: 'atomic' });
    expect(b.result).toEqual(a.result);
    expect(run(scenario(), 8, { behaviour: 'atomic' }).result.traceHash).not.toBe(a.result.traceHash);
  });

  it('crashes give operations of unknown outcome and restarts reopen the nodes; checks still pass', () => {
    const s = scenario({ faults: { crashes: { meanIntervalMs: 100, meanDownMs: 150, maxDown: 2 } } });
    const r = run(s, 3, { behaviour: 'atomic' }).result;
    expect(r.error).toBeNull();
    expect(r.faults.some((f) => f.includes('crash'))).toBe(true);
    expect(r.ops.info).toBeGreaterThan(0);
    expect(r.checks).toEqual({ linearizable: true, converged: true, lostWrites: 0, invalidReads: 0 });
  });

  it('catches an eventually consistent store as not linearizable; repair makes it converge', () => {
    let caught = 0;
    for (let seed = 0; seed < 5; seed++) {
      const r = run(scenario({ expect: { linearizable: 'fail', converged: 'pass', durability: 'pass', validity: 'pass' } }), seed, { behaviour: 'lazy', replicationDelayMs: 50 }).result;
      expect(r.error).toBeNull();
      expect(r.checks.converged).toBe(true);
      expect(r.readPasses).toBeGreaterThanOrEqual(1);
      if (r.checks.linearizable === false) {
        caught++;
        expect(r.expectation.caught).toEqual(['linearizable']);
        expect(r.violations[0]!.message).toContain('not linearizable');
        expect(exitCodeOf(r)).toBe(1);
        expect(r.expectation.met).toBe(true);
      }
    }
    expect(caught).toBeGreaterThanOrEqual(4);
  });

  it('catches lost writes and garbage reads', () => {
    const lost = run(scenario(), 1, { behaviour: 'atomic', bugs: ['lose-writes'] }).result;
    expect(lost.checks.lostWrites).toBeGreaterThan(0);
    expect(lost.expectation.met).toBe(false);
    expect(lost.expectation.unexpected).toContain('durability');
    const garbage = run(scenario(), 1, { behaviour: 'atomic', bugs: ['garbage-reads'] }).result;
    expect(garbage.checks.invalidReads).toBeGreaterThan(0);
    expect(garbage.violations.some((v) => v.check === 'validity' && v.message.includes('"garbage"'))).toBe(true);
  });

  it('catches siblings lost to a reused dot', () => {
    const r = run(scenario(), 0, { behaviour: 'lazy', bugs: ['coordinator-dots'] }).result;
    expect(r.violations.some((v) => v.check === 'durability' && v.key.startsWith('sib/') && v.message.includes('no write or delete carried a context that saw it'))).toBe(true);
  });

  it('catches LWW losing writes to a clock far ahead', () => {
    const s = scenario({ faults: { clocks: { skewMs: 0, fast: { nodes: [0], aheadMs: 5_000 } } } });
    let caught = 0;
    for (let seed = 0; seed < 3; seed++) if (run(s, seed, { behaviour: 'atomic' }).result.checks.lostWrites > 0) caught++;
    expect(caught).toBe(3);
  });

  it('an exception inside the run becomes the result error', () => {
    const s = scenario({ workload: { ...scenario().workload, groups: [{ ...scenario().workload.groups[0]!, keyspace: 'nope' }] } });
    const r = run(s, 1, { behaviour: 'atomic' }).result;
    expect(r.error).toMatch(/unknown keyspace nope/);
    expect(r.expectation.met).toBe(false);
    expect(exitCodeOf(r)).toBe(1);
  });
});
