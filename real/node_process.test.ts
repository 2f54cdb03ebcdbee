import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { keyToken } from '../core/ring/key_hash.ts';
import { resolveNodeConfig } from './node_config.ts';
import { type RunningNode, startNode } from './node_process.ts';
import { generateSecretHex } from './peer_auth.ts';
import { capturedLogger, freePorts, waitFor } from './test_ports.testkit.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-node-'));
const secretFile = path.join(dir, 'secret');
fs.writeFileSync(secretFile, generateSecretHex());
const running: RunningNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'test-token-0123456789';

async function single(extra: Record<string, unknown> = {}, env: Record<string, string> = {}, logger = pino({ level: 'silent' })) {
  const [peer] = await freePorts(1);
  const config = resolveNodeConfig(
    {
      nodeId: 'solo',
      dataDir: (extra.dataDir as string | undefined) ?? fs.mkdtempSync(path.join(dir, 'solo-')),
      secretFile,
      http: { port: 0 },
      peer: { port: peer },
      members: [{ id: 'solo', address: `127.0.0.1:${peer}` }],
      keyspaces: [{ name: 'default', replicationFactor: 1 }],
      ...extra,
    },
    dir,
    env,
  );
  const node = await startNode(config, logger);
  running.push(node);
  return node;
}

const base = (n: RunningNode) => `http://127.0.0.1:${n.http.port}`;

