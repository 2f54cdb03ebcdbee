import { describe, expect, it } from 'vitest';
import { countForLevel, quorumOf, resolveRequirement } from './consistency.ts';
import { DEFAULT_KEYSPACE, KeyspaceRegistry, keyspaceProblem } from './keyspace.ts';

describe('consistency levels', () => {
  it('count replicas relative to N', () => {
    expect([1, 2, 3, 4, 5].map(quorumOf)).toEqual([1, 2, 2, 3, 3]);
    expect(['ONE', 'TWO', 'QUORUM', 'ALL', 'STRONG'].map((l) => countForLevel(l as never, 5))).toEqual([1, 2, 3, 5, 3]);
    expect(countForLevel('TWO', 1)).toBe(1);
  });

  it('resolve a request against the keyspace default, explicit counts overriding levels', () => {
    expect(resolveRequirement(undefined, 'r', 3, 'QUORUM')).toEqual({ count: 2, strong: false });
    expect(resolveRequirement({ level: 'ALL' }, 'w', 3, 'ONE')).toEqual({ count: 3, strong: false });
    expect(resolveRequirement({ level: 'ONE', w: 3 }, 'w', 3, 'QUORUM')).toEqual({ count: 3, strong: false });
    expect(resolveRequirement({ r: 1, w: 3 }, 'r', 3, 'QUORUM')).toEqual({ count: 1, strong: false });
    expect(resolveRequirement({ level: 'STRONG' }, 'r', 5, 'ONE')).toEqual({ count: 3, strong: true });
    expect(resolveRequirement(undefined, 'w', 3, 'STRONG')).toEqual({ count: 2, strong: true });
  });

  it('refuse impossible requests with a message', () => {
    expect(resolveRequirement({ r: 4 }, 'r', 3, 'ONE')).toContain('1..3');
    expect(resolveRequirement({ w: 0 }, 'w', 3, 'ONE')).toContain('w=0');
    expect(resolveRequirement({ w: 1.5 }, 'w', 3, 'ONE')).toContain('w=1.5');
    expect(resolveRequirement({ level: 'MOST' as never }, 'w', 3, 'ONE')).toContain('MOST');
    expect(resolveRequirement({ level: 'STRONG', r: 2 }, 'r', 3, 'ONE')).toContain('STRONG');
    expect(resolveRequirement({ level: { toString: 0 } as never }, 'r', 3, 'ONE')).toContain('unknown');
    expect(resolveRequirement(null as never, 'r', 3, 'ONE')).toContain('object');
  });
});

describe('keyspaces', () => {
  it('add the default keyspace and refuse bad configurations', () => {
    const reg = new KeyspaceRegistry([{ ...DEFAULT_KEYSPACE, name: 'sessions', defaultTtlMs: 60_000 }]);
    expect(reg.all().map((k) => k.name)).toEqual(['default', 'sessions']);
    expect(reg.get('default')).toEqual(DEFAULT_KEYSPACE);
    expect(reg.get(42)).toBeUndefined();
    expect(keyspaceProblem({ ...DEFAULT_KEYSPACE, replicationFactor: 0 })).toContain('replication factor');
    expect(keyspaceProblem({ ...DEFAULT_KEYSPACE, name: 'x'.repeat(65) })).toContain('bytes');
    expect(keyspaceProblem({ ...DEFAULT_KEYSPACE, conflictMode: 'crdt' as never })).toContain('conflict mode');
    expect(keyspaceProblem({ ...DEFAULT_KEYSPACE, defaultTtlMs: -1 })).toContain('TTL');
    expect(() => new KeyspaceRegistry([DEFAULT_KEYSPACE, DEFAULT_KEYSPACE])).toThrow('twice');
  });
});
