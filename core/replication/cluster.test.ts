// StoreNodes on the simulator: the replication paths end to end.

import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../io/frame_codec.ts';
import type { KeyspaceConfig } from './keyspace.ts';
import { ClusterFixture, dec, enc } from './cluster_fixture.testkit.ts';

const SIBLINGS: KeyspaceConfig = { name: 'sib', replicationFactor: 3, readConsistency: 'QUORUM', writeConsistency: 'QUORUM', conflictMode: 'siblings', defaultTtlMs: 0 };

function values(res: ReturnType<ClusterFixture['get']>): string[] {
  expect(res.ok, JSON.stringify(res)).toBe(true);
  return res.ok ? res.values.map(dec).sort() : [];
}

/** A key whose home replicas (N=3) do not include `avoid`, with the given node first if asked. */
function keyWith(c: ClusterFixture, pred: (home: string[]) => boolean, prefix = 'key'): string {
  for (let i = 0; i < 10_000; i++) if (pred(c.home(`${prefix}${i}`))) return `${prefix}${i}`;
  throw new Error('no such key');
}

describe('quorum reads and writes', () => {
  it('read your writes at QUORUM through any coordinator, also with one replica down', () => {
    const c = new ClusterFixture('ryw', { nodes: 3 });
    for (let round = 0; round < 2; round++) {
      if (round === 1) c.crash('n3');
      const live = round === 0 ? c.ids : ['n1', 'n2'];
      for (let i = 0; i < 30; i++) {
        const key = enc(`k${i % 7}`);
        const value = `v${round}-${i}`;
        expect(c.put(live[i % live.length]!, { keyspace: 'default', key, value: enc(value) })).toEqual({ ok: true });
        expect(values(c.get(live[(i + 1) % live.length]!, { keyspace: 'default', key }))).toEqual([value]);
      }
    }
  });

  it('fails a write that cannot reach W replicas, saying how many answered', () => {
    const c = new ClusterFixture('fail-w', { nodes: 3 });
    c.net.isolate('n1');
    const res = c.put('n1', { keyspace: 'default', key: enc('a'), value: enc('1'), consistency: { level: 'ALL' } });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.code).toBe('timeout');
    expect(res.error).toMatchObject({ replied: 1, required: 3, definite: false });
    expect(res.error.message).toContain('got 1 of 3');
    // The coordinator now believes its peers down and fails fast, definitely.
    c.put('n1', { keyspace: 'default', key: enc('b'), value: enc('1'), consistency: { w: 3 } });
    c.advance(10);
    const fast = c.put('n1', { keyspace: 'default', key: enc('c'), value: enc('1'), consistency: { w: 2 } });
    expect(fast).toMatchObject({ ok: false, error: { code: 'unavailable', definite: true, replied: 0, required: 2 } });
    // A read at ONE still answers from the coordinator itself.
    expect(c.get('n1', { keyspace: 'default', key: enc('a'), consistency: { level: 'ONE' } }).ok).toBe(true);
  });

  it('refuses bad requests definitely and at once', () => {
    const c = new ClusterFixture('invalid', { nodes: 3 });
    let res: unknown;
    c.node('n1').put({ keyspace: 'nope', key: enc('a'), value: enc('1') }, (r) => (res = r));
    expect(res).toMatchObject({ ok: false, error: { code: 'not_found_keyspace', definite: true } });
    c.node('n1').put({ keyspace: 'default', key: new Uint8Array(0), value: enc('1') }, (r) => (res = r));
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid', definite: true } });
    c.node('n1').put({ keyspace: 'default', key: enc('a'), value: new Uint8Array(2 * 1024 * 1024) }, (r) => (res = r));
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid' } });
    c.node('n1').get({ keyspace: 'default', key: enc('a'), consistency: { r: 4 } }, (r) => (res = r));
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid' } });
    c.node('n1').put({ keyspace: 'default', key: enc('a'), value: enc('1'), ttlMs: -5 }, (r) => (res = r));
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid' } });
    c.node('n1').put({ keyspace: 'sib', key: enc('a'), value: enc('1'), context: 'not-a-context' }, (r) => (res = r));
    expect(res).toMatchObject({ ok: false, error: { code: 'not_found_keyspace' } });
  });
});

