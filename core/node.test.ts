import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Env } from '../io/env.ts';
import type { Network, NodeId } from '../io/network.ts';
import { Simulator } from '../sim/simulator.ts';
import { type NodeConfig, StoreNode, defaultNodeConfig } from './node.ts';
import { decodeWireMessage, encodeWireMessage } from './replication/messages.ts';
import type { Engine } from './storage/engine.ts';

const enc = (s: string) => new TextEncoder().encode(s);

/** A network that records sends and lets the test deliver frames itself. */
class HandNetwork implements Network {
  handler: ((from: NodeId, frame: Uint8Array) => void) | null = null;
  readonly sent: { to: NodeId; frame: Uint8Array }[] = [];
  send(to: NodeId, frame: Uint8Array): void {
    this.sent.push({ to, frame });
  }
  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void {
    this.handler = handler;
  }
}

const members = [
  { id: 'n1', tokens: [1n, 1n << 62n] },
  { id: 'n2', tokens: [1n << 61n, 3n << 62n] },
];

function openOn(sim: Simulator, env: Env, overrides: Partial<NodeConfig>) {
  let opened: { err: Error | null; node?: StoreNode } | undefined;
  StoreNode.open(env, defaultNodeConfig('n1', members, overrides), (err, node) => (opened = { err, node }));
  sim.runUntil(() => opened !== undefined);
  return opened!;
}

function single(overrides: Partial<NodeConfig> = {}) {
  const sim = new Simulator({ seed: 'node' });
  const simNode = sim.addNode('n1');
  const net = new HandNetwork();
  const env: Env = { ...simNode.env, net };
  return { sim, net, env, opened: openOn(sim, env, overrides) };
}

/** The node's engine counters (a test looks inside; the node keeps its engine private). */
function blockCacheMisses(node: StoreNode): number {
  return (node as unknown as { engine: Engine }).engine.stats().blockCache.misses;
}

describe('StoreNode', () => {
  it('drops arbitrary bytes from the network without crashing, and keeps serving', () => {
    const { sim, net, opened } = single();
    const node = opened.node!;
    let delivered = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        net.handler!('n2', bytes);
        delivered++;
      }),
      { numRuns: 1000 },
    );
    // Valid requests for unknown keyspaces are answered with a failure, not a crash.
    net.handler!('n2', encodeWireMessage({ t: 'read', id: 7, ks: 'nope', key: enc('k'), hintFor: null }));
    sim.run({ untilMs: sim.nowMs() + 10 });
    expect(node.marks().get('garbage frame dropped')).toBe(delivered);
    const replies = net.sent.filter((s) => s.to === 'n2');
    expect(replies.length).toBeGreaterThan(0);
    // A ONE read is answered by the node itself.
    let res: unknown;
    node.get({ keyspace: 'default', key: enc('k'), consistency: { level: 'ONE' } }, (r) => (res = r));
    sim.runUntil(() => res !== undefined);
    expect(res).toEqual({ ok: true, found: false, values: [], context: null });
  });

  it('serves a bulk peer scan (a rebuild walking everything) around its block cache, an ordinary one through it', () => {
    const overrides: Partial<NodeConfig> = { engine: { memtableBytes: 64 * 1024, blockBytes: 1024 } };
    const { sim, net, env, opened } = single(overrides);
    const writer = opened.node!;
    for (let i = 0; i < 200; i++) {
      let done = false;
      writer.put({ keyspace: 'default', key: enc(`key-${i}`), value: enc('v'.repeat(100)), consistency: { level: 'ONE' } }, () => (done = true));
      sim.runUntil(() => done);
    }
    let closed = false;
    writer.close(() => (closed = true));
    sim.runUntil(() => closed);
    // Reopened: the records are in tables, the cache is empty.
    const node = openOn(sim, env, overrides).node!;
    let id = 100;
    const scan = (bulk: boolean): number => {
      const before = blockCacheMisses(node);
      const requestId = id++;
      net.sent.length = 0;
      net.handler!('n2', encodeWireMessage({ t: 'scan', id: requestId, ks: 'default', start: null, end: null, limit: 1000, bulk }));
      sim.run({ untilMs: sim.nowMs() + 10 });
      const reply = net.sent.map((s) => decodeWireMessage(s.frame)).find((m) => m.id === requestId);
      expect(reply).toMatchObject({ t: 'scan_ok', more: false });
      expect((reply as { items: unknown[] }).items).toHaveLength(200);
      return blockCacheMisses(node) - before;
    };
    const bulkMisses = scan(true);
    expect(bulkMisses).toBeGreaterThan(0);
    expect(scan(true)).toBe(bulkMisses); // nothing was kept
    expect(scan(false)).toBe(bulkMisses);
    expect(scan(false)).toBe(0); // kept by the ordinary scan
  });

  it('refuses a configuration it cannot serve', () => {
    expect(single({ requestTimeoutMs: 0 }).opened.err?.message).toContain('requestTimeoutMs');
    expect(single({ keyspaces: [{ name: '', replicationFactor: 3, readConsistency: 'ONE', writeConsistency: 'ONE', conflictMode: 'lww', defaultTtlMs: 0 }] }).opened.err).not.toBeNull();
    expect(single({ members: [{ id: 'n2', tokens: [5n] }] }).opened.err?.message).toContain('not among the members');
  });

  it('answers every call exactly once after close, and closes twice harmlessly', () => {
    const { sim, opened } = single();
    const node = opened.node!;
    let closed = 0;
    node.close(() => closed++);
    node.close(() => closed++);
    sim.runUntil(() => closed === 2);
    const answers: unknown[] = [];
    node.put({ keyspace: 'default', key: enc('k'), value: enc('v') }, (r) => answers.push(r));
    node.get({ keyspace: 'default', key: enc('k') }, (r) => answers.push(r));
    node.scan({ keyspace: 'default', limit: 1 }, (r) => answers.push(r));
    expect(answers).toHaveLength(3);
    for (const a of answers) expect(a).toMatchObject({ ok: false, error: { code: 'internal', definite: true } });
  });
});
