import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The package's own entry point, as users import it.
import { Client, RingkvError } from 'ringkv';
import { encodeKeyBytes } from './client.ts';
import { resolveNodeConfig } from './node_config.ts';
import { type RunningNode, startNode } from './node_process.ts';
import { generateSecretHex } from './peer_auth.ts';
import { freePorts, waitFor } from './test_ports.testkit.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-client-'));
const nodes: RunningNode[] = [];
let urls: string[];

beforeAll(async () => {
  const secretFile = path.join(dir, 'secret');
  fs.writeFileSync(secretFile, generateSecretHex());
  const ports = await freePorts(3);
  const members = ports.map((p, i) => ({ id: `c${i + 1}`, address: `127.0.0.1:${p}` }));
  for (const [i, m] of members.entries()) {
    const config = resolveNodeConfig(
      {
        nodeId: m.id,
        dataDir: `d${i}`,
        secretFile,
        http: { port: 0 },
        peer: { port: ports[i] },
        members,
        keyspaces: [
          { name: 'default', replicationFactor: 3 },
          { name: 'carts', replicationFactor: 3, conflictMode: 'siblings' },
        ],
      },
      dir,
    );
    nodes.push(await startNode(config, pino({ level: 'silent' })));
  }
  await waitFor('links', () => nodes.every((n) => n.network.peerStatus().every((p) => p.link === 'ready')));
  urls = nodes.map((n) => `http://127.0.0.1:${n.http.port}`);
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A stand-in server answering from a script, counting requests and connections. */
async function scripted(answers: Array<[number, unknown]>) {
  let requests = 0;
  let connections = 0;
  const server = http.createServer((req, res) => {
    const [status, body] = answers[Math.min(requests++, answers.length - 1)]!;
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(status === 204 ? undefined : JSON.stringify(body));
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests: () => requests, connections: () => connections, close: () => new Promise((r) => server.close(r)) };
}

describe('Client against a cluster', () => {
  it('puts, gets and deletes any bytes as keys and values, on every node', async () => {
    const client = new Client({ nodes: urls });
    const key = new Uint8Array([0, 47, 37, 43, 32, 255, 63, 38]); // NUL / % + space 0xff ? &
    const value = new Uint8Array(256).map((_, i) => i);
    await client.put('default', key, value, { consistency: 'ALL' });
    for (let i = 0; i < 3; i++) {
      const r = await client.get('default', key);
      expect(r.found).toBe(true);
      expect(r.value).toEqual(value);
    }
    await client.delete('default', key, { w: 3 });
    expect(await client.get('default', key, { r: 3 })).toEqual({ found: false, value: null, values: [], context: null });
    await client.put('default', 'strong', 'v', { consistency: 'STRONG' });
    expect(new TextDecoder().decode((await client.get('default', 'strong', { consistency: 'STRONG' })).value!)).toBe('v');
    client.close();
  });

  it('returns siblings with their context, and update() resolves them into one value', async () => {
    const client = new Client({ nodes: urls });
    await client.put('carts', 'cart', 'apple');
    await client.put('carts', 'cart', 'pear');
    const r = await client.get('carts', 'cart', { r: 3 });
    expect(r.value).toBeNull();
    expect(r.values.map((v) => new TextDecoder().decode(v)).sort()).toEqual(['apple', 'pear']);
    expect(r.context).toMatch(/^[A-Za-z0-9_-]+$/);
    await client.update('carts', 'cart', (values) => values.map((v) => new TextDecoder().decode(v)).sort().join(','), { w: 3 });
    const merged = await client.get('carts', 'cart', { r: 3 });
    expect(new TextDecoder().decode(merged.value!)).toBe('apple,pear');
    client.close();
  });

  it('scans a range page by page', async () => {
    const client = new Client({ nodes: urls });
    for (const k of ['scan-1', 'scan-2', 'scan-3', 'scan-4', 'scan-5', 'scan.after']) await client.put('default', k, `v-${k}`);
    const keys: string[] = [];
    for await (const item of client.scan('default', { start: 'scan-', end: 'scan.', pageSize: 2 })) {
      keys.push(new TextDecoder().decode(item.key));
      expect(new TextDecoder().decode(item.values[0]!)).toBe(`v-${keys.at(-1)}`);
    }
    expect(keys).toEqual(['scan-1', 'scan-2', 'scan-3', 'scan-4', 'scan-5']);
    client.close();
  });

  it('moves past a dead node, and reports a connection error when every node is dead', async () => {
    const [dead] = await freePorts(1);
    const client = new Client({ nodes: [`http://127.0.0.1:${dead}`, urls[0]!], backoffMs: 1 });
    for (let i = 0; i < 4; i++) await client.put('default', `dead-${i}`, 'x');
    client.close();
    const hopeless = new Client({ nodes: [`http://127.0.0.1:${dead}`], retries: 2, backoffMs: 1 });
    await expect(hopeless.get('default', 'k')).rejects.toMatchObject({ name: 'RingkvError', code: 'connection', status: 0 });
    hopeless.close();
  });

  it('surfaces bad input as a RingkvError without retrying it', async () => {
    const client = new Client({ nodes: urls });
    const err = await client.put('nosuch', 'k', 'v').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RingkvError);
    expect(err).toMatchObject({ status: 404, code: 'not_found_keyspace' });
    await expect(client.put('default', 'k', 'v', { w: 9 })).rejects.toMatchObject({ status: 400, code: 'invalid' });
    await expect(client.get('default', '')).rejects.toMatchObject({ code: 'invalid' });
    client.close();
  });
});

describe('Client retries', () => {
  const unavailable = { error: { code: 'unavailable', message: 'write needs 2 replicas, 1 answered', replied: 1, required: 2, definite: false } };

  it('retries 503 and 429 with backoff, then succeeds', async () => {
    const s = await scripted([[503, unavailable], [429, { error: { code: 'overloaded', message: 'busy' } }], [204, null]]);
    const client = new Client({ nodes: [s.url], backoffMs: 1 });
    await client.put('default', 'k', 'v');
    expect(s.requests()).toBe(3);
    client.close();
    await s.close();
  });

  it('gives up after its retries with the last error, replica counts included', async () => {
    const s = await scripted([[503, unavailable]]);
    const client = new Client({ nodes: [s.url], retries: 2, backoffMs: 1 });
    await expect(client.put('default', 'k', 'v')).rejects.toMatchObject({ status: 503, code: 'unavailable', details: { replied: 1, required: 2, definite: false } });
    expect(s.requests()).toBe(3);
    client.close();
    await s.close();
  });

  it('does not retry a 400, and reuses one kept-alive connection for sequential requests', async () => {
    const s = await scripted([[400, { error: { code: 'invalid', message: 'no' } }]]);
    const client = new Client({ nodes: [s.url] });
    for (let i = 0; i < 10; i++) await expect(client.delete('default', 'k')).rejects.toMatchObject({ status: 400 });
    expect(s.requests()).toBe(10);
    expect(s.connections()).toBe(1);
    client.close();
    await s.close();
  });
});

describe('encodeKeyBytes', () => {
  it('leaves unreserved characters and escapes every other byte', () => {
    expect(encodeKeyBytes('a-Z_0.~')).toBe('a-Z_0.~');
    expect(encodeKeyBytes(new Uint8Array([0x2f, 0x25, 0x20, 0xff]))).toBe('%2F%25%20%FF');
    expect(encodeKeyBytes('é')).toBe('%C3%A9');
  });
});
