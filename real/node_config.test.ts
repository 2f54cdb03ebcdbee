import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, derivedTokens, isLoopbackHost, parseHostPort, resolveNodeConfig } from './node_config.ts';
import { generateSecretHex } from './peer_auth.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-config-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const secretFile = path.join(dir, 'secret');
fs.writeFileSync(secretFile, generateSecretHex());
const tokenFile = path.join(dir, 'token');
fs.writeFileSync(tokenFile, 'a-long-enough-api-token\n');

const members = [
  { id: 'n1', address: '127.0.0.1:9001' },
  { id: 'n2', address: '127.0.0.1:9002' },
  { id: 'n3', address: '[::1]:9003' },
];
const base = { nodeId: 'n1', dataDir: 'd1', secretFile, members };

function problems(raw: Record<string, unknown>, env: Record<string, string> = {}): string[] {
  try {
    resolveNodeConfig(raw, dir, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('resolveNodeConfig', () => {
  it('fills defaults and builds the core NodeConfig', () => {
    const c = resolveNodeConfig(base, dir);
    expect(c.dataDir).toBe(path.join(dir, 'd1'));
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8001, apiToken: null, maxInflightRequests: 1024 });
    expect(c.members.map((m) => [m.id, m.host, m.port, m.tokens.length])).toEqual([
      ['n1', '127.0.0.1', 9001, 64],
      ['n2', '127.0.0.1', 9002, 64],
      ['n3', '::1', 9003, 64],
    ]);
    expect(c.node.nodeId).toBe('n1');
    expect(c.node.keyspaces.map((k) => k.name)).toEqual(['default']);
    expect(c.node.engine?.syncWrites).toBe(true);
    expect(c.durability).toEqual({ mode: 'group-commit' });
    expect(c.secret.length).toBe(32);
  });

  it('gossip seeds default to every member; named seeds must be members', () => {
    expect(resolveNodeConfig(base, dir).node.seeds).toEqual(['n1', 'n2', 'n3']);
    const c = resolveNodeConfig({ ...base, seeds: ['n2', 'n2'], gossipIntervalMs: 500, phiThreshold: 10 }, dir);
    expect(c.node.seeds).toEqual(['n2']);
    expect(c.node.gossipIntervalMs).toBe(500);
    expect(c.node.phiThreshold).toBe(10);
    expect(problems({ ...base, seeds: ['n9'] }).join('\n')).toMatch(/seed "n9" is not a member id/);
    expect(problems({ ...base, seeds: [] }).join('\n')).toMatch(/seeds must be a non-empty list/);
    expect(problems({ ...base, phiThreshold: -1 }).join('\n')).toMatch(/phiThreshold must be a number > 0/);
  });

  it('derives the same tokens from the same id on every node, and different ones for other ids', () => {
    expect(derivedTokens('n1', 8)).toEqual(derivedTokens('n1', 8));
    expect(derivedTokens('n1', 4)).toEqual(derivedTokens('n1', 8).slice(0, 4));
    const a = new Set(derivedTokens('n1', 64));
    expect(derivedTokens('n2', 64).some((t) => a.has(t))).toBe(false);
    const c2 = resolveNodeConfig({ ...base, nodeId: 'n2', dataDir: 'd2' }, dir);
    expect(c2.members).toEqual(resolveNodeConfig(base, dir).members);
  });

  it('lists every problem at once, each saying what is wrong', () => {
    const found = problems({
      nodeId: 'bad id!',
      members: [{ id: 'n1', address: 'nowhere' }, { id: 'n1', address: '127.0.0.1:1' }],
      keyspaces: [{ name: 'k', replicationFactor: 0 }, { name: 'default', readConsistency: 'MOST' }],
      durability: 'sometimes',
      vnodes: 0,
      http: { host: '10.0.0.5' },
      engine: { compaction: 'random', nonsense: 1 },
      log: { level: 'loud' },
      colour: 'blue',
    });
    const expected = [
      /unknown setting "colour"/,
      /nodeId must be/,
      /dataDir is required/,
      /not loopback: an API token is required/,
      /cluster secret is required/,
      /vnodes must be an integer in 1\.\.4096/,
      /member n1: address must be "host:port"/,
      /member n1 listed twice/,
      /replication factor 0 must be >= 1/,
      /read consistency .*MOST.* unknown/,
      /durability must be "group-commit" or "periodic"/,
      /unknown engine setting "nonsense"/,
      /engine.compaction must be/,
      /log.level must be one of/,
    ];
    for (const re of expected) expect(found.some((p) => re.test(p)), `${re} in ${JSON.stringify(found)}`).toBe(true);
  });

  it('refuses a replication factor above the member count, a node outside the members, and clashing tokens', () => {
    expect(problems({ ...base, members: [members[0]!] })).toEqual([expect.stringMatching(/keyspace default has replication factor 3, but the cluster has 1 member/)]);
    expect(problems({ ...base, nodeId: 'n9' })).toEqual(['this node (n9) is not among the members']);
    expect(
      problems({
        ...base,
        keyspaces: [{ name: 'default', replicationFactor: 2 }],
        members: [
          { id: 'n1', address: 'a:1', tokens: ['5'] },
          { id: 'n2', address: 'b:1', tokens: ['5', '18446744073709551616'] },
        ],
      }),
    ).toEqual(['member n2: token "18446744073709551616" is not an integer in [0, 2^64)', 'token 5 belongs to both n1 and n2']);
  });

  it('reads secrets and API tokens from files or the environment, and checks them', () => {
    expect(problems({ ...base, secretFile: undefined })).toEqual([expect.stringMatching(/cluster secret is required/)]);
    expect(problems({ ...base, secretFile: undefined }, { RINGKV_CLUSTER_SECRET: 'ab'.repeat(16) })).toEqual([]);
    expect(problems({ ...base, secretFile: undefined }, { RINGKV_CLUSTER_SECRET: 'abcd' })).toEqual([expect.stringMatching(/at least 16 are required/)]);
    expect(problems({ ...base, secretFile: path.join(dir, 'missing') })[0]).toMatch(/secretFile: cannot read/);
    const withToken = resolveNodeConfig({ ...base, http: { host: '0.0.0.0', apiTokenFile: tokenFile } }, dir);
    expect(withToken.http.apiToken).toBe('a-long-enough-api-token');
    expect(problems({ ...base }, { RINGKV_API_TOKEN: 'short' })).toEqual(['the API token must be at least 16 characters']);
  });

  it('switches the engine to page-cache acknowledgements in periodic mode', () => {
    const c = resolveNodeConfig({ ...base, durability: 'periodic', syncIntervalMs: 50 }, dir);
    expect(c.durability).toEqual({ mode: 'periodic', intervalMs: 50 });
    expect(c.node.engine?.syncWrites).toBe(false);
  });

  it('builds Merkle trees in short steps on a real node, not in the simulator default of 256 records', () => {
    expect(resolveNodeConfig(base, dir).node.antiEntropy?.buildKeysPerStep).toBe(32);
  });

  it('staggers flushes: a memtable jitter by default, salted by the node id so every node differs', () => {
    const c1 = resolveNodeConfig(base, dir);
    const c2 = resolveNodeConfig({ ...base, nodeId: 'n2', http: { host: '127.0.0.1', port: 8002 }, dataDir: 'd2' }, dir);
    expect(c1.node.engine?.memtableJitter).toBe(0.25);
    expect(c1.node.engine?.memtableBytes).toBe(16 * 1024 * 1024);
    expect(resolveNodeConfig({ ...base, engine: { memtableBytes: 4096 } }, dir).node.engine?.memtableBytes).toBe(4096);
    expect(c1.node.engine?.jitterSalt).not.toBe(c2.node.engine?.jitterSalt);
    expect(resolveNodeConfig({ ...base, engine: { memtableJitter: 0 } }, dir).node.engine?.memtableJitter).toBe(0);
    expect(problems({ ...base, engine: { memtableJitter: 0.7 } })).toEqual(['engine.memtableJitter must be within [0, 0.5] (got 0.7)']);
  });
});

describe('addresses', () => {
  it('parse host:port, bracketed IPv6, and refuse the rest', () => {
    expect(parseHostPort('localhost:80')).toEqual({ host: 'localhost', port: 80 });
    expect(parseHostPort('[::1]:9001')).toEqual({ host: '::1', port: 9001 });
    for (const bad of ['x', ':1', 'a:', 'a:99999', '::1:80', 'a:b']) expect(parseHostPort(bad)).toBeNull();
  });

  it('know loopback hosts', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.com'].some(isLoopbackHost)).toBe(false);
  });
});
