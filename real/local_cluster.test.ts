// End to end: `ringkv local-cluster` as a real process tree (three `ringkv
// start` children on loopback), driven over the HTTP API, the SDK and the peer port,
// stopped with SIGINT, and started again on the same data.

import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from './client.ts';
import { freePorts } from './test_ports.testkit.ts';

const BIN = path.resolve(import.meta.dirname, '../bin/ringkv.mjs');
let tmp: string;
let httpPorts: number[];
let peerPorts: number[];
const started: ChildProcess[] = [];
const childPids: number[] = [];

interface Running {
  proc: ChildProcess;
  stdout: () => string;
  exited: Promise<number | null>;
}

async function startCluster(): Promise<Running> {
  const proc = spawn(
    process.execPath,
    [BIN, 'local-cluster', '--data', path.join(tmp, 'data'), '--http-port', httpPorts.join(','), '--peer-port', peerPorts.join(','), '--start-timeout', '40000'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  started.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 45_000;
  while (!out.includes('Ctrl-C stops all 3 node(s).')) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`cluster did not start:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const m of out.matchAll(/pid (\d+)/g)) childPids.push(Number(m[1]));
  return { proc, stdout: () => out, exited };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const url = (node: number, p: string) => `http://127.0.0.1:${httpPorts[node]}${p}`;

async function call(node: number, method: string, p: string, body?: string | Uint8Array, headers: Record<string, string> = {}) {
  const res = await fetch(url(node, p), { method, body, headers });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = Buffer.from(bytes).toString('utf8');
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as { error: { code: string; message: string } } };
}

async function scanAll(keyspace: string): Promise<string[]> {
  const keys: string[] = [];
  let resume: string | null = null;
  for (let page = 0; page < 100; page++) {
    const r = await call(0, 'GET', `/kv/${keyspace}?limit=2${resume === null ? '' : `&resume=${encodeURIComponent(resume)}`}`);
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text) as { items: { key: string }[]; resumeToken: string | null };
    keys.push(...body.items.map((i) => i.key));
    resume = body.resumeToken;
    if (resume === null) return keys;
  }
  throw new Error('scan did not end');
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-e2e-'));
  const ports = await freePorts(6);
  httpPorts = ports.slice(0, 3);
  peerPorts = ports.slice(3);
});