describe('keyspaces', () => {
  it('apply their own N, levels, mode and default TTL', () => {
    const c = new ClusterFixture('keyspaces', {
      nodes: 5,
      keyspaces: [
        { name: 'wide', replicationFactor: 5, readConsistency: 'ONE', writeConsistency: 'ALL', conflictMode: 'lww', defaultTtlMs: 0 },
        { name: 'narrow', replicationFactor: 1, readConsistency: 'ONE', writeConsistency: 'ONE', conflictMode: 'lww', defaultTtlMs: 0 },
        { name: 'session', replicationFactor: 3, readConsistency: 'QUORUM', writeConsistency: 'QUORUM', conflictMode: 'lww', defaultTtlMs: 1_000 },
      ],
    });
    expect(c.put('n1', { keyspace: 'wide', key: enc('k'), value: enc('w') })).toEqual({ ok: true });
    expect(c.held('wide', 'k').size).toBe(5); // ALL of N=5 acknowledged
    expect(c.put('n2', { keyspace: 'narrow', key: enc('k'), value: enc('n') })).toEqual({ ok: true });
    c.advance(2_000);
    expect(c.held('narrow', 'k').size).toBe(1);
    expect(c.held('default', 'k').size).toBe(0);
    // Default TTL applies; an explicit ttlMs of 0 means no expiry.
    expect(c.put('n3', { keyspace: 'session', key: enc('s'), value: enc('1') })).toEqual({ ok: true });
    expect(c.put('n3', { keyspace: 'session', key: enc('t'), value: enc('1'), ttlMs: 0 })).toEqual({ ok: true });
    expect(values(c.get('n4', { keyspace: 'session', key: enc('s') }))).toEqual(['1']);
    c.advance(1_500);
    expect(c.get('n4', { keyspace: 'session', key: enc('s') })).toMatchObject({ ok: true, found: false, values: [] });
    expect(values(c.get('n4', { keyspace: 'session', key: enc('t') }))).toEqual(['1']);
  });

  it('expire a put with a TTL everywhere, and keep the expired version as a tombstone would be', () => {
    const c = new ClusterFixture('ttl', { nodes: 3 });
    expect(c.put('n1', { keyspace: 'default', key: enc('e'), value: enc('old') })).toEqual({ ok: true });
    expect(c.put('n2', { keyspace: 'default', key: enc('e'), value: enc('new'), ttlMs: 500 })).toEqual({ ok: true });
    expect(values(c.get('n3', { keyspace: 'default', key: enc('e'), consistency: { level: 'ALL' } }))).toEqual(['new']);
    c.advance(600);
    expect(c.get('n3', { keyspace: 'default', key: enc('e'), consistency: { level: 'ALL' } })).toMatchObject({ ok: true, found: false });
    // The expired write still outranks the older one: it does not come back.
    expect(c.held('default', 'e')).toEqual(new Map(c.ids.map((id) => [id, ['new']])));
  });
});

