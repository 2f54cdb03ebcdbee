import { describe, expect, it } from 'vitest';
import { ClusterFixture, dec, enc } from './cluster_fixture.testkit.ts';

describe('smoke', () => {
  it('put then get', () => {
    const c = new ClusterFixture('smoke');
    const w = c.put('n1', { keyspace: 'default', key: enc('a'), value: enc('1') });
    expect(w).toEqual({ ok: true });
    const r = c.get('n2', { keyspace: 'default', key: enc('a') });
    expect(r.ok && r.values.map(dec)).toEqual(['1']);
    console.log(c.sim.nowMs(), [...c.node('n1').marks()]);
  });
});

describe('smoke 2', () => {
  it('siblings, delete, scan', () => {
    const c = new ClusterFixture('smoke2', { keyspaces: [{ name: 'sib', replicationFactor: 3, readConsistency: 'QUORUM', writeConsistency: 'QUORUM', conflictMode: 'siblings', defaultTtlMs: 0 }] });
    expect(c.put('n1', { keyspace: 'sib', key: enc('k'), value: enc('a') })).toEqual({ ok: true });
    expect(c.put('n2', { keyspace: 'sib', key: enc('k'), value: enc('b') })).toEqual({ ok: true });
    const r = c.get('n3', { keyspace: 'sib', key: enc('k') });
    expect(r.ok && r.values.map(dec).sort()).toEqual(['a', 'b']);
    const ctx = r.ok ? r.context : null;
    expect(c.put('n3', { keyspace: 'sib', key: enc('k'), value: enc('c'), context: ctx })).toEqual({ ok: true });
    const r2 = c.get('n1', { keyspace: 'sib', key: enc('k') });
    expect(r2.ok && r2.values.map(dec)).toEqual(['c']);
    expect(c.delete('n1', { keyspace: 'default', key: enc('zz') })).toEqual({ ok: true });
    for (let i = 0; i < 20; i++) expect(c.put(c.ids[i % 3]!, { keyspace: 'default', key: enc(`key${String(i).padStart(2, '0')}`), value: enc(`v${i}`) })).toEqual({ ok: true });
    const s = c.scan('n2', { keyspace: 'default', limit: 7 });
    expect(s.ok && s.items.map((i) => dec(i.key))).toEqual(['key00', 'key01', 'key02', 'key03', 'key04', 'key05', 'key06']);
    const s2 = c.scan('n2', { keyspace: 'default', limit: 100, resumeToken: s.ok ? s.resumeToken : null });
    expect(s2.ok && s2.items.length).toBe(13);
    expect(s2.ok && s2.resumeToken).toBe(null);
    const st = c.put('n1', { keyspace: 'default', key: enc('s'), value: enc('x'), consistency: { level: 'STRONG' } });
    expect(st).toEqual({ ok: true });
    const sr = c.get('n3', { keyspace: 'default', key: enc('s'), consistency: { level: 'STRONG' } });
    expect(sr.ok && sr.values.map(dec)).toEqual(['x']);
    console.log([...c.node('n1').marks()], [...c.node('n3').marks()]);
  });
});
