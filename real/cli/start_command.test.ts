import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './main.ts';
import { configFromArgs } from './start_command.ts';

afterEach(() => vi.restoreAllMocks());

function captured() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  return { out: () => out.join('\n'), err: () => err.join('\n') };
}

describe('ringkv start flags', () => {
  it('map onto the config file fields, paths resolved against the working directory', () => {
    const { raw } = configFromArgs(
      [
        '--node-id', 'n2', '--data', 'd/n2', '--http', '127.0.0.1:8002', '--peer', '[::1]:9002',
        '--members', 'n1=127.0.0.1:9001,n2=[::1]:9002', '--vnodes', '16',
        '--keyspaces', 'default:2,carts:2:siblings:one:all:60', '--secret-file', 's.hex',
        '--durability', 'periodic', '--sync-interval', '50', '--log-level', 'debug', '--log-file', 'l.log',
      ],
      '/work',
    );
    expect(raw).toEqual({
      nodeId: 'n2',
      dataDir: path.resolve('/work', 'd/n2'),
      http: { host: '127.0.0.1', port: 8002 },
      peer: { host: '::1', port: 9002 },
      members: [
        { id: 'n1', address: '127.0.0.1:9001' },
        { id: 'n2', address: '[::1]:9002' },
      ],
      vnodes: 16,
      keyspaces: [
        { name: 'default', replicationFactor: 2 },
        { name: 'carts', replicationFactor: 2, conflictMode: 'siblings', readConsistency: 'ONE', writeConsistency: 'ALL', defaultTtlMs: 60_000 },
      ],
      secretFile: path.resolve('/work', 's.hex'),
      durability: 'periodic',
      syncIntervalMs: 50,
      log: { level: 'debug', file: path.resolve('/work', 'l.log') },
    });
  });

  it('refuse malformed values as usage errors', () => {
    expect(() => configFromArgs(['--http', 'localhost'], '/')).toThrow(/--http needs HOST:PORT/);
    expect(() => configFromArgs(['--members', 'n1'], '/')).toThrow(/must be ID=HOST:PORT/);
    expect(() => configFromArgs(['--vnodes', 'many'], '/')).toThrow(/--vnodes needs a non-negative integer/);
    expect(() => configFromArgs(['--keyspaces', 'x'], '/')).toThrow(/must be name:N/);
    expect(() => configFromArgs(['--bogus'], '/')).toThrow(/unknown option --bogus/);
  });

  it('exit 2 listing every configuration problem', async () => {
    const io = captured();
    expect(await main(['start', '--node-id', 'n1', '--vnodes', '0'])).toBe(2);
    expect(io.err()).toMatch(/invalid configuration:\n {2}- dataDir is required.*\n {2}- a cluster secret is required.*\n {2}- vnodes must be/s);
  });

  it('--help explains the flags of start and local-cluster', async () => {
    const io = captured();
    expect(await main(['start', '--help'])).toBe(0);
    for (const flag of ['--config', '--node-id', '--data', '--http', '--peer', '--members', '--vnodes', '--keyspaces', '--secret-file', '--api-token-file', '--durability']) {
      expect(io.out()).toContain(flag);
    }
    expect(await main(['local-cluster', '--help'])).toBe(0);
    for (const flag of ['--data', '--nodes', '--http-port', '--peer-port', '--log-level']) expect(io.out()).toContain(flag);
    expect(await main(['--help'])).toBe(0);
    expect(io.out()).toMatch(/local-cluster +run a local cluster/);
  });
});