describe('sloppy quorum and hinted handoff', () => {
  it('hands a write for an unreachable replica to a fallback, replays it after the heal, and deletes the hint', () => {
    const c = new ClusterFixture('handoff', { nodes: 5, config: { requestTimeoutMs: 300 } });
    const key = keyWith(c, (home) => !home.includes('n1'));
    const home = c.home(key);
    const target = home[2]!;
    c.net.isolate(target);
    // Two writes time out at the target: the coordinator then believes it down.
    for (const v of ['1', '2']) expect(c.put('n1', { keyspace: 'default', key: enc(key), value: enc(v) })).toEqual({ ok: true });
    c.advance(500);
    expect(c.node('n1').believesUp(target)).toBe(false);
    expect(c.put('n1', { keyspace: 'default', key: enc(key), value: enc('3'), consistency: { level: 'ALL' } })).toEqual({ ok: true });
    const holders = c.ids.filter((id) => id !== target && c.node(id).pendingHints().get(target) === 1);
    expect(holders.length).toBe(1);
    const fallback = holders[0]!;
    expect(home).not.toContain(fallback);
    expect(c.markCount('hint stored')).toBe(1);
    // A sloppy read sees the hinted write through the fallback.
    expect(values(c.get('n1', { keyspace: 'default', key: enc(key), consistency: { level: 'ALL' } }))).toEqual(['3']);
    expect(c.held('default', key).has(target)).toBe(false);
    c.net.heal();
    c.advance(3_000);
    expect(c.held('default', key).get(target)).toEqual(['3']);
    expect(c.node(fallback).pendingHints().size).toBe(0);
    expect(c.node(fallback).marks().get('hint replayed')).toBe(1);
    // The deletion is durable.
    c.crash(fallback);
    c.restart(fallback);
    expect(c.node(fallback).pendingHints().size).toBe(0);
    expect(c.node(fallback).dumpReplicaRecords().some((r) => dec(r.key) === key)).toBe(false);
  });

  it('drops hints older than the window', () => {
    const c = new ClusterFixture('window', { nodes: 4, config: { requestTimeoutMs: 300, hintWindowMs: 2_000 } });
    const key = keyWith(c, (home) => !home.includes('n1'));
    const target = c.home(key)[0]!;
    c.crash(target);
    for (const v of ['1', '2', '3']) {
      c.put('n1', { keyspace: 'default', key: enc(key), value: enc(v) });
      c.advance(400);
    }
    expect(c.markCount('hint stored')).toBeGreaterThan(0);
    c.advance(3_000);
    expect(c.ids.filter((id) => id !== target).every((id) => c.node(id).pendingHints().size === 0)).toBe(true);
    c.restart(target);
    c.advance(2_000);
    expect(c.held('default', key).has(target)).toBe(false);
  });

  it('refuses a write that needs one hint more than a fallback may hold', () => {
    const c = new ClusterFixture('hint-bound', { nodes: 4, config: { requestTimeoutMs: 300, maxHintsPerTarget: 1 } });
    const target = 'n4';
    const keys = [0, 1, 2].map((i) => keyWith(c, (home) => home.includes(target) && !home.includes('n1') === false && home[0] !== target, `b${i}-`));
    c.crash(target);
    for (const k of keys) c.put('n1', { keyspace: 'default', key: enc(k), value: enc('warm-up'), consistency: { level: 'ONE' } });
    c.advance(1_000);
    const results = keys.map((k) => c.put('n1', { keyspace: 'default', key: enc(`${k}`), value: enc('x'), consistency: { level: 'ALL' } }));
    const refused = results.filter((r) => !r.ok);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ ok: false, error: { code: 'overloaded', definite: false } });
    expect(c.markCount('hint refused: target full')).toBeGreaterThan(0);
  });
});

describe('read repair', () => {
  it('sends the newest version to a replica that missed a write', () => {
    const c = new ClusterFixture('repair', { nodes: 3 });
    expect(c.put('n1', { keyspace: 'default', key: enc('r'), value: enc('old'), consistency: { level: 'ALL' } })).toEqual({ ok: true });
    c.net.isolate('n3');
    expect(c.put('n1', { keyspace: 'default', key: enc('r'), value: enc('new') })).toEqual({ ok: true });
    c.net.heal();
    c.advance(1_500);
    expect(c.held('default', 'r').get('n3')).toEqual(['old']);
    expect(values(c.get('n2', { keyspace: 'default', key: enc('r'), consistency: { level: 'ALL' } }))).toEqual(['new']);
    c.advance(1_500);
    expect(c.held('default', 'r')).toEqual(new Map(c.ids.map((id) => [id, ['new']])));
    expect(c.markCount('read repair sent')).toBe(1);
    expect(c.markCount('read repair applied')).toBe(1);
    // Nothing left to repair.
    c.get('n3', { keyspace: 'default', key: enc('r'), consistency: { level: 'ALL' } });
    c.advance(1_500);
    expect(c.markCount('read repair sent')).toBe(1);
  });
});