describe('a node process', () => {
  it('requires the API token when one is configured (401 without, 403 wrong), except for /health', async () => {
    const n = await single({}, { RINGKV_API_TOKEN: TOKEN });
    expect((await fetch(`${base(n)}/health`)).status).toBe(200);
    const none = await fetch(`${base(n)}/kv/default/k`, { method: 'PUT', body: 'v' });
    expect([none.status, none.headers.get('www-authenticate'), ((await none.json()) as { error: { code: string } }).error.code]).toEqual([401, 'Bearer', 'unauthorized']);
    const wrong = await fetch(`${base(n)}/kv/default/k`, { method: 'PUT', body: 'v', headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(403);
    expect((await fetch(`${base(n)}/metrics`)).status).toBe(401);
    expect(n.node.dumpReplicaRecords()).toEqual([]);
    const ok = await fetch(`${base(n)}/kv/default/k`, { method: 'PUT', body: 'v', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(204);
    expect(n.node.dumpReplicaRecords().length).toBe(1);
  });

  it('answers 429 over its in-flight request limit', async () => {
    const n = await single({ http: { port: 0, maxInflightRequests: 1 } });
    // A PUT whose body is still arriving holds the one slot.
    const slow = http.request({ host: '127.0.0.1', port: n.http.port, method: 'PUT', path: '/kv/default/slow', headers: { 'content-length': '4' } });
    const slowDone = new Promise<number>((resolve) => slow.on('response', (res) => resolve(res.statusCode!)));
    slow.write('ab');
    await new Promise((r) => setTimeout(r, 100));
    const refused = await fetch(`${base(n)}/kv/default/other`);
    expect([refused.status, refused.headers.get('retry-after')]).toEqual([429, '1']);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('overloaded');
    slow.end('cd');
    expect(await slowDone).toBe(204);
    expect(await (await fetch(`${base(n)}/kv/default/slow`)).text()).toBe('abcd');
  });

  it('keeps acknowledged writes across a clean restart, in group-commit and periodic durability', async () => {
    for (const durability of ['group-commit', 'periodic']) {
      const dataDir = fs.mkdtempSync(path.join(dir, `${durability}-`));
      let n = await single({ dataDir, durability });
      for (let i = 0; i < 50; i++) expect((await fetch(`${base(n)}/kv/default/k${i}`, { method: 'PUT', body: `v${i}` })).status).toBe(204);
      await n.stop();
      running.splice(running.indexOf(n), 1);
      expect(fs.existsSync(path.join(dataDir, 'ringkv.pid'))).toBe(false);
      n = await single({ dataDir, durability });
      for (const i of [0, 25, 49]) expect(await (await fetch(`${base(n)}/kv/default/k${i}`)).text()).toBe(`v${i}`);
    }
  });

  it('refuses a data directory another live process holds', async () => {
    const dataDir = fs.mkdtempSync(path.join(dir, 'locked-'));
    await single({ dataDir });
    await expect(single({ dataDir })).rejects.toThrow(/is in use by process \d+ \(this one\)/);
    // A pid file left by a process that no longer runs is taken over.
    const stale = fs.mkdtempSync(path.join(dir, 'stale-'));
    fs.writeFileSync(path.join(stale, 'ringkv.pid'), '999999999\n');
    await single({ dataDir: stale });
  });

  it('stores nothing from garbage or an unauthenticated peer, logs it, and keeps serving', async () => {
    const log = capturedLogger('info');
    const n = await single({}, {}, log.logger);
    for (const garbage of [Buffer.alloc(100, 0x41), Buffer.from([8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])]) {
      const s = net.connect({ host: '127.0.0.1', port: n.peer.port });
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      s.write(garbage);
      await new Promise((r) => s.once('close', r));
    }
    await waitFor('rejections', () => log.messages().filter((m) => m === 'peer connection rejected').length === 2);
    expect(n.node.dumpReplicaRecords()).toEqual([]);
    expect(n.network.counters.framesReceived).toBe(0);
    expect((await fetch(`${base(n)}/kv/default/k`, { method: 'PUT', body: 'v' })).status).toBe(204);
  });
});

describe('a three-node cluster in one process', () => {
  it('takes writes while a node is down, keeps the hints through the coordinator restarting, and hands them off', async () => {
    const ports = await freePorts(3);
    const members = ports.map((p, i) => ({ id: `m${i + 1}`, address: `127.0.0.1:${p}` }));
    const dirs = members.map((m) => fs.mkdtempSync(path.join(dir, `${m.id}-`)));
    const start = (i: number) =>
      startNode(
        resolveNodeConfig(
          {
            nodeId: members[i]!.id,
            dataDir: dirs[i],
            secretFile,
            http: { port: 0 },
            peer: { port: ports[i] },
            members,
            // N=2 of three nodes: when a home replica is down the third node is a fallback and keeps a hint.
            keyspaces: [{ name: 'default', replicationFactor: 2 }],
            requestTimeoutMs: 500,
          },
          dir,
        ),
        pino({ level: 'silent' }),
      ).then((n) => (running.push(n), n));
    const nodes = [await start(0), await start(1), await start(2)];
    await waitFor('links', () => nodes.every((n) => n.network.peerStatus().every((p) => p.link === 'ready')));

    await nodes[2]!.stop();
    running.splice(running.indexOf(nodes[2]!), 1);
    // Writes need both home replicas (N=2, QUORUM); for keys homed on m3 a fallback takes a hint.
    // Until m1 has seen m3's requests time out, such a write may answer 503 and is retried, as a client would.
    let unavailable = 0;
    for (let i = 0; i < 30; i++) {
      for (let attempt = 0; ; attempt++) {
        const res = await fetch(`${base(nodes[0]!)}/kv/default/h${i}`, { method: 'PUT', body: `v${i}` });
        if (res.status === 204) break;
        expect(res.status).toBe(503);
        expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/\d+ .*(replica|required|reachable|answered)/);
        unavailable++;
        expect(attempt).toBeLessThan(5);
      }
    }
    expect(unavailable).toBeLessThan(10);
    const hinted = () => [...nodes[0]!.node.pendingHints().values()].reduce((a, b) => a + b, 0) + [...nodes[1]!.node.pendingHints().values()].reduce((a, b) => a + b, 0);
    expect(hinted()).toBeGreaterThan(0);
    const status = (await (await fetch(`${base(nodes[0]!)}/admin/status`)).json()) as { hints: { total: number }; members: { id: string; state: string }[] };
    expect(status.members.find((m) => m.id === 'm3')!.state).toBe('down');

    // The coordinator restarts: its hints are on disk.
    const before = nodes[0]!.node.pendingHints().get('m3') ?? 0;
    expect(before).toBeGreaterThan(0);
    await nodes[0]!.stop();
    running.splice(running.indexOf(nodes[0]!), 1);
    nodes[0] = await start(0);
    expect(nodes[0].node.pendingHints().get('m3') ?? 0).toBe(before);

    // m3 comes back: every hint is handed off and m3 holds every key.
    nodes[2] = await start(2);
    await waitFor('hints replayed', () => hinted() === 0, 20_000);
    const onM3 = new Set(nodes[2].node.dumpReplicaRecords().map((r) => Buffer.from(r.key).toString()));
    const homedOnM3 = [...Array(30).keys()].map((i) => `h${i}`).filter((k) => nodes[0]!.node.ring.preferenceList(keyToken(Buffer.from(k)), 2).includes('m3'));
    expect(homedOnM3.length).toBeGreaterThan(5);
    expect(homedOnM3.filter((k) => !onM3.has(k))).toEqual([]);
  }, 60_000);
});
