import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client } from '../client.ts';
import { resolveNodeConfig } from '../node_config.ts';
import { type RunningNode, startNode } from '../node_process.ts';
import { generateSecretHex } from '../peer_auth.ts';
import { freePorts, waitFor } from '../test_ports.testkit.ts';
import { main } from './main.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-cli-'));
const secretFile = path.join(dir, 'secret');
fs.writeFileSync(secretFile, generateSecretHex());
let ports: number[];
const members = () => ports.map((p, i) => ({ id: `k${i + 1}`, address: `127.0.0.1:${p}` }));
const nodes: (RunningNode | null)[] = [null, null, null];

function start(i: number): Promise<RunningNode> {
  const config = resolveNodeConfig(
    {
      nodeId: `k${i + 1}`,
      dataDir: `k${i + 1}`,
      secretFile,
      http: { port: 0 },
      peer: { port: ports[i] },
      members: members(),
      keyspaces: [{ name: 'default', replicationFactor: 3 }, { name: 'carts', replicationFactor: 3, conflictMode: 'siblings' }],
      requestTimeoutMs: 300,
    },
    dir,
  );
  return startNode(config, pino({ level: 'silent' })).then((n) => (nodes[i] = n));
}

beforeAll(async () => {
  ports = await freePorts(3);
  for (const i of [0, 1, 2]) await start(i);
  await waitFor('links', () => nodes.every((n) => n!.network.peerStatus().every((p) => p.link === 'ready')));
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n?.stop()));
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

const url = (i = 0) => `http://127.0.0.1:${nodes[i]!.http.port}`;

/** Runs `ringkv ARGS` in this process, capturing what it prints. */
async function ringkv(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += Buffer.from(chunk).toString()), true));
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += a.join(' ') + '\n'));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += a.join(' ') + '\n'));
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, out, err };
}

describe('ringkv get/put/del/scan', () => {
  it('write, read, list and delete keys on a running node', async () => {
    expect((await ringkv('put', 'default', 'cli-a', 'alpha', '--node', url(0), '--consistency', 'all')).code).toBe(0);
    expect((await ringkv('put', 'default', 'cli-b', 'beta', '--node', url(1), '--w', '3', '--ttl', '600')).code).toBe(0);
    expect(await ringkv('get', 'default', 'cli-a', '--node', url(2))).toEqual({ code: 0, out: 'alpha', err: '' });
    const scan = await ringkv('scan', 'default', '--start', 'cli-', '--end', 'cli.', '--node', url(0));
    expect(scan.out).toBe('cli-a\talpha\ncli-b\tbeta\n');
    const one = await ringkv('scan', 'default', '--start', 'cli-', '--limit', '1', '--json', '--node', url(0));
    expect(JSON.parse(one.out)).toMatchObject({ key: Buffer.from('cli-a').toString('base64') });
    expect((await ringkv('del', 'default', 'cli-a', '--node', url(0), '--w', '3')).code).toBe(0);
    expect(await ringkv('get', 'default', 'cli-a', '--node', url(1), '--r', '3')).toMatchObject({ code: 3, out: '', err: 'not found\n' });
  });

  it('print siblings and their context, and put --context resolves them', async () => {
    await ringkv('put', 'carts', 'cli-cart', 'x', '--node', url(0));
    await ringkv('put', 'carts', 'cli-cart', 'y', '--node', url(1));
    const r = await ringkv('get', 'carts', 'cli-cart', '--r', '3', '--node', url(2));
    expect(r.out).toMatch(/^--- sibling 1 of 2 ---\n[xy]\n--- sibling 2 of 2 ---\n[xy]\n$/);
    const context = /^context: (\S+)$/m.exec(r.err)![1]!;
    expect((await ringkv('put', 'carts', 'cli-cart', 'xy', '--context', context, '--w', '3', '--node', url(2))).code).toBe(0);
    expect((await ringkv('get', 'carts', 'cli-cart', '--r', '3', '--node', url(0))).out).toBe('xy');
  });

  it('report server errors with exit 1 and usage errors with exit 2', async () => {
    const bad = await ringkv('put', 'nosuch', 'k', 'v', '--node', url(0));
    expect(bad).toMatchObject({ code: 1, err: expect.stringMatching(/ringkv put: not_found_keyspace: keyspace .*nosuch.* does not exist/) });
    expect((await ringkv('get', 'default', '--node', url(0))).code).toBe(2);
    expect((await ringkv('get', 'default', 'k', '--consistency', 'most', '--node', url(0))).code).toBe(2);
  });
});