describe('siblings', () => {
  it('keeps concurrent writes, returns them with a context, and a write with the context replaces exactly what it saw', () => {
    const c = new ClusterFixture('siblings', { nodes: 5, keyspaces: [SIBLINGS] });
    const key = enc('cart');
    expect(c.put('n1', { keyspace: 'sib', key, value: enc('apple') })).toEqual({ ok: true });
    expect(c.put('n2', { keyspace: 'sib', key, value: enc('pear') })).toEqual({ ok: true });
    const both = c.get('n3', { keyspace: 'sib', key });
    expect(values(both)).toEqual(['apple', 'pear']);
    const seenBoth = both.ok ? both.context : null;
    expect(typeof seenBoth).toBe('string');
    // A concurrent write made without a context stays next to the resolution.
    expect(c.put('n4', { keyspace: 'sib', key, value: enc('plum') })).toEqual({ ok: true });
    expect(c.put('n5', { keyspace: 'sib', key, value: enc('apple+pear'), context: seenBoth })).toEqual({ ok: true });
    expect(values(c.get('n1', { keyspace: 'sib', key }))).toEqual(['apple+pear', 'plum']);
    const all = c.get('n2', { keyspace: 'sib', key });
    expect(c.put('n3', { keyspace: 'sib', key, value: enc('final'), context: all.ok ? all.context : null })).toEqual({ ok: true });
    expect(values(c.get('n4', { keyspace: 'sib', key, consistency: { level: 'ALL' } }))).toEqual(['final']);
    // A delete with the context leaves a tombstone, read as not found with a context.
    const last = c.get('n5', { keyspace: 'sib', key });
    expect(c.delete('n1', { keyspace: 'sib', key, context: last.ok ? last.context : null })).toEqual({ ok: true });
    const gone = c.get('n2', { keyspace: 'sib', key, consistency: { level: 'ALL' } });
    expect(gone).toMatchObject({ ok: true, found: false, values: [] });
    expect(gone.ok && typeof gone.context).toBe('string');
    // Writes from non-home coordinators were forwarded to a home replica.
    expect(c.markCount('write forwarded')).toBeGreaterThan(0);
    expect(c.markCount('forwarded write coordinated')).toBe(c.markCount('write forwarded'));
  });

  it('refuses a malformed context definitely', () => {
    const c = new ClusterFixture('bad-context', { nodes: 3, keyspaces: [SIBLINGS] });
    const res = c.put('n1', { keyspace: 'sib', key: enc('k'), value: enc('v'), context: 'AAAA' });
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid', definite: true } });
  });
});

