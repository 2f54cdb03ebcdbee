import { describe, expect, it } from 'vitest';
import { ConfigError, resolveNodeConfig } from './node_config.ts';

const SECRET = { RINGKV_CLUSTER_SECRET: '00112233445566778899aabbccddeeff' };
const members = [
  { id: 'a', address: '127.0.0.1:9001' },
  { id: 'b', address: '127.0.0.1:9002' },
  { id: 'c', address: '127.0.0.1:9003', joining: true },
];
const resolve = (raw: Record<string, unknown>) => resolveNodeConfig({ dataDir: '/tmp/x', members, keyspaces: [{ name: 'default', replicationFactor: 2 }], ...raw }, '/tmp', SECRET);
const problems = (raw: Record<string, unknown>): string[] => {
  try {
    resolve(raw);
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
};

describe('join in the node configuration', () => {
  it('a joining member is an address only: placed nodes see it in no ring; the joiner gets join and vnodes', () => {
    const a = resolve({ nodeId: 'a' });
    expect(a.node.members.map((m) => m.id)).toEqual(['a', 'b']);
    expect(a.node.join).toBeUndefined();
    expect(a.members.map((m) => m.id)).toEqual(['a', 'b', 'c']);
    const c = resolve({ nodeId: 'c', join: true, vnodes: 12 });
    expect(c.node.join).toBe(true);
    expect(c.node.vnodes).toBe(12);
    expect(c.node.members.map((m) => m.id)).toEqual(['a', 'b']);
    expect(resolve({ nodeId: 'c', join: true, replaces: 'b' }).node.replaces).toBe('b');
  });

  it('refuses inconsistent settings', () => {
    expect(problems({ nodeId: 'c' }).join('\n')).toMatch(/start it with "join": true/);
    expect(problems({ nodeId: 'a', join: true }).join('\n')).toMatch(/mark its member entry "joining": true/);
    expect(problems({ nodeId: 'c', join: 'yes' }).join('\n')).toMatch(/join must be true or false/);
    expect(problems({ nodeId: 'c', join: true, replaces: 'zz' }).join('\n')).toMatch(/replaces must be a member id/);
    expect(problems({ nodeId: 'a', replaces: 'b' }).join('\n')).toMatch(/replaces needs "join": true/);
    expect(problems({ nodeId: 'c', join: true, members: [...members.slice(0, 2), { ...members[2], tokens: ['5'] }] }).join('\n')).toMatch(/has no tokens or vnodes/);
  });
});