describe('ringkv status/ring/repair', () => {
  it('show members, ring ownership, and storage', async () => {
    const status = await ringkv('status', '--node', url(0));
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/node k1 of cluster ringkv/);
    expect(status.out).toMatch(/k1 \(this\)\s+127\.0\.0\.1:\d+\s+up/);
    expect(status.out).toMatch(/k2\s+127\.0\.0\.1:\d+\s+up\s+ready/);
    // The storage engine's state is read through store_node_probe.ts: a renamed engine field shows here.
    expect(status.out).toMatch(/storage: tables per level \[\d+(, \d+)*\], compaction backlog \d+ B, \d+ B on disk/);
    const ring = await ringkv('ring', '--node', url(1));
    expect(ring.out).toMatch(/192 tokens; keyspaces default \(N=3, lww\), carts \(N=3, siblings\)/);
    expect(ring.out).toMatch(/k3\s+64\s+\d+\.\d%\s+100\.0%/);
  });

  it('repair refills a replica that lost its disk', async () => {
    const client = new Client({ nodes: [url(0)], retries: 8, backoffMs: 20 });
    for (let i = 0; i < 20; i++) await client.put('default', `rep-${i}`, `v${i}`, { w: 3 });
    client.close();
    await nodes[2]!.stop();
    nodes[2] = null;
    fs.rmSync(path.join(dir, 'k3'), { recursive: true });
    await start(2);
    await waitFor('links again', () => nodes.every((n) => n!.network.peerStatus().every((p) => p.link === 'ready')));
    const missing = () => [...Array(20).keys()].filter((i) => !nodes[2]!.node.dumpReplicaRecords().some((r) => Buffer.from(r.key).toString() === `rep-${i}`));
    expect(missing().length).toBe(20);
    const r = await ringkv('repair', 'default', '--read-repair', '--start', 'rep-', '--end', 'rep.', '--node', url(0));
    expect(r.out).toMatch(/^default: 20 keys read from all 3 replicas; (\d+) repairs sent by k1\n$/);
    expect(Number(/; (\d+) repairs/.exec(r.out)![1])).toBe(20);
    expect(r.code).toBe(0);
    await waitFor('repairs applied', () => missing().length === 0);
  });

  it('merkle repair refills a replica that lost its disk, streaming only what differs', async () => {
    const client = new Client({ nodes: [url(0)], retries: 8, backoffMs: 20 });
    for (let i = 0; i < 30; i++) await client.put('default', `mrep-${i}`, `v${i}`, { w: 3 });
    client.close();
    await nodes[2]!.stop();
    nodes[2] = null;
    fs.rmSync(path.join(dir, 'k3'), { recursive: true });
    await start(2);
    await waitFor('links again', () => nodes.every((n) => n!.network.peerStatus().every((p) => p.link === 'ready')));
    const held = () => nodes[2]!.node.dumpReplicaRecords().filter((r) => Buffer.from(r.key).toString().startsWith('mrep-')).length;
    expect(held()).toBe(0);
    const r = await ringkv('repair', 'default', '--node', url(2));
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^repair on k3: 384 \(range, replica\) pairs of default\n/);
    expect(r.out).toMatch(/384\/384 pairs: \d+ in sync, \d+ repaired, 0 skipped \(replica down\), 0 failed; \d+ keys streamed, \d+ B\n$/);
    expect(r.code).toBe(0);
    expect(held()).toBe(30);
    const again = await ringkv('repair', 'default', '--node', url(2));
    expect(again.out).toMatch(/384\/384 pairs: 384 in sync, 0 repaired, 0 skipped \(replica down\), 0 failed; 0 keys streamed/);
  });
});