describe('STRONG', () => {
  it('fails without a strict quorum of home replicas instead of answering', () => {
    const c = new ClusterFixture('strong-quorum', { nodes: 5 });
    const key = keyWith(c, (home) => !home.includes('n1'));
    const home = c.home(key);
    expect(c.put('n1', { keyspace: 'default', key: enc(key), value: enc('v1'), consistency: { level: 'STRONG' } })).toEqual({ ok: true });
    c.crash(home[0]!);
    c.crash(home[1]!);
    const write = c.put('n1', { keyspace: 'default', key: enc(key), value: enc('v2'), consistency: { level: 'STRONG' } });
    // Nothing was written in phase 1, so the failure is definite.
    expect(write).toMatchObject({ ok: false, error: { code: 'timeout', definite: true } });
    const read = c.get('n1', { keyspace: 'default', key: enc(key), consistency: { level: 'STRONG' } });
    expect(read).toMatchObject({ ok: false, error: { code: 'timeout', replied: 1, required: 2 } });
    c.advance(10);
    // Once the coordinator knows, it fails fast.
    const fast = c.get('n1', { keyspace: 'default', key: enc(key), consistency: { level: 'STRONG' } });
    expect(fast).toMatchObject({ ok: false, error: { code: 'unavailable', required: 2 } });
    // Sloppy levels still work, through fallbacks.
    expect(c.put('n1', { keyspace: 'default', key: enc(key), value: enc('v3'), consistency: { level: 'QUORUM' } })).toEqual({ ok: true });
    expect(values(c.get('n1', { keyspace: 'default', key: enc(key), consistency: { level: 'QUORUM' } }))).toEqual(['v3']);
  });

  it('writes back a newer version found on one replica before answering a read', () => {
    const c = new ClusterFixture('strong-writeback', { nodes: 3 });
    expect(c.put('n1', { keyspace: 'default', key: enc('s'), value: enc('v1'), consistency: { level: 'ALL' } })).toEqual({ ok: true });
    // v2 reaches only n1 (a write whose outcome stays unknown).
    c.net.isolate('n1');
    const partial = c.put('n1', { keyspace: 'default', key: enc('s'), value: enc('v2'), consistency: { level: 'STRONG' } });
    expect(partial.ok).toBe(false);
    c.net.heal();
    c.advance(1_000);
    // A STRONG read at n2 sees v2 if it asks n1, and must then make a quorum hold it.
    const read = c.get('n1', { keyspace: 'default', key: enc('s'), consistency: { level: 'STRONG' } });
    const seen = values(read);
    if (seen[0] === 'v2') {
      expect(c.markCount('strong write-back')).toBeGreaterThan(0);
      const holders = [...c.held('default', 's').values()].filter((v) => v[0] === 'v2').length;
      expect(holders).toBeGreaterThanOrEqual(2);
    }
    // Whatever the first read said, every later STRONG read agrees with it.
    for (const id of c.ids) expect(values(c.get(id, { keyspace: 'default', key: enc('s'), consistency: { level: 'STRONG' } }))).toEqual(seen);
  });

  it('orders a STRONG write above a version stamped by a fast clock, where an ordinary write loses', () => {
    const c = new ClusterFixture('strong-skew', { nodes: 5, clockSkewMs: (i) => (i === 0 ? 300 : 0) });
    // Keys on n1..n3 only: n4 and n5 coordinate and have never heard n1's clock.
    const keys = [0, 1, 2].map((i) => keyWith(c, (home) => home.includes('n1') && !home.includes('n4') && !home.includes('n5'), `skew${i}-`));
    for (const k of keys) expect(c.put('n1', { keyspace: 'default', key: enc(k), value: enc('fast'), consistency: { level: 'ALL' } })).toEqual({ ok: true });
    // LWW under skew: the later ordinary write is lost.
    expect(c.put('n5', { keyspace: 'default', key: enc(keys[0]!), value: enc('later'), consistency: { level: 'ALL' } })).toEqual({ ok: true });
    // STRONG first learns the highest version from a quorum and stamps above it.
    expect(c.put('n5', { keyspace: 'default', key: enc(keys[1]!), value: enc('later'), consistency: { level: 'STRONG' } })).toEqual({ ok: true });
    expect(values(c.get('n5', { keyspace: 'default', key: enc(keys[0]!) }))).toEqual(['fast']);
    expect(values(c.get('n5', { keyspace: 'default', key: enc(keys[1]!), consistency: { level: 'STRONG' } }))).toEqual(['later']);
    // A write that follows a read through the same coordinator is stamped above what the read saw.
    expect(values(c.get('n4', { keyspace: 'default', key: enc(keys[2]!) }))).toEqual(['fast']);
    expect(c.put('n4', { keyspace: 'default', key: enc(keys[2]!), value: enc('after read'), consistency: { level: 'ALL' } })).toEqual({ ok: true });
    expect(values(c.get('n4', { keyspace: 'default', key: enc(keys[2]!) }))).toEqual(['after read']);
  });

  it('works in siblings keyspaces, replacing every sibling', () => {
    const c = new ClusterFixture('strong-siblings', { nodes: 4, keyspaces: [SIBLINGS] });
    c.put('n1', { keyspace: 'sib', key: enc('k'), value: enc('a') });
    c.put('n2', { keyspace: 'sib', key: enc('k'), value: enc('b') });
    expect(values(c.get('n3', { keyspace: 'sib', key: enc('k') }))).toEqual(['a', 'b']);
    expect(c.put('n4', { keyspace: 'sib', key: enc('k'), value: enc('c'), consistency: { level: 'STRONG' } })).toEqual({ ok: true });
    expect(values(c.get('n1', { keyspace: 'sib', key: enc('k'), consistency: { level: 'STRONG' } }))).toEqual(['c']);
  });
});

describe('clock far ahead', () => {
  it('replicas refuse a client write stamped beyond the skew bound', () => {
    const c = new ClusterFixture('far-ahead', { nodes: 3, clockSkewMs: (i) => (i === 0 ? 5_000 : 0) });
    const res = c.put('n1', { keyspace: 'default', key: enc('k'), value: enc('v'), consistency: { level: 'ALL' } });
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(c.markCount('write refused: timestamp too far ahead')).toBe(2);
  });
});

describe('restarts', () => {
  it('recover data, and stamp writes above those issued before even if the clock went back', () => {
    const c = new ClusterFixture('restart', { nodes: 3 });
    expect(c.put('n1', { keyspace: 'default', key: enc('k'), value: enc('before'), consistency: { level: 'ALL' } })).toEqual({ ok: true });
    c.crash('n1');
    c.sim.node('n1').clock.jump(-400);
    c.restart('n1');
    expect(c.put('n1', { keyspace: 'default', key: enc('k'), value: enc('after'), consistency: { level: 'ALL' } })).toEqual({ ok: true });
    expect(values(c.get('n2', { keyspace: 'default', key: enc('k') }))).toEqual(['after']);
  });
});

