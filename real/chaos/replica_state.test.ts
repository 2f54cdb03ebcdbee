import { describe, expect, it } from 'vitest';
import { keyToken } from '../../core/ring/key_hash.ts';
import { tombstoneWrite, valueWrite } from '../../core/versioning/versioned_value.ts';
import { checkConvergence } from '../../sim/checkers/convergence.ts';
import { valueBytes } from '../../sim/workload_value.ts';
import type { ReplicaRecord } from '../../core/node.ts';
import { decodeReplicaDump, encodeReplicaDump } from '../replica_dump.ts';
import { chaosRing, replicaState } from './replica_state.ts';

const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
const ring = chaosRing(ids, 16);
const hlc = (wallMs: number, nodeId = 'n1') => ({ wallMs, logical: 0, nodeId });
const record = (key: string, text: string | null, wallMs: number): ReplicaRecord => ({
  keyspace: 'default',
  key: valueBytes(key),
  value: { mode: 'lww', write: text === null ? tombstoneWrite(hlc(wallMs)) : valueWrite(hlc(wallMs), valueBytes(text)) },
});

describe('replica dump', () => {
  it('round-trips records through the /admin/replicas body and filters by keyspace', () => {
    const records = [record('a', 'x', 5), record('b', null, 7), { ...record('c', 'y', 9), keyspace: 'other' }];
    const back = decodeReplicaDump(encodeReplicaDump('n2', records, null));
    expect(back.node).toBe('n2');
    expect(back.records).toEqual(records.map((r) => ({ ...r, key: new Uint8Array(r.key) })));
    expect(decodeReplicaDump(encodeReplicaDump('n2', records, 'other')).records.map((r) => r.keyspace)).toEqual(['other']);
  });

  it('rejects a malformed body', () => {
    expect(() => decodeReplicaDump('{"node":"n1","records":[{"keyspace":"default"}]}')).toThrow(/malformed/);
    expect(() => decodeReplicaDump('{"records":[]}')).toThrow(/node/);
  });
});

describe('replicaState', () => {
  const home = ring.preferenceList(keyToken(valueBytes('k')), 3);
  const other = ids.find((id) => !home.includes(id))!;

  it('lays each key over its home replicas; equal records converge, a missing one does not', () => {
    const dumps = new Map<string, ReplicaRecord[] | string>(ids.map((id) => [id, home.includes(id) ? [record('k', 'v', 10)] : []]));
    const { state, misplaced } = replicaState({ ring, replicationFactor: 3, conflictMode: 'lww', keys: [{ keyspace: 'default', key: 'k' }], dumps });
    expect(misplaced).toEqual([]);
    expect(state.keys).toHaveLength(1);
    expect(state.keys[0]!.replicas.map((r) => r.node)).toEqual(home);
    expect(checkConvergence(state).converged).toBe(true);

    dumps.set(home[1]!, []);
    expect(checkConvergence(replicaState({ ring, replicationFactor: 3, conflictMode: 'lww', keys: [], dumps }).state).converged).toBe(false);
  });

  it('reports a record on a node that is no home replica, and an unreadable node', () => {
    const dumps = new Map<string, ReplicaRecord[] | string>(ids.map((id) => [id, [] as ReplicaRecord[]]));
    dumps.set(other, [record('k', 'v', 10)]);
    dumps.set(home[0]!, 'HTTP 500: boom');
    const { state, misplaced } = replicaState({ ring, replicationFactor: 3, conflictMode: 'lww', keys: [], dumps });
    expect(misplaced).toHaveLength(1);
    expect(misplaced[0]).toContain(`${other} holds default/k`);
    expect(state.unreadable).toEqual([{ node: home[0], error: 'HTTP 500: boom' }]);
    expect(state.keys[0]!.replicas.map((r) => r.node)).toEqual(home.slice(1));
  });
});