afterAll(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const pid of childPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('local cluster', () => {
  it('serves the HTTP API across three processes, refuses bad input and peer garbage, stops on SIGINT and finds its data again', async () => {
    const cluster = await startCluster();
    expect(fs.existsSync(path.join(tmp, 'data', 'cluster.secret'))).toBe(true);

    // Writes on one node are read on the others.
    expect((await call(0, 'PUT', '/kv/default/greeting', 'hello')).status).toBe(204);
    for (const n of [1, 2]) {
      const r = await call(n, 'GET', '/kv/default/greeting');
      expect([r.status, r.text]).toEqual([200, 'hello']);
    }
    expect((await call(1, 'PUT', '/kv/default/strong-key?consistency=STRONG', 's1')).status).toBe(204);
    expect((await call(2, 'GET', '/kv/default/strong-key?consistency=strong')).text).toBe('s1');
    expect((await call(0, 'PUT', '/kv/default/short-lived?ttl=60&w=3', 'x')).status).toBe(204);
    expect((await call(0, 'PUT', '/kv/default/gone', 'x')).status).toBe(204);
    expect((await call(2, 'DELETE', '/kv/default/gone')).status).toBe(204);
    const gone = await call(1, 'GET', '/kv/default/gone?r=3');
    expect([gone.status, gone.json().error.code]).toEqual([404, 'not_found']);

    // Concurrent writes to a siblings keyspace: 300 with both, then a write with the context resolves them.
    expect((await call(0, 'PUT', '/kv/carts/c1', 'apple')).status).toBe(204);
    expect((await call(1, 'PUT', '/kv/carts/c1', 'pear')).status).toBe(204);
    const siblings = await call(2, 'GET', '/kv/carts/c1?r=3');
    expect(siblings.status).toBe(300);
    expect(siblings.headers.get('content-type')).toMatch(/^multipart\/mixed; boundary=/);
    expect(siblings.text).toContain('apple');
    expect(siblings.text).toContain('pear');
    const context = siblings.headers.get('x-ringkv-context')!;
    const asJson = await call(2, 'GET', '/kv/carts/c1', undefined, { accept: 'application/json' });
    expect((JSON.parse(asJson.text) as { siblings: string[] }).siblings.map((s) => Buffer.from(s, 'base64').toString()).sort()).toEqual(['apple', 'pear']);
    expect((await call(2, 'PUT', '/kv/carts/c1?w=3', 'apple+pear', { 'x-ringkv-context': context })).status).toBe(204);
    const merged = await call(0, 'GET', '/kv/carts/c1?r=3');
    expect([merged.status, merged.text]).toEqual([200, 'apple+pear']);

    // Bad input of every kind: a JSON error, and nothing stored.
    const bad: Array<[string, string, number, string, (string | Uint8Array)?, Record<string, string>?]> = [
      ['PUT', '/kv/default/bad-1?consistency=MOST', 400, 'invalid'],
      ['PUT', '/kv/default/bad-2?ttl=soon', 400, 'invalid'],
      ['PUT', '/kv/default/bad-3?ttl=-5', 400, 'invalid'],
      ['PUT', '/kv/default/bad-4?w=0', 400, 'invalid'],
      ['PUT', '/kv/default/bad-5?w=4', 400, 'invalid'],
      ['PUT', '/kv/default/bad-6?colour=blue', 400, 'invalid'],
      ['PUT', '/kv/default/bad-7', 400, 'invalid', 'v', { 'x-ringkv-context': 'not-a-context' }],
      ['PUT', '/kv/default/bad-8', 413, 'too_large', new Uint8Array(1024 * 1024 + 1)],
      ['PUT', `/kv/default/bad-9${'k'.repeat(1100)}`, 413, 'too_large'],
      ['PUT', '/kv/default/bad-%zz', 400, 'invalid'],
      ['PUT', '/kv/default/', 400, 'invalid'],
      ['PUT', '/kv/nosuchkeyspace/bad-10', 404, 'not_found_keyspace'],
      ['PATCH', '/kv/default/bad-11', 405, 'method_not_allowed'],
      ['DELETE', '/kv/default/greeting?consistency=HALF', 400, 'invalid'],
      ['GET', '/kv/default?limit=0', 400, 'invalid'],
      ['GET', '/kv/default/greeting?r=x', 400, 'invalid'],
    ];
    for (const [method, p, status, code, body, headers] of bad) {
      const r = await call(0, method, p, body ?? (method === 'PUT' ? 'v' : undefined), headers);
      expect([method, p.slice(0, 40), r.status, r.json().error.code]).toEqual([method, p.slice(0, 40), status, code]);
      expect(r.json().error.message.length).toBeGreaterThan(5);
    }
    const badWrites = await call(0, 'PUT', '/kv/default/bad-5?w=4', 'v');
    expect(badWrites.json().error.message).toMatch(/w=4/);
    expect(await scanAll('default')).toEqual(['greeting', 'short-lived', 'strong-key']);
    expect((await call(1, 'GET', '/kv/default/greeting')).text).toBe('hello');

    // Garbage on a peer port: the connection is closed and logged, the node keeps serving, nothing stored.
    for (const garbage of [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4]), Buffer.alloc(64, 0xab)]) {
      const socket = net.connect({ host: '127.0.0.1', port: peerPorts[0]! });
      socket.on('error', () => {});
      await new Promise((r) => socket.once('connect', r));
      socket.write(garbage);
      await new Promise((r) => socket.once('close', r));
    }
    const status = JSON.parse((await call(0, 'GET', '/admin/status')).text) as { members: { id: string; state: string }[] };
    expect(status.members.map((m) => [m.id, m.state])).toEqual([['n1', 'up'], ['n2', 'up'], ['n3', 'up']]);
    expect(await scanAll('default')).toEqual(['greeting', 'short-lived', 'strong-key']);
    const metrics = (await call(0, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/ringkv_requests_total\{op="put",consistency="keyspace",outcome="ok",node="n1"\} [1-9]/);
    expect(metrics).toMatch(/ringkv_requests_total\{op="get",consistency="explicit",outcome="siblings",node="n1"\} 0|ringkv_request_duration_seconds_count\{node="n1",op="get",consistency="explicit"\} [1-9]/);
    expect(metrics).toMatch(/ringkv_peer_connections_rejected\{node="n1"\} 3/);

    // The SDK against the same processes: round-robin over the three nodes, siblings resolved with update().
    const client = new Client({ nodes: httpPorts.map((p) => `http://127.0.0.1:${p}`) });
    await client.put('default', 'sdk-key', 'sdk-value', { consistency: 'ALL' });
    for (let i = 0; i < 3; i++) expect(Buffer.from((await client.get('default', 'sdk-key')).value!).toString()).toBe('sdk-value');
    await client.put('carts', 'c2', 'a');
    await client.put('carts', 'c2', 'b');
    expect((await client.get('carts', 'c2', { r: 3 })).values.length).toBe(2);
    await client.update('carts', 'c2', (vs) => vs.map((v) => Buffer.from(v).toString()).sort().join(''), { w: 3 });
    expect(Buffer.from((await client.get('carts', 'c2', { r: 3 })).value!).toString()).toBe('ab');
    const scanned: string[] = [];
    for await (const item of client.scan('default', { pageSize: 1 })) scanned.push(Buffer.from(item.key).toString());
    expect(scanned).toEqual(['greeting', 'sdk-key', 'short-lived', 'strong-key']);
    await client.delete('default', 'sdk-key', { w: 3 });
    expect((await client.get('default', 'sdk-key', { r: 3 })).found).toBe(false);
    client.close();

    // SIGINT stops every node cleanly.
    cluster.proc.kill('SIGINT');
    expect(await cluster.exited).toBe(0);
    expect(cluster.stdout()).toMatch(/n1 exited with code 0\n\s+n2 exited with code 0\n\s+n3 exited with code 0/);
    expect(childPids.filter(alive)).toEqual([]);
    const log = fs.readFileSync(path.join(tmp, 'data', 'logs', 'n1.log'), 'utf8');
    expect(log).toContain('peer connection rejected');
    expect(log).toContain('"msg":"node stopped"');

    // A second start finds the data again.
    const again = await startCluster();
    for (const n of [0, 1, 2]) expect((await call(n, 'GET', '/kv/default/greeting?r=3')).text).toBe('hello');
    expect((await call(2, 'GET', '/kv/carts/c1')).text).toBe('apple+pear');
    again.proc.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    expect(childPids.filter(alive)).toEqual([]);
  }, 110_000);
});