describe('close', () => {
  it('answers requests in flight exactly once', () => {
    const c = new ClusterFixture('close', { nodes: 3 });
    const answers: unknown[] = [];
    c.node('n1').put({ keyspace: 'default', key: enc('a'), value: enc('1'), consistency: { level: 'ALL' } }, (r) => answers.push(r));
    c.node('n1').get({ keyspace: 'default', key: enc('b'), consistency: { level: 'ALL' } }, (r) => answers.push(r));
    c.node('n1').put({ keyspace: 'default', key: enc('c'), value: enc('1'), consistency: { level: 'STRONG' } }, (r) => answers.push(r));
    let closed = false;
    c.node('n1').close(() => (closed = true));
    c.advance(3_000);
    expect(closed).toBe(true);
    expect(answers).toHaveLength(3);
  });
});

describe('scans', () => {
  it('page through every live key of a keyspace in order, across the ring', () => {
    const c = new ClusterFixture('scan', { nodes: 5 });
    const keys = Array.from({ length: 60 }, (_, i) => `key${String(i).padStart(3, '0')}`);
    for (const [i, k] of keys.entries()) expect(c.put(c.ids[i % 5]!, { keyspace: 'default', key: enc(k), value: enc(`v${i}`) })).toEqual({ ok: true });
    for (const k of ['key005', 'key006', 'key040']) expect(c.delete('n2', { keyspace: 'default', key: enc(k) })).toEqual({ ok: true });
    const live = keys.filter((k) => !['key005', 'key006', 'key040'].includes(k));
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const res = c.scan(c.ids[pages % 5]!, { keyspace: 'default', limit: 7, resumeToken: token });
      expect(res.ok, JSON.stringify(res)).toBe(true);
      if (!res.ok) break;
      expect(res.items.length).toBeLessThanOrEqual(7);
      for (const item of res.items) {
        seen.push(dec(item.key));
        expect(item.values.map(dec)).toEqual([`v${keys.indexOf(dec(item.key))}`]);
      }
      token = res.resumeToken;
      pages++;
    } while (token !== null && pages < 50);
    expect(seen).toEqual(live);
    const bounded = c.scan('n1', { keyspace: 'default', start: enc('key010'), end: enc('key015'), limit: 100 });
    expect(bounded.ok && bounded.items.map((i) => dec(i.key))).toEqual(['key010', 'key011', 'key012', 'key013', 'key014']);
    expect(bounded.ok && bounded.resumeToken).toBeNull();
  });

  it('needs R replicas of every range', () => {
    const c = new ClusterFixture('scan-r', { nodes: 4 });
    for (let i = 0; i < 10; i++) c.put('n1', { keyspace: 'default', key: enc(`k${i}`), value: enc('v') });
    c.crash('n4');
    const quorum = c.scan('n1', { keyspace: 'default', limit: 100 });
    expect(quorum.ok && quorum.items.length).toBe(10);
    const all = c.scan('n1', { keyspace: 'default', limit: 100, consistency: { level: 'ALL' } });
    expect(all).toMatchObject({ ok: false, error: { required: 3 } });
    expect(c.scan('n1', { keyspace: 'default', limit: 100, consistency: { level: 'STRONG' } })).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(c.scan('n1', { keyspace: 'default', limit: 5, resumeToken: 'garbage!' })).toMatchObject({ ok: false, error: { code: 'invalid' } });
  });
});

describe('garbage frames', () => {
  it('are counted and dropped, and the node keeps serving', () => {
    const c = new ClusterFixture('garbage', { nodes: 3 });
    const from = c.sim.node('n1').env.net;
    // The last is a well-formed reply nobody asked for (messages.ts layout: [version, type, id, ...fields]).
    const junk: unknown[] = [null, 'hello', [1, 2, 3], [2, 3, 5], [9, 10, 1], [2, 2, 77, null, true]];
    for (const j of junk) from.send('n2', encodeFrame(j));
    c.advance(100);
    expect(c.node('n2').marks().get('garbage frame dropped')).toBe(5);
    expect(c.node('n2').marks().get('late or stray reply dropped')).toBe(1);
    expect(c.put('n2', { keyspace: 'default', key: enc('k'), value: enc('v') })).toEqual({ ok: true });
  });
});
